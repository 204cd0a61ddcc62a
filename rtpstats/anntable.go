package rtpstats

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/internal/slotindex"
)

// annTable holds the SDP announcements by endpoint: a slab of values,
// found through an open-addressing hash table with linear probing whose
// positions each hold a word, the key's hash (its low 32 bits, which
// also give the home position) and the slot. A map of endpoints to heap
// announcements cost, for every SDP endpoint of a SIP-heavy capture, a
// lookup hashing the 32-byte netip.AddrPort, an allocation, a second
// probe to insert and a delete with a third; the age queue and the NAT
// candidates held pointers, so the collector scanned them and every
// write to them took a barrier. Here the age queue and the NAT
// candidates hold (slot, generation) references, plain integers, and a
// forgotten announcement's slot, with the backing arrays of its history
// and hints, serves the next endpoint: steady state allocates nothing.
//
// A pointer into the slab is good until the next add (which may grow
// the slab); slots and references stay good.
type annTable struct {
	slab []announcement
	free []int32 // slots free for reuse, the last freed on top
	idx  slotindex.Index
	seed slotindex.Seed // made lazily: a Tracker that sees no SDP makes none
}

// annRef names one announcement: its slot and the slot's generation
// when it was taken. An announcement forgotten since (its slot freed,
// maybe reused) fails ref.
type annRef struct {
	slot int32
	gen  uint32
}

// hash is ep's hash under the table's own seed. Endpoints come from SDP
// bodies, chosen by whoever sends them: an unseeded mix would let one
// pick endpoints that all land at one home position and turn each
// announcement into a walk of the table (hash flooding). maphash's
// seeded hash, the one Go's maps use, leaves nothing to aim at. The key
// hashed is the endpoint's epKey (no zone pointer: maphash.Comparable
// hashes it as memory and need not move it to the heap); equal
// endpoints have equal keys.
func (x *annTable) hash(ep netip.AddrPort) uint32 { return slotindex.Hash(&x.seed, epKeyOf(ep)) }

// len is the number of live announcements.
func (x *annTable) len() int { return x.idx.Len() }

// find returns ep's position and slot, or the empty position where it
// would go and slot -1.
func (x *annTable) find(ep netip.AddrPort, h uint32) (pos int, slot int32) {
	for pos = x.idx.Home(h); ; pos++ {
		if pos, slot = x.idx.Probe(h, pos); slot < 0 || x.slab[slot].ep == ep {
			return pos, slot
		}
	}
}

// slotOf is ep's slot, or -1.
func (x *annTable) slotOf(ep netip.AddrPort) int32 {
	if x.idx.Len() == 0 {
		return -1
	}
	_, slot := x.find(ep, x.hash(ep))
	return slot
}

// lookup is ep's announcement, or nil.
func (x *annTable) lookup(ep netip.AddrPort) *announcement {
	if s := x.slotOf(ep); s >= 0 {
		return &x.slab[s]
	}
	return nil
}

// at is the announcement in slot s.
func (x *annTable) at(s int32) *announcement { return &x.slab[s] }

// ref names the announcement in slot s.
func (x *annTable) ref(s int32) annRef { return annRef{s, x.slab[s].gen} }

// deref is r's announcement, or nil if it was forgotten since.
func (x *annTable) deref(r annRef) *announcement {
	a := &x.slab[r.slot]
	if a.gen != r.gen || !a.live {
		return nil
	}
	return a
}

// add makes a new announcement for ep, which must have none, at the
// position find returned for it with hash h (nothing added or deleted
// since), and returns its slot.
func (x *annTable) add(ep netip.AddrPort, pos int, h uint32) int32 {
	s := slotindex.Take(&x.slab, &x.free)
	a := &x.slab[s]
	a.ep, a.h, a.live = ep, h, true
	x.idx.Insert(pos, h, s)
	return s
}

// del forgets the announcement in slot s: its index position goes, its
// slot is freed with a new generation (references to it fail), and what
// it held is cleared with the backing arrays of its history and hints
// kept for the slot's next announcement. Those arrays are not shared:
// a stream's hint cache may point into the hints, but an announcement
// is forgotten only when no live stream is on its endpoint (every
// caller checks), and only the streams on it resolve its hints.
func (x *annTable) del(s int32) {
	a := &x.slab[s]
	x.idx.Remove(x.idx.Locate(a.h, s))
	// Field by field: assigning a whole new announcement (a typed copy
	// of the struct) was a quarter of the expiry in
	// BenchmarkAnnounceCalls. What a live announcement sets is set again
	// by add and SetCallIDAt; the strings go now, so that a free slot
	// keeps no Call-ID alive.
	clear(a.hist)
	clear(a.hints)
	a.hist, a.hints = a.hist[:0], a.hints[:0]
	a.callID = ""
	a.at = time.Time{}
	a.live, a.seen, a.natListed = false, false, false
	a.gen++
	x.free = append(x.free, s)
}

// each calls fn for every live announcement's slot, which fn may
// forget (del); it must not add.
func (x *annTable) each(fn func(s int32)) {
	for i := range x.slab {
		if x.slab[i].live {
			fn(int32(i))
		}
	}
}
