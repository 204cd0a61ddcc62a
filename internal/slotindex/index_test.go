package slotindex

import (
	"math/rand/v2"
	"testing"
)

// entry is a slab record of the tests: a key and nothing else.
type entry struct{ key uint64 }

// find is the probe loop Home's doc shows.
func find(x *Index, slab []entry, k uint64, h uint32) (pos int, slot int32) {
	for pos = x.Home(h); ; pos++ {
		if pos, slot = x.Probe(h, pos); slot < 0 || slab[slot].key == k {
			return pos, slot
		}
	}
}

// The index finds what a Go map from key to slot holds, through
// inserts, removals (backward shifts across the table's end) and
// growth; a weak hash (few distinct values) makes stored hashes match
// for other keys, so the caller's compare and Next are exercised.
func TestMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var x Index
	var slab []entry
	want := map[uint64]int32{}
	weak := func(k uint64) uint32 { return uint32(k % 997) }
	for i := range 200_000 {
		// Few distinct keys at first (removals hit), then more (growth).
		k := uint64(r.IntN(100 + i/20))
		h := weak(k)
		pos, slot := find(&x, slab, k, h)
		ws, ok := want[k]
		if (slot >= 0) != ok || ok && slot != ws {
			t.Fatalf("step %d: find %d = %d, want %d %v", i, k, slot, ws, ok)
		}
		switch {
		case ok && r.IntN(2) == 0:
			if p := x.Locate(h, slot); p != pos {
				t.Fatalf("step %d: Locate %d, Find %d", i, p, pos)
			}
			x.Remove(pos)
			delete(want, k)
		case !ok:
			slot := int32(len(slab))
			slab = append(slab, entry{k})
			x.Insert(pos, h, slot)
			want[k] = slot
		}
		if x.Len() != len(want) {
			t.Fatalf("step %d: index holds %d, map %d", i, x.Len(), len(want))
		}
	}
	for k, ws := range want {
		if _, slot := find(&x, slab, k, weak(k)); slot != ws {
			t.Fatalf("%d: slot %d, want %d", k, slot, ws)
		}
	}
	if len(x.tab) < 2*x.Len() {
		t.Fatalf("%d entries in %d positions", x.Len(), len(x.tab))
	}
}

// Keys that all hash to one home position still insert, find and
// remove (the longest cluster, wrapping the table's end).
func TestOneCluster(t *testing.T) {
	x := Index{tab: make([]uint64, 16)}
	var slab []entry
	const h = 14 // home near the end: the cluster wraps
	for i := range 7 {
		pos, slot := find(&x, slab, uint64(i), h)
		if slot >= 0 {
			t.Fatalf("key %d found before insert", i)
		}
		slab = append(slab, entry{uint64(i)})
		x.Insert(pos, h, int32(i))
	}
	if r := x.LongestRun(); r != 7 {
		t.Errorf("longest run %d, want the cluster's 7", r)
	}
	removed := map[int]bool{}
	for _, rm := range []int{0, 3, 6, 1} {
		pos, slot := find(&x, slab, uint64(rm), h)
		if slot < 0 {
			t.Fatalf("key %d lost", rm)
		}
		x.Remove(pos)
		removed[rm] = true
		for i := range 7 {
			_, slot := find(&x, slab, uint64(i), h)
			if (slot >= 0) == removed[i] || slot >= 0 && slot != int32(i) {
				t.Fatalf("after removing %d: key %d = %d", rm, i, slot)
			}
		}
	}
}

// Seeds differ per table, so a key's position in one table says
// nothing of its position in another.
func TestSeedPerTable(t *testing.T) {
	var a, b Seed
	same := 0
	for k := range uint64(64) {
		if Hash(&a, k) == Hash(&b, k) {
			same++
		}
	}
	if same > 2 {
		t.Errorf("%d of 64 keys hash alike under two seeds", same)
	}
}

// A lookup, an insert and a removal allocate nothing once the table
// has its size.
func TestNoAllocs(t *testing.T) {
	var x Index
	var seed Seed
	slab := make([]entry, 0, 512)
	for k := range uint64(256) {
		h := Hash(&seed, k)
		pos, _ := find(&x, slab, k, h)
		slab = append(slab, entry{k})
		x.Insert(pos, h, int32(k))
	}
	k := uint64(300)
	allocs := testing.AllocsPerRun(1000, func() {
		h := Hash(&seed, k)
		pos, slot := find(&x, slab, k, h)
		if slot >= 0 {
			x.Remove(pos)
			return
		}
		slab = append(slab[:256], entry{k})
		x.Insert(pos, h, 256)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup and insert or remove", allocs)
	}
}

// Take reuses the last slot freed, record and all, before it grows the
// slab.
func TestTake(t *testing.T) {
	var slab []entry
	var free []int32
	for want := range int32(3) {
		if s := Take(&slab, &free); s != want {
			t.Fatalf("new slot %d, want %d", s, want)
		}
	}
	slab[1].key = 7
	free = append(free, 2, 1)
	if s := Take(&slab, &free); s != 1 || slab[s].key != 7 {
		t.Fatalf("slot %d (key %d), want the last freed, 1, as left", s, slab[s].key)
	}
	if s := Take(&slab, &free); s != 2 {
		t.Fatalf("slot %d, want 2", s)
	}
	if s := Take(&slab, &free); s != 3 || len(slab) != 4 || slab[3].key != 0 {
		t.Fatalf("slot %d of %d, want a new zero slot 3", s, len(slab))
	}
}
