package capture

// The media table before the age queue (internal/agequeue) and the slab,
// kept as the reference of TestMediaTableDifferential.

import (
	"encoding/binary"
	"net/netip"
)

type oldMediaEntry struct {
	role mediaRole
	seen int64 // packet time (Unix ns, see unixNano) of the SDP or the last packet to or from it
	// queued is the time the entry's element in the expiry heap carries
	// (at most seen): an element with another time is a leftover of a
	// forgotten entry, dropped when it surfaces.
	queued int64
}

// oldMediaDue is one element of the expiry heap: an endpoint and the time
// it was last known to be seen. Lookups refresh seen in the map only;
// the element is brought up to date when it surfaces, so the per-packet
// path never touches the heap.
type oldMediaDue struct {
	k   oldEPKey // an IPv4 endpoint's oldKey4 sits in lo, v4 set
	v4  bool
	due int64
}

// oldMediaSlot caches the map's answer for one IPv4 key, found or not: tag
// is the key, the role (0: not learned) and slotValid; seen mirrors the
// entry's. A key's answer can only be in its own set: whatever changes
// the key's entry (learn, forget, expiry) updates or drops it there, and
// the cache can never disagree with the map.
type oldMediaSlot struct {
	tag  uint64
	seen int64
}

// oldMediaSet is one set of the cache: a cache line.
type oldMediaSet [mediaWays]oldMediaSlot

func (s *oldMediaSlot) role() mediaRole { return mediaRole(s.tag >> slotRoleShift) }

// oldMediaTable holds endpoints learned from SDP. Keys are fixed-size
// values, so lookups on the RTP path do not allocate; IPv4 endpoints get
// a uint64 key, which Go's maps hash fastest, and a direct-mapped cache
// in front of the map, because the map lookup was the largest single
// cost of classifying an RTP packet (BenchmarkDecodeVsFloor).
//
// Expiry and eviction go through a min-heap of (endpoint, time) kept
// beside the maps: a sweep of every entry once a second of packet time
// cost a seventh of a SIP-heavy run, and when the table is full the
// endpoint seen longest ago makes room for a new one (counted) instead of
// the new call's media going unrecognised.
type oldMediaTable struct {
	m4      map[uint64]oldMediaEntry
	m6      map[oldEPKey]oldMediaEntry
	max     int
	due     []oldMediaDue // min-heap by due
	evicted int           // Stats.MediaEvicted
	// cache is allocated on its own, so that each set is one cache line
	// (a large allocation starts on a page).
	cache *[1 << mediaSetBits]oldMediaSet
}

// oldKey4 packs an IPv4 endpoint: address in the high bits, port low.
func oldKey4(ap netip.AddrPort) (uint64, bool) {
	a := ap.Addr()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(ap.Port()), true
}

func (t *oldMediaTable) init(max int) {
	t.m4 = make(map[uint64]oldMediaEntry)
	t.m6 = make(map[oldEPKey]oldMediaEntry)
	t.max = max
	t.cache = new([1 << mediaSetBits]oldMediaSet)
}

// uncache drops the cached answer for k, if its set holds one.
func (t *oldMediaTable) uncache(k uint64) {
	st := t.set(k)
	for i := range st {
		if st[i].tag&(slotValid|slotKeyMask) == k|slotValid {
			st[i].tag = 0
		}
	}
}

// set is the cache set of an IPv4 key (Fibonacci hashing).
func (t *oldMediaTable) set(k uint64) *oldMediaSet {
	return &t.cache[(k*0x9e3779b97f4a7c15)>>(64-mediaSetBits)]
}

func (t *oldMediaTable) len() int { return len(t.m4) + len(t.m6) }

func (t *oldMediaTable) get(ap netip.AddrPort) (oldMediaEntry, bool) {
	if k, ok := oldKey4(ap); ok {
		e, ok := t.m4[k]
		return e, ok
	}
	e, ok := t.m6[oldKeyOf(ap)]
	return e, ok
}

func (t *oldMediaTable) learn(ap netip.AddrPort, role mediaRole, now int64) {
	if k, ok := oldKey4(ap); ok {
		old, had := t.m4[k]
		if !had && !t.room(now) {
			return
		}
		e := oldMediaEntry{role: role, seen: now, queued: old.queued}
		if !had {
			e.queued = now
			t.push(oldMediaDue{k: oldEPKey{lo: k}, v4: true, due: now})
		}
		t.m4[k] = e
		t.uncache(k)
		return
	}
	k := oldKeyOf(ap)
	old, had := t.m6[k]
	if !had && !t.room(now) {
		return
	}
	e := oldMediaEntry{role: role, seen: now, queued: old.queued}
	if !had {
		e.queued = now
		t.push(oldMediaDue{k: k, due: now})
	}
	t.m6[k] = e
}

