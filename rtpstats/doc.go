// Package rtpstats is the RTP/RTCP quality engine: per-stream loss, delta,
// jitter and skew computed exactly the way Wireshark's
// ui/tap-rtp-analysis.c does (so `tshark -z rtp,streams` is the oracle),
// plus burst/gap statistics (RFC 3611 4.7.2), an ITU-T G.107 E-model MOS
// with three jitter-buffer simulations, RTCP reporter statistics and
// RFC 4733 DTMF digits.
//
// Usage:
//
//	t := rtpstats.NewTracker(rtpstats.Options{})
//	t.SetCallIDAt(sdpAddr, callID, sipTime) // from an SDP c=/m= pair
//	t.SetCodec(sdpAddr, 96, "opus", 48000) // from an SDP a=rtpmap line
//	for each UDP datagram: t.AddRTP(payload, rtpstats.Meta{Time: ts, Src: src, Dst: dst})
//	for each RTCP datagram: t.AddRTCP(payload, meta)
//	reports := t.Streams() // copies, JSON-ready
//
// A Tracker is not safe for concurrent use: it is meant to be owned by the
// single goroutine that owns the call store. Streams are keyed by
// {SSRC, src, dst}, so an SSRC change on a 5-tuple starts a new stream.
// Nothing in a Tracker retains the packet bytes passed to AddRTP.
//
// A stream belongs to a call when its destination or source is an SDP
// media endpoint (StreamReport.Link "sdp"). Behind NAT the SDP carries a
// private address that never appears on the wire (heplify issue 188); a
// new stream that matches nothing exactly is then tied to the one live
// private endpoint announcing its port, and reported as the guess it is
// (Link "sdp-nat-port", SDPEndpoint the evidence). Tracker.SetCallIDAt gives the rules.
//
// Every table keyed by wire data is bounded (Options.MaxStreams and
// MaxLiveBytes, MaxRTCP, MaxAnnouncements, MaxFinished and
// MaxFinishedBytes) and expired by packet time
// (Tracker.ExpireBefore, driven by the owner's clock): a full table
// evicts its longest-idle entries rather than refusing new ones, and
// everything evicted or expired is counted (Counters). Expired and
// evicted streams are finished, not forgotten: their final reports stay
// in Streams, CallStreams and AppendCallBrief.
package rtpstats
