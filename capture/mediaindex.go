package capture

import "hash/maphash"

// mediaIndex finds a media entry's slot in the table's slab by key: an
// open-addressing hash table with linear probing, each position a word
// holding the key's hash (its low 32 bits, which also give the key's
// home position) and the slot. A learned endpoint costs one probe to
// find that it is new and none more to insert, a removal one probe and
// the shift of the entries after it; a Go map with the three-word key
// cost a probe to look and another to insert, each hashing the key
// again, and more than the two maps (one with IPv4's uint64 keys, the
// fastest Go hashes) it replaced. The slab is touched only when the
// stored hash matches.
type mediaIndex struct {
	tab    []uint64 // 0: empty; else hash<<32 | slot+1
	n      int
	seed   maphash.Seed // per index: see hash
	seeded bool
}

// mediaIndexMin is the index's first size; it doubles when half full,
// up to twice the table's largest size.
const mediaIndexMin = 1024

// hash is k's hash under the index's own seed. The keys are SDP
// endpoints, chosen by whoever sends the SDP; an unseeded mix lets one
// pick IPv6 keys that all land at one home position and turn each learn
// into a walk of the whole table (quadratic). maphash's seeded hash, the
// one Go's maps use, leaves nothing to aim at.
func (x *mediaIndex) hash(k mediaKey) uint32 {
	if !x.seeded {
		x.seed, x.seeded = maphash.MakeSeed(), true
	}
	return uint32(maphash.Comparable(x.seed, k))
}

// find returns k's position and slot, or the empty position where it
// would go and ok false.
func (x *mediaIndex) find(k mediaKey, h uint32, slab []mediaEntry) (pos int, slot int32, ok bool) {
	if x.tab == nil {
		x.tab = make([]uint64, mediaIndexMin)
	}
	mask := len(x.tab) - 1
	for pos = int(h) & mask; ; pos = (pos + 1) & mask {
		e := x.tab[pos]
		if e == 0 {
			return pos, 0, false
		}
		if uint32(e>>32) == h && slab[int32(e)-1].key == k {
			return pos, int32(e) - 1, true
		}
	}
}

// insert puts slot at pos, which find returned for the slot's key and
// hash h, with nothing inserted since.
func (x *mediaIndex) insert(pos int, h uint32, slot int32) {
	x.tab[pos] = uint64(h)<<32 | uint64(slot+1)
	x.n++
	if 2*x.n > len(x.tab) {
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
}

// remove empties pos and moves up the entries after it that could not
// be found past the hole otherwise (backward-shift deletion: no
// tombstones, so probes stay as short as the load allows).
func (x *mediaIndex) remove(pos int) {
	mask := len(x.tab) - 1
	x.n--
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
