package rtpstats

import (
	"net/netip"
	"slices"
	"time"
	"unsafe"
)

// evictBatch is the share of a full table one eviction frees (1/64):
// finding the longest idle entries costs a pass and a sort over the
// table, so freeing a batch at once keeps a flood of new entries at an
// amortised constant cost per entry.
const evictBatch = 64

// maxReporters bounds the reporters kept per RTCP media source: a real
// session has a handful; a flood of invented reporter SSRCs replaces
// the one heard from longest ago.
const maxReporters = 16

// endCounters count streams and announcements the Tracker let go.
type endCounters struct {
	expired, evicted, evictedBudget, annEvicted int
}

// annBytes is what an SDP announcement and two codec hints cost (map
// entries, the history, the call index's claim; measured 573 bytes
// with one hint), for the announcements' quarter of
// Options.MaxLiveBytes.
const annBytes = 800

// rtcpBytes is what an RTCP source costs with a reporter or two (its
// map of reporters, the summary, the reports; measured 923 bytes), for
// the RTCP sources' eighth of Options.MaxLiveBytes.
const rtcpBytes = 1024

// minAnnouncements is the fewest announcements (and RTCP sources) a
// small MaxLiveBytes leaves room for.
const minAnnouncements = 1024

// streamBytes is the live streams' part of Options.MaxLiveBytes (the
// announcements have a quarter, the RTCP sources an eighth).
func (t *Tracker) streamBytes() int64 {
	return t.o.MaxLiveBytes - t.o.MaxLiveBytes/4 - t.o.MaxLiveBytes/8
}

// lent is what a table may borrow beyond its share: what Options.Spare
// offers, less what the other borrower (over its own share by taken)
// already holds.
func (t *Tracker) lent(taken int64) int64 {
	if t.o.Spare == nil {
		return 0
	}
	return max(0, t.o.Spare()-max(0, taken))
}

// liveLimit is what live streams may hold: their part of
// Options.MaxLiveBytes, and what the final reports have not borrowed.
func (t *Tracker) liveLimit() int64 {
	return t.streamBytes() + t.lent(t.done.bytes-t.done.maxBytes)
}

// finishedLimit is what final reports may hold: Options.MaxFinishedBytes,
// and what Options.Spare lends that live streams have not taken.
func (t *Tracker) finishedLimit() int64 {
	return t.done.maxBytes + t.lent(t.liveBytes-t.streamBytes())
}

// trimLive finishes the longest-idle streams, a batch at a time, until
// what live streams hold plus need fits liveLimit, counted in
// Counters.Evicted and EvictedBudget. The share alone is checked first:
// Options.Spare is asked only when it is full.
func (t *Tracker) trimLive(need int64) {
	if t.liveBytes+need <= t.streamBytes() {
		return
	}
	lim := t.liveLimit()
	for len(t.all) > 0 && t.liveBytes+need > lim {
		t.evictIdle(true)
	}
}

// finishedList keeps the final reports of expired and evicted streams,
// oldest first, within a count and a byte budget (the Go sizes of what a
// report holds: the struct, its series, DTMF and RTCP); the oldest are
// dropped first, counted. It is indexed by call so that a call's streams
// include its finished ones. Reports in it are never changed.
type finishedList struct {
	maxN     int
	maxBytes int64
	items    []StreamReport // items[head:] are kept, oldest first
	head     int
	headSeq  uint64 // sequence number of items[head]
	bytes    int64
	byCall   map[string][]uint64 // sequence numbers per owning call
	dropped  int
}

func (l *finishedList) len() int { return len(l.items) - l.head }

func (l *finishedList) at(seq uint64) *StreamReport {
	return &l.items[l.head+int(seq-l.headSeq)]
}

