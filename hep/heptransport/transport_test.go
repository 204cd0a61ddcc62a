package heptransport

import (
	"bytes"
	"context"
	"errors"
	"net"

	"sync/atomic"
	"testing"
	"time"

	"github.com/voiptool/voiptool/hep"
)

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in      string
		want    Addr
		wantErr error
	}{
		{in: "udp:127.0.0.1:9060", want: Addr{UDP, "127.0.0.1:9060"}},
		{in: "TCP:homer:9061", want: Addr{TCP, "homer:9061"}},
		{in: "tls:[::1]:9061", want: Addr{TLS, "[::1]:9061"}},
		{in: "127.0.0.1:9060", wantErr: ErrBadAddress},            // scheme required
		{in: "sctp:127.0.0.1:9060", wantErr: ErrBadAddress},       // unknown scheme
		{in: "udp:127.0.0.1", wantErr: ErrBadAddress},             // no port
		{in: "udp:::1:9060", wantErr: ErrBadAddress},              // unbracketed IPv6
		{in: "udp", wantErr: ErrBadAddress},                       // nothing
		{in: "udp:127.0.0.1:", wantErr: ErrBadAddress},            // empty port
		{in: "tcp:0.0.0.0:9061", want: Addr{TCP, "0.0.0.0:9061"}}, // listen form
	}
	for _, tt := range tests {
		got, err := ParseAddr(tt.in)
		if !errors.Is(err, tt.wantErr) || got != tt.want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != "udp:127.0.0.1:9060" && tt.in == "udp:127.0.0.1:9060" {
			t.Errorf("String() = %q", got.String())
		}
	}
}

func TestNewSenderOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    SenderOptions
		want error
	}{
		{"no targets", SenderOptions{}, ErrNoTargets},
		{"bad version", SenderOptions{To: []string{"udp:127.0.0.1:9"}, Version: 4}, ErrBadOptions},
		{"v2 compressed", SenderOptions{To: []string{"udp:127.0.0.1:9"}, Version: 2, Compress: true}, ErrBadOptions},
		{"v2 big capture id", SenderOptions{To: []string{"udp:127.0.0.1:9"}, Version: 2, CaptureID: 70000}, ErrBadOptions},
		{"bad address", SenderOptions{To: []string{"udp:127.0.0.1:9", "http://x"}}, ErrBadAddress},
		{"tls bad CA", SenderOptions{To: []string{"tls:127.0.0.1:9"}, TLS: TLSFiles{CAFile: "/nonexistent"}}, ErrBadOptions},
	} {
		if _, err := NewSender(tt.o); !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := NewListener([]string{"tls:127.0.0.1:0"}, ListenOptions{}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("TLS listener without cert: %v", err)
	}
}

// TestRoundTrip sends over every transport and wire variant to our own
// Listener and compares what arrives field by field.
func TestRoundTrip(t *testing.T) {
	cert, key := selfSigned(t)
	tlsFiles := TLSFiles{CertFile: cert, KeyFile: key}
	tests := []struct {
		name     string
		scheme   string
		version  uint8
		compress bool
	}{
		{"udp v3", "udp", 3, false},
		{"udp v3 compressed", "udp", 3, true},
		{"udp v2", "udp", 2, false},
		{"udp v1", "udp", 1, false},
		{"tcp v3", "tcp", 3, false},
		{"tcp v3 compressed", "tcp", 3, true},
		{"tls v3", "tls", 3, false},
		{"tls v3 compressed", "tls", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startCollector(t, []string{tt.scheme + ":127.0.0.1:0"}, ListenOptions{TLS: tlsFiles})
			addr := c.l.Addrs()[0]
			s, err := NewSender(SenderOptions{
				To: []string{addr}, Version: tt.version, Compress: tt.compress,
				AuthKey: "myHep", CaptureID: 2001, NodeName: "node1",
				TLS: TLSFiles{CAFile: cert},
			})
			if err != nil {
				t.Fatal(err)
			}
			runSender(t, s)
			const n = 20
			for i := range n {
				p := sipPacket(i)
				if err := s.Send(&p); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "20 packets", func() bool { return c.count() >= n })
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			pkts := c.snapshot()
			if len(pkts) != n {
				t.Fatalf("%d packets, want %d", len(pkts), n)
			}
			for i, g := range pkts {
				want := sipPacket(i)
				if !bytes.Equal(g.raw, want.Payload) {
					t.Fatalf("packet %d payload %.40q, want %.40q (order or content)", i, g.raw, want.Payload)
				}
				if g.p.Src != want.Src || g.p.Dst != want.Dst || g.p.Protocol != ProtoUDP || g.p.ProtoType != hep.ProtoSIP {
					t.Fatalf("packet %d: %v -> %v proto %d type %v", i, g.p.Src, g.p.Dst, g.p.Protocol, g.p.ProtoType)
				}
				if tt.version != 1 && !g.p.Time.Equal(want.Time) { // HEPv1 has no time
					t.Fatalf("packet %d time %v, want %v", i, g.p.Time, want.Time)
				}
				if g.p.Version != max(tt.version, 0) || g.p.Compressed != tt.compress {
					t.Fatalf("packet %d: version %d compressed %v", i, g.p.Version, g.p.Compressed)
				}
				if tt.version >= 2 && g.p.CaptureID != 2001 {
					t.Fatalf("packet %d: capture id %d", i, g.p.CaptureID)
				}
				if tt.version == 3 && (string(g.p.AuthKey) != "myHep" || string(g.p.GroupID) != "node1") {
					t.Fatalf("packet %d: auth %q node %q", i, g.p.AuthKey, g.p.GroupID)
				}
				if !g.peer.Addr().IsLoopback() {
					t.Fatalf("packet %d: peer %v", i, g.peer)
				}
			}
			st := s.Stats()[0]
			if st.Sent != n || st.Dropped != 0 || st.Queued != 0 || !st.Connected {
				t.Fatalf("sender stats %+v", st)
			}
			ls := c.l.Stats()
			if ls.Delivered != n || ls.ByProto[hep.ProtoSIP] != n || ls.Bad != 0 {
				t.Fatalf("listener stats %+v", ls)
			}
		})
	}
}

