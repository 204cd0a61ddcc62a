// Package pcapgen builds small, deterministic VoIP test captures and the
// table of values a correct decoder must find in each of them.
//
// It is an independent implementation: it shares no code with the
// project's own pcap, capture, sipflow or rtpstats packages, so a bug in
// those cannot hide behind a matching bug here. Expected values (Expect)
// are computed from each scenario's definition, never by decoding the
// output.
//
// Usage:
//
//	for _, s := range pcapgen.Scenarios() {
//		path := filepath.Join(root, "testdata/pcaps", s.File)
//		got := decodeSomehow(path)
//		if got.SIP != s.Want.SIP { t.Errorf("%s: SIP = %d, want %d", s.File, got.SIP, s.Want.SIP) }
//	}
//
// Every output is byte-identical from run to run: timestamps start at
// Epoch (2026-01-01T10:00:00Z) and the only randomness is a math/rand/v2
// PCG with a fixed seed per scenario. TestCommittedFilesUpToDate fails when
// testdata/pcaps drifts from the generator; rewrite the files with
//
//	go generate ./internal/pcapgen
//
//go:generate go run ./cmd/genpcaps -out ../../testdata/pcaps
package pcapgen