// reportSize is what a kept report costs, in Go sizes. The slot counts
// twice: the list's backing array keeps its capacity after compaction
// and holds up to as many dead slots before it (measured: 60 MB of heap
// for a 32 MiB budget counted with one slot), and each owner's entry in
// byCall costs about 64 bytes.
func reportSize(r *StreamReport) int64 {
	n := 2*int64(unsafe.Sizeof(*r)) + int64(len(r.CallID)+len(r.Codec)+len(r.SSRCHex)+len(r.Link))
	n += 64 * int64(1+len(r.CallIDs))
	n += int64(len(r.Series)) * int64(unsafe.Sizeof(SeriesPoint{}))
	n += int64(len(r.DTMF)) * int64(unsafe.Sizeof(DTMFEvent{}))
	for _, id := range r.CallIDs {
		n += int64(unsafe.Sizeof(id)) + int64(len(id))
	}
	if r.RTCP != nil {
		n += int64(unsafe.Sizeof(*r.RTCP)) + int64(len(r.RTCP.CNAME)+len(r.RTCP.ByeReason))
		n += int64(len(r.RTCP.Reports)) * int64(unsafe.Sizeof(RTCPReport{})+unsafe.Sizeof(XRVoIP{}))
	}
	return n
}

// Owners calls fn for each call whose CallStreams and AppendCallBrief
// list r: CallID, and the other CallIDs unless the link is ambiguous
// (an ambiguous stream stays with its best guess).
func (r *StreamReport) Owners(fn func(callID string)) { owners(r, fn) }

// owners are the calls a finished report belongs to, as owns decides
// for a live stream: an ambiguous link stays with its best guess.
func owners(r *StreamReport, fn func(string)) {
	if r.CallID == "" {
		return
	}
	fn(r.CallID)
	if r.Link == LinkAmbiguous {
		return
	}
	for _, id := range r.CallIDs {
		if id != r.CallID {
			fn(id)
		}
	}
}

// add keeps r, dropping the oldest reports past maxN or past limit()
// bytes (asked only when maxBytes is passed: Options.Spare).
func (l *finishedList) add(r StreamReport, limit func() int64) {
	size := reportSize(&r)
	lim := l.maxBytes
	if l.bytes+size > lim {
		lim = limit()
	}
	if l.maxN < 0 || size > lim {
		l.dropped++
		return
	}
	for l.len() > 0 && (l.len() >= l.maxN || l.bytes+size > lim) {
		l.popOldest()
	}
	if l.byCall == nil {
		l.byCall = make(map[string][]uint64)
	}
	seq := l.headSeq + uint64(l.len())
	l.items = append(l.items, r)
	l.bytes += size
	owners(&r, func(id string) { l.byCall[id] = append(l.byCall[id], seq) })
}

// trimFinished drops the oldest final reports past finishedLimit: what
// Options.Spare lent them shrinks when the lender needs it back, with no
// new report arriving to notice.
func (t *Tracker) trimFinished() {
	l := &t.done
	if l.bytes <= l.maxBytes {
		return
	}
	lim := t.finishedLimit()
	for l.len() > 0 && l.bytes > lim {
		l.popOldest()
	}
}

// popOldest drops the oldest report, counted.
func (l *finishedList) popOldest() {
	r := &l.items[l.head]
	seq := l.headSeq
	owners(r, func(id string) { l.unindex(id, seq) })
	l.bytes -= reportSize(r)
	*r = StreamReport{} // its slices are garbage now
	l.head++
	l.headSeq++
	l.dropped++
	if l.head >= 1024 && l.head > len(l.items)/2 {
		// Move the kept reports down: amortised, each is moved at most
		// once per halving.
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items = l.items[:n]
		l.head = 0
	}
}

func (l *finishedList) unindex(id string, seq uint64) {
	s := l.byCall[id]
	if j := slices.Index(s, seq); j >= 0 {
		s = slices.Delete(s, j, j+1)
	}
	if len(s) == 0 {
		delete(l.byCall, id)
		return
	}
	l.byCall[id] = s
}

// appendAll appends a copy of every finished report.
func (l *finishedList) appendAll(dst []StreamReport) []StreamReport {
	for i := l.head; i < len(l.items); i++ {
		dst = append(dst, cloneReport(&l.items[i], true))
	}
	return dst
}

// appendCall appends copies of callID's finished reports; without full,
// the brief form (no Series, DTMF or RTCP, as AppendCallBrief promises).
func (l *finishedList) appendCall(dst []StreamReport, callID string, full bool) []StreamReport {
	for _, seq := range l.byCall[callID] {
		dst = append(dst, cloneReport(l.at(seq), full))
	}
	return dst
}

// Clone returns a deep copy of r: nothing in it aliases r.
func (r *StreamReport) Clone() StreamReport { return cloneReport(r, true) }

