// Package replay plays the SIP, RTP and RTCP payloads of a capture again over
// ordinary sockets (no root), on the capture's own schedule, to a test SIP
// server, an SBC, an IDS or a collector: the logic behind `voiptool replay`.
//
// Usage:
//
//	sum, err := replay.Run(ctx, replay.Options{
//		Files: []string{"call.pcap"}, To: netip.MustParseAddrPort("127.0.0.1:5060"),
//		Speed: 1, Loops: 1, Rewrite: true, Side: replay.SideCaller,
//	}, warn)
//	replay.WriteSummary(os.Stderr, sum, "text")
//
// A first pass feeds the capture to an engine to learn the calls, which of
// them --call and --filter select and the capture's time span; a second pass
// (one per --loop) decodes the capture again and sends each selected payload
// from a local socket standing for its original source endpoint, at start +
// its capture offset (internal/pace: an absolute schedule, so sleep overshoot
// never accumulates), to the destination Options.Maps or Options.To give.
// Nothing is sent anywhere else: a packet whose destination maps nowhere is
// refused and counted, broadcast and multicast targets are refused unless
// allowed, and a live peer's SDP may only point media at a target's address.
//
// With Rewrite a live peer can take part: the Request-URI goes to the
// target, Via, Contact and the SDP c=/m= lines point at the local sockets
// (whose answers are read, parsed for the peer's SDP and To-tag, counted and
// discarded), Content-Length is fixed with sipflow.Editor, and optionally
// Call-IDs, tags and branches are new per run and RTP streams get fresh
// SSRC, sequence and timestamp bases kept continuous (loss stays loss),
// their RTCP mapped onto the same bases (SSRCs of SR/RR/SDES/BYE/XR and
// feedback, sender-report RTP times and counts, reported sequence
// numbers) with pion/rtcp, the RTCP parser rtpstats uses.
// SIP over TCP is sent as one connection per original connection, each
// message written whole.
package replay
