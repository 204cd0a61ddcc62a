package rtpstats

import (
	"maps"
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

// annBytes is what an SDP announcement costs with the codec hints kept
// with it (map entry, history, the call index's claim, the age queue's
// entry; measured 417 bytes alone, 642 with one to four hints, 866
// with maxAnnHints) and its share of the hint table (one hint, about
// 200 bytes with its queue entry; see roomHint). It makes the
// announcements' quarter of Options.MaxLiveBytes a count: 16 MiB of the
// default 1 GiB budget is 15 252 endpoints, the idle time's worth
// (DefaultRTPIdleTimeout, 5 minutes) at 25 calls a second. Those
// measures were of a map to heap announcements; the slab that replaced
// it (annTable) costs about 130 bytes less an endpoint (131 bytes
// alone, 267 with three hints, 404 with maxAnnHints, against 264, 401
// and 537 measured the same way, Call-IDs not counted). The constant is
// kept: it sets the cap, and so when announcements are evicted.
const annBytes = 1100

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
//
// The reports are kept in chunks of finishedChunk, not in one array: a
// queue in one array held up to four times the slots it kept (dead
// slots before its head, the capacity append leaves, and the array a
// list long while Options.Spare lent to it had grown), 99 MB of array
// for 20 000 reports counted at 45 MB under a 256 MiB budget, and each
// growth copied the whole array beside the old one. Chunks free as the
// head passes them and grow the tail one at a time, so the slots held
// are the reports kept and at most three chunks more.
type finishedList struct {
	maxN     int
	maxBytes int64
	chunks   []*[finishedChunk]StreamReport // the kept reports start at chunks[0][head], oldest first
	spare    *[finishedChunk]StreamReport   // the last chunk the head left, cleared, for the tail's next one
	head     int
	n        int    // reports kept
	headSeq  uint64 // sequence number of the oldest kept report
	bytes    int64
	byCall   map[string][]uint64 // sequence numbers per owning call
	byCallN  int                 // the most calls byCall held since it was made (maps do not shrink)
	dropped  int
}

// finishedChunk is the reports a chunk of the finished list holds: as
// many as fit in 128 KiB, a whole number of the runtime's 8 KiB pages.
const finishedChunk = (128 << 10) / int(unsafe.Sizeof(StreamReport{}))

func (l *finishedList) len() int { return l.n }

func (l *finishedList) at(seq uint64) *StreamReport {
	i := l.head + int(seq-l.headSeq)
	return &l.chunks[i/finishedChunk][i%finishedChunk]
}

// reportSize is what a kept report costs, in Go sizes: its slot in a
// chunk (the chunks' slack, three at most, is not counted), its
// strings and slices, and each owner's entry in byCall (about 64
// bytes; TestFinishedListHeap measures the whole).
func reportSize(r *StreamReport) int64 {
	n := int64(unsafe.Sizeof(*r)) + int64(len(r.CallID)+len(r.Codec)+len(r.SSRCHex)+len(r.Link))
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
	seq := l.headSeq + uint64(l.n)
	i := l.head + l.n
	if i/finishedChunk == len(l.chunks) {
		c := l.spare
		if l.spare = nil; c == nil {
			c = new([finishedChunk]StreamReport)
		}
		l.chunks = append(l.chunks, c)
	}
	l.chunks[i/finishedChunk][i%finishedChunk] = r
	l.n++
	l.bytes += size
	owners(&r, func(id string) { l.byCall[id] = append(l.byCall[id], seq) })
	l.byCallN = max(l.byCallN, len(l.byCall))
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

// popOldest drops the oldest report, counted; a chunk the head leaves
// is let go (or kept as the spare).
func (l *finishedList) popOldest() {
	r := &l.chunks[0][l.head]
	seq := l.headSeq
	owners(r, func(id string) { l.unindex(id, seq) })
	l.bytes -= reportSize(r)
	*r = StreamReport{} // its slices are garbage now
	l.head++
	l.headSeq++
	l.n--
	l.dropped++
	switch {
	case l.n == 0:
		l.head = 0 // the one chunk left is cleared: the tail starts it over
	case l.head == finishedChunk:
		l.spare = l.chunks[0] // every slot cleared as the head passed
		l.chunks[0] = nil
		l.chunks = l.chunks[1:]
		l.head = 0
	}
}

func (l *finishedList) unindex(id string, seq uint64) {
	s := l.byCall[id]
	if j := slices.Index(s, seq); j >= 0 {
		s = slices.Delete(s, j, j+1)
	}
	if len(s) > 0 {
		l.byCall[id] = s
		return
	}
	delete(l.byCall, id)
	if n := len(l.byCall); l.byCallN >= 1024 && n < l.byCallN/4 {
		// A Go map keeps the table its most entries needed: after a
		// loan taken back, 40 000 calls' table for 10 000 (2 MB more
		// than reportSize counts). A new one sized for those left lets
		// it go; amortised, each entry is copied once per quartering.
		m := make(map[string][]uint64, n)
		maps.Copy(m, l.byCall)
		l.byCall, l.byCallN = m, n
	}
}

// appendAll appends a copy of every finished report.
func (l *finishedList) appendAll(dst []StreamReport) []StreamReport {
	for i := range l.n {
		dst = append(dst, cloneReport(l.at(l.headSeq+uint64(i)), true))
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
	// Announcements and codec hints expire from the front of their age
	// queues on every tick (expireQueued). The full sweep stays for
	// ExpireBefore, whose caller wants every stale entry gone, and runs
	// every annMaxStale of packet time for entries queued out of time
	// order (an SDP dated before the one queued ahead of it), which the
	// queue reaches late.
	t.expireQueued(cutoff)
	if sweep || cutoff.Sub(t.annSwept) >= annMaxStale {
		t.expireAnnouncements(cutoff)
		t.annSwept = cutoff
	}
	return n
}

// annMaxStale is how often (packet time) the full announcement sweep
// runs on the tick; see expire.
const annMaxStale = 5 * time.Minute

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
	t.anns.each(func(s int32) {
		if a := t.anns.at(s); len(t.idx.byEP[a.ep]) == 0 && t.announcedAt(a).Before(cutoff) {
			t.forgetAnn(s)
		}
	})
	for k, h := range t.hints {
		// A hint lives at least as long as its endpoint's announcement:
		// SetCodec has no time of its own, and the Tracker's clock (RTP
		// and RTCP only) may not have started when the SDP came.
		if len(t.idx.byEP[k.ep]) == 0 && t.anns.slotOf(k.ep) < 0 && h.at.Before(cutoff) {
			delete(t.hints, k)
		}
	}
	for i := t.natPorts.len() - 1; i >= 0; i-- { // a deleted list's place takes the last, already pruned
		t.pruneNAT(t.natPorts.lists[i].port, time.Time{})
	}
}

// forgetAnn drops the announcement in slot s; its slot is free for the
// next. Every caller forgets only announcements with no live stream on
// their endpoint, so the call index does not list the endpoint (see
// callIndex) and has nothing to forget.
func (t *Tracker) forgetAnn(s int32) {
	a := t.anns.at(s)
	if t.lastSlot == s+1 {
		t.lastSlot = 0
	}
	t.markNATOf(a) // pruned at the end of the pass
	t.anns.del(s)
}

// roomAnn is called before a new announcement is added, roomHint before
// a new hint in Tracker.hints: at Options.MaxAnnouncements each forgets
// the oldest batch of its table that no live stream uses (1/roomFraction
// of the limit, taken from the front of its age queue), counted in
// Counters.AnnouncementsEvicted; an announcement's hints go with it.
// Those a live stream uses stay, queued again at the back (at most three
// endpoints per live stream, so the tables stay bounded by MaxStreams
// too). A pass that left the table full (live streams use most of it)
// makes the next wait until it grew by an eighth (annNext, hintNext; see
// roomNext), so passes over a table live streams hold stay amortised: a
// pass on every new entry cost 80 % of a 256 MiB run's CPU. The hint
// table holds only hints of endpoints not announced (yet) and those past
// maxAnnHints of one, so it has the announcements' cap.
//
// roomAnn reports whether it made a pass (which moves the positions of
// the announcement index).
func (t *Tracker) roomAnn() bool {
	limit := t.o.MaxAnnouncements
	if t.anns.len() < max(limit, t.annNext) {
		return false
	}
	t.roomPasses++
	want := roomBatch(t.anns.len(), limit)
	for n := t.annQ.len(); n > 0 && want > 0; n-- {
		e := t.annQ.front()
		t.annQ.pop()
		a := t.anns.at(e.key)
		if a.gen != e.val || a.at.UnixNano() != e.stamp {
			continue // renewed since, or forgotten: a stale queue entry
		}
		if len(t.idx.byEP[a.ep]) != 0 {
			t.annQ.push(e) // a live stream uses it: looked at again after the others
			continue
		}
		t.forgetAnn(e.key)
		t.ends.annEvicted++
		want--
	}
	t.pruneDirtyNAT()
	t.annNext = roomNext(t.anns.len(), limit)
	return true
}

func (t *Tracker) roomHint() {
	limit := t.o.MaxAnnouncements
	if len(t.hints) < max(limit, t.hintNext) {
		return
	}
	t.roomPasses++
	want := roomBatch(len(t.hints), limit)
	for n := t.hintQ.len(); n > 0 && want > 0; n-- {
		e := t.hintQ.front()
		t.hintQ.pop()
		h := t.hints[e.key]
		if h == nil || h != e.val || h.at.UnixNano() != e.stamp {
			continue
		}
		if len(t.idx.byEP[e.key.ep]) != 0 {
			t.hintQ.push(e)
			continue
		}
		delete(t.hints, e.key)
		t.ends.annEvicted++
		want--
	}
	t.hintNext = roomNext(len(t.hints), limit)
}

// roomBatch is how many entries a pass over a table of n entries
// evicts: a batch of the limit, and whatever the table grew past it
// while passes waited (roomNext).
func roomBatch(n, limit int) int {
	return max(0, n-limit) + limit/roomFraction + 1
}

// roomFraction is the share of its limit a full table's pass evicts (the
// oldest entries no live stream uses). A pass costs what it evicts (and
// the held or stale entries it steps over), taken from the age queue's
// front, so the batch is small: a full table keeps close to its limit.
const roomFraction = 64

// annRecheck is how long (packet time) expiry leaves an announcement or
// hint a live stream held before it looks at it again.
const annRecheck = 30 * time.Second

// expireQueued forgets the announcements and codec hints made before
// cutoff that no live stream uses, from the front of their age queues:
// the cost is what expires, plus a look every annRecheck at each one a
// live stream holds. It runs on every tick, so the tables hold their
// idle time's worth of entries, not more.
func (t *Tracker) expireQueued(cutoff time.Time) {
	c := cutoff.UnixNano()
	for n := t.annQ.len(); n > 0; n-- {
		e := t.annQ.front()
		if e.due >= c {
			break
		}
		t.annQ.pop()
		a := t.anns.at(e.key)
		if a.gen != e.val || a.at.UnixNano() != e.stamp {
			continue // renewed since, or forgotten
		}
		if at := t.announcedAt(a); !at.Before(cutoff) {
			e.due = at.UnixNano() // dated by the first packet, which came later
			t.annQ.push(e)
			continue
		}
		if len(t.idx.byEP[a.ep]) != 0 {
			e.due = c + int64(annRecheck)
			t.annQ.push(e)
			continue
		}
		t.forgetAnn(e.key)
	}
	for n := t.hintQ.len(); n > 0; n-- {
		e := t.hintQ.front()
		if e.due >= c {
			break
		}
		t.hintQ.pop()
		h := t.hints[e.key]
		if h == nil || h != e.val || h.at.UnixNano() != e.stamp {
			continue
		}
		// A hint lives at least as long as its endpoint's announcement
		// (see expireAnnouncements).
		if a := t.anns.lookup(e.key.ep); a != nil || len(t.idx.byEP[e.key.ep]) != 0 {
			e.due = c + int64(annRecheck)
			if a != nil {
				e.due = max(e.due, t.announcedAt(a).UnixNano())
			}
			t.hintQ.push(e)
			continue
		}
		delete(t.hints, e.key)
	}
	t.pruneDirtyNAT()
}

// queueAnn queues the announcement in slot s, made or renewed at a new
// time.
func (t *Tracker) queueAnn(s int32) {
	a := t.anns.at(s)
	at := a.at.UnixNano()
	t.annQ.push(ageEntry[int32, uint32]{key: s, val: a.gen, stamp: at, due: at})
	if t.annQ.len() > compactAt(t.anns.len()) {
		t.annQ.compact(func(e ageEntry[int32, uint32]) bool {
			a := t.anns.at(e.key)
			return a.gen == e.val && a.at.UnixNano() == e.stamp
		})
	}
}

// queueHint queues the hint k, made or renewed at a new time.
func (t *Tracker) queueHint(k hintKey, h *codecHint) {
	at := h.at.UnixNano()
	t.hintQ.push(ageEntry[hintKey, *codecHint]{key: k, val: h, stamp: at, due: at})
	if t.hintQ.len() > compactAt(len(t.hints)) {
		t.hintQ.compact(func(e ageEntry[hintKey, *codecHint]) bool {
			h := t.hints[e.key]
			return h != nil && h == e.val && h.at.UnixNano() == e.stamp
		})
	}
}

// markNAT notes that port p's NAT candidate list may hold endpoints
// that can no longer qualify (forgotten, or seen on the wire), for
// pruneDirtyNAT: a prune looks every candidate up, so a busy port is
// pruned once per tick or eviction pass, not once per endpoint.
func (t *Tracker) markNAT(p uint16) {
	w, b := p/64, uint64(1)<<(p%64)
	if t.natDirtyBits[w]&b != 0 {
		return
	}
	t.natDirtyBits[w] |= b
	t.natDirty = append(t.natDirty, p)
}

// markNATOf marks the port of a, forgotten or seen on the wire, when
// that can change what a prune of it keeps: a is among its candidates
// (announcement.natListed), or the port's list holds one seen when it
// was listed (natList.seen). A prune without a time drops only
// forgotten and seen candidates, and each other one marked its port
// when it became so, so other prunes would change nothing. On a
// SIP-heavy capture the callers' offers, all from one port, are long
// out of its list when they expire, and marking the port for each made
// every tick prune its 64 candidates.
func (t *Tracker) markNATOf(a *announcement) {
	p := a.ep.Port()
	if a.natListed || t.natPorts.hasSeen(p) && natCandidate(a.ep.Addr()) {
		t.markNAT(p)
	}
}

// pruneDirtyNAT prunes the ports markNAT noted.
func (t *Tracker) pruneDirtyNAT() {
	for _, p := range t.natDirty {
		t.natDirtyBits[p/64] &^= uint64(1) << (p % 64)
		t.pruneNAT(p, time.Time{})
	}
	t.natDirty = t.natDirty[:0]
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

// HasFinished reports whether a final report of a finished stream kept
// belongs to callID (AppendFinishedBrief would append one), without
// copying any. It only reads: goroutines that hold off the writer may
// call it at once.
func (t *Tracker) HasFinished(callID string) bool {
	_, ok := t.done.byCall[callID]
	return ok
}

// AppendFinished appends a copy of every final report of a finished
// stream (in full) to dst and returns it, unsorted (see SortReports).
func (t *Tracker) AppendFinished(dst []StreamReport) []StreamReport {
	return t.done.appendAll(dst)
}

// AppendFinishedRefs appends a pointer to every final report of a
// finished stream to dst, unsorted (see SortReportRefs): no copy, for a
// reader that holds off the writer (the engine's read lock) while it
// uses them, since the writer drops and compacts the list.
func (t *Tracker) AppendFinishedRefs(dst []*StreamReport) []*StreamReport {
	l := &t.done
	for i := range l.n {
		dst = append(dst, l.at(l.headSeq+uint64(i)))
	}
	return dst
}

// AppendFinishedBrief appends the final reports of callID's finished
// streams to dst, brief as AppendCallBrief's, unsorted.
func (t *Tracker) AppendFinishedBrief(dst []StreamReport, callID string) []StreamReport {
	return t.done.appendCall(dst, callID, false)
}

// SortReports orders reports as Streams does: by start time, then key.
func SortReports(r []StreamReport) { sortReports(r) }

// SortReportRefs orders pointers to reports as SortReports orders the
// reports: the same comparisons, so the same permutation.
func SortReportRefs(r []*StreamReport) { slices.SortFunc(r, compareReports) }