// cloneReport copies r so that nothing in the copy aliases the list.
func cloneReport(r *StreamReport, full bool) StreamReport {
	c := *r
	c.CallIDs = slices.Clone(r.CallIDs)
	if !full {
		c.Series, c.DTMF, c.RTCP = nil, nil, nil
		return c
	}
	c.Series = slices.Clone(r.Series)
	c.DTMF = slices.Clone(r.DTMF)
	if r.RTCP != nil {
		sum := *r.RTCP
		sum.Reports = slices.Clone(r.RTCP.Reports)
		for i := range sum.Reports {
			if x := sum.Reports[i].XR; x != nil {
				xc := *x
				sum.Reports[i].XR = &xc
			}
		}
		c.RTCP = &sum
	}
	return c
}

// finish ends s: its final report is made (with the announcements and
// RTCP still in hand), its calls are told their streams changed, and it
// leaves the tables. The report is kept in the finished list and
// returned.
func (t *Tracker) finish(s *stream) StreamReport {
	r := t.report(s, true)
	owners(&r, t.idx.touch)
	t.unlink(s)
	t.done.add(r, t.finishedLimit)
	return r
}

// ExpireBefore finishes the streams whose last packet is older than
// cutoff (packet time, never the wall clock) and returns their final
// reports, which Streams, CallStreams and AppendCallBrief keep showing
// (an expired stream is finished, not forgotten; see
// Options.MaxFinished). It also forgets RTCP reports about SSRCs idle
// since before cutoff that no live stream carries, and announcements
// and codec hints made before cutoff that no live stream uses.
func (t *Tracker) ExpireBefore(cutoff time.Time) []StreamReport {
	var out []StreamReport
	t.expire(cutoff, &out, true)
	sortReports(out)
	return out
}

// Expire is ExpireBefore for a writer that does not need the reports
// (the engine's packet-time tick): it returns how many streams ended.
// Announcements and codec hints are swept when enough was added since the
// last sweep (see expire), not on every call.
func (t *Tracker) Expire(cutoff time.Time) int {
	return t.expire(cutoff, nil, false)
}

func (t *Tracker) expire(cutoff time.Time, out *[]StreamReport, sweep bool) int {
	t.gen++
	n := 0
	for i := 0; i < len(t.all); {
		s := t.all[i]
		if !s.last.Before(cutoff) {
			i++
			continue
		}
		r := t.finish(s) // moves the last stream into slot i
		t.ends.expired++
		n++
		if out != nil {
			*out = append(*out, r)
		}
	}
	// Streams grow (a series bucket a second each) without a new one
	// arriving to trigger an eviction: the tick holds them to their
	// budget too.
	t.trimLive(0)
	t.trimFinished()
	t.expireRTCP(cutoff)
	// The announcement sweep walks every announcement, hint and NAT
	// port. Run on every tick (once a second of packet time) it cost
	// 70 % of a SIP-only run of 20 000 calls; every 30 s, still a sixth
	// of one of 200 000 calls (a five-minute table walked every thirty
	// seconds: ten visits per entry). It runs once the tables have had
	// half their size in additions since the last sweep, so each entry
	// is visited about twice, but no sooner than annSweepEvery, and at
	// the latest annMaxStale after the last sweep, or when the tables
	// doubled: announcements outlive their cutoff by at most
	// annMaxStale, and the cost is amortised over what was added.
	size := len(t.ann) + len(t.hints)
	since := cutoff.Sub(t.annSwept)
	if sweep || since >= annMaxStale || since >= annSweepEvery && t.annAdds >= size/2 || size > 2*t.annSweptSize+1024 {
		t.expireAnnouncements(cutoff)
		t.annSwept, t.annSweptSize, t.annAdds = cutoff, len(t.ann)+len(t.hints), 0
	}
	return n
}

// annSweepEvery and annMaxStale bound how often (packet time)
// announcements and codec hints are swept for expiry; see expire.
const (
	annSweepEvery = 30 * time.Second
	annMaxStale   = 5 * time.Minute
)

