package capture

import "github.com/voiptool/voiptool/internal/slotindex"

// mediaIndex finds a media entry's slot in the table's slab by key
// (package slotindex: one word per position, the key's hash and the
// slot). A learned endpoint costs one probe to find that it is new and
// none more to insert, a removal one probe and the shift of the entries
// after it; a Go map with the three-word key cost a probe to look and
// another to insert, each hashing the key again, and more than the two
// maps (one with IPv4's uint64 keys, the fastest Go hashes) it
// replaced. The slab is touched only when the stored hash matches.
type mediaIndex struct {
	slotindex.Index
	seed slotindex.Seed // per index: see hash
}

// hash is k's hash under the index's own seed. The keys are SDP
// endpoints, chosen by whoever sends the SDP; an unseeded mix lets one
// pick IPv6 keys that all land at one home position and turn each learn
// into a walk of the whole table (quadratic).
func (x *mediaIndex) hash(k mediaKey) uint32 { return slotindex.Hash(&x.seed, k) }

// find returns k's position and slot, or the empty position where it
// would go and ok false.
func (x *mediaIndex) find(k mediaKey, h uint32, slab []mediaEntry) (pos int, slot int32, ok bool) {
	for pos = x.Home(h); ; pos++ {
		if pos, slot = x.Probe(h, pos); slot < 0 || slab[slot].key == k {
			return pos, slot, slot >= 0
		}
	}
}
