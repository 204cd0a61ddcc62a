package rtpstats

import (
	"net/netip"
	"slices"
)

// callIndex finds the streams of one call without visiting every stream.
// A stream belongs to a call through an endpoint that call announced in
// SDP (its source, destination or NAT endpoint; see callOf), so the
// streams of a call are among the streams on the endpoints it announced.
// Ownership is still decided by callOf at query time: an endpoint
// re-announced by a later call moves the streams linked by announcement
// and leaves the exactly linked ones where they were, and the index need
// not follow.
//
// A call lists an endpoint only while streams are on it (byEP): the
// calls in its announcement's history and those a stream on it is
// linked to by its own link (exactEP, natEP) claim it, and the claims
// are filed when its first stream comes (index) and dropped when its
// last one goes (unindex), besides when a call announces an endpoint
// with streams or leaves its history. Only a stream's endpoints can
// lead to it, so the lists find the same streams as lists of every
// endpoint announced; a SIP-heavy capture announced and forgot each of
// its calls' endpoints under their Call-IDs, four lookups by a string
// key per call (a fifth of what its SDP cost the Tracker), for lists
// never read.
type callIndex struct {
	byEP    map[netip.AddrPort][]*stream // streams by source, destination and NAT endpoint
	callEPs map[string]*callEPs          // endpoints with streams each call claims (see above)
	// spare holds emptied lists for the next calls: a SIP-heavy capture
	// lists and forgets a call's endpoints for every call, and each list
	// was an allocation.
	spare []*callEPs
	// touched holds calls whose set of streams may have changed other than
	// by packets (an endpoint announced again, by another call), for
	// ChangedCalls.
	touched map[string]struct{}
}

// callEPs lists the endpoints one call announced, in the order
// announced, without duplicates. It is changed in place, so a call's
// announcements cost the map one lookup each, not a lookup and a store.
type callEPs struct {
	eps []netip.AddrPort
	// first is eps' backing array until a call announces more: an offer
	// and its answer (audio, maybe video) fit.
	first [2]netip.AddrPort
}

// maxSpareEPs is the largest list kept for reuse: a call with audio and
// video, offered and answered from different addresses, lists four.
const maxSpareEPs = 8

func newCallIndex() callIndex {
	return callIndex{
		byEP:    make(map[netip.AddrPort][]*stream),
		callEPs: make(map[string]*callEPs),
		touched: make(map[string]struct{}),
	}
}

// index registers a new stream under its endpoints; called once per
// stream, after linkNAT. An endpoint that had no stream is listed for
// the calls that claim it (see callIndex): those in its announcement's
// history, which include the stream's own link (linkNAT took it from
// the announcement's newest call).
func (t *Tracker) index(s *stream) {
	eps, n := s.endpoints()
	for _, ep := range eps[:n] {
		t.indexEP(ep, s)
	}
}

// endpoints are the n distinct endpoints s is indexed under: its
// source, its destination and its NAT endpoint, if it has one.
func (s *stream) endpoints() (eps [3]netip.AddrPort, n int) {
	eps[0], n = s.key.src, 1
	if s.key.dst != s.key.src {
		eps[n], n = s.key.dst, n+1
	}
	if s.natEP.IsValid() && s.natEP != s.key.src && s.natEP != s.key.dst {
		eps[n], n = s.natEP, n+1
	}
	return eps, n
}

func (t *Tracker) indexEP(ep netip.AddrPort, s *stream) {
	x := &t.idx
	if x.addEP(ep, s) {
		return
	}
	if a := t.anns.lookup(ep); a != nil {
		for _, e := range a.hist {
			x.announce(e.callID, ep)
		}
	}
}

// unindex takes a finished stream out of the index. An endpoint left
// with no stream is no longer listed for any call; the endpoints it
// linked its call by (exactEP, natEP) stay listed for the call while
// other streams are on them and an announcement or another stream
// still holds them.
func (t *Tracker) unindex(s *stream) {
	eps, n := s.endpoints()
	for _, ep := range eps[:n] {
		t.unindexEP(ep, s)
	}
	for _, ep := range [2]netip.AddrPort{s.exactEP, s.natEP} {
		if ep.IsValid() && len(t.idx.byEP[ep]) > 0 && !t.claims(s.callID, ep) {
			t.idx.unannounce(s.callID, ep)
		}
	}
}

