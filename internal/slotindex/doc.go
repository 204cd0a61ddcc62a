// Package slotindex is the hash index under the slab tables keyed by
// data from the wire (capture's SDP-learned media endpoints, rtpstats'
// SDP announcements): open addressing with linear probing over one
// word per position, the key's 32-bit hash (which also gives its home
// position) and its slot in the caller's slab, with backward-shift
// deletion, so there are no tombstones and probes stay as short as the
// load allows. The caller keeps the keys in its slab and compares them
// itself, the index returning only the slots whose stored hash matches;
// a Go map with a composite key hashed it again for the lookup and for
// the insert, and held pointers the collector scans.
// Take hands out the slabs' slots, the freed ones first.
//
// The keys come from the wire, so their hashes must be seeded (Seed,
// Hash): an unseeded mix lets a sender pick keys that share one home
// position and turn each insert into a walk of the whole table.
package slotindex
