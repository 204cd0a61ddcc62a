// Package frame builds synthetic Ethernet/IPv4/IPv6 + UDP/TCP frames
// around a payload, with correct lengths and checksums, for writers that
// must save a message that did not arrive as a frame of its own (a HEP
// collector's -w, a replay to raw sockets).
//
// Usage:
//
//	b := frame.NewBuilder(frame.Options{})            // zero Options: defaults
//	data, err := b.Build(src, dst, frame.ProtoTCP, t, sip) // data aliases b's buffer
//	w.WritePacket(pcap.Packet{Timestamp: t, CaptureLength: len(data), Length: len(data)}, data)
//	st := b.Stats()                                   // flows, expired, evicted
//
// TCP payloads get consecutive sequence numbers per direction, so a reader
// reassembles a stream instead of seeing one segment repeated. That table
// is keyed by addresses from the wire, so it is bounded (Options.MaxFlows,
// least recently used evicted and counted) and expired by packet time
// (Options.Idle), never by the wall clock.
package frame
