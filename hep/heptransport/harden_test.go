package heptransport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// A retransmission from the same agent is a packet of its own and is
// kept; only another agent's copy of the same capture is a duplicate.
func TestDedupKeepsRetransmissions(t *testing.T) {
	d := newDedup(2*time.Second, 50*time.Millisecond, 64)
	now := time.Unix(1700000000, 0)
	agentA := netip.MustParseAddrPort("198.51.100.1:40000")
	agentB := netip.MustParseAddrPort("198.51.100.2:40000")
	p := sipPacket(1)
	p.CaptureID = 7
	for i := range 3 { // the UA retransmits: Timer A 500 ms, 1 s
		q := p
		q.Time = p.Time.Add(time.Duration(i) * 500 * time.Millisecond)
		if d.duplicate(&q, agentA, now.Add(time.Duration(i)*500*time.Millisecond)) {
			t.Fatalf("retransmission %d from the same agent dropped", i)
		}
	}
	// The same capture reported again by a second host, 3 ms skewed.
	q := p
	q.Time = p.Time.Add(time.Second + 3*time.Millisecond)
	if !d.duplicate(&q, agentB, now.Add(time.Second+10*time.Millisecond)) {
		t.Error("another agent's copy of the same capture was kept")
	}
	// The same agent id on another node is another agent.
	r := p
	r.Time = p.Time.Add(time.Second)
	if !d.duplicate(&r, netip.MustParseAddrPort("198.51.100.3:1"), now.Add(time.Second+20*time.Millisecond)) {
		t.Error("same capture id from another host was not treated as another agent")
	}
	// Another agent, but a capture a whole second apart: a different packet.
	s := p
	s.Time = p.Time.Add(2 * time.Second)
	if d.duplicate(&s, agentB, now.Add(2*time.Second)) {
		t.Error("a capture 1 s away from the last copy was dropped as a duplicate")
	}
	// A different capture id from the same host is another agent too.
	u := s
	u.CaptureID = 8
	if !d.duplicate(&u, agentB, now.Add(2*time.Second+time.Millisecond)) {
		t.Error("a second capture id's copy was kept")
	}
}

// Idle connections cannot lock agents out: with every slot taken by
// connections that never speak, an agent still connects and delivers,
// and the evictions are counted.
func TestIdleConnectionFloodEvicts(t *testing.T) {
	const flood = 2000
	c := startCollector(t, []string{"tcp:127.0.0.1:0"}, ListenOptions{MaxConns: 256, MaxConnsPerSource: 128, DedupWindow: -1})
	addr := c.l.Addrs()[0][len("tcp:"):]
	var idle []net.Conn
	defer func() {
		for _, cn := range idle {
			cn.Close()
		}
	}()
	for range flood {
		cn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(idle), err)
		}
		idle = append(idle, cn)
	}
	waitFor(t, "flood accepted", func() bool { return c.l.Stats().Conns >= flood })
	s, err := NewSender(SenderOptions{To: []string{"tcp:" + addr}})
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	defer stop()
	const n = 50
	for i := range n {
		p := sipPacket(i)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "agent delivered", func() bool { return c.l.Stats().Delivered >= n })
	st := c.l.Stats()
	if st.Delivered != n {
		t.Errorf("delivered %d of %d", st.Delivered, n)
	}
	if st.ConnsEvicted < flood-128 {
		t.Errorf("evicted %d connections, want at least %d (one host may hold 128)", st.ConnsEvicted, flood-128)
	}
}

// A connection that never sends is closed after IdleTimeout and counted.
func TestIdleTimeoutCloses(t *testing.T) {
	c := startCollector(t, []string{"tcp:127.0.0.1:0"}, ListenOptions{IdleTimeout: 100 * time.Millisecond})
	cn, err := net.Dial("tcp", c.l.Addrs()[0][len("tcp:"):])
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	waitFor(t, "idle close", func() bool { return c.l.Stats().ConnsIdle == 1 })
	cn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := cn.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after the idle timeout")
	}
}

// TestSngrepRetransmissionsKept: sngrep replays a capture full of SIP
// retransmissions as a HEP agent to a listener with the default
// de-duplication; every message arrives, since one agent's
// retransmissions are not copies of one packet (the old rule kept 67
// of 81).
func TestSngrepRetransmissionsKept(t *testing.T) {
	bin := needSngrep(t)
	capture, want := corpusFile(t, "sip-udp-register-invite-cancel-auth-noisy.pcap")
	c := startCollector(t, []string{"udp:127.0.0.1:0"}, ListenOptions{})
	hp := strings.TrimPrefix(c.l.Addrs()[0], "udp:")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := sngrepCmd(ctx, t, bin, []string{"eep.send.version 3", "eep.send.id 2002"}, "-I", capture, "-H", "udp:"+hp, "-N", "-q")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sngrep: %v\n%s", err, out)
	}
	waitFor(t, fmt.Sprintf("%d SIP messages", want), func() bool { return c.count() >= want })
	time.Sleep(50 * time.Millisecond)
	if got, st := c.count(), c.l.Stats(); got != want || st.Duplicates != 0 {
		t.Fatalf("kept %d of %d messages, %d counted as duplicates", got, want, st.Duplicates)
	}
}

// A TLS collector that requires a client certificate refuses a sender
// without one after the handshake (TLS 1.3): the sender reports the
// refusal as an error, never counts the packets as sent, and the
// collector counts the refused handshakes.
func TestTLSRefusedSessionReported(t *testing.T) {
	cert, key := selfSigned(t)
	c := startCollector(t, []string{"tls:127.0.0.1:0"}, ListenOptions{TLS: TLSFiles{CertFile: cert, KeyFile: key, CAFile: cert}, DedupWindow: -1})
	s, err := NewSender(SenderOptions{To: []string{c.l.Addrs()[0]}, TLS: TLSFiles{CAFile: cert},
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := runSender(t, s)
	defer stop()
	for i := range 5 {
		p := sipPacket(i)
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the refusal", func() bool { return s.Stats()[0].SendErrors > 0 })
	st := s.Stats()[0]
	if st.Sent != 0 || !strings.Contains(st.LastError, "refused") {
		t.Errorf("sender: sent %d, last error %q: want nothing sent and the refusal named", st.Sent, st.LastError)
	}
	waitFor(t, "the collector's count", func() bool { return c.l.Stats().ConnsRefused > 0 })
	if c.count() != 0 {
		t.Errorf("collector received %d packets from a refused sender", c.count())
	}
}
