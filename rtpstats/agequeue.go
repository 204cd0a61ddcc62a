package rtpstats

import "github.com/voiptool/voiptool/internal/agequeue"

// ageQueue lists the keys of a table (the SDP announcements, the codec
// hints) in the order their entries were made or renewed, which is
// packet-time order as SDP arrives: expiry and eviction take the oldest
// from its front instead of walking the whole table. A walk per pass was
// most of the cost of an SDP on a busy capture (a pass over a full hint
// table, a quickselect, a second walk: a third of a 20 000-call SIP-only
// run's CPU), and expiry by a lazy sweep let the tables hold twice their
// idle time's worth of entries, which filled them on captures of a
// modest call rate.
//
// An entry renewed (announced again at another time) is queued again;
// its older queue entry is stale (its stamp no longer matches the
// table's) and is dropped when it reaches the front, or by compact.
//
// The entries sit in an agequeue.Ring (oldest first), not a slice popped
// from the front: the slice was copied down now and then, a write
// barrier per entry (they point to their table's entries).
type ageQueue[K comparable, V any] struct {
	r agequeue.Ring[ageEntry[K, V]]
}

type ageEntry[K comparable, V any] struct {
	key K
	// val is the table's entry when queued (an announcement's
	// generation, a hint's pointer): the entry is checked through it,
	// without a lookup.
	val V
	// stamp is the entry's time when it was queued (UnixNano of
	// announcement.at or codecHint.at): a table entry whose time differs
	// has been queued again since.
	stamp int64
	// due is the cutoff (UnixNano) past which expiry looks at the entry
	// next: its time when queued, later for one a live stream held.
	due int64
}

func (q *ageQueue[K, V]) len() int { return q.r.Len() }

func (q *ageQueue[K, V]) push(e ageEntry[K, V]) { q.r.Push(e) }

// front is the oldest entry; the queue must not be empty.
func (q *ageQueue[K, V]) front() ageEntry[K, V] { return q.r.Front() }

// pop drops the front entry.
func (q *ageQueue[K, V]) pop() { q.r.Pop() }

// compactAt is the queue length, for a table of n entries, past which
// compact runs: stale entries of keys renewed again and again (a media
// server's port announced by call after call) must not grow the queue
// beyond its table.
func compactAt(n int) int { return 2*n + 1024 }

// compact keeps, in order, the newest queue entry of each key that valid
// says is current, and drops the rest. It costs a walk of the queue and
// runs when the queue has passed twice its table (compactAt), so its
// cost is amortised over the renewals that made it grow.
func (q *ageQueue[K, V]) compact(valid func(ageEntry[K, V]) bool) {
	n := q.r.Len()
	seen := make(map[K]struct{}, n/2)
	keep := make([]bool, n)
	for i := n - 1; i >= 0; i-- {
		e := q.r.At(i)
		if _, dup := seen[e.key]; dup || !valid(e) {
			continue
		}
		seen[e.key] = struct{}{}
		keep[i] = true
	}
	i := 0
	q.r.Filter(func(ageEntry[K, V]) bool { i++; return keep[i-1] })
}
