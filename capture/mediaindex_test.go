package capture

import (
	"math/rand/v2"
	"testing"
)

// The index finds what a Go map from key to slot holds, through
// inserts, removals and growth, with the media keys (IPv4 and IPv6)
// and their seeded hash (slotindex tests the index's own mechanics).
func TestMediaIndexMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var x mediaIndex
	var slab []mediaEntry
	want := map[mediaKey]int32{}
	var keys []mediaKey
	for i := range 200_000 {
		// Few distinct keys at first (removals hit), then more (growth).
		k := mediaKey{lo: uint64(r.IntN(100 + i/20)), port: mediaKeyV4}
		if r.IntN(4) == 0 {
			k = mediaKey{hi: 0x20010db8 << 32, lo: k.lo, port: uint64(r.IntN(3))}
		}
		h := x.hash(k)
		pos, slot, ok := x.find(k, h, slab)
		ws, wok := want[k]
		if ok != wok || ok && slot != ws {
			t.Fatalf("step %d: find %+v = %d %v, want %d %v", i, k, slot, ok, ws, wok)
		}
		if ok {
			if r.IntN(2) == 0 {
				x.Remove(pos)
				delete(want, k)
			}
		} else {
			slot := int32(len(slab))
			slab = append(slab, mediaEntry{key: k})
			x.Insert(pos, h, slot)
			want[k] = slot
			keys = append(keys, k)
		}
		if x.Len() != len(want) {
			t.Fatalf("step %d: index holds %d, map %d", i, x.Len(), len(want))
		}
	}
	for _, k := range keys {
		_, slot, ok := x.find(k, x.hash(k), slab)
		if ws, wok := want[k]; ok != wok || ok && slot != ws {
			t.Fatalf("%+v: %d %v, want %d %v", k, slot, ok, ws, wok)
		}
	}
}

// TestMediaIndexCraftedKeys: SDP endpoints come from the wire, and IPv6
// leaves both halves of a key to the sender. Keys chosen so that an
// unseeded mix sends them all to one home position (here: lo ^ f(hi)
// equal across keys) must not turn each learn into a walk of every
// entry: the hash is seeded per index, so nobody outside knows where a
// key lands. The test counts probes, not time.
func TestMediaIndexCraftedKeys(t *testing.T) {
	const n = 20000
	var x mediaIndex
	slab := make([]mediaEntry, 0, n)
	for i := range n {
		hi := uint64(0x20010db8)<<32 | uint64(i)
		// The same pre-mix word for every key under the unseeded mix
		// this replaced: lo ^ (hi*C + port)*D constant.
		const c, d = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
		port := uint64(5004)
		lo := 0x1234 ^ (hi*c+port)*d
		k := mediaKey{hi: hi, lo: lo, port: port}
		h := x.hash(k)
		pos, _, ok := x.find(k, h, slab)
		if ok {
			t.Fatalf("key %d found before it was added", i)
		}
		slab = append(slab, mediaEntry{key: k})
		x.Insert(pos, h, int32(len(slab)-1))
	}
	// Probes: with n keys spread over a table at most half full, the
	// longest run of occupied positions stays short; all at one home
	// would be one run of n.
	longest := x.LongestRun()
	if longest > 200 {
		t.Errorf("a run of %d occupied positions among %d keys: the crafted keys cluster", longest, n)
	}
}
