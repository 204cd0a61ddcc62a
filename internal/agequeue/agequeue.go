package agequeue

// Item is a queued value and the time (any int64 order, typically Unix
// nanoseconds of packet time) it is due.
type Item[T any] struct {
	Val T
	Due int64
}

// Queue is a min-queue of items by Due; the zero value is empty and
// ready. It is not safe for concurrent use.
type Queue[T any] struct {
	// ring holds items in push order, their dues not decreasing.
	ring Ring[Item[T]]
	last int64     // the due of the ring's newest item (while it has one)
	heap []Item[T] // min-heap by Due of the items pushed out of order
}

// Len is the number of items queued, stale ones included.
func (q *Queue[T]) Len() int { return q.ring.Len() + len(q.heap) }

// Push queues v, due at due.
func (q *Queue[T]) Push(v T, due int64) {
	if q.ring.Len() > 0 && due < q.last {
		q.heapPush(Item[T]{v, due})
		return
	}
	q.ring.Push(Item[T]{v, due})
	q.last = due
}

// Peek returns the item due first, ok false when the queue is empty.
func (q *Queue[T]) Peek() (it Item[T], ok bool) {
	if q.fromHeap() {
		return q.heap[0], true
	}
	if q.ring.Len() == 0 {
		return it, false
	}
	return q.ring.Front(), true
}

// fromHeap reports whether the item due first is the heap's.
func (q *Queue[T]) fromHeap() bool {
	return len(q.heap) > 0 && (q.ring.Len() == 0 || q.heap[0].Due < q.ring.Front().Due)
}

// Pop removes and returns the item due first, ok false when the queue
// is empty.
func (q *Queue[T]) Pop() (it Item[T], ok bool) {
	if q.fromHeap() {
		return q.heapPop(), true
	}
	if q.ring.Len() == 0 {
		return it, false
	}
	return q.ring.Pop(), true
}

// Compact keeps the items keep approves, in their order, and drops the
// rest (the stale items of forgotten or refreshed entries). Its cost is
// a walk of the queue, so an owner calls it when the queue has grown
// well past its table (twice, say): amortised over the pushes that grew
// it.
func (q *Queue[T]) Compact(keep func(T) bool) {
	q.ring.Filter(func(it Item[T]) bool { return keep(it.Val) })
	if q.ring.Len() > 0 {
		q.last = q.ring.Back().Due
	}
	h := q.heap[:0]
	for _, it := range q.heap {
		if keep(it.Val) {
			h = append(h, it)
		}
	}
	clear(q.heap[len(h):])
	q.heap = h
	for i := len(h)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q *Queue[T]) heapPush(it Item[T]) {
	q.heap = append(q.heap, it)
	h := q.heap
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].Due <= h[i].Due {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (q *Queue[T]) heapPop() Item[T] {
	h := q.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = Item[T]{}
	q.heap = h[:n]
	q.down(0)
	return top
}

func (q *Queue[T]) down(i int) {
	h := q.heap
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && h[c+1].Due < h[c].Due {
			c++
		}
		if h[i].Due <= h[c].Due {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
