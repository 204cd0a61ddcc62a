package rtpstats

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

// heapInUse is the live heap after a full collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// checkLive holds the Tracker's count of what live streams hold to the
// sum of their footprints and to the streams' part of MaxLiveBytes.
func checkLive(t *testing.T, tr *Tracker, when string) {
	t.Helper()
	var sum int64
	for _, s := range tr.all {
		sum += s.footprint()
	}
	if sum != tr.liveBytes {
		t.Fatalf("%s: live streams hold %d bytes, counted %d", when, sum, tr.liveBytes)
	}
	if tr.liveBytes > tr.streamBytes() {
		t.Fatalf("%s: live streams hold %d bytes, past their part %d of MaxLiveBytes", when, tr.liveBytes, tr.streamBytes())
	}
}

// TestLiveBytesBudget: many short concurrent streams, each with its SDP
// announcement and codec hint, stay inside Options.MaxLiveBytes, by the
// Tracker's count and on the heap; the streams that made room were the
// longest idle, finished into reports and counted.
func TestLiveBytesBudget(t *testing.T) {
	const (
		budget = 4 << 20
		n      = 6000
	)
	before := heapInUse()
	// MaxFinished -1 keeps no final reports: the heap measured is the
	// live streams' (and announcements').
	tr := NewTracker(Options{MaxLiveBytes: budget, MaxFinished: -1})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	for i := range n {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 4000)
		at := time.Duration(i) * 10 * time.Millisecond
		tr.SetCallIDAt(src, fmt.Sprintf("call-%06d@example.com", i), tBase.Add(at))
		tr.SetCodec(src, 0, "PCMU", 8000)
		for k := range 10 {
			when := at + time.Duration(k)*20*time.Millisecond
			if err := tr.AddRTP(rtpBytes(t, synth{seq: uint16(k), ts: uint32(160 * k), pt: 0, ssrc: uint32(i + 1)}), Meta{Time: tBase.Add(when), Src: src, Dst: dst}); err != nil {
				t.Fatal(err)
			}
		}
		if i%500 == 0 {
			checkLive(t, tr, fmt.Sprintf("stream %d", i))
		}
	}
	checkLive(t, tr, "the end")
	grew := heapInUse() - before
	c := tr.Counters()
	t.Logf("%d live streams, %d evicted, heap %d bytes for a budget of %d", tr.Len(), c.Evicted, grew, budget)
	if grew > budget*5/4 {
		t.Errorf("the tracker holds %d bytes of heap, past 1.25 times its budget %d", grew, budget)
	}
	if c.EvictedBudget == 0 || c.Evicted != c.EvictedBudget || c.Evicted+tr.Len() != n {
		t.Errorf("evicted %d (by the budget %d) + live %d, want %d streams, all evictions by the budget", c.Evicted, c.EvictedBudget, tr.Len(), n)
	}
	if tr.anns.len() > tr.o.MaxAnnouncements+3*tr.Len() {
		t.Errorf("%d announcements, cap %d", tr.anns.len(), tr.o.MaxAnnouncements)
	}
	// The longest idle went first: the newest streams are the live ones.
	for _, s := range tr.all {
		if int(s.key.ssrc) <= n-tr.Len()-n/evictBatch {
			t.Fatalf("stream %d still live, %d newer ones evicted", s.key.ssrc, c.Evicted)
		}
	}
	runtime.KeepAlive(tr)
}

