package rtpstats

import (
	"hash/maphash"
	"net/netip"
	"time"
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
	free []int32  // slots free for reuse, the last freed on top
	tab  []uint64 // 0: empty; else hash<<32 | slot+1
	n    int      // live announcements
	seed maphash.Seed
	// seeded: seed was made (lazily: a Tracker that sees no SDP makes
	// none).
	seeded bool
}

// annRef names one announcement: its slot and the slot's generation
// when it was taken. An announcement forgotten since (its slot freed,
// maybe reused) fails ref.
type annRef struct {
	slot int32
	gen  uint32
}

// annIndexMin is the index's first size (8 KiB); it doubles when half
// full and never shrinks: the table is bounded by
// Options.MaxAnnouncements (and what live streams hold beyond it).
const annIndexMin = 1024

// hash is ep's hash under the table's own seed. Endpoints come from SDP
// bodies, chosen by whoever sends them: an unseeded mix would let one
// pick endpoints that all land at one home position and turn each
// announcement into a walk of the table (hash flooding). maphash's
// seeded hash, the one Go's maps use, leaves nothing to aim at. The key
// hashed is the endpoint's epKey (no zone pointer: maphash.Comparable
// hashes it as memory and need not move it to the heap); equal
// endpoints have equal keys.
func (x *annTable) hash(ep netip.AddrPort) uint32 {
	if !x.seeded {
		x.seed, x.seeded = maphash.MakeSeed(), true
	}
	return uint32(maphash.Comparable(x.seed, epKeyOf(ep)))
}

// len is the number of live announcements.
func (x *annTable) len() int { return x.n }

// find returns ep's position and slot, or the empty position where it
// would go and slot -1.
func (x *annTable) find(ep netip.AddrPort, h uint32) (pos int, slot int32) {
	if x.tab == nil {
		x.tab = make([]uint64, annIndexMin)
	}
	mask := len(x.tab) - 1
	for pos = int(h) & mask; ; pos = (pos + 1) & mask {
		e := x.tab[pos]
		if e == 0 {
			return pos, -1
		}
		if uint32(e>>32) == h && x.slab[int32(e)-1].ep == ep {
			return pos, int32(e) - 1
		}
	}
}

// slotOf is ep's slot, or -1.
func (x *annTable) slotOf(ep netip.AddrPort) int32 {
	if x.n == 0 {
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
	var s int32
	if n := len(x.free); n > 0 {
		s = x.free[n-1]
		x.free = x.free[:n-1]
	} else {
		s = int32(len(x.slab))
		x.slab = append(x.slab, announcement{})
	}
	a := &x.slab[s]
	a.ep, a.h, a.live = ep, h, true
	x.tab[pos] = uint64(h)<<32 | uint64(s+1)
	x.n++
	if 2*x.n > len(x.tab) {
		x.grow()
	}
	return s
}

func (x *annTable) grow() {
	old := x.tab
	x.tab = make([]uint64, 2*len(old))
	mask := len(x.tab) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		p := int(e>>32) & mask
		for x.tab[p] != 0 {
			p = (p + 1) & mask
		}
		x.tab[p] = e
	}
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
	want := uint64(a.h)<<32 | uint64(s+1)
	mask := len(x.tab) - 1
	pos := int(a.h) & mask
	for x.tab[pos] != want {
		pos = (pos + 1) & mask
	}
	x.remove(pos)
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
	x.n--
}

// remove empties pos and moves up the entries after it that could not
// be found past the hole otherwise (backward-shift deletion: no
// tombstones, so probes stay as short as the load allows).
func (x *annTable) remove(pos int) {
	mask := len(x.tab) - 1
	for {
		x.tab[pos] = 0
		j := pos
		for {
			j = (j + 1) & mask
			e := x.tab[j]
			if e == 0 {
				return
			}
			// e stays if its home lies cyclically in (pos, j].
			if home := int(e>>32) & mask; (j-home)&mask >= (j-pos)&mask {
				x.tab[pos] = e
				pos = j
				break
			}
		}
	}
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
