package heptransport

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Acknowledgement tracking for TCP and TLS targets.
//
// A write that returns only says the bytes reached our own kernel. A
// collector that dies (kill -9, a reboot, a reset) takes with it what was
// still in our send queue, and a sender that counted those packets as
// sent has lost them without a word. So a TCP/TLS target keeps every
// packet it wrote until the collector's TCP has acknowledged the bytes
// that carried it: the socket's send queue (SIOCOUTQ, bytes written and
// not yet acknowledged) tells how much of the stream is still unconfirmed,
// and everything before that point is counted as sent and let go. When
// the connection fails, the packets not acknowledged are written again,
// in order, on the next connection (TargetStats.Resent). A packet may
// then arrive twice (acknowledged between our last look and the failure);
// the collector's dedup window drops such a duplicate.
//
// What no sender can recover: bytes the collector's kernel acknowledged
// but its process never read (data in its receive buffer when it was
// killed). TCP acknowledges receipt by the kernel, not by the application.

// DefaultUnackedMaxBytes bounds the packets a TCP/TLS target keeps while
// waiting for their acknowledgement (SenderOptions.UnackedMaxBytes). It is
// about Linux's largest default send buffer, so on a healthy path the
// kernel's buffer, not this bound, is what makes the writer wait.
const DefaultUnackedMaxBytes = 4 << 20

const (
	// ackCheckEvery is how many packets a busy writer writes between two
	// looks at the send queue: one ioctl per packet would be wasted on a
	// fast path where acknowledgements arrive in batches anyway.
	ackCheckEvery = 32
	// ackCheckBytes makes large packets looked at sooner: a writer about
	// to block on a full send buffer should have counted what went.
	ackCheckBytes = 64 << 10
	// ackPoll is how often a writer with nothing to write, or one waiting
	// for room among the unacknowledged packets, looks again.
	ackPoll = 5 * time.Millisecond
)

// errNotAcknowledged: the collector's TCP acknowledged nothing for
// WriteTimeout while the unacknowledged packets filled their bound.
var errNotAcknowledged = errors.New("heptransport: collector acknowledged nothing within the write timeout")

// unackedPkt is one packet written and not yet acknowledged.
type unackedPkt struct {
	b []byte
	// end is the stream offset just past its last byte on the connection
	// it was last written to (TLS: of the record carrying it), and conn
	// that connection's number: an offset means nothing on another one.
	end  uint64
	conn uint64
}

// unacked is a target's FIFO of unacknowledged packets. Only the target's
// writer goroutine touches it; its length is mirrored in
// TargetStats.Unacked under target.mu for Flush and Stats.
type unacked struct {
	pkts  []unackedPkt // live entries are pkts[head:]
	head  int
	bytes int
	spare [][]byte // buffers of acknowledged packets, handed back to the writer
	conn  uint64   // number of the current connection
}

func (u *unacked) len() int { return len(u.pkts) - u.head }

// push keeps b (owned from now on) and returns a spent buffer for the
// writer's next packet, so the steady state allocates nothing.
func (u *unacked) push(b []byte, end uint64) []byte {
	if u.head > 0 && u.head == len(u.pkts) {
		u.pkts, u.head = u.pkts[:0], 0
	} else if u.head > 64 && u.head > len(u.pkts)/2 {
		n := copy(u.pkts, u.pkts[u.head:])
		clear(u.pkts[n:])
		u.pkts, u.head = u.pkts[:n], 0
	}
	u.pkts = append(u.pkts, unackedPkt{b: b, end: end, conn: u.conn})
	u.bytes += len(b)
	if n := len(u.spare); n > 0 {
		s := u.spare[n-1]
		u.spare = u.spare[:n-1]
		return s[:0]
	}
	return nil
}

// ackTo lets go of every packet whose bytes all lie before offset acked
// on the current connection, returning how many packets and bytes that
// was. A packet not yet written again on it stops the walk.
func (u *unacked) ackTo(acked uint64) (pkts int, bytes uint64) {
	for u.head < len(u.pkts) && u.pkts[u.head].conn == u.conn && u.pkts[u.head].end <= acked {
		p := &u.pkts[u.head]
		pkts++
		bytes += uint64(len(p.b))
		u.bytes -= len(p.b)
		if cap(p.b) <= maxRetainedCap && len(u.spare) < 64 {
			u.spare = append(u.spare, p.b)
		}
		*p = unackedPkt{}
		u.head++
	}
	return pkts, bytes
}

// countingConn counts the bytes written to a TCP connection (under TLS:
// the records), the offsets SIOCOUTQ's answer is measured against.
// Atomic: crypto/tls may write from the reading goroutine (a KeyUpdate
// answer, close_notify).
type countingConn struct {
	net.Conn
	n atomic.Uint64
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(uint64(n))
	return n, err
}

// link is one connection to a target and what is known of its
// acknowledgements.
type link struct {
	conn net.Conn // packets are written here (a *tls.Conn, or raw)
	raw  *countingConn
	// rc reaches the socket for SIOCOUTQ; nil for UDP and where the
	// system cannot say (then a write counts as sent, as before).
	rc syscall.RawConn

	mu     sync.Mutex // guards what follows: close runs from ctx's AfterFunc too
	closed bool
	acked  uint64 // stream offset acknowledged, as of the last look
	ctl    func(fd uintptr)
	outq   int
	outErr error
}

// newLink wraps a dialled TCP connection before TLS (if any) is layered
// on it; tracking is on when the system answers SIOCOUTQ.
func newLink(c net.Conn) *link {
	l := &link{raw: &countingConn{Conn: c}}
	l.conn = l.raw
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return l
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return l
	}
	l.ctl = func(fd uintptr) { l.outq, l.outErr = sendQueue(fd) }
	l.rc = rc
	if _, err := l.look(); err != nil {
		l.rc = nil // the system cannot say: no tracking
	}
	return l
}

// look returns the stream offset the peer has acknowledged. After close
// it returns what close saw last.
func (l *link) look() (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.acked, nil
	}
	return l.lookLocked()
}

func (l *link) lookLocked() (uint64, error) {
	w := l.raw.n.Load() // before the ioctl: a write in between makes the answer smaller, never larger
	if err := l.rc.Control(l.ctl); err != nil {
		return l.acked, err
	}
	if l.outErr != nil {
		return l.acked, l.outErr
	}
	if a := w - min(w, uint64(l.outq)); a > l.acked {
		l.acked = a
	}
	return l.acked, nil
}

// close takes a last look at the acknowledgements and closes the
// connection. After a reset the kernel still knows how far the peer
// acknowledged (SIOCOUTQ is write_seq - snd_una), so the look is exact
// even for a collector that was killed. With abort the connection is
// reset rather than closed: what is still in our send queue is
// discarded instead of trickling out after we gave up on it, since it
// is about to be written again on the next connection.
func (l *link) close(abort bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if l.rc != nil {
		_, _ = l.lookLocked()
	}
	l.closed = true
	if tc, ok := l.raw.Conn.(*net.TCPConn); ok && abort {
		_ = tc.SetLinger(0)
		tc.Close() // under TLS too: no close_notify into a connection we abandon
		return
	}
	l.conn.Close()
}

// written is the stream offset just past everything written so far.
func (l *link) written() uint64 { return l.raw.n.Load() }