// TestLiveBytesTrimmedOnTick: long streams grow (a series bucket a
// second) with no new stream arriving; the tick (Expire) finishes the
// longest idle of them once they pass the budget.
func TestLiveBytesTrimmedOnTick(t *testing.T) {
	tr := NewTracker(Options{MaxLiveBytes: 512 << 10})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	const streams = 50
	for sec := range 900 {
		now := tBase.Add(time.Duration(sec) * time.Second)
		for i := range streams {
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, 0, byte(i)}), 4000)
			at := now.Add(time.Duration(i) * time.Millisecond)
			if err := tr.AddRTP(rtpBytes(t, synth{seq: uint16(sec), ts: uint32(8000 * sec), pt: 0, ssrc: uint32(i + 1)}), Meta{Time: at, Src: src, Dst: dst}); err != nil {
				t.Fatal(err)
			}
		}
		tr.Expire(now.Add(-5 * time.Minute))
		checkLive(t, tr, fmt.Sprintf("second %d", sec))
	}
	if c := tr.Counters(); c.EvictedBudget == 0 || c.Expired != 0 {
		t.Errorf("counters %+v: want evictions by the budget, no expiry", c)
	}
}

// TestAnnouncementsShareOfLiveBytes: the announcements' quarter and the
// RTCP sources' eighth of MaxLiveBytes lower MaxAnnouncements and
// MaxRTCP, never below minAnnouncements.
func TestAnnouncementsShareOfLiveBytes(t *testing.T) {
	for _, c := range []struct {
		live          int64
		max           int
		wantAnn, rtcp int
	}{
		{16 << 20, 0, 16 << 20 / 4 / annBytes, 16 << 20 / 8 / rtcpBytes},
		{1 << 20, 0, minAnnouncements, minAnnouncements},
		{1 << 30, 0, 200000, 100000},
		{16 << 20, 100, 100, 100},
	} {
		tr := NewTracker(Options{MaxLiveBytes: c.live, MaxAnnouncements: c.max, MaxRTCP: c.max})
		if tr.o.MaxAnnouncements != c.wantAnn || tr.o.MaxRTCP != c.rtcp {
			t.Errorf("MaxLiveBytes %d, caps %d: announcements %d, RTCP %d, want %d and %d", c.live, c.max, tr.o.MaxAnnouncements, tr.o.MaxRTCP, c.wantAnn, c.rtcp)
		}
	}
}

// TestRTCPSourcesInsideLiveBytes: a flood of RTCP about new sources
// stays inside the RTCP sources' eighth of MaxLiveBytes, on the heap,
// the rest evicted and counted.
func TestRTCPSourcesInsideLiveBytes(t *testing.T) {
	const budget = 8 << 20
	before := heapInUse()
	tr := NewTracker(Options{MaxLiveBytes: budget})
	src := netip.MustParseAddrPort("10.0.0.1:4001")
	dst := netip.MustParseAddrPort("10.0.0.2:5001")
	const n = 20000
	for i := range n {
		at := Meta{Time: tBase.Add(time.Duration(i) * time.Millisecond), Src: src, Dst: dst}
		if err := tr.AddRTCP(rrBytes(uint32(1<<20+i), uint32(i)), at); err != nil {
			t.Fatal(err)
		}
	}
	grew := heapInUse() - before
	c := tr.Counters()
	if grew > budget/8*5/4 || c.RTCPEvicted == 0 || len(tr.rtcp.bySSRC)+c.RTCPEvicted != n {
		t.Errorf("%d RTCP sources kept in %d bytes of heap (their part %d), %d evicted", len(tr.rtcp.bySSRC), grew, budget/8, c.RTCPEvicted)
	}
	runtime.KeepAlive(tr)
}

// TestRoomPassesAmortised: when live streams use every announcement and
// hint, a full table cannot make room; the eviction passes over it
// (each a walk and a sort of the table) must not run on every new
// SDP endpoint, which made a 256 MiB run spend 80 % of its CPU there.
func TestRoomPassesAmortised(t *testing.T) {
	tr := NewTracker(Options{MaxAnnouncements: 64})
	peer := netip.MustParseAddrPort("203.0.113.5:30000")
	const n = 2000
	for i := range n {
		ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 3, byte(i >> 8), byte(i)}), 4000)
		at := tBase.Add(time.Duration(i) * time.Millisecond)
		// A live stream on the endpoint first: nothing can be evicted.
		if err := tr.AddRTP(rtpBytes(t, synth{seq: 1, pt: 0, ssrc: uint32(i + 1)}), Meta{Time: at, Src: ep, Dst: peer}); err != nil {
			t.Fatal(err)
		}
		tr.SetCallIDAt(ep, fmt.Sprintf("call-%d", i), at)
		tr.SetCodec(ep, 0, "PCMU", 8000)
		tr.SetCodec(ep, 8, "PCMA", 8000)
	}
	if tr.Counters().AnnouncementsEvicted != 0 || tr.Len() != n {
		t.Fatalf("%d streams, %d announcements evicted: the setup left room", tr.Len(), tr.Counters().AnnouncementsEvicted)
	}
	if tr.roomPasses > 100 {
		t.Errorf("%d eviction passes for %d new endpoints over a table live streams hold", tr.roomPasses, n)
	}
}

