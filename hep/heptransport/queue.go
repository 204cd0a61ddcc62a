package heptransport

// maxRetainedCap bounds the buffer capacity a queue slot keeps after its
// packet was sent, so a burst of 64 KiB packets does not pin 64 KiB in each
// of 10000 slots. Typical SIP over HEP is well under it.
const maxRetainedCap = 8 << 10

// ring is a bounded FIFO of encoded packets. Slots keep their buffers, and
// pop swaps the caller's spent buffer in, so steady-state push/pop does not
// allocate. Not safe for concurrent use; target.mu guards it.
type ring struct {
	bufs    [][]byte
	head, n int
}

func newRing(size int) ring { return ring{bufs: make([][]byte, size)} }

func (r *ring) full() bool { return r.n == len(r.bufs) }

// push copies b into the next slot; false when the ring is full.
func (r *ring) push(b []byte) bool {
	if r.full() {
		return false
	}
	i := (r.head + r.n) % len(r.bufs)
	r.bufs[i] = append(r.bufs[i][:0], b...)
	r.n++
	return true
}

// pop returns the oldest packet and gives spent (the previous packet the
// caller is done with) to the freed slot. ok is false when empty.
func (r *ring) pop(spent []byte) (b []byte, ok bool) {
	if r.n == 0 {
		return spent, false
	}
	b = r.bufs[r.head]
	if cap(spent) > maxRetainedCap {
		spent = nil
	}
	r.bufs[r.head] = spent[:0]
	r.head = (r.head + 1) % len(r.bufs)
	r.n--
	return b, true
}
