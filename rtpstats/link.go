package rtpstats

import (
	"net/netip"
	"time"
)

// How a stream was tied to a call (StreamReport.Link). A guess is never
// reported as an exact match: consumers that need certainty filter on
// LinkSDP.
const (
	// LinkSDP: the stream's destination or source equals an SDP media
	// endpoint (c= address, m= port) exactly.
	LinkSDP = "sdp"
	// LinkNATPort: nothing matched exactly, and the stream was tied to the
	// only live SDP endpoint announcing one of its ports whose address is
	// private (so it cannot appear on the wire behind NAT); see linkNAT.
	LinkNATPort = "sdp-nat-port"
	// LinkAmbiguous: several calls announced one end of the stream each,
	// none announced both, and their timing does not decide; CallID is
	// the latest to announce the destination, CallIDs lists them all.
	LinkAmbiguous = "ambiguous"
)

// maxAnnHistory bounds the calls remembered per announced endpoint: a
// media server reusing one address:port for many overlapping calls keeps
// only the latest few.
const maxAnnHistory = 8

// annEntry is one call's announcements of an endpoint: its first and
// its latest.
type annEntry struct {
	callID    string
	first, at time.Time
}

// announcement is one SDP media endpoint as the SIP layer reported it,
// a value in the Tracker's annTable.
type announcement struct {
	ep     netip.AddrPort
	callID string
	at     time.Time // packet time of the SDP; zero = before the first packet
	// hist holds the distinct calls that announced the endpoint, each
	// with its latest time, oldest first (at most maxAnnHistory).
	hist []annEntry
	// hints are the endpoint's codec hints (SetCodec), kept with it and
	// forgotten with it: up to maxAnnHints, the rest in Tracker.hints.
	// A separate table of hints by endpoint and payload type cost a
	// map entry, a queue entry and their lookups per payload type of
	// every SDP, most of what an SDP cost the Tracker.
	hints []annHint
	h     uint32 // the index's hash of ep (annTable.del finds it by it)
	// gen counts the slot's announcements: references (annRef) taken
	// of an earlier one fail.
	gen uint32
	// live: the slot holds an announcement (not a free one).
	live bool
	// seen: a stream used this endpoint as its own address, so the
	// address is on the wire and not hidden by NAT; it no longer
	// qualifies for the port guess.
	seen bool
	// natListed: the endpoint is among its port's NAT candidates
	// (Tracker.natPorts), so SetCallIDAt need not look for it there.
	natListed bool
}

// annHint is a codec hint kept with its announcement.
type annHint struct {
	pt uint8
	h  codecHint
}

// maxAnnHints bounds the hints kept with one announcement: an offer
// lists a handful of payload types (PCMU, PCMA, telephone-event), a
// generous one a dozen; beyond, they go to Tracker.hints, which has its
// own cap.
const maxAnnHints = 8

// annHintsCap is the room an announcement's first hint makes: PCMU,
// PCMA, telephone-event and one more fit in one allocation.
const annHintsCap = 4

// hint is the announcement's hint for pt, or nil.
func (a *announcement) hint(pt uint8) *codecHint {
	for i := range a.hints {
		if a.hints[i].pt == pt {
			return &a.hints[i].h
		}
	}
	return nil
}

// remember files callID's announcement at at in the history.
// It returns the call that fell out of the history to make room, if
// any.
func (a *announcement) remember(callID string, at time.Time) (dropped string) {
	first := at
	for i, e := range a.hist {
		if e.callID == callID {
			first = e.first
			a.hist = append(a.hist[:i], a.hist[i+1:]...)
			break
		}
	}
	if len(a.hist) >= maxAnnHistory {
		dropped = a.hist[0].callID
		a.hist = append(a.hist[:0], a.hist[1:]...)
	}
	a.hist = append(a.hist, annEntry{callID: callID, first: first, at: at})
	return dropped
}

// linkCand is a call that announced one or both ends of a stream.
type linkCand struct {
	callID       string
	dstAt, srcAt time.Time
	dst, src     bool
}