// evictIdle makes room for a new stream in a full table: it finishes the
// longest-idle streams, a batch of 1/evictBatch of the table, counted in
// Counters.Evicted (and EvictedBudget when budget: the table held its
// bytes, not its count). Their reports are kept like expired streams'.
func (t *Tracker) evictIdle(budget bool) {
	k := max(1, len(t.all)/evictBatch)
	sc := t.scratch[:0]
	for _, s := range t.all {
		sc = append(sc, s.last.UnixNano())
	}
	slices.Sort(sc)
	cut := sc[k-1]
	t.scratch = sc
	for i, n := 0, 0; i < len(t.all) && n < k; {
		s := t.all[i]
		if s.last.UnixNano() > cut {
			i++
			continue
		}
		t.finish(s)
		t.ends.evicted++
		if budget {
			t.ends.evictedBudget++
		}
		n++
	}
}

// expireRTCP forgets the RTCP state of SSRCs idle since before cutoff,
// unless a live stream carries the SSRC: its report still shows what
// RTCP said, and the state goes when the stream has finished.
func (t *Tracker) expireRTCP(cutoff time.Time) {
	var idle map[uint32]bool
	for ssrc, s := range t.rtcp.bySSRC {
		if s.last.Before(cutoff) {
			if idle == nil {
				idle = make(map[uint32]bool)
			}
			idle[ssrc] = true
		}
	}
	if idle == nil {
		return
	}
	for _, s := range t.all {
		delete(idle, s.key.ssrc)
	}
	for ssrc := range idle {
		delete(t.rtcp.bySSRC, ssrc)
		t.rtcp.expired++
	}
}

// expireAnnouncements forgets announcements and codec hints made before
// cutoff that no live stream uses (no stream on the endpoint as source,
// destination or NAT endpoint; for a hint, no announcement of it
// either), so a long live capture does not grow without bound. A
// finished stream's report keeps the link it had.
func (t *Tracker) expireAnnouncements(cutoff time.Time) {
	for ep, a := range t.ann {
		if len(t.idx.byEP[ep]) == 0 && t.announcedAt(a).Before(cutoff) {
			t.forgetAnn(ep, a)
		}
	}
	for k, h := range t.hints {
		// A hint lives at least as long as its endpoint's announcement:
		// SetCodec has no time of its own, and the Tracker's clock (RTP
		// and RTCP only) may not have started when the SDP came.
		if len(t.idx.byEP[k.ep]) == 0 && t.ann[k.ep] == nil && h.at.Before(cutoff) {
			delete(t.hints, k)
		}
	}
	for p := range t.natPorts {
		t.pruneNAT(p, time.Time{})
	}
}

// forgetAnn drops an announcement and its calls' claims on the endpoint.
func (t *Tracker) forgetAnn(ep netip.AddrPort, a *announcement) {
	delete(t.ann, ep)
	t.idx.unannounce(a.callID, ep)
	for _, e := range a.hist {
		t.idx.unannounce(e.callID, ep)
	}
}

// roomAnn is called before a new announcement is added, roomHint before
// a new codec hint: at Options.MaxAnnouncements each forgets the oldest
// batch of its table that no live stream uses, counted in
// Counters.AnnouncementsEvicted. Those a live stream uses stay (at most
// three endpoints per live stream, so the tables stay bounded by
// MaxStreams too). A pass walks and sorts the table, so one that left
// it still full (live streams use most of it) makes the next wait until
// it grew by an eighth (annNext, hintNext; see roomNext): a pass on
// every new entry cost 80 % of a 256 MiB run's CPU. The codec hints
// have twice the announcements' cap (an endpoint offers a few payload
// types; a hint costs a fraction of an announcement).
func (t *Tracker) roomAnn() {
	limit := t.o.MaxAnnouncements
	if len(t.ann) < max(limit, t.annNext) {
		return // checked here: the closures below are for a pass only
	}
	t.annNext = evictOldest(t, t.ann, limit,
		func(ep netip.AddrPort) bool { return len(t.idx.byEP[ep]) == 0 },
		func(a *announcement) int64 { return t.announcedAt(a).UnixNano() },
		func(ep netip.AddrPort, a *announcement) {
			t.forgetAnn(ep, a)
			t.pruneNAT(ep.Port(), time.Time{})
		})
}

func (t *Tracker) roomHint() {
	limit := 2 * t.o.MaxAnnouncements
	if len(t.hints) < max(limit, t.hintNext) {
		return
	}
	t.hintNext = evictOldest(t, t.hints, limit,
		func(k hintKey) bool { return len(t.idx.byEP[k.ep]) == 0 },
		func(h *codecHint) int64 { return h.at.UnixNano() },
		func(k hintKey, _ *codecHint) { delete(t.hints, k) })
}

