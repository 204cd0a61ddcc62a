package rtpstats

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// TestExpireKeepsHintsOfLiveAnnouncements: a codec hint made before the
// Tracker saw any packet (SDP first, media later) lives as long as its
// endpoint's announcement, not until the first sweep. (Dated by the
// Tracker's zero clock, it was dropped by the engine's first tick.)
func TestExpireKeepsHintsOfLiveAnnouncements(t *testing.T) {
	tr := NewTracker(Options{})
	ep := netip.MustParseAddrPort("203.0.113.5:30000")
	tr.SetCallIDAt(ep, "call-1", tBase)
	tr.SetCodec(ep, 96, "opus", 48000)
	tr.ExpireBefore(tBase.Add(-time.Minute)) // a sweep before the SDP's time
	sendStream(t, tr, natPeer, ep, time.Second, 7, 96, 5)
	if r := reportBySSRC(t, tr, 7); r.Codec != "opus" || r.CallID != "call-1" {
		t.Fatalf("codec %q call %q after a sweep, want opus on call-1", r.Codec, r.CallID)
	}
}

// TestExpireFinishedStreamsStayWithTheirCall: an expired stream's final
// report is kept, in Streams and in its call's CallStreams and
// AppendCallBrief (brief: no series), and the call is reported changed.
func TestExpireFinishedStreamsStayWithTheirCall(t *testing.T) {
	tr := NewTracker(Options{})
	ep := netip.MustParseAddrPort("203.0.113.5:30000")
	tr.SetCallIDAt(ep, "call-1", tBase)
	sendStream(t, tr, natPeer, ep, time.Second, 7, 0, 50)
	tr.ChangedCalls(nil)
	if n := tr.Expire(tBase.Add(time.Hour)); n != 1 {
		t.Fatalf("expired %d streams, want 1", n)
	}
	if ch := tr.ChangedCalls(nil); len(ch) != 1 || ch[0] != "call-1" {
		t.Errorf("changed calls after expiry %v, want [call-1]", ch)
	}
	full := tr.CallStreams("call-1")
	if len(full) != 1 || full[0].Packets != 50 || len(full[0].Series) == 0 || full[0].Link != LinkSDP {
		t.Fatalf("call streams after expiry %+v", full)
	}
	brief := tr.AppendCallBrief(nil, "call-1")
	if len(brief) != 1 || brief[0].Packets != 50 || brief[0].Series != nil || brief[0].MOS != full[0].MOS {
		t.Fatalf("brief after expiry %+v", brief)
	}
	if !tr.HasFinished("call-1") || tr.HasFinished("call-2") || len(tr.AppendFinishedBrief(nil, "call-1")) != 1 {
		t.Errorf("HasFinished(call-1) %v, HasFinished(call-2) %v: want the finished report's call only", tr.HasFinished("call-1"), tr.HasFinished("call-2"))
	}
	// Copies: changing one does not change the kept report.
	full[0].Series[0].Packets = -1
	if again := tr.Streams(); again[0].Series[0].Packets == -1 {
		t.Error("finished report aliased by a reader's copy")
	}
	if tr.anns.len() != 0 || len(tr.idx.byEP) != 0 || len(tr.idx.callEPs) != 0 || len(tr.flows) != 0 {
		t.Errorf("tables after expiry: %d announcements, %d endpoints, %d calls indexed, %d flows",
			tr.anns.len(), len(tr.idx.byEP), len(tr.idx.callEPs), len(tr.flows))
	}
}