// unindexEP takes s off ep's streams; when it was the last, the calls
// that claimed ep (its announcement's history, and s's own link, the
// only one left) no longer list it.
func (t *Tracker) unindexEP(ep netip.AddrPort, s *stream) {
	x := &t.idx
	if x.removeEP(ep, s) {
		return
	}
	if a := t.anns.lookup(ep); a != nil {
		for _, e := range a.hist {
			x.unannounce(e.callID, ep)
		}
	}
	if s.exactEP == ep || s.natEP == ep {
		x.unannounce(s.callID, ep) // nothing left to do if the history had it
	}
}

// claims reports whether callID still has a claim on ep: in ep's
// announcement history, or through a live stream's own link.
func (t *Tracker) claims(callID string, ep netip.AddrPort) bool {
	if a := t.anns.lookup(ep); a != nil {
		if a.callID == callID {
			return true
		}
		for _, e := range a.hist {
			if e.callID == callID {
				return true
			}
		}
	}
	return t.linkedBy(callID, ep)
}

// removeEP takes s off ep's streams and reports whether others are
// left.
func (x *callIndex) removeEP(ep netip.AddrPort, s *stream) bool {
	l := x.byEP[ep]
	for i, c := range l {
		if c == s {
			l[i] = l[len(l)-1]
			l[len(l)-1] = nil
			l = l[:len(l)-1]
			break
		}
	}
	if len(l) == 0 {
		delete(x.byEP, ep)
		return false
	}
	x.byEP[ep] = l
	return true
}

// unannounce forgets that callID announced ep.
func (x *callIndex) unannounce(callID string, ep netip.AddrPort) {
	l := x.callEPs[callID]
	if l == nil {
		return
	}
	for i, e := range l.eps {
		if e == ep {
			l.eps = slices.Delete(l.eps, i, i+1)
			break
		}
	}
	if len(l.eps) == 0 {
		delete(x.callEPs, callID)
		l.eps = l.eps[:0] // slices.Delete cleared what it held
		if cap(l.eps) > maxSpareEPs {
			clear(l.first[:])
			l.eps = l.first[:0]
		}
		x.spare = append(x.spare, l)
	}
}

// addEP lists s under ep and reports whether other streams were there.
// An endpoint usually carries the two directions of one stream: room
// for two saves a reallocation.
func (x *callIndex) addEP(ep netip.AddrPort, s *stream) bool {
	l := x.byEP[ep]
	had := len(l) > 0
	if l == nil {
		l = make([]*stream, 0, 2)
	}
	x.byEP[ep] = append(l, s)
	return had
}

// announce records that callID announced ep. A call announces a handful
// of endpoints (one per m= line, again in each re-INVITE): the linear
// search keeps the list free of duplicates.
func (x *callIndex) announce(callID string, ep netip.AddrPort) {
	l := x.callEPs[callID]
	if l == nil {
		if n := len(x.spare); n > 0 {
			l = x.spare[n-1]
			x.spare[n-1] = nil
			x.spare = x.spare[:n-1]
		} else {
			l = new(callEPs)
			l.eps = l.first[:0]
		}
		x.callEPs[callID] = l
	}
	for _, e := range l.eps {
		if e == ep {
			return
		}
	}
	l.eps = append(l.eps, ep)
}

func (x *callIndex) touch(callID string) {
	if callID != "" {
		x.touched[callID] = struct{}{}
	}
}

// callOf names the call a stream belongs to (and, when several calls own
// it, all of them: a B2BUA's legs after media bypass), the link kind and
// the SDP endpoint the link rests on: what the announcement history says
// (resolve), else the link made when the stream began (its announcements
// since forgotten), else the NAT port guess.
func (t *Tracker) callOf(s *stream) (callID string, ids []string, link string, ep netip.AddrPort) {
	if id, ids, link, ep := t.resolve(s); id != "" {
		return id, ids, link, ep
	}
	switch {
	case s.exactEP.IsValid():
		return s.callID, nil, LinkSDP, s.exactEP
	case s.natEP.IsValid():
		return s.callID, nil, LinkNATPort, s.natEP
	}
	return "", nil, "", netip.AddrPort{}
}

