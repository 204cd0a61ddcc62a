//go:build linux

package heptransport

import (
	"context"
	"crypto/tls"
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
	return startStalledTLS(t, read, nil)
}

// startStalledTLS is startStalled behind TLS when cfg is set: read counts
// plaintext bytes.
func startStalledTLS(t *testing.T, read int, cfg *tls.Config) *stalledCollector {
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
		var r io.Reader = c
		if cfg != nil {
			r = tls.Server(c, cfg)
		}
		if _, err := io.ReadFull(r, sc.read); err != nil {
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
// data still unread, then starts our own collector on its port. By the
// collector's byte stream every packet is either read by the first
// collector, or held unread in its kernel's buffer, or never received
// there. Held and acknowledged is lost (no sender can recover it); held
// but not yet acknowledged (a delayed ACK) and never received must be
// written again to the second collector. So: the lost ones are one run
// right after what was read, inside what the kernel held; the second
// collector gets everything after them exactly once, in order; the sender
// counts each packet as sent once acknowledged, and read + received +
// lost = sent. With a spool, packets sent while the collector is down
// wait on disk and arrive too.
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

			r, held := readFirst, readFirst+q
			read := frames(t, sc.read)
			for i, n := range read {
				if n != i {
					t.Fatalf("the first collector read %v", read)
				}
			}
			var inHeld, beyond int
			for i := range total / 2 {
				switch {
				case ends[i] <= r:
					if i >= len(read) {
						t.Fatalf("packet %d lies in the bytes the first collector read, which hold %v", i, read)
					}
				case ends[i] <= held:
					inHeld++
				default:
					beyond++
				}
			}
			if beyond == 0 {
				t.Fatalf("the stall left nothing unreceived (read %d bytes, %d unread)", r, q)
			}
			// Acknowledged is not yet handed to the application: wait for
			// the collector to deliver what it holds.
			waitFor(t, "the second collector", func() bool {
				g := c2.snapshot()
				return len(g) > 0 && len(g) >= total-seqOf(t, g[0].raw)
			})
			time.Sleep(50 * time.Millisecond) // anything repeated would come now
			got := c2.snapshot()
			first := seqOf(t, got[0].raw)
			if len(got) != total-first {
				t.Fatalf("second collector: %d packets from %d, want %d", len(got), first, total-first)
			}
			for k, g := range got {
				if n := seqOf(t, g.raw); n != first+k {
					t.Fatalf("second collector: packet %d has sequence %d, want %d", k, n, first+k)
				}
			}
			// What is lost lies in the bytes the killed collector's kernel
			// held, acknowledged and never read; of those bytes, what its
			// delayed ACK had not confirmed yet was resent.
			lost := first - len(read)
			if lost < 0 || lost > inHeld {
				t.Fatalf("lost %d packets (%d to %d); only the %d in the killed collector's buffer may be", lost, len(read), first-1, inHeld)
			}
			if st.Sent != total || st.Unacked != 0 || st.Unconfirmed != 0 || st.Dropped != 0 {
				t.Fatalf("sender stats %+v", st)
			}
			if n := uint64(len(read) + len(got) + lost); n != st.Sent {
				t.Fatalf("sent %d != read %d + received %d + lost in the killed collector's buffer %d", st.Sent, len(read), len(got), lost)
			}
			if st.Resent < uint64(beyond) {
				t.Fatalf("resent %d, %d never reached the killed collector", st.Resent, beyond)
			}
			if spool && st.Spooled == 0 {
				t.Fatalf("nothing spooled while the collector was down: %+v", st)
			}
			t.Logf("read %d, lost unread in the killed collector %d (of %d it held, %d bytes), resent %d (%d never reached it; %d kept before the kill); sent %d",
				len(read), lost, inHeld, q, st.Resent, beyond, before.Unacked, st.Sent)
		})
	}
}

// TestResendUnacknowledgedTLS: the same kill under TLS, where the
// acknowledged offsets are those of the records. Frame boundaries are not
// visible in the ciphertext, so the lost group is only checked to be one
// run right after what the first collector read; everything after it
// reaches the second collector exactly once.
func TestResendUnacknowledgedTLS(t *testing.T) {
	const total, readFirst = 1500, 3000
	certFile, keyFile := selfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	sc := startStalledTLS(t, readFirst, &tls.Config{Certificates: []tls.Certificate{cert}})
	defer sc.ln.Close()
	addr := "tls:" + sc.ln.Addr().String()
	s, err := NewSender(SenderOptions{To: []string{addr}, TLS: TLSFiles{CAFile: certFile},
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, s)
	send := func(from, to int) {
		for i := from; i < to; i++ {
			p := sipPacket(i)
			if err := s.Send(&p); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, total/2)
	c, ok := <-sc.conn
	if !ok {
		t.Fatal("the stalled collector did not read its first bytes")
	}
	prev := -1
	waitFor(t, "a stalled stream", func() bool {
		n := unread(t, c)
		stable := n == prev
		prev = n
		time.Sleep(20 * time.Millisecond)
		return stable && s.Stats()[0].Unacked > 0
	})
	_ = c.SetLinger(0)
	c.Close()
	sc.ln.Close()
	waitFor(t, "the sender to notice", func() bool { return !s.Stats()[0].Connected })
	send(total/2, total)
	c2 := startCollector(t, []string{addr}, ListenOptions{TLS: TLSFiles{CertFile: certFile, KeyFile: keyFile}, DedupWindow: -1})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()[0]
	read := frames(t, sc.read)
	for i, n := range read {
		if n != i {
			t.Fatalf("the first collector read %v", read)
		}
	}
	// The first packet the second collector got starts the resent run.
	waitFor(t, "the second collector", func() bool {
		g := c2.snapshot()
		return len(g) > 0 && len(g) >= total-seqOf(t, g[0].raw)
	})
	time.Sleep(50 * time.Millisecond)
	got := c2.snapshot()
	first := seqOf(t, got[0].raw)
	if len(got) != total-first {
		t.Fatalf("second collector: %d packets from %d, want %d", len(got), first, total-first)
	}
	for k, g := range got {
		if n := seqOf(t, g.raw); n != first+k {
			t.Fatalf("second collector: packet %d has sequence %d, want %d", k, n, first+k)
		}
	}
	lost := first - len(read)
	if lost < 0 || st.Sent != total || st.Unacked != 0 || st.Resent == 0 || uint64(len(read)+len(got)+lost) != st.Sent {
		t.Fatalf("read %d, lost %d, received %d; sender %+v", len(read), lost, len(got), st)
	}
	t.Logf("TLS: read %d, lost unread in the killed collector %d, resent %d, sent %d", len(read), lost, st.Resent, st.Sent)
}
