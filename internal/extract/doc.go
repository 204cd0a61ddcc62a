// Package extract writes chosen calls out of an engine: their packets to
// a pcapng file, re-read from the capture files (the store keeps SIP
// messages, not frames, and never RTP), and their ladder as a report.Flow
// for the report writers. It only reads the engine (copies), so it runs on
// any goroutine beside the writer, and it honours its context: a
// cancelled extraction returns ctx.Err() and leaves no file behind.
//
//	n, err := extract.Pcap(ctx, e, ids, "calls.pcapng", extract.Options{Files: files, Media: true})
//	fl, calls := extract.Flow(e, ids, true, nil)
package extract
