// Package sipstream reassembles SIP carried over TCP (RFC 3261 18.3) and
// over WebSocket (RFC 7118) into complete SIP messages.
//
// Usage:
//
//	a := sipstream.New(sipstream.Options{})
//	for each TCP segment {
//		a.Add(&sipstream.Segment{Src: src, Dst: dst, Seq: seq, SYN: syn, FIN: fin,
//			Payload: payload, Time: ts, Ref: n}, func(m *sipstream.Message) {
//			store(append([]byte(nil), m.Payload...)) // Payload is only valid here
//		})
//	}
//	a.Flush(emit)
//
// Each direction of a connection is a separate stream keyed by its
// 4-tuple. Sequence numbers use serial arithmetic, so streams may cross
// 2^32. Out-of-order segments are held (bounded by Options.MaxOutOfOrder)
// until the hole fills; retransmitted and overlapping bytes are delivered
// once. A hole that never fills (the capture lost a segment) is given up
// on after Options.GapTimeout of packet time or when the held data
// exceeds its bound; framing then resumes at the next SIP start line whose
// header block carries Call-ID and CSeq.
//
// A stream seen without its SYN (the capture started mid-call) is
// resynchronised the same way. Streams that open with a TLS record header
// are counted and ignored, as are streams that are neither SIP nor a
// WebSocket upgrade. With Options.TLSKeys, the two directions of a TLS
// connection feed one capture/tlsdec Session instead, and the plaintext it
// decrypts is framed as above (SIP or WebSocket), emitted with Message.TLS;
// a hole given up on ends decryption of that direction (the record
// sequence is lost), and Options.OnTLSSession hears why each connection
// was or was not decrypted. After "GET ... Upgrade: websocket" or "HTTP/1.1 101"
// the stream is deframed as WebSocket: masked and unmasked frames, 7/16/64
// bit lengths, fragmented messages reassembled, control frames skipped;
// each complete WebSocket message is one SIP message.
//
// FIN or RST flushes a direction (RST both) and leaves a small tombstone
// so late retransmissions are not mistaken for a new stream; a FIN that
// overtakes missing data waits for the hole. Tombstones leave with
// IdleTimeout.
//
// The memory held across all directions (the capacity of the buffers
// for partial messages, WebSocket fragments, segments beyond a hole, and
// what a TLS session holds: a record split across segments, records
// waiting for keys) is bounded by Options.MaxBuffered: past it, empty
// buffers give their capacity back, then the directions that went
// longest without a segment are evicted as an idle expiry would, and
// counted (Stats.BudgetEvictions, Stats.BudgetEvictedBytes). A TLS
// connection goes whole, both directions, since its partial record can
// no longer complete (Stats.TLSBudgetEvictions, TLSBudgetEvictedBytes).
//
// Time comes only from Segment.Time (packet time), so an offline capture
// behaves as a live one. The Assembler is single-goroutine and allocation
// free on the steady-state path; Message.Payload aliases its buffers.
// Nothing is ever returned as an error: what cannot be framed is dropped
// and counted in Stats.
package sipstream
