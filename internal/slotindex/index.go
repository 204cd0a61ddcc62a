package slotindex

import "hash/maphash"

// MinSize is an index's first size; it doubles when half full.
const MinSize = 1024

// Index maps 32-bit hashes to slots. The zero value is empty and
// ready; it allocates on the first Insert.
type Index struct {
	tab []uint64 // 0: empty; else hash<<32 | slot+1
	n   int
}

// Len is the number of entries.
func (x *Index) Len() int { return x.n }

// Home is where the probe for hash h starts. With Probe, a lookup is
// one loop the caller writes, comparing the keys in its own slab:
//
//	for pos = x.Home(h); ; pos++ {
//		if pos, slot = x.Probe(h, pos); slot < 0 || slab[slot].key == k {
//			return pos, slot // slot -1: k is not held; pos is where it goes
//		}
//	}
//
// (one call site of Probe, so that it is inlined once).
func (x *Index) Home(h uint32) int { return int(h) }

// Probe returns the first position from pos on (cyclically) that holds
// a slot with hash h, or the empty position where an entry for h would
// go and slot -1.
func (x *Index) Probe(h uint32, pos int) (int, int32) {
	mask := len(x.tab) - 1
	if mask < 0 {
		return 0, -1 // nothing inserted yet: Insert makes the table
	}
	for pos &= mask; ; pos = (pos + 1) & mask {
		e := x.tab[pos]
		if e == 0 {
			return pos, -1
		}
		if uint32(e>>32) == h {
			return pos, int32(e) - 1
		}
	}
}

// Insert enters slot with hash h at pos, the empty position a probe
// for h ended at, with nothing inserted or removed since.
func (x *Index) Insert(pos int, h uint32, slot int32) {
	if x.tab == nil {
		x.tab = make([]uint64, MinSize)
		pos = int(h) & (MinSize - 1)
	}
	x.tab[pos] = uint64(h)<<32 | uint64(slot+1)
	x.n++
	if 2*x.n > len(x.tab) {
		x.grow()
	}
}

func (x *Index) grow() {
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

// Locate is the position of the entry (h, slot), which the index holds.
func (x *Index) Locate(h uint32, slot int32) int {
	want := uint64(h)<<32 | uint64(slot+1)
	mask := len(x.tab) - 1
	pos := int(h) & mask
	for x.tab[pos] != want {
		pos = (pos + 1) & mask
	}
	return pos
}

// Remove empties pos, which holds an entry, and moves up the entries
// after it that could not be found past the hole otherwise.
func (x *Index) Remove(pos int) {
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

// Seed is a per-table hash seed, made on first use (a table that is
// never filled makes none). The zero value is ready.
type Seed struct {
	s  maphash.Seed
	ok bool
}

// Hash is k's hash under s, Go's maps' seeded hash cut to the index's
// 32 bits. K must hold no pointers (maphash.Comparable would hash what
// they point to, and move k to the heap).
func Hash[K comparable](s *Seed, k K) uint32 {
	if !s.ok {
		s.s, s.ok = maphash.MakeSeed(), true
	}
	return uint32(maphash.Comparable(s.s, k))
}

// LongestRun is the longest run of occupied positions (a run may wrap
// the table's end): the longest probe a lookup can take. Tests check
// with it that keys a sender chose do not cluster.
func (x *Index) LongestRun() int {
	longest, run := 0, 0
	for range 2 { // a run may wrap
		for _, e := range x.tab {
			if e == 0 {
				run = 0
				continue
			}
			run++
			longest = max(longest, run)
		}
	}
	return min(longest, len(x.tab))
}

// Take returns a slot of slab for a new entry: the last one freed (free
// holds the freed slots, the last on top), whose record keeps what the
// caller left in it (a generation, arrays to reuse), or a new zero
// record at the end.
func Take[T any](slab *[]T, free *[]int32) int32 {
	if n := len(*free); n > 0 {
		s := (*free)[n-1]
		*free = (*free)[:n-1]
		return s
	}
	var zero T
	*slab = append(*slab, zero)
	return int32(len(*slab) - 1)
}