// resolve decides, when a report is made, which calls a stream belongs
// to, from every call that announced its destination or source up to the
// stream's last packet (or at any time, for a stream older than all its
// SDP). A call that announced both ends wins: two overlapping calls whose
// answers share one media server address:port are told apart by the
// callers' own ports. Several calls announcing both ends (a B2BUA leg
// pair after media bypass) all own the stream: CallIDs lists them and
// CallID is the latest to announce the destination. With only one-ended
// matches, the calls that announced before the stream began are kept;
// one left is the answer, several are reported as LinkAmbiguous.
func (t *Tracker) resolve(s *stream) (id string, ids []string, link string, ep netip.AddrPort) {
	dst, src := t.anns.lookup(s.key.dst), t.anns.lookup(s.key.src)
	if dst == nil && src == nil {
		return "", nil, "", netip.AddrPort{}
	}
	var cs []linkCand
	collect := func(a *announcement, isDst, bounded bool) {
		if a == nil {
			return
		}
		for _, e := range a.hist {
			if bounded && !e.first.IsZero() && e.first.After(s.last) {
				continue // announced only after the stream ended
			}
			at := e.at
			if bounded && at.After(s.last) {
				at = e.first // order by what was announced while it flowed
			}
			i := 0
			for i < len(cs) && cs[i].callID != e.callID {
				i++
			}
			if i == len(cs) {
				cs = append(cs, linkCand{callID: e.callID})
			}
			if isDst {
				cs[i].dst, cs[i].dstAt = true, at
			} else {
				cs[i].src, cs[i].srcAt = true, at
			}
		}
	}
	collect(dst, true, true)
	collect(src, false, true)
	if len(cs) == 0 {
		collect(dst, true, false)
		collect(src, false, false)
	}
	later := func(a, b *linkCand) bool { // a announced the stream's ends more recently than b
		if !a.dstAt.Equal(b.dstAt) {
			return a.dstAt.After(b.dstAt)
		}
		return a.srcAt.After(b.srcAt)
	}
	best := func(l []linkCand) (linkCand, []string) {
		b := l[0]
		for i := range l[1:] {
			if later(&l[i+1], &b) {
				b = l[i+1]
			}
		}
		if len(l) == 1 {
			return b, nil
		}
		out := []string{b.callID}
		for _, c := range l {
			if c.callID != b.callID {
				out = append(out, c.callID)
			}
		}
		return b, out
	}
	epOf := func(c linkCand) netip.AddrPort {
		if c.dst {
			return s.key.dst
		}
		return s.key.src
	}
	var both []linkCand
	for _, c := range cs {
		if c.dst && c.src {
			both = append(both, c)
		}
	}
	if len(both) > 0 {
		b, all := best(both)
		return b.callID, all, LinkSDP, s.key.dst
	}
	if len(cs) == 1 {
		return cs[0].callID, nil, LinkSDP, epOf(cs[0])
	}
	var before []linkCand
	for _, c := range cs {
		at := c.dstAt
		if !c.dst {
			at = c.srcAt
		}
		if !at.After(s.first) {
			before = append(before, c)
		}
	}
	if len(before) == 1 {
		return before[0].callID, nil, LinkSDP, epOf(before[0])
	}
	b, all := best(cs)
	return b.callID, all, LinkAmbiguous, epOf(b)
}

// natCandidate reports whether an SDP address is one that cannot be
// routed on the public Internet, so that media from a NATed endpoint
// arrives from a different address: RFC 1918 and RFC 4193 (IsPrivate),
// RFC 6598 shared address space 100.64.0.0/10 (carrier-grade NAT),
// link-local (RFC 3927, RFC 4291 2.5.6) and loopback. A public address
// that differs from the wire is not guessed at: a port collision between
// two public endpoints is as likely as a NAT.
func natCandidate(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64 // RFC 6598 100.64.0.0/10
	}
	return false
}

// tick advances the Tracker's packet clock; announcements without a time
// take it (SetCallID), and the port guess is bounded by it.
func (t *Tracker) tick(now time.Time) {
	if now.IsZero() {
		return
	}
	if t.first.IsZero() {
		t.first = now
	}
	if now.After(t.clock) {
		t.clock = now
	}
}