// evictOldest is one eviction pass over a full table m of roomAnn or
// roomHint: of the entries free (no live stream uses them), the oldest
// by at are forgotten, a batch (roomBatch) at once, each counted in
// Counters.AnnouncementsEvicted. It returns the table size at which the
// next pass is due (roomNext).
func evictOldest[K comparable, V any](t *Tracker, m map[K]V, limit int, free func(K) bool, at func(V) int64, forget func(K, V)) int {
	t.roomPasses++
	sc := t.scratch[:0]
	for k, v := range m {
		if free(k) {
			sc = append(sc, at(v))
		}
	}
	t.scratch = sc
	if len(sc) > 0 {
		cut := kth(sc, min(len(sc), roomBatch(len(m), limit))-1)
		for k, v := range m {
			if free(k) && at(v) <= cut {
				forget(k, v)
				t.ends.annEvicted++
			}
		}
	}
	return roomNext(len(m), limit)
}

// roomBatch is how many entries a pass over a table of n entries
// evicts: a batch of the limit, and whatever the table grew past it
// while passes waited (roomNext).
func roomBatch(n, limit int) int {
	return max(0, n-limit) + limit/roomFraction + 1
}

// roomFraction is the share of its limit a full table's pass evicts (the
// oldest entries no live stream uses). Each pass walks the table: a pass
// per sixty-fourth of it cost a third of a 20 000-call SIP-only run's
// CPU in SetCodec once the hint table filled, a pass per eighth still a
// tenth of a 200 000-call run; a quarter makes it about four visits per
// new entry.
const roomFraction = 4

// kth returns the value that would be at index k if sc were sorted,
// reordering sc (quickselect: a pass needs the cut-off time, not the
// order, and a sort of the whole table was most of its cost). The
// partition is three-way, so a table whose entries share a few times
// (every hint of one SDP has its time) stays linear.
func kth(sc []int64, k int) int64 {
	lo, hi := 0, len(sc)-1
	for lo < hi {
		p := median3(sc[lo], sc[lo+(hi-lo)/2], sc[hi])
		// sc[lo:lt] < p, sc[lt:i] == p, sc[gt+1:hi+1] > p
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case sc[i] < p:
				sc[lt], sc[i] = sc[i], sc[lt]
				lt++
				i++
			case sc[i] > p:
				sc[i], sc[gt] = sc[gt], sc[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return p
		}
	}
	return sc[k]
}

func median3(a, b, c int64) int64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}

// roomNext is the table size at which the next eviction pass runs,
// after one that left n entries for a limit: at the limit again when
// the pass made room, else once the table grew by an eighth, so passes
// over a table that live streams hold cost amortised constant time per
// new entry.
func roomNext(n, limit int) int {
	if n < limit {
		return 0
	}
	return n + n/8 + 1
}

// LiveStreams returns the full reports of the live streams only,
// ordered like Streams: with AppendFinished, what a writer that keeps
// the reports of the end of a run needs without a second copy of the
// finished ones (the finished list is already inside its budget).
func (t *Tracker) LiveStreams() []StreamReport {
	out := make([]StreamReport, 0, len(t.all))
	for _, s := range t.all {
		out = append(out, t.report(s, true))
	}
	t.visits.Add(int64(len(t.all)))
	sortReports(out)
	return out
}

// FinishedLen is the number of final reports of finished streams kept.
func (t *Tracker) FinishedLen() int { return t.done.len() }

// AppendFinished appends a copy of every final report of a finished
// stream (in full) to dst and returns it, unsorted (see SortReports).
func (t *Tracker) AppendFinished(dst []StreamReport) []StreamReport {
	return t.done.appendAll(dst)
}

// AppendFinishedBrief appends the final reports of callID's finished
// streams to dst, brief as AppendCallBrief's, unsorted.
func (t *Tracker) AppendFinishedBrief(dst []StreamReport, callID string) []StreamReport {
	return t.done.appendCall(dst, callID, false)
}

// SortReports orders reports as Streams does: by start time, then key.
func SortReports(r []StreamReport) { sortReports(r) }