// TestFloodIsBounded: a flood of one-packet streams, RTCP sources,
// reporters and SDP endpoints stays within every cap; every stream is
// evicted or live, counted, and the finished list keeps the newest
// final reports up to its cap, counting the rest.
func TestFloodIsBounded(t *testing.T) {
	const (
		maxStreams = 256
		maxFin     = 300
		n          = 2000
	)
	tr := NewTracker(Options{MaxStreams: maxStreams, MaxFinished: maxFin, MaxRTCP: 100, MaxAnnouncements: 128})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	for i := range n {
		at := tBase.Add(time.Duration(i) * time.Millisecond)
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 4000)
		tr.SetCallIDAt(src, fmt.Sprintf("call-%d", i), at)
		tr.SetCodec(src, 0, "PCMU", 8000)
		if err := tr.AddRTP(rtpBytes(t, synth{seq: 1, pt: 0, ssrc: uint32(i)}), Meta{Time: at, Src: src, Dst: dst}); err != nil {
			t.Fatal(err)
		}
		// An RR about a new source from a new reporter on each packet,
		// plus a flood of reporters about source 0.
		if err := tr.AddRTCP(rrBytes(uint32(1<<20+i), uint32(i)), Meta{Time: at, Src: src, Dst: dst}); err != nil {
			t.Fatal(err)
		}
		if err := tr.AddRTCP(rrBytes(uint32(1<<24+i), 0), Meta{Time: at, Src: src, Dst: dst}); err != nil {
			t.Fatal(err)
		}
		if tr.Len() > maxStreams || len(tr.rtcp.bySSRC) > 100 || tr.done.len() > maxFin {
			t.Fatalf("packet %d: %d streams, %d RTCP sources, %d finished", i, tr.Len(), len(tr.rtcp.bySSRC), tr.done.len())
		}
		if tr.anns.len() > 128+3*maxStreams || len(tr.hints) > 128+3*maxStreams {
			t.Fatalf("packet %d: %d announcements, %d hints", i, tr.anns.len(), len(tr.hints))
		}
	}
	c := tr.Counters()
	if c.Evicted+tr.Len() != n || c.Evicted == 0 {
		t.Errorf("evicted %d + live %d != %d streams", c.Evicted, tr.Len(), n)
	}
	if c.FinishedDropped != c.Evicted-maxFin || tr.done.len() != maxFin {
		t.Errorf("finished dropped %d, kept %d, of %d evicted", c.FinishedDropped, tr.done.len(), c.Evicted)
	}
	if got := len(tr.Streams()); got != tr.Len()+maxFin {
		t.Errorf("Streams lists %d, want %d live + %d finished", got, tr.Len(), maxFin)
	}
	if c.RTCPEvicted == 0 || c.RTCPReportersEvicted == 0 || c.AnnouncementsEvicted == 0 {
		t.Errorf("counters %+v: RTCP, reporter and announcement evictions not counted", c)
	}
	if rs := tr.rtcp.bySSRC[0]; rs != nil && len(rs.sum.Reports) > maxReporters {
		t.Errorf("%d reporters kept about one source", len(rs.sum.Reports))
	}
	// The newest finished streams are the ones kept, each with its call.
	for _, r := range tr.Streams() {
		if r.CallID == "" {
			t.Fatalf("stream %#x lost its call: %+v", r.SSRC, r)
		}
	}
	// HasFinished: a dropped report's call has none, a kept one's has.
	kept := 0
	for i := range n {
		id := fmt.Sprintf("call-%d", i)
		if has := tr.HasFinished(id); has != (len(tr.AppendFinishedBrief(nil, id)) > 0) {
			t.Fatalf("%s: HasFinished %v, AppendFinishedBrief disagrees", id, has)
		} else if has {
			kept++
		}
	}
	if kept != maxFin {
		t.Errorf("HasFinished true for %d calls, want the %d kept", kept, maxFin)
	}
	// Everything expires by packet time.
	tr.ExpireBefore(tBase.Add(time.Hour))
	if tr.Len() != 0 || len(tr.rtcp.bySSRC) != 0 || tr.anns.len() != 0 || len(tr.hints) != 0 || len(tr.idx.byEP) != 0 || len(tr.idx.callEPs) != 0 {
		t.Errorf("after expiry: %d streams, %d RTCP, %d announcements, %d hints, %d endpoints, %d calls indexed",
			tr.Len(), len(tr.rtcp.bySSRC), tr.anns.len(), len(tr.hints), len(tr.idx.byEP), len(tr.idx.callEPs))
	}
}

