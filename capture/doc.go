// Package capture is voiptool's decode pipeline: it turns capture
// records into typed, timestamped events — SIP messages, RTP packets,
// RTCP compounds and HEP packets.
//
//	srcs := []capture.Source{reader} // *pcap.Reader, live.Source ...
//	stats, err := capture.Run(ctx, srcs, capture.Options{}, func(err error) {
//		log.Print(err) // per-record problems; decoding goes on
//	}, func(ev *capture.Event) error {
//		store.Add(ev.Kind, ev.Src, ev.Dst, bytes.Clone(ev.Payload)) // copy what you keep
//		return nil
//	})
//
// A Decoder (one per goroutine) walks link layer → IP → L4 in place over
// gopacket layer structs built once, with zero allocations per UDP packet:
// Ethernet with 802.1Q/QinQ and PPPoE, Linux SLL/SLL2, raw IP, BSD
// NULL/LOOP, PPP; IPv4 and IPv6 with extension headers and
// fragment reassembly; IP-in-IP, GRE (IP, Ethernet, PPP, ERSPAN II/III)
// and VXLAN tunnels (Event.Tunnel). TCP goes to capture/sipstream for
// reassembly and SIP framing (TLS is recognised and counted, not
// decoded); SCTP DATA chunks are split and reassembled.
//
// Classification is by content, never by port, with the project's one
// parser per protocol: a SIP start line (internal/siplex) on any port;
// HEP by hep.Detect; RTP/RTCP to or from endpoints learned from SDP in
// SIP bodies (sipflow: c=, m=, a=rtcp with its address, a=rtcp-mux), and
// otherwise by heuristics on UDP between ports >= 1024 (RTCP: compound
// lengths add up; RTP: an SSRC with advancing sequence numbers over 3
// packets, each of up to 4 SSRCs on a 5-tuple confirmed on its own — the
// first 2 are held, copied, and delivered when the third confirms the
// SSRC, so they arrive slightly late but in order, with their own times;
// Stats.RTPHeuristicDropped counts held packets never confirmed).
// Options.NoRTPHeuristic switches the heuristics off. A KindRTP event
// carries its header, decoded by rtpstats.Fixed.Parse (Event.RTP), for
// rtpstats.Tracker.AddFixed: each packet is decoded once.
//
// Every event says where its headers are in the record (Event.Layers:
// the chain of headers with their offsets, the payload's offset, the
// reassemblies that built it), so that a rewriter or a replayer changes
// bytes in place and capture/fixup repairs the lengths and checksums.
//
// All timeouts (fragments, TCP streams, learned media, heuristic flows)
// run on packet time, never the wall clock, so a file decodes the same
// as a live capture. Bad input never panics: Decode returns a
// *DecodeError naming the record and layer, after emitting whatever it
// could decode, and Stats counts what was skipped.
package capture
