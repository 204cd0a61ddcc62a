package rtpstats

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
type ageQueue[K comparable, V any] struct {
	items []ageEntry[K, V] // items[head:] are queued, oldest first
	head  int
}

type ageEntry[K comparable, V any] struct {
	key K
	// val is the table's entry when queued: an announcement is checked
	// through it, without a lookup (announcement.gone).
	val V
	// stamp is the entry's time when it was queued (UnixNano of
	// announcement.at or codecHint.at): a table entry whose time differs
	// has been queued again since.
	stamp int64
	// due is the cutoff (UnixNano) past which expiry looks at the entry
	// next: its time when queued, later for one a live stream held.
	due int64
}

func (q *ageQueue[K, V]) len() int { return len(q.items) - q.head }

func (q *ageQueue[K, V]) push(e ageEntry[K, V]) { q.items = append(q.items, e) }

// front is the oldest entry; the queue must not be empty.
func (q *ageQueue[K, V]) front() ageEntry[K, V] { return q.items[q.head] }

// pop drops the front entry. The kept entries move down once the dead
// front is both large and most of the slice, so each is moved at most
// once per halving (amortised constant time).
func (q *ageQueue[K, V]) pop() {
	q.items[q.head] = ageEntry[K, V]{}
	q.head++
	if q.head >= 1024 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
}

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
	live := q.items[q.head:]
	seen := make(map[K]struct{}, len(live)/2)
	keep := make([]ageEntry[K, V], 0, len(live)/2)
	for i := len(live) - 1; i >= 0; i-- {
		e := live[i]
		if _, dup := seen[e.key]; dup || !valid(e) {
			continue
		}
		seen[e.key] = struct{}{}
		keep = append(keep, e)
	}
	for i, j := 0, len(keep)-1; i < j; i, j = i+1, j-1 {
		keep[i], keep[j] = keep[j], keep[i]
	}
	q.items, q.head = keep, 0
}