// TestTCPRejectsV2 checks that HEPv2 on a TCP stream, which has no length
// to frame by, is counted and skipped rather than misread.
func TestTCPRejectsV2(t *testing.T) {
	c := startCollector(t, []string{"tcp:127.0.0.1:0"}, ListenOptions{})
	s, err := NewSender(SenderOptions{To: []string{c.l.Addrs()[0]}, Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, s)
	for i := range 3 {
		p := sipPacket(i)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "NotHEP3 counted", func() bool { return c.l.Stats().NotHEP3 > 0 })
	if c.count() != 0 {
		t.Fatalf("delivered %d HEPv2-over-TCP packets", c.count())
	}
}

func TestAuthKey(t *testing.T) {
	c := startCollector(t, []string{"udp:127.0.0.1:0"}, ListenOptions{AuthKey: "s3cret", DedupWindow: -1})
	for _, tt := range []struct {
		key     string
		version uint8
		ok      bool
	}{{"s3cret", 3, true}, {"wrong", 3, false}, {"", 3, false}, {"s3cret2", 3, false}, {"", 2, false}} {
		before := c.l.Stats()
		s, err := NewSender(SenderOptions{To: []string{c.l.Addrs()[0]}, AuthKey: tt.key, Version: tt.version})
		if err != nil {
			t.Fatal(err)
		}
		stop := runSender(t, s)
		p := sipPacket(1)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "packet decoded", func() bool { return c.l.Stats().Decoded > before.Decoded })
		after := c.l.Stats()
		if got := after.Delivered > before.Delivered; got != tt.ok {
			t.Errorf("key %q v%d: delivered %v, want %v", tt.key, tt.version, got, tt.ok)
		}
		if got := after.AuthFailures > before.AuthFailures; got == tt.ok {
			t.Errorf("key %q v%d: auth failure counted %v", tt.key, tt.version, got)
		}
		stop()
	}
}

