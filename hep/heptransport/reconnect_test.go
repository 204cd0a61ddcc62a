package heptransport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTCPReconnect restarts the collector (heplify issue 323): the sender
// must reconnect, and everything sent after the restart must arrive in
// order. Packets sent while it was down are counted as lost or delivered.
func TestTCPReconnect(t *testing.T) {
	for _, scheme := range []string{"tcp", "tls"} {
		t.Run(scheme, func(t *testing.T) {
			cert, key := selfSigned(t)
			lo := ListenOptions{TLS: TLSFiles{CertFile: cert, KeyFile: key}, DedupWindow: -1}
			c1 := startCollector(t, []string{scheme + ":127.0.0.1:0"}, lo)
			addr := c1.l.Addrs()[0]
			s, err := NewSender(SenderOptions{To: []string{addr}, TLS: TLSFiles{CAFile: cert},
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
			send(0, 10)
			waitFor(t, "first batch", func() bool { return c1.count() == 10 })
			c1.stop(t)
			waitFor(t, "sender to notice the close", func() bool { return !s.Stats()[0].Connected })
			send(10, 20) // collector down: queued in memory
			c2 := startCollector(t, []string{addr}, lo)
			waitFor(t, "reconnect", func() bool { return s.Stats()[0].Reconnects >= 1 && s.Stats()[0].Connected })
			send(20, 30)
			waitFor(t, "last batch", func() bool {
				for _, g := range c2.snapshot() {
					if bytes.Equal(g.raw, sipMsg(29)) {
						return true
					}
				}
				return false
			})
			pkts := c2.snapshot()
			// Sequence numbers after the restart must rise strictly: resends
			// may repeat nothing and reorder nothing.
			prev := 9
			for _, g := range pkts {
				n := seqOf(t, g.raw)
				if n <= prev {
					t.Fatalf("after restart: %d after %d", n, prev)
				}
				prev = n
			}
			lost := 20 - len(pkts)
			st := s.Stats()[0]
			t.Logf("%s restart: %d of 10 sent while down delivered, %d lost; stats %+v", scheme, 10-lost, lost, st)
			if lost > 1 {
				t.Fatalf("%d packets lost across a clean collector restart (at most the one written into the closing socket may be)", lost)
			}
		})
	}
}

func seqOf(t *testing.T, sip []byte) int {
	t.Helper()
	i := bytes.Index(sip, []byte("CSeq: "))
	if i < 0 {
		t.Fatalf("no CSeq in %q", sip)
	}
	n := 0
	for _, c := range sip[i+6:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestSpoolDrainOrder: the collector is down at first, so everything goes
// to the disk spool; once it is up the spool drains, new packets queue
// behind it, and all arrive exactly once, in order.
func TestSpoolDrainOrder(t *testing.T) {
	port := freePort(t, "tcp")
	addr := "tcp:127.0.0.1:" + itoa(port)
	dir := t.TempDir()
	s, err := NewSender(SenderOptions{To: []string{addr}, SpoolDir: dir, QueueSize: 16,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, s)
	const first, total = 100, 200
	for i := range first {
		p := sipPacket(i)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()[0]
	if st.Spooled != first || st.SpoolBytes == 0 || st.Dropped != 0 {
		t.Fatalf("while down: %+v", st)
	}
	if fi, err := os.Stat(filepath.Join(dir, "tcp_127.0.0.1_"+itoa(port)+".spool")); err != nil || fi.Size() != st.SpoolBytes {
		t.Fatalf("spool file: %v %v, backlog %d", fi, err, st.SpoolBytes)
	}
	c := startCollector(t, []string{addr}, ListenOptions{DedupWindow: -1})
	for i := first; i < total; i++ { // races with the drain on purpose
		p := sipPacket(i)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all packets", func() bool { return c.count() >= total })
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i, g := range c.snapshot() {
		if n := seqOf(t, g.raw); n != i {
			t.Fatalf("packet %d has sequence %d", i, n)
		}
	}
	st = s.Stats()[0]
	if c.count() != total || st.Unspooled != st.Spooled || st.SpoolBytes != 0 || st.Sent != total {
		t.Fatalf("after drain: %d delivered, %+v", c.count(), st)
	}
}

func TestSpoolFile(t *testing.T) {
	dir := t.TempDir()
	a := Addr{TCP, "127.0.0.1:9061"}
	sp, err := openSpool(dir, a, 64)
	if err != nil {
		t.Fatal(err)
	}
	recs := [][]byte{[]byte("HEP3-one"), []byte("HEP3-two-two"), []byte("x")}
	for _, r := range recs {
		if err := sp.append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.append(make([]byte, 40)); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("over max: %v", err)
	}
	sp.close()
	// Reopen: a spool left by a previous run is drained.
	sp, err = openSpool(dir, a, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	var buf []byte
	for i, want := range recs {
		buf, err = sp.next(buf)
		if err != nil || !bytes.Equal(buf, want) {
			t.Fatalf("record %d: %q %v", i, buf, err)
		}
	}
	if _, err := sp.next(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("drained: %v", err)
	}
	if fi, _ := sp.f.Stat(); fi.Size() != 0 {
		t.Fatalf("drained spool not truncated: %d bytes", fi.Size())
	}
	// A torn record (crash mid-append) is discarded and counted.
	if err := sp.append([]byte("whole")); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.f.WriteAt([]byte{0, 0, 0, 50, 'p', 'a'}, sp.wr); err != nil {
		t.Fatal(err)
	}
	sp.wr += 6
	if buf, err = sp.next(buf); err != nil || string(buf) != "whole" {
		t.Fatalf("record before the torn one: %q %v", buf, err)
	}
	if _, err = sp.next(buf); !errors.Is(err, ErrSpoolCorrupt) || sp.corrupt != 1 || sp.backlog() != 0 {
		t.Fatalf("torn record: %v, corrupt %d, backlog %d", err, sp.corrupt, sp.backlog())
	}
}

// frames cuts a captured TCP byte stream into complete HEP3 packets and
// returns their SIP sequence numbers; a partial packet at the end is
// ignored.
func frames(t *testing.T, stream []byte) []int {
	t.Helper()
	var seqs []int
	for len(stream) > 0 {
		n, kind := nextFrame(stream)
		if kind == needMore {
			break
		}
		if kind != whole {
			t.Fatalf("stream holds %v at %d", kind, n)
		}
		var p = sipPacket(0)
		if err := p.Unmarshal(stream[:n]); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seqOf(t, p.Payload))
		stream = stream[n:]
	}
	return seqs
}

// TestResendAfterWriteTimeout: the first connection stalls, the write times
// out mid-packet, and the sender reconnects and rewrites, in order, the
// packets the stalled peer's TCP had not acknowledged and then that packet
// in full on the next connection (the abandoned connection is reset, so
// what sat in our send queue does not also trickle out). Complete packets
// on all connections, in connection order, add up to everything sent,
// without gap or repeat.
func TestResendAfterWriteTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Connection 0 is never read while the sender runs (the stall); later
	// ones are read at once. Under a slow -race run a later one may time
	// out too; that is the same path again, so it is allowed and counted.
	type conn struct {
		c    net.Conn
		data []byte
		done chan struct{}
	}
	conns := make(chan []*conn, 1)
	go func() {
		var all []*conn
		defer func() { conns <- all }()
		for i := 0; i < 100; i++ {
			c, err := ln.Accept()
			if err != nil {
				return // ln closed by the test
			}
			cc := &conn{c: c, done: make(chan struct{})}
			all = append(all, cc)
			if i > 0 {
				go func() { defer close(cc.done); cc.data, _ = io.ReadAll(c) }()
			}
		}
	}()
	s, err := NewSender(SenderOptions{To: []string{"tcp:" + ln.Addr().String()}, QueueSize: 1000,
		WriteTimeout: 300 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	const total = 300 // 60 KB each, 18 MB: more than loopback buffers hold
	for i := range total {
		p := sipPacket(i)
		p.Payload = append(p.Payload, make([]byte, 60000)...)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stop() // closes the last connection after the last write
	ln.Close()
	all := <-conns
	if len(all) < 2 {
		t.Fatalf("%d connections; the stalled one should have been replaced", len(all))
	}
	var seqs []int
	var per []int
	for i, cc := range all {
		if i == 0 {
			cc.data, _ = io.ReadAll(cc.c) // the sender closed it: buffered bytes, then EOF
		} else {
			<-cc.done
		}
		cc.c.Close()
		f := frames(t, cc.data)
		per = append(per, len(f))
		seqs = append(seqs, f...)
	}
	if len(seqs) != total {
		t.Fatalf("complete packets per connection %v, want %d in all", per, total)
	}
	for i, n := range seqs {
		if n != i {
			t.Fatalf("packet %d has sequence %d (per connection %v)", i, n, per)
		}
	}
	st := s.Stats()[0]
	if st.Reconnects != uint64(len(all)-1) || st.Resent <= st.Reconnects || st.Sent != total || st.Unacked != 0 {
		t.Fatalf("%d connections, stats %+v", len(all), st)
	}
	t.Logf("complete packets per connection %v; partial bytes abandoned on the first: %d; resent %d", per, len(all[0].data)-sumLen(all[0].data, per[0]), st.Resent)
}

func sumLen(stream []byte, n int) int {
	total := 0
	for range n {
		k, _ := nextFrame(stream[total:])
		total += k
	}
	return total
}

// TestKeepAlive: an idle TCP connection sends keep-alives, which the
// Listener counts as pings and does not deliver.
func TestKeepAlive(t *testing.T) {
	c := startCollector(t, []string{"tcp:127.0.0.1:0"}, ListenOptions{AuthKey: "k"})
	s, err := NewSender(SenderOptions{To: []string{c.l.Addrs()[0]}, AuthKey: "k", KeepAlive: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, s)
	p := sipPacket(1)
	if err := s.Send(&p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two keep-alives", func() bool { return c.l.Stats().Pings >= 2 })
	st, ls := s.Stats()[0], c.l.Stats()
	if c.count() != 1 || ls.AuthFailures != 0 || ls.Bad != 0 || st.KeepAlives < ls.Pings {
		t.Fatalf("delivered %d, listener %+v, sender %+v", c.count(), ls, st)
	}
}