// room makes room for one more entry, evicting the one seen longest ago
// when the table is full; it fails only when every element left is a
// leftover and nothing could be evicted (never, while the maps are full).
func (t *oldMediaTable) room(now int64) bool {
	for t.len() >= t.max && len(t.due) > 0 {
		d := t.pop()
		e, ok := t.entry(d)
		switch {
		case !ok || e.queued != d.due:
			// a forgotten entry's leftover
		case e.seen > d.due:
			t.requeue(d, e) // refreshed since: not the oldest after all
		default:
			t.remove(d)
			t.evicted++
		}
	}
	return t.len() < t.max
}

// expire removes every entry not seen since before.
func (t *oldMediaTable) expire(before int64) {
	for len(t.due) > 0 && t.due[0].due < before {
		d := t.pop()
		e, ok := t.entry(d)
		switch {
		case !ok || e.queued != d.due:
		case e.seen >= before:
			t.requeue(d, e)
		default:
			t.remove(d)
		}
	}
}

func (t *oldMediaTable) entry(d oldMediaDue) (oldMediaEntry, bool) {
	if d.v4 {
		e, ok := t.m4[d.k.lo]
		return e, ok
	}
	e, ok := t.m6[d.k]
	return e, ok
}

// requeue brings a refreshed entry's element up to its time.
func (t *oldMediaTable) requeue(d oldMediaDue, e oldMediaEntry) {
	d.due, e.queued = e.seen, e.seen
	if d.v4 {
		t.m4[d.k.lo] = e
	} else {
		t.m6[d.k] = e
	}
	t.push(d)
}

func (t *oldMediaTable) remove(d oldMediaDue) {
	if d.v4 {
		delete(t.m4, d.k.lo)
		t.uncache(d.k.lo)
		return
	}
	delete(t.m6, d.k)
}

func (t *oldMediaTable) push(d oldMediaDue) {
	t.due = append(t.due, d)
	h := t.due
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].due <= h[i].due {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *oldMediaTable) pop() oldMediaDue {
	h := t.due
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].due < h[c].due {
			c++
		}
		if h[i].due <= h[c].due {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	t.due = h
	return top
}

func (t *oldMediaTable) forget(ap netip.AddrPort) {
	if k, ok := oldKey4(ap); ok {
		delete(t.m4, k)
		t.uncache(k)
		return
	}
	delete(t.m6, oldKeyOf(ap))
}

// lookup finds the endpoint a datagram goes to, or else comes from
// (symmetric RTP, RFC 4961), and refreshes it.
func (t *oldMediaTable) lookup(dst, src netip.AddrPort, now int64) (mediaRole, bool) {
	if len(t.m4) == 0 && len(t.m6) == 0 {
		return 0, false
	}
	if r := t.lookupOne(dst, now); r != 0 {
		return r, true
	}
	if r := t.lookupOne(src, now); r != 0 {
		return r, true
	}
	return 0, false
}

// lookupOne answers for one endpoint: its role, or 0 when not learned.
func (t *oldMediaTable) lookupOne(ap netip.AddrPort, now int64) mediaRole {
	k, ok := oldKey4(ap)
	if !ok {
		k6 := oldKeyOf(ap)
		e, ok := t.m6[k6]
		if !ok {
			return 0
		}
		if now-e.seen > mediaRefresh {
			e.seen = now
			t.m6[k6] = e
		}
		return e.role
	}
	st := t.set(k)
	var s *oldMediaSlot
	for i := range st {
		if st[i].tag&(slotValid|slotKeyMask) == k|slotValid {
			s = &st[i]
			break
		}
	}
	if s == nil {
		// Not cached: the map's answer goes first in the set, and the
		// way cached longest ago goes.
		e := t.m4[k] // zero role when absent: cached as "not learned" too
		copy(st[1:], st[:mediaWays-1])
		st[0] = oldMediaSlot{tag: k | uint64(e.role)<<slotRoleShift | slotValid, seen: e.seen}
		s = &st[0]
	}
	role := s.role()
	if role != 0 && now-s.seen > mediaRefresh {
		// The map holds the time expire reads; the slot mirrors it.
		s.seen = now
		e := t.m4[k] // once a second per endpoint: keeps its heap time
		e.seen = now
		t.m4[k] = e
	}
	return role
}

type oldEPKey struct {
	hi, lo uint64
	port   uint16
}

func oldKeyOf(ap netip.AddrPort) oldEPKey {
	b := ap.Addr().As16()
	return oldEPKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), ap.Port()}
}