// owns reports whether callID is among the calls callOf names for s (an
// ambiguous link stays with its best guess only).
func (t *Tracker) owns(s *stream, callID string) bool {
	id, ids, link, _ := t.callOf(s)
	if id == callID {
		return true
	}
	if link == LinkAmbiguous {
		return false
	}
	for _, other := range ids {
		if other == callID {
			return true
		}
	}
	return false
}

// callStreams calls fn for each stream of callID, once each. The work is
// the streams on the call's endpoints, counted in visits.
func (t *Tracker) callStreams(callID string, fn func(*stream)) {
	var eps []netip.AddrPort
	if l := t.idx.callEPs[callID]; l != nil {
		eps = l.eps
	}
	n := 0
	for i, ep := range eps {
	next:
		for _, s := range t.idx.byEP[ep] {
			n++
			if !t.owns(s, callID) {
				continue
			}
			// A stream between two endpoints of the same call is
			// listed under both: report it at the first.
			for _, prev := range eps[:i] {
				if prev == s.key.src || prev == s.key.dst || prev == s.natEP {
					continue next
				}
			}
			fn(s)
		}
	}
	t.visits.Add(int64(n))
}

// CallStreams returns the reports of the streams linked to callID,
// ordered like Streams. Its cost is the streams on the endpoints the call
// announced, not every stream: saving or showing N calls is linear in N
// and their streams.
//
// Finished (expired or evicted) streams of the call are included with
// their final reports.
func (t *Tracker) CallStreams(callID string) []StreamReport {
	var out []StreamReport
	t.callStreams(callID, func(s *stream) { out = append(out, t.report(s, true)) })
	out = t.done.appendCall(out, callID, true)
	sortReports(out)
	return out
}

// AppendCallBrief appends to dst the reports of CallStreams without the
// parts that cost a copy (Series, DTMF and RTCP are left empty; every
// figure, the MOS included, is there) and returns it: what a call list
// shows, for a writer that refreshes many calls with one buffer.
func (t *Tracker) AppendCallBrief(dst []StreamReport, callID string) []StreamReport {
	n := len(dst)
	t.callStreams(callID, func(s *stream) { dst = append(dst, t.report(s, false)) })
	dst = t.done.appendCall(dst, callID, false)
	sortReports(dst[n:])
	return dst
}

// ChangedCalls appends to dst the calls whose streams received packets,
// appeared, or changed hands since the previous call of ChangedCalls, and
// returns it; each call once, in no particular order. It visits every
// stream once (no report is built), so a writer can keep per-call
// summaries current for the cost of the calls that changed. It updates
// the Tracker's marks: it is a writer's method.
func (t *Tracker) ChangedCalls(dst []string) []string {
	seen := t.idx.touched
	for _, s := range t.all {
		if s.ws.totalNr == s.taken {
			continue
		}
		s.taken = s.ws.totalNr
		id, ids, _, _ := t.callOf(s)
		if id != "" {
			seen[id] = struct{}{}
		}
		for _, other := range ids {
			seen[other] = struct{}{}
		}
	}
	t.visits.Add(int64(len(t.all)))
	for id := range seen {
		dst = append(dst, id)
		delete(seen, id)
	}
	return dst
}

// PendingCalls is how many calls ChangedCalls would report from changes
// other than packets (announcements moved, streams finished): a set that
// grows until ChangedCalls drains it, so a writer that never reads it
// otherwise drains it when it grows large.
func (t *Tracker) PendingCalls() int { return len(t.idx.touched) }

// Visits is the number of streams examined so far to answer queries
// (Streams, CallStreams, AppendCallBrief, ChangedCalls): a measure of the work
// done for readers, safe to read concurrently with them.
func (t *Tracker) Visits() int64 { return t.visits.Load() }
