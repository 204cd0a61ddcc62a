// Package extract writes chosen calls out of an engine: their packets to
// a pcapng file, and their ladder as a report.Flow for the report writers.
// Packets are re-read from the capture files (the store keeps SIP
// messages, not frames, and never RTP). A message no file holds (a live
// interface, a HEP collector, stdin) is written as a synthetic frame
// around the bytes the store kept for it (internal/frame): UDP for UDP
// and SCTP, TCP for TCP and the plaintext of TLS and WebSocket, with its
// addresses and time, on a pcapng interface named "voiptool: SIP of
// source N framed from the store". Such sources keep no RTP, so their
// media is not saved, and that is counted (ErrMediaNotKept), as are
// messages whose bytes are gone (ErrMessagesNotSaved). It only reads the
// engine (copies), so it runs on any goroutine beside the writer, and it
// honours its context: a cancelled extraction returns ctx.Err() and
// leaves no file behind.
//
//	n, err := extract.Pcap(ctx, e, ids, "calls.pcapng", extract.Options{Files: files, Media: true})
//	// err may wrap ErrMediaNotKept with n > 0: the file is written, without that media
//	fl, calls := extract.Flow(e, ids, true, nil)
package extract
