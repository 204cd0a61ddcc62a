package agequeue

// Ring is a FIFO that grows to the largest size it held and then reuses
// its storage: pushing and popping move no other item (a slice popped
// from the front must be copied down now and then, and copying items
// that hold pointers costs a write barrier each). The zero value is
// empty and ready.
type Ring[T any] struct {
	buf     []T // len(buf) is zero or a power of two
	head, n int
}

// Len is the number of items held.
func (r *Ring[T]) Len() int { return r.n }

// Push adds v at the back.
func (r *Ring[T]) Push(v T) {
	if r.n == len(r.buf) {
		b := make([]T, max(64, 2*len(r.buf)))
		for i := range r.n {
			b[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = b, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// At is the i-th item from the front; i must be below Len.
func (r *Ring[T]) At(i int) T { return r.buf[(r.head+i)&(len(r.buf)-1)] }

// Front is the oldest item; the ring must not be empty.
func (r *Ring[T]) Front() T { return r.buf[r.head] }

// Back is the newest item; the ring must not be empty.
func (r *Ring[T]) Back() T { return r.At(r.n - 1) }

// Pop removes the front item and returns it; the ring must not be
// empty.
func (r *Ring[T]) Pop() T {
	v := r.buf[r.head]
	var zero T
	r.buf[r.head] = zero // drop what it points to
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

// Filter keeps, in order, the items keep approves and drops the rest.
// keep is called once for each item, front to back.
func (r *Ring[T]) Filter(keep func(T) bool) {
	w := 0
	for i := range r.n {
		v := r.At(i)
		if keep(v) {
			r.buf[(r.head+w)&(len(r.buf)-1)] = v
			w++
		}
	}
	var zero T
	for i := w; i < r.n; i++ {
		r.buf[(r.head+i)&(len(r.buf)-1)] = zero
	}
	r.n = w
}