// rrBytes is an RTCP receiver report from reporter about source.
func rrBytes(reporter, source uint32) []byte {
	b := []byte{0x81, 201, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b[4], b[5], b[6], b[7] = byte(reporter>>24), byte(reporter>>16), byte(reporter>>8), byte(reporter)
	b[8], b[9], b[10], b[11] = byte(source>>24), byte(source>>16), byte(source>>8), byte(source)
	return b
}

// TestEvictIdleOrder: a full table evicts the longest-idle stream, not
// the oldest one.
func TestEvictIdleOrder(t *testing.T) {
	tr := NewTracker(Options{MaxStreams: 64})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	send := func(i int, at time.Duration) {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 4000)
		if err := tr.AddRTP(rtpBytes(t, synth{seq: uint16(at / time.Millisecond), pt: 0, ssrc: uint32(i + 1)}), Meta{Time: tBase.Add(at), Src: src, Dst: dst}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 64 {
		send(i, time.Duration(i)*time.Second)
	}
	send(0, 100*time.Second) // stream 0 is now the most recent
	send(200, 101*time.Second)
	// A batch of 64/64 = 1: the longest idle is stream 1, not stream 0
	// (SSRCs 2 and 1).
	live := map[uint32]bool{}
	for _, s := range tr.all {
		live[s.key.ssrc] = true
	}
	if !live[1] || live[2] || !live[201] || tr.Counters().Evicted != 1 {
		t.Fatalf("after eviction live %v, counters %+v", live, tr.Counters())
	}
}

// TestSinceFirstIsSub: the nanosecond shortcut equals time.Time.Sub,
// and far times take Sub itself.
func TestSinceFirstIsSub(t *testing.T) {
	for _, c := range []struct{ first, now time.Time }{
		{tBase, tBase.Add(1234567891 * time.Nanosecond)},
		{tBase, tBase.Add(-time.Hour)},
		{time.Unix(0, 0), time.Unix(1<<32-1, 999999999)},
		{time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		s := &stream{first: c.first, firstNS: c.first.UnixNano(), firstFast: fastTime(c.first)}
		if got, want := s.sinceFirst(c.now), c.now.Sub(c.first); got != want {
			t.Errorf("%v - %v: %v, want %v", c.now, c.first, got, want)
		}
	}
}

// TestExpireSweepAllocs: the owner's per-second sweep costs no
// allocation while nothing is idle, so the tick stays off the heap; and
// a packet of a flow carrying several SSRCs allocates nothing either.
func TestExpireSweepAllocs(t *testing.T) {
	tr := NewTracker(Options{})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	src := netip.MustParseAddrPort("198.51.100.1:4000")
	tr.SetCallIDAt(dst, "c", tBase)
	pkts := [3][]byte{}
	for i := range pkts {
		pkts[i] = rtpBytes(t, synth{seq: 1, pt: 0, ssrc: uint32(10 + i)})
	}
	at := tBase
	seq := uint16(1)
	step := func() {
		seq++
		at = at.Add(200 * time.Microsecond) // one series bucket: the per-packet path only
		for _, p := range pkts {
			p[2], p[3] = byte(seq>>8), byte(seq)
			if err := tr.AddRTP(p, Meta{Time: at, Src: src, Dst: dst}); err != nil {
				t.Fatal(err)
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("3 SSRCs on one flow: %v allocs per round", n)
	}
	if n := testing.AllocsPerRun(200, func() { tr.Expire(tBase.Add(-time.Minute)) }); n != 0 {
		t.Errorf("a sweep with nothing idle allocates %v", n)
	}
	if tr.Len() != 3 || len(tr.flows) != 1 {
		t.Fatalf("%d streams on %d flows, want 3 on 1", tr.Len(), len(tr.flows))
	}
}

// TestFinishedByteBudget: finished reports are kept within their byte
// budget, the oldest dropped first and counted, and what is kept is the
// newest, each still found through its call.
func TestFinishedByteBudget(t *testing.T) {
	tr := NewTracker(Options{MaxFinishedBytes: 20 << 10})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	const n = 100
	for i := range n {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 4000)
		tr.SetCallIDAt(src, fmt.Sprintf("call-%d", i), tBase)
		sendStream(t, tr, src, dst, time.Duration(i)*time.Minute, uint32(i+1), 0, 100) // 2 s: a 2-point series
		tr.Expire(tBase.Add(time.Duration(i)*time.Minute + time.Hour/2))
	}
	tr.Expire(tBase.Add(24 * time.Hour))
	c := tr.Counters()
	kept := tr.done.len()
	if kept == 0 || kept == n || c.FinishedDropped != n-kept || c.Expired != n {
		t.Fatalf("kept %d of %d, counters %+v", kept, n, c)
	}
	if tr.done.bytes > 20<<10 {
		t.Errorf("%d bytes kept, budget %d", tr.done.bytes, 20<<10)
	}
	for i := n - kept; i < n; i++ {
		if cs := tr.CallStreams(fmt.Sprintf("call-%d", i)); len(cs) != 1 || cs[0].SSRC != uint32(i+1) {
			t.Fatalf("call-%d: %+v", i, cs)
		}
	}
	if cs := tr.CallStreams(fmt.Sprintf("call-%d", n-kept-1)); len(cs) != 0 || len(tr.done.byCall) != kept {
		t.Errorf("a dropped report is still indexed: %d calls indexed for %d reports", len(tr.done.byCall), kept)
	}
}

// TestFlowKeyFamilies: an IPv4 endpoint and its IPv4-mapped IPv6 form
// are different endpoints (as netip says), so their streams stay apart.
func TestFlowKeyFamilies(t *testing.T) {
	tr := NewTracker(Options{})
	v4 := netip.MustParseAddrPort("192.0.2.1:4000")
	mapped := netip.MustParseAddrPort("[::ffff:192.0.2.1]:4000")
	dst := netip.MustParseAddrPort("192.0.2.2:5000")
	dst6 := netip.MustParseAddrPort("[::ffff:192.0.2.2]:5000")
	sendStream(t, tr, v4, dst, 0, 5, 0, 10)
	sendStream(t, tr, mapped, dst6, 0, 5, 0, 10)
	if epKeyOf(v4) == epKeyOf(mapped) || tr.Len() != 2 {
		t.Fatalf("%d streams, want 2: IPv4 and IPv4-mapped IPv6 merged", tr.Len())
	}
}

// TestAnnouncementHistoryBoundsIndex: a media server port announced by
// call after call keeps only the calls its history keeps in the index
// (plus the call a live stream was linked to when it began), and the
// stream is still found under the call its report names.
func TestAnnouncementHistoryBoundsIndex(t *testing.T) {
	tr := NewTracker(Options{})
	ep := netip.MustParseAddrPort("203.0.113.5:30000")
	tr.SetCallIDAt(ep, "call-0", tBase)
	sendStream(t, tr, natPeer, ep, time.Second, 1, 0, 5) // exact link to call-0
	for i := 1; i < 100; i++ {
		tr.SetCallIDAt(ep, fmt.Sprintf("call-%d", i), tBase.Add(time.Duration(i)*time.Minute))
	}
	if n := len(tr.idx.callEPs); n > maxAnnHistory+1 {
		t.Fatalf("%d calls indexed for one endpoint, want at most %d", n, maxAnnHistory+1)
	}
	r := tr.Streams()[0]
	if cs := tr.CallStreams(r.CallID); len(cs) != 1 || cs[0].SSRC != 1 {
		t.Fatalf("the stream (call %q) is not among its call's streams: %+v", r.CallID, cs)
	}
	if _, ok := tr.idx.callEPs["call-0"]; !ok {
		t.Error("call-0's claim on the endpoint its live stream was linked by is gone")
	}
	// Once that stream has finished, the claim goes too.
	tr.Expire(tBase.Add(time.Minute))
	if _, ok := tr.idx.callEPs["call-0"]; ok {
		t.Error("call-0 still claims the endpoint after its stream finished")
	}
}

// TestAnnouncementsExpireOnTick: SIP-only traffic at a steady call rate,
// with the engine's tick (Expire once a second): the announcements and
// hints expire from their age queues at the idle time, so the tables
// hold that much and no more, nothing is evicted, and the queues stay
// the size of their tables although one endpoint is renewed by every
// call.
func TestAnnouncementsExpireOnTick(t *testing.T) {
	const (
		idle  = time.Minute
		rate  = 20 // calls a second
		calls = 20 * 600
	)
	tr := NewTracker(Options{MaxAnnouncements: 4000})
	server := netip.MustParseAddrPort("203.0.113.5:30000") // every answer
	next := tBase
	for i := range calls {
		at := tBase.Add(time.Duration(i) * time.Second / rate)
		for !at.Before(next) {
			tr.Expire(next.Add(-idle))
			next = next.Add(time.Second)
		}
		offer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 4, byte(i >> 8), byte(i)}), 40000)
		id := fmt.Sprintf("call-%d", i)
		for _, ep := range []netip.AddrPort{offer, server} {
			tr.SetCallIDAt(ep, id, at)
			tr.SetCodecBytes(ep, 0, []byte("PCMU"), 8000)
			tr.SetCodecBytes(ep, 8, []byte("PCMA"), 8000)
			tr.SetCodecBytes(ep, 101, []byte("telephone-event"), 8000)
		}
		// The idle time's worth, one tick of slack, and the server.
		if max := (int(idle/time.Second)+2)*rate + 1; tr.anns.len() > max || hintCount(tr) > 3*max {
			t.Fatalf("call %d: %d announcements, %d hints, want at most %d and %d", i, tr.anns.len(), hintCount(tr), max, 3*max)
		}
		if tr.annQ.len() > compactAt(tr.anns.len()) || tr.hintQ.len() > compactAt(len(tr.hints)) {
			t.Fatalf("call %d: queues %d and %d for tables of %d and %d", i, tr.annQ.len(), tr.hintQ.len(), tr.anns.len(), len(tr.hints))
		}
	}
	if c := tr.Counters(); c.AnnouncementsEvicted != 0 || tr.roomPasses != 0 {
		t.Errorf("%d evicted in %d passes: expiry should have kept the tables below their cap", c.AnnouncementsEvicted, tr.roomPasses)
	}
	if a := tr.anns.lookup(server); a == nil || a.hint(101) == nil || a.hint(101).name != "telephone-event" || len(tr.hints) != 0 {
		t.Errorf("the server's hints: %+v (%d in the table)", a, len(tr.hints))
	}
	// Once the traffic stops, the tick empties the tables.
	for range 2 * idle / time.Second {
		tr.Expire(next.Add(-idle))
		next = next.Add(time.Second)
	}
	if tr.anns.len() != 0 || hintCount(tr) != 0 || len(tr.idx.callEPs) != 0 || tr.natPorts.len() != 0 {
		t.Errorf("after the idle time: %d announcements, %d hints, %d calls indexed, %d NAT ports", tr.anns.len(), hintCount(tr), len(tr.idx.callEPs), tr.natPorts.len())
	}
}

// TestHeldAnnouncementExpiresAfterItsStream: an announcement a live
// stream uses outlives its idle time; once the stream has finished, the
// tick forgets it within annRecheck.
func TestHeldAnnouncementExpiresAfterItsStream(t *testing.T) {
	tr := NewTracker(Options{})
	ep := netip.MustParseAddrPort("198.51.100.7:5004")
	tr.SetCallIDAt(ep, "call-1", tBase)
	tr.SetCodec(ep, 0, "PCMU", 8000)
	// A stream from ep for ten minutes.
	for i := range 600 {
		at := tBase.Add(time.Duration(i) * time.Second)
		if err := tr.AddRTP(rtpBytes(t, synth{seq: uint16(i), ts: uint32(8000 * i), pt: 0, ssrc: 7}), Meta{Time: at, Src: ep, Dst: natPeer}); err != nil {
			t.Fatal(err)
		}
		tr.Expire(at.Add(-time.Minute))
		if tr.anns.lookup(ep) == nil || hintCount(tr) != 1 {
			t.Fatalf("second %d: the live stream's announcement or hint was forgotten", i)
		}
	}
	end := tBase.Add(600 * time.Second)
	for s := time.Duration(0); s < time.Minute+annRecheck+2*time.Second; s += time.Second {
		tr.Expire(end.Add(s - time.Minute))
	}
	if tr.Len() != 0 || tr.anns.lookup(ep) != nil || hintCount(tr) != 0 {
		t.Errorf("%d streams, announcement %v, %d hints after the stream ended", tr.Len(), tr.anns.lookup(ep), hintCount(tr))
	}
	if r := tr.Streams(); len(r) != 1 || r[0].CallID != "call-1" || r[0].Codec != "PCMU" {
		t.Errorf("final report %+v", r)
	}
}

// hintCount is every codec hint the Tracker holds: with announcements
// and in its table.
func hintCount(tr *Tracker) int {
	n := len(tr.hints)
	tr.anns.each(func(s int32) { n += len(tr.anns.at(s).hints) })
	return n
}

// TestHintsKeptWithAnnouncement: codec hints live with their endpoint's
// announcement (up to maxAnnHints; the rest, and those of an endpoint
// not announced yet, in the table); a hint made before the announcement
// is replaced, not duplicated, and streams resolve hints from both.
func TestHintsKeptWithAnnouncement(t *testing.T) {
	tr := NewTracker(Options{})
	ep := netip.MustParseAddrPort("198.51.100.9:6000")
	tr.SetCodec(ep, 96, "early", 8000) // before the SDP's call is known
	if len(tr.hints) != 1 {
		t.Fatalf("%d hints in the table, want the one made before the announcement", len(tr.hints))
	}
	tr.SetCallIDAt(ep, "call-h", tBase)
	for i := range maxAnnHints + 4 {
		tr.SetCodecBytes(ep, uint8(96+i), fmt.Appendf(nil, "codec%d", i), 8000)
	}
	a := tr.anns.lookup(ep)
	if len(a.hints) != maxAnnHints || len(tr.hints) != 4 || hintCount(tr) != maxAnnHints+4 {
		t.Fatalf("%d hints with the announcement, %d in the table; want %d and 4", len(a.hints), len(tr.hints), maxAnnHints)
	}
	if h := a.hint(96); h == nil || h.name != "codec0" {
		t.Fatalf("pt 96: %+v, want codec0 (the early hint replaced)", h)
	}
	for _, pt := range []uint8{96, uint8(96 + maxAnnHints + 2)} {
		src := netip.AddrPortFrom(natPeer.Addr(), 7000+uint16(pt))
		if err := tr.AddRTP(rtpBytes(t, synth{seq: 1, pt: pt, ssrc: uint32(pt)}), Meta{Time: tBase.Add(time.Second), Src: src, Dst: ep}); err != nil {
			t.Fatal(err)
		}
	}
	rs := tr.Streams()
	if len(rs) != 2 || rs[0].Codec != "codec0" && rs[1].Codec != "codec0" || rs[0].Codec != fmt.Sprintf("codec%d", maxAnnHints+2) && rs[1].Codec != fmt.Sprintf("codec%d", maxAnnHints+2) {
		t.Fatalf("streams' codecs %q and %q", rs[0].Codec, rs[1].Codec)
	}
	tr.ExpireBefore(tBase.Add(time.Hour))
	if hintCount(tr) != 0 || tr.anns.len() != 0 {
		t.Errorf("after expiry: %d hints, %d announcements", hintCount(tr), tr.anns.len())
	}
}

// TestAnnouncementTouchesOnlyWithStreams: an SDP endpoint no stream uses
// changes no call's streams, so ChangedCalls is not told; one with a
// stream on it (media before the SDP) moves the stream to the call.
func TestAnnouncementTouchesOnlyWithStreams(t *testing.T) {
	tr := NewTracker(Options{})
	quiet := netip.MustParseAddrPort("198.51.100.20:4000")
	busy := netip.MustParseAddrPort("198.51.100.21:4000")
	tr.SetCallIDAt(quiet, "call-quiet", tBase)
	tr.SetCallIDAt(quiet, "call-quiet-2", tBase.Add(time.Second))
	if n := tr.PendingCalls(); n != 0 {
		t.Fatalf("%d calls pending for endpoints without streams", n)
	}
	sendStream(t, tr, busy, natPeer, 0, 1, 0, 3)
	tr.ChangedCalls(nil) // the packets' change, taken
	tr.SetCallIDAt(busy, "call-busy", tBase.Add(time.Second))
	if got := tr.ChangedCalls(nil); len(got) != 1 || got[0] != "call-busy" {
		t.Fatalf("changed calls %v, want call-busy (its stream linked by the SDP)", got)
	}
}

// TestNATCandidateAnnouncedAgain: a private endpoint forgotten on the
// tick and announced again by a later call is that call's NAT candidate
// (the port's candidate list holds the new announcement, not the
// forgotten one).
func TestNATCandidateAnnouncedAgain(t *testing.T) {
	tr := NewTracker(Options{})
	tr.SetCallIDAt(natSDP, "call-old", tBase)
	for s := time.Duration(0); s <= 2*time.Minute; s += time.Second {
		tr.Expire(tBase.Add(s - time.Minute))
	}
	if tr.anns.lookup(natSDP) != nil || tr.natPorts.len() != 0 {
		t.Fatalf("the first announcement outlived its idle time: %v, %d NAT ports", tr.anns.lookup(natSDP), tr.natPorts.len())
	}
	tr.SetCallIDAt(natSDP, "call-new", tBase.Add(2*time.Minute))
	sendStream(t, tr, natPublic, natPeer, 2*time.Minute+time.Second, 5, 0, 3)
	if r := reportBySSRC(t, tr, 5); r.CallID != "call-new" || r.Link != LinkNATPort || r.SDPEndpoint != natSDP {
		t.Errorf("stream linked to %q by %q at %v, want call-new by port at %v", r.CallID, r.Link, r.SDPEndpoint, natSDP)
	}
}
