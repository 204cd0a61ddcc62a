// Package testpeer serialises tests that drive real peers on fixed
// ports. `go test ./...` runs packages in parallel, and SIPp's uac_pcap
// scenario always plays its RTP to ports 6000/6001: two such tests in
// different packages would capture each other's media. Each takes the
// same machine-wide lock for its duration.
//
//	defer testpeer.Lock(t, "sipp-rtp")()
package testpeer
