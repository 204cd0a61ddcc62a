// Package agequeue orders the entries of a bounded table by age, for
// expiry and eviction by packet time: a Queue holds (value, due) items
// and gives back the one due first.
//
// Tables learn their entries in packet-time order, so most items arrive
// with a due no earlier than the last one's: those go to a ring, a FIFO
// that pushes and pops in constant time with no sifting (a binary heap
// sifts every pop down its whole depth, a seventh of a media table's
// cost on a SIP-heavy capture). Only an item due earlier than the ring's
// last (a record stamped back in time, an entry refreshed before others
// were learned and queued again when it surfaced) goes to a min-heap
// beside it. Pop takes the earlier of the two fronts, the ring's on a
// tie, so items come out in due order, and among items due at the same
// time those in the ring in the order pushed.
//
// Ring, the FIFO under Queue, serves tables whose owner decides the
// order itself (entries held by a live stream go to the back again).
//
// Deletion is lazy: the owner leaves an item of an entry it forgot or
// refreshed in the queue and skips it when it surfaces (a generation
// number in the value tells). Compact drops such items when they pile
// up, so the queue stays bounded by its table. Storage grows to the
// largest size held and is then reused: no allocation in steady state.
package agequeue
