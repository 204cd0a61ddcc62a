package sipstream

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// stalledHello is the first n bytes of a TLS record announcing a 16 000
// byte ClientHello that never completes: what a connection stuck
// mid-record leaves in its session.
func stalledHello(n int) string {
	const length = 16000
	head := "\x16\x03\x01" + string([]byte{length >> 8, length & 0xff}) + "\x01"
	return head + strings.Repeat("h", n-len(head))
}

// TestBudgetEvictsStalledTLS opens many TLS connections, each stuck
// mid-record across two segments, past the reassembly budget: what their
// sessions buffer counts against it, the connections idle longest are
// evicted whole and counted with the bytes they held, and a real TLS
// call decrypted after the flood is framed whole.
func TestBudgetEvictsStalledTLS(t *testing.T) {
	const (
		conns   = 60
		partial = 8000
		budget  = 150_000
	)
	call, keys := tlsFixture(t, "tls13-aes128gcm")
	a := New(Options{MaxBuffered: budget, TLSKeys: keys})
	var col collector
	start := call[0].Time.Add(-time.Minute) // the flood comes before the call
	for i := range conns {
		x := newTx(netip.MustParseAddrPort(fmt.Sprintf("10.4.%d.%d:%d", i/200, i%200+1, 40000+i)), srv, uint32(1000*i))
		x.t = start.Add(time.Duration(i) * 10 * time.Millisecond)
		hello := stalledHello(partial)
		for _, sg := range append([]*Segment{x.syn()}, x.chunks(hello, partial/2, partial)...) {
			a.Add(sg, col.emit)
			checkHeld(t, a)
			if st := a.Stats(); st.Buffered > budget {
				t.Fatalf("connection %d: %d bytes held, budget %d", i, st.Buffered, budget)
			}
		}
	}
	st := a.Stats()
	if st.TLSSessions != conns {
		t.Fatalf("%d TLS sessions for %d connections", st.TLSSessions, conns)
	}
	if st.TLSBudgetEvictions == 0 {
		t.Fatalf("%d connections holding %d bytes of record each against a %d-byte budget: nothing evicted (%d held)", conns, partial, budget, st.Buffered)
	}
	if st.PeakBuffered > budget+2*partial {
		t.Fatalf("peak %d bytes held, budget %d", st.PeakBuffered, budget)
	}
	evicted := int(st.TLSBudgetEvictions)
	if st.TLSBudgetEvictedBytes != uint64(evicted*partial) || st.BudgetEvictions != uint64(evicted) {
		t.Fatalf("%d TLS connections evicted holding %d bytes (want %d), %d directions evicted", evicted, st.TLSBudgetEvictedBytes, evicted*partial, st.BudgetEvictions)
	}
	// The oldest went: the sessions left are the newest connections'.
	if len(a.tlsConns) != conns-evicted {
		t.Fatalf("%d sessions left, %d connections of which %d evicted", len(a.tlsConns), conns, evicted)
	}
	for k := range a.tlsConns {
		if i := int(k.src.Port()) - 40000; i >= 0 && i < evicted {
			t.Fatalf("connection %d (among the %d oldest) kept while a newer one was evicted", i, evicted)
		}
	}
	if len(col.msgs) != 0 {
		t.Fatalf("%d messages from records that never completed", len(col.msgs))
	}
	for _, sg := range call {
		a.Add(sg, col.emit)
		checkHeld(t, a)
	}
	a.Flush(col.emit)
	var lines []string
	for _, m := range col.msgs {
		line, _, _ := strings.Cut(m.payload, "\r\n")
		lines = append(lines, line)
	}
	if strings.Join(lines, "|") != strings.Join(tlsCallStartLines, "|") {
		t.Fatalf("the call after the flood: %q", lines)
	}
	if st := a.Stats(); st.Buffered != 0 {
		t.Fatalf("%d bytes held after Flush", st.Buffered)
	}
	t.Logf("%d connections stuck mid-record: %d evicted (%d bytes of records), peak %d bytes held, budget %d",
		conns, evicted, st.TLSBudgetEvictedBytes, st.PeakBuffered, budget)
}

// TestTLSSessionBytesCounted: one connection stuck mid-record is part
// of the held total, and gives it back when the connection ends.
func TestTLSSessionBytesCounted(t *testing.T) {
	a := New(Options{TLSKeys: tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})})
	var col collector
	x := newTx(cli, srv, 7)
	a.Add(x.syn(), col.emit)
	for _, sg := range x.chunks(stalledHello(5000), 2000, 5000) {
		a.Add(sg, col.emit)
	}
	checkHeld(t, a)
	if st := a.Stats(); st.Buffered < 5000 {
		t.Fatalf("a session holding 5000 bytes of a record: %d bytes counted", st.Buffered)
	}
	a.Add(x.fin(), col.emit)
	checkHeld(t, a)
	if st := a.Stats(); st.Buffered != 0 {
		t.Fatalf("%d bytes counted after the connection ended", st.Buffered)
	}
}
