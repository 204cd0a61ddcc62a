// Package sink is where packets go once a command has chosen them: a
// capture file, a HEP collector, and (later) a rotating recorder, an
// anonymiser's output or a replay socket. Two levels, so each writer
// implements only what it understands:
//
//   - RecordSink takes link-layer records (bytes + pcap.Packet + source
//     index): Pcap writes them to a pcap or pcapng file.
//   - EventSink takes decoded events: HEP sends them to collectors,
//     Records writes the record behind each event to a RecordSink (once
//     per record), Frames wraps each event's payload in a synthetic frame
//     for a RecordSink.
//
// Usage:
//
//	file, err := sink.CreatePcap("out.pcapng", sink.PcapOptions{})  // .pcap: classic, else pcapng
//	recs := sink.NewRecords(file)            // the record behind each event (Event.Record), once
//	capture.Run(ctx, srcs, copts, warn, func(ev *capture.Event) error { return recs.WriteEvent(ev) })
//	err = recs.Close()                        // closes file too
//
// Every sink counts what it wrote and what it could not (Counts), so a
// command prints one summary and nothing is lost silently.
package sink