// TestDedup sends the same SIP message as two agents would (different
// capture ids, same payload and addresses).
func TestDedup(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var skew atomic.Int64 // the dispatcher reads the clock concurrently
	clock := func() time.Time { return now.Add(time.Duration(skew.Load())) }
	c := startCollector(t, []string{"udp:127.0.0.1:0"}, ListenOptions{Now: clock})
	var senders []*Sender
	for id := range uint32(2) {
		s, err := NewSender(SenderOptions{To: []string{c.l.Addrs()[0]}, CaptureID: 100 + id})
		if err != nil {
			t.Fatal(err)
		}
		runSender(t, s)
		senders = append(senders, s)
	}
	send := func(s *Sender, n int) {
		p := sipPacket(n)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	decoded := func(n uint64) func() bool { return func() bool { return c.l.Stats().Decoded >= n } }
	send(senders[0], 1)
	waitFor(t, "first", decoded(1))
	send(senders[1], 1) // duplicate from the second agent
	waitFor(t, "second", decoded(2))
	send(senders[1], 2) // a different message
	waitFor(t, "third", decoded(3))
	if st := c.l.Stats(); st.Duplicates != 1 || st.Delivered != 2 {
		t.Fatalf("within window: %+v", st)
	}
	skew.Store(int64(3 * time.Second))
	send(senders[0], 1) // same message, window passed
	waitFor(t, "fourth", decoded(4))
	if st := c.l.Stats(); st.Duplicates != 1 || st.Delivered != 3 {
		t.Fatalf("after window: %+v", st)
	}
}

// TestPings sends heplify's bare header keep-alive over UDP and TCP and a
// HEP3 packet with neither payload nor protocol type; all are counted and
// none reaches fn, and the stream after the TCP ping still decodes.
func TestPings(t *testing.T) {
	c := startCollector(t, []string{"udp:127.0.0.1:0", "tcp:127.0.0.1:0"}, ListenOptions{})
	addrs := c.l.Addrs()
	heplifyPing := []byte{'H', 'E', 'P', '3', 0x03, 0x0a} // length field 778 on a 6-byte message
	empty, err := (&hep.Packet{CaptureID: 1, KeepAlive: 15}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	real := sipPacket(7)
	realB, err := real.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	u, err := net.Dial("udp", addrs[0][len("udp:"):])
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for _, b := range [][]byte{heplifyPing, empty} {
		if _, err := u.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	tc, err := net.Dial("tcp", addrs[1][len("tcp:"):])
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	stream := append(append(append([]byte(nil), heplifyPing...), empty...), realB...)
	if _, err := tc.Write(stream); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the real packet", func() bool { return c.count() == 1 })
	waitFor(t, "4 pings", func() bool { return c.l.Stats().Pings == 4 })
	if st := c.l.Stats(); st.Bad != 0 || st.Delivered != 1 {
		t.Fatalf("stats %+v", st)
	}
	if g := c.snapshot()[0]; !bytes.Equal(g.raw, real.Payload) {
		t.Fatalf("payload %q", g.raw)
	}
}

// TestQueueFullDrops: with no Run, nothing drains, so a tiny queue fills
// and Send reports and counts the drops instead of blocking.
func TestQueueFullDrops(t *testing.T) {
	s, err := NewSender(SenderOptions{To: []string{"udp:127.0.0.1:9", "tcp:127.0.0.1:9"}, QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	var full int
	for i := range 10 {
		p := sipPacket(i)
		if err := s.Send(&p); errors.Is(err, ErrQueueFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if full != 6 {
		t.Fatalf("ErrQueueFull %d times, want 6", full)
	}
	for _, st := range s.Stats() {
		if st.Queued != 4 || st.Dropped != 6 {
			t.Fatalf("%s: %+v", st.Target, st)
		}
	}
}

// TestStalledPeer: a TCP collector that accepts but never reads. Once the
// socket buffers fill, the writer blocks, the queue fills, and Send keeps
// returning at once with drops counted; Run still stops on cancel.
func TestStalledPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // held open, never read
		}
		close(accepted)
	}()
	s, err := NewSender(SenderOptions{To: []string{"tcp:" + ln.Addr().String()}, QueueSize: 8, WriteTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	waitFor(t, "the connection", func() bool { return s.Stats()[0].Connected })
	big := make([]byte, 60000)
	p := sipPacket(0)
	p.Payload = big
	const total = 2000 // 120 MB: far beyond any loopback socket buffer
	var full int
	for i := 0; i < total; i++ {
		if err := s.Send(&p); errors.Is(err, ErrQueueFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the writer to write", func() bool { return s.Stats()[0].Sent > 0 })
	st := s.Stats()[0]
	if full == 0 || st.Dropped != uint64(full) {
		t.Fatalf("drops: returned %d, counted %+v", full, st)
	}
	inflight := uint64(total) - st.Sent - uint64(st.Unacked) - uint64(st.Queued) - st.Dropped
	if inflight > 1 {
		t.Fatalf("packets unaccounted for: %d (%+v)", inflight, st)
	}
	t.Logf("stalled peer: sent %d, unacknowledged %d, queued %d, dropped %d of %d", st.Sent, st.Unacked, st.Queued, st.Dropped, total)
	stop()
	ln.Close() // ends the accept goroutine if it is still waiting
	if c, ok := <-accepted; ok {
		c.Close()
	}
}

// TestUDPConnRefused: nothing listens; ICMP port unreachable turns into
// ECONNREFUSED on a later write, which is counted and not fatal.
func TestUDPConnRefused(t *testing.T) {
	port := freePort(t, "udp")
	s, err := NewSender(SenderOptions{To: []string{"udp:127.0.0.1:" + itoa(port)}})
	if err != nil {
		t.Fatal(err)
	}
	runSender(t, s)
	const n = 50
	for i := range n {
		p := sipPacket(i)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 { // give the ICMP error time to arrive between writes
			waitFor(t, "queue drained", func() bool { st := s.Stats()[0]; return st.Sent+st.LostUDP == uint64(i+1) })
		}
	}
	waitFor(t, "all written or lost", func() bool { st := s.Stats()[0]; return st.Sent+st.LostUDP == n })
	st := s.Stats()[0]
	if st.SendErrors == 0 || st.LostUDP == 0 || st.LastError == "" {
		t.Fatalf("no ECONNREFUSED counted: %+v", st)
	}
}