// announcedAt is the announcement time used for the NAT window: an
// announcement made before any packet is dated by the first packet, the
// earliest time the Tracker can name (this errs towards linking by at
// most the gap between the SDP and the first packet; SetCallIDAt avoids it).
func (t *Tracker) announcedAt(a *announcement) time.Time {
	if a.at.IsZero() {
		return t.first
	}
	return a.at
}

// live reports whether a qualifies for the port guess of a stream starting
// at now: not seen on the wire, announced at or before now and at most
// NATWindow before it.
func (t *Tracker) live(a *announcement, now time.Time) bool {
	at := t.announcedAt(a)
	return !a.seen && !at.IsZero() && !now.Before(at) && now.Sub(at) <= t.o.NATWindow
}

// pruneNAT drops from the port index the endpoints of port p that can
// never qualify again at or after now (seen, forgotten, or older than the
// window), and returns what is left. Packet time only moves forward, so an
// announcement too old now stays too old. A zero now prunes only the seen
// and forgotten ones. A list left as it was is not stored again (the
// full sweep prunes every port).
func (t *Tracker) pruneNAT(p uint16, now time.Time) []natCand {
	cs := t.natPorts.get(p)
	out := cs[:0]
	for _, c := range cs {
		a := t.anns.deref(c)
		if a == nil {
			continue // forgotten
		}
		if a.seen {
			a.natListed = false
			continue
		}
		if at := t.announcedAt(a); !now.IsZero() && !at.IsZero() && now.Sub(at) > t.o.NATWindow {
			a.natListed = false
			continue
		}
		out = append(out, c)
	}
	if len(out) == len(cs) {
		return cs // nothing dropped, so none was seen (natList.seen is false)
	}
	if len(out) == 0 {
		t.natPorts.del(p)
		return nil
	}
	t.natPorts.set(p, out, false)
	return out
}

// natCand is a NAT candidate of a port: a reference to a private
// endpoint's announcement, so a prune reads the announcement without
// looking it up (64 lookups per prune of a busy port were a tenth of the
// Tracker's cost on a SIP-only run), and a forgotten one fails the
// reference. An endpoint is listed at most once (announcement.natListed).
type natCand = annRef

// linkNAT decides, once, when a stream is created, how it relates to the
// SDP announcements. A stream whose destination or source is announced is
// linked exactly to the call announcing it at that moment (so a later
// call that reuses the media port does not take the earlier stream over),
// and marks that endpoint as seen on the wire. A stream that starts
// before any SDP names its endpoints is linked in report, when the SDP
// has arrived.
// Otherwise, the heplify issue 188 case: the SDP carried a private
// address and the media arrives from the NAT's public one, usually with
// the port preserved. The stream is then tied to the SDP endpoint that
// announced its destination or source port, but only when exactly one
// endpoint qualifies (private address not seen on the wire, announced at
// most NATWindow before the stream started). Two or more candidates are
// counted in Counters.NATAmbiguous and left unlinked: a guess between them
// would be a coin toss presented as data.
//
// Known limit: an endpoint is marked seen only when a stream is created
// on it, so a private endpoint announced after its stream began can still
// be guessed for a later stream on the same port within the window.
func (t *Tracker) linkNAT(s *stream, now time.Time) {
	if t.anns.len() == 0 {
		return
	}
	exact := false
	for _, ep := range [2]netip.AddrPort{s.key.dst, s.key.src} {
		if a := t.anns.lookup(ep); a != nil {
			if !a.seen {
				t.markNATOf(a) // no longer a candidate: pruned at the next tick
			}
			a.seen = true
			if !exact {
				s.exactEP, s.callID = ep, a.callID
			}
			exact = true
		}
	}
	if exact || t.o.NATWindow < 0 || t.natPorts.len() == 0 {
		return
	}
	var found *announcement
	n := 0
	ports := [2]uint16{s.key.dst.Port(), s.key.src.Port()}
	for i, p := range ports {
		if i == 1 && p == ports[0] {
			break // same port both ways: already scanned
		}
		for _, c := range t.pruneNAT(p, now) {
			if a := t.anns.at(c.slot); t.live(a, now) { // pruned: not forgotten
				found = a
				n++
			}
		}
	}
	switch {
	case n == 1:
		s.natEP, s.callID = found.ep, found.callID
	case n > 1:
		t.ambiguous++
	}
}
