//go:build linux

package heptransport

import (
	"context"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// stalledCollector accepts one connection with a small receive buffer,
// reads its first `read` bytes and then reads nothing more, as a
// collector process that hangs before it is killed.
type stalledCollector struct {
	ln   net.Listener
	conn chan *net.TCPConn
	read []byte
}

func startStalled(t *testing.T, read int) *stalledCollector {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 8192) })
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc := &stalledCollector{ln: ln, conn: make(chan *net.TCPConn, 1), read: make([]byte, read)}
	go func() {
		defer close(sc.conn)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if _, err := io.ReadFull(c, sc.read); err != nil {
			c.Close()
			return
		}
		sc.conn <- c.(*net.TCPConn)
	}()
	return sc
}

// unread is what the collector's kernel holds (and so acknowledged) that
// its process never read.
func unread(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil || ierr != nil {
		t.Fatal(err, ierr)
	}
	return n
}

// TestResendUnacknowledged kills a collector that stopped reading with
// data still unread, then starts our own collector on its port. Every
// packet falls in exactly one of three places, decided by the collector's
// byte stream: read by the first collector (all of it before what it
// read), acknowledged by its kernel but never read (lost: no sender can
// recover it), or not acknowledged when it died, which the sender must
// write again to the second collector. The sender counts all of them as
// sent only once acknowledged, resends the third group, and nothing else
// is missing or repeated. With a spool, packets sent while the collector
// is down wait on disk and arrive too.
func TestResendUnacknowledged(t *testing.T) {
	for _, spool := range []bool{false, true} {
		t.Run("spool="+strconv.FormatBool(spool), func(t *testing.T) {
			const total, readFirst = 1500, 3000
			sc := startStalled(t, readFirst)
			defer sc.ln.Close()
			addr := "tcp:" + sc.ln.Addr().String()
			so := SenderOptions{To: []string{addr}, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
			if spool {
				so.SpoolDir = t.TempDir()
			}
			s, err := NewSender(so)
			if err != nil {
				t.Fatal(err)
			}
			runSender(t, s)
			// ends[i] is the stream offset just past packet i on the first
			// connection: the packets are written in order, whole.
			ends := make([]int, total)
			off := 0
			for i := range total / 2 {
				p := sipPacket(i)
				if err := s.Send(&p); err != nil {
					t.Fatal(err)
				}
				q := p
				q.Version = 3
				off += q.MarshalSize()
				ends[i] = off
			}
			c, ok := <-sc.conn
			if !ok {
				t.Fatal("the stalled collector did not read its first bytes")
			}
			// Wait until the stall shows: packets written and kept, the
			// collector's buffer no longer growing.
			prev := -1
			waitFor(t, "a stalled stream", func() bool {
				n := unread(t, c)
				st := s.Stats()[0]
				stable := n == prev
				prev = n
				time.Sleep(20 * time.Millisecond)
				return stable && st.Unacked > 0
			})
			q := unread(t, c)
			before := s.Stats()[0]
			_ = c.SetLinger(0)
			c.Close() // the kill: unread data, a reset
			sc.ln.Close()
			waitFor(t, "the sender to notice", func() bool { return !s.Stats()[0].Connected })
			// More while it is down, then the collector is back.
			for i := total / 2; i < total; i++ {
				p := sipPacket(i)
				if err := s.Send(&p); err != nil {
					t.Fatal(err)
				}
			}
			c2 := startCollector(t, []string{addr}, ListenOptions{DedupWindow: -1})
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := s.Stats()[0]

			r, acked := readFirst, readFirst+q
			read := frames(t, sc.read)
			var lost []int
			var unacked int
			for i := range total / 2 {
				switch {
				case ends[i] <= r:
					if i >= len(read) || read[i] != i {
						t.Fatalf("packet %d lies in the bytes the first collector read, which hold %v", i, read)
					}
				case ends[i] <= acked:
					lost = append(lost, i)
				default:
					unacked++
				}
			}
			if len(read) != len(frames(t, sc.read)) || unacked == 0 {
				t.Fatalf("the stall left nothing unacknowledged (read %d bytes, %d unread)", r, q)
			}
			// Acknowledged is not yet handed to the application: wait for
			// the collector to deliver what it holds.
			waitFor(t, "the second collector", func() bool { return c2.count() >= total-len(read)-len(lost) })
			time.Sleep(50 * time.Millisecond) // anything repeated would come now
			seen := map[int]int{}
			for _, g := range c2.snapshot() {
				seen[seqOf(t, g.raw)]++
			}
			for i := range total {
				inLost := len(lost) > 0 && i >= lost[0] && i <= lost[len(lost)-1]
				want := 1
				if i < len(read) || inLost {
					want = 0
				}
				if seen[i] != want {
					t.Fatalf("packet %d reached the second collector %d times, want %d (read %d, lost %v)", i, seen[i], want, len(read), lost)
				}
			}
			if st.Sent != total || st.Unacked != 0 || st.Unconfirmed != 0 || st.Dropped != 0 {
				t.Fatalf("sender stats %+v", st)
			}
			if got := uint64(len(read) + c2.count() + len(lost)); got != st.Sent {
				t.Fatalf("sent %d = read %d + received %d + lost in the killed collector's buffer %d = %d", st.Sent, len(read), c2.count(), len(lost), got)
			}
			if st.Resent < uint64(unacked) {
				t.Fatalf("resent %d, %d were not acknowledged", st.Resent, unacked)
			}
			if spool && st.Spooled == 0 {
				t.Fatalf("nothing spooled while the collector was down: %+v", st)
			}
			t.Logf("read %d, lost unread in the killed collector %d (%d bytes), resent %d (%d unacknowledged at the kill, %d kept before it); sent %d",
				len(read), len(lost), q, st.Resent, unacked, before.Unacked, st.Sent)
		})
	}
}