// TestSpareLent: what Options.Spare offers lets live streams and final
// reports pass their own shares with nothing finished early or dropped;
// when the lender takes it back, the next tick evicts and drops down to
// the shares again, counted.
func TestSpareLent(t *testing.T) {
	const (
		budget = 1 << 20 // live streams' part: 5/8 of it
		n      = 2000
	)
	spare := int64(64 << 20)
	tr := NewTracker(Options{MaxLiveBytes: budget, MaxFinishedBytes: 64 << 10, Spare: func() int64 { return spare }})
	dst := netip.MustParseAddrPort("203.0.113.5:30000")
	last := tBase
	for i := range n {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), 4000)
		for k := range 5 {
			last = tBase.Add(time.Duration(i)*10*time.Millisecond + time.Duration(k)*20*time.Millisecond)
			if err := tr.AddRTP(rtpBytes(t, synth{seq: uint16(k), ts: uint32(160 * k), pt: 0, ssrc: uint32(i + 1)}), Meta{Time: last, Src: src, Dst: dst}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if c := tr.Counters(); c.Evicted != 0 || tr.Len() != n {
		t.Fatalf("with %d bytes lent: %d live, %d evicted; want %d live", spare, tr.Len(), c.Evicted, n)
	}
	if tr.liveBytes <= tr.streamBytes() {
		t.Fatalf("live streams hold %d bytes, inside their own part %d: the test lends nothing", tr.liveBytes, tr.streamBytes())
	}
	// Half the streams end; their reports pass the reports' own 64 KiB.
	tr.Expire(last.Add(-time.Duration(n/2) * 10 * time.Millisecond))
	c := tr.Counters()
	if c.Expired == 0 || c.FinishedDropped != 0 || tr.done.bytes <= tr.done.maxBytes {
		t.Fatalf("expired %d, dropped %d, reports hold %d of their own %d: want some expired, none dropped, past the share", c.Expired, c.FinishedDropped, tr.done.bytes, tr.done.maxBytes)
	}
	// The lender takes it back: the next tick trims both to their shares.
	spare = 0
	tr.Expire(tBase)
	checkLive(t, tr, "after the loan was taken back")
	c = tr.Counters()
	if tr.done.bytes > tr.done.maxBytes || c.FinishedDropped == 0 || c.EvictedBudget == 0 {
		t.Fatalf("after the loan: reports hold %d of %d (%d dropped), %d streams evicted by the budget", tr.done.bytes, tr.done.maxBytes, c.FinishedDropped, c.EvictedBudget)
	}
	if got := tr.Len() + c.Expired + c.Evicted; got != n {
		t.Errorf("live %d + expired %d + evicted %d = %d, want %d", tr.Len(), c.Expired, c.Evicted, got, n)
	}
}

// TestFinishedListShrinks: a list that was long while the store's spare
// share was lent to it lets its chunks go once trimmed, instead of
// holding that many slots (about a kilobyte each) for the rest of the run.
func TestFinishedListShrinks(t *testing.T) {
	l := finishedList{maxN: 1 << 20, maxBytes: 1 << 10}
	lim := int64(1 << 40)
	limit := func() int64 { return lim }
	for i := range 20000 {
		l.add(StreamReport{CallID: fmt.Sprint("c", i), SSRC: uint32(i)}, limit)
	}
	if l.len() != 20000 || len(l.chunks)*finishedChunk < 20000 {
		t.Fatalf("%d kept in %d chunks of %d, want 20000", l.len(), len(l.chunks), finishedChunk)
	}
	one := reportSize(&StreamReport{CallID: "c19999"})
	lim = 100 * one // the lender takes it back
	l.add(StreamReport{CallID: "last"}, limit)
	if l.len() > 100 || l.len() == 0 {
		t.Fatalf("%d kept, want at most 100", l.len())
	}
	if c := len(l.chunks); c > l.len()/finishedChunk+2 {
		t.Errorf("%d kept in %d chunks of %d: the long list's chunks were kept", l.len(), c, finishedChunk)
	}
	// What is kept is still indexed and in order.
	if r := l.at(l.headSeq + uint64(l.len()-1)); r.CallID != "last" || len(l.byCall["last"]) != 1 {
		t.Errorf("last report %q, index %v", r.CallID, l.byCall["last"])
	}
	for seq := l.headSeq; seq < l.headSeq+uint64(l.len()-1); seq++ {
		r := l.at(seq)
		if want := fmt.Sprint("c", 20000-l.len()+1+int(seq-l.headSeq)); r.CallID != want {
			t.Fatalf("report %d is %q, want %q", seq, r.CallID, want)
		}
	}
	// Emptied, the list starts over in the chunk it has.
	for l.len() > 0 {
		l.popOldest()
	}
	l.add(StreamReport{CallID: "again"}, limit)
	if l.len() != 1 || len(l.chunks) != 1 || l.at(l.headSeq).CallID != "again" {
		t.Errorf("after emptying: %d kept in %d chunks", l.len(), len(l.chunks))
	}
}

// TestFinishedListHeap holds what the final reports are counted at
// (reportSize, against Options.MaxFinishedBytes and what Options.Spare
// lends) to what the list holds on the heap, measured: while lent to,
// after the loan is taken back, and while reports keep coming at the
// smaller limit. The list in one array held more than it counted
// there (1.27 times at worst here; 99 MB of array for reports counted
// at 45 MB in a 256 MiB run): the dead slots before its head, the
// capacity append leaves, and the slots its long days had grown.
func TestFinishedListHeap(t *testing.T) {
	const n = 40000
	report := func(i int) StreamReport {
		id := fmt.Sprintf("%08d-call@pbx.example.com", i)
		return StreamReport{
			CallID: id, CallIDs: []string{id}, Codec: "PCMU", Link: LinkSDP,
			SSRCHex: fmt.Sprintf("0x%08X", i), Series: make([]SeriesPoint, 4),
		}
	}
	var worst float64
	check := func(l *finishedList, base int64, when string) {
		t.Helper()
		held := heapInUse() - base
		runtime.KeepAlive(l)
		worst = max(worst, float64(held)/float64(l.bytes))
		if held > l.bytes+l.bytes/10+3*int64(unsafe.Sizeof([finishedChunk]StreamReport{})) {
			t.Errorf("%s: %d reports counted at %d bytes hold %d on the heap", when, l.len(), l.bytes, held)
		}
	}
	lim := int64(1 << 40)
	limit := func() int64 { return lim }
	base := heapInUse()
	l := &finishedList{maxN: 1 << 20, maxBytes: 1 << 10}
	for i := range n {
		l.add(report(i), limit)
	}
	check(l, base, "lent to")
	for _, part := range []int64{2, 4} {
		lim = l.bytes / part // the lender takes some back
		for i := range 2 * n {
			l.add(report(i), limit)
			if i%(n/8) == 0 {
				check(l, base, fmt.Sprintf("1/%d of the loan, %d reports on", part, i))
			}
		}
	}
	t.Logf("held at most %.2f times the count", worst)
	if l.dropped < 3*n {
		t.Fatalf("%d dropped of %d, want more than %d", l.dropped, 5*n, 3*n)
	}
}
