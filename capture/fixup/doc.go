// Package fixup repairs the length fields and checksums of a captured
// record after its payload was changed, using the header chain the
// capture decoder recorded (capture.Layers), so a rewriter (anonymize),
// a frame replayer or a recorder never walks the encapsulations again.
//
// It lives beside package capture, not in package pcap, because it works
// on capture's decoding of the record: pcap moves records and knows no
// protocol above the link type.
//
//	d.Decode(data, p, func(ev *capture.Event) {
//		out, err := fixup.Replace(nil, data, &ev.Layers, len(ev.Payload), newPayload)
//		// out: the record with newPayload, every length and checksum fixed;
//		// p.CaptureLength and p.Length grow by len(newPayload)-len(ev.Payload).
//	})
//
// What it fixes, for every header of the chain from the innermost to the
// outermost: IPv4 total length and header checksum, IPv6 payload length,
// UDP length and checksum (IPv4 or IPv6 pseudo-header; a zero UDP checksum
// means "not computed" and stays zero), TCP checksum, the GRE checksum when
// present (C bit), the PPPoE length and the SCTP CRC32c (content changes
// only: SCTP chunks are not resized). Outer lengths of tunnels (IPIP, GRE,
// VXLAN's UDP, ERSPAN's IP) grow with the payload.
//
// What it does not do: TCP sequence numbers of later segments, which a
// size change shifts, are the caller's (it knows the stream); payloads
// that were reassembled (capture.Layers.Reassembled, negative Payload) span
// records and are refused with ErrNotInRecord.
package fixup
