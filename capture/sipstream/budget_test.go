package sipstream

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// heldMismatch says how the Assembler's running total of held bytes
// disagrees with what its directions really hold ("" when it does not).
func heldMismatch(a *Assembler) string {
	sum := 0
	for _, s := range a.streams {
		h := s.footprint()
		if s.held != h {
			return fmt.Sprintf("%v->%v: held %d, buffers hold %d", s.key.src, s.key.dst, s.held, h)
		}
		sum += h
	}
	if a.held != sum {
		return fmt.Sprintf("Assembler holds %d, its directions %d", a.held, sum)
	}
	return ""
}

func checkHeld(t testing.TB, a *Assembler) {
	t.Helper()
	if m := heldMismatch(a); m != "" {
		t.Fatal(m)
	}
}

// partialInvite is the head of a request whose header block never ends
// before the test says so: n bytes held until its end arrives.
func partialInvite(i, n int) string {
	head := fmt.Sprintf("INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: held-%d@example.com\r\nCSeq: 1 INVITE\r\nX-Pad: ", i)
	return head + strings.Repeat("p", n-len(head))
}

// TestBudgetEvictsOldest holds a partial message on each of many
// connections, well past the global budget: the directions that went
// longest without a segment are evicted, the held total never passes the
// budget by more than a segment, and the counters name exactly the
// connections and bytes that were lost. Every connection's next message
// and new connections after the flood are still framed.
func TestBudgetEvictsOldest(t *testing.T) {
	const (
		conns   = 60
		partial = 10_000
		budget  = 100_000
	)
	a := New(Options{MaxBuffered: budget})
	var col collector
	srvAP := netip.MustParseAddrPort("10.0.0.2:5060")
	txs := make([]*tx, conns)
	for i := range txs {
		x := newTx(netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:%d", i/200, i%200+1, 30000+i)), srvAP, uint32(1000*i))
		// One millisecond of packet time between connections, so the
		// oldest is unambiguous.
		x.t = t0.Add(time.Duration(i) * time.Millisecond)
		txs[i] = x
		a.Add(x.syn(), col.emit)
		a.Add(x.data(partialInvite(i, partial)), col.emit)
		checkHeld(t, a)
		if st := a.Stats(); st.Buffered > budget {
			t.Fatalf("after connection %d: %d bytes held, budget %d", i, st.Buffered, budget)
		}
	}
	st := a.Stats()
	if st.BudgetEvictions == 0 {
		t.Fatalf("%d connections of %d bytes each against a %d-byte budget: nothing evicted", conns, partial, budget)
	}
	if st.PeakBuffered > budget+partial {
		t.Fatalf("peak %d bytes held, budget %d", st.PeakBuffered, budget)
	}
	if len(col.msgs) != 0 {
		t.Fatalf("partial messages emitted: %d", len(col.msgs))
	}

	// Each connection ends its held message and sends a complete one.
	ends := "\r\nContent-Length: 0\r\n\r\n"
	for i, x := range txs {
		a.Add(x.data(ends), col.emit)
		a.Add(x.data(sipMsg("OPTIONS", 1000+i, 10)), col.emit)
		checkHeld(t, a)
	}
	// New connections after the flood.
	for i := range 5 {
		x := newTx(netip.MustParseAddrPort(fmt.Sprintf("10.2.0.%d:40000", i+1)), srvAP, 7)
		x.t = t0.Add(time.Second)
		a.Add(x.syn(), col.emit)
		a.Add(x.data(sipMsg("REGISTER", 2000+i, 0)), col.emit)
	}
	checkHeld(t, a)

	completed := map[int]bool{}
	options, registers := 0, 0
	for _, m := range col.msgs {
		var i int
		switch {
		case strings.HasPrefix(m.payload, "INVITE"):
			if _, err := fmt.Sscanf(m.payload[strings.Index(m.payload, "held-"):], "held-%d@", &i); err != nil {
				t.Fatal(err)
			}
			if len(m.payload) != partial+len(ends) {
				t.Fatalf("INVITE %d: %d bytes", i, len(m.payload))
			}
			completed[i] = true
		case strings.HasPrefix(m.payload, "OPTIONS"):
			options++
		case strings.HasPrefix(m.payload, "REGISTER"):
			registers++
		}
	}
	if options != conns || registers != 5 {
		t.Fatalf("after the flood: %d of %d OPTIONS and %d of 5 REGISTERs framed", options, conns, registers)
	}
	lost := conns - len(completed)
	st = a.Stats()
	if uint64(lost) != st.BudgetEvictions {
		t.Fatalf("%d held messages lost, %d evictions counted", lost, st.BudgetEvictions)
	}
	if want := uint64(lost * partial); st.BudgetEvictedBytes != want {
		t.Fatalf("%d bytes counted as evicted, %d lost", st.BudgetEvictedBytes, want)
	}
	// Packet time decides: the evicted connections are the oldest ones.
	for i := range lost {
		if completed[i] {
			t.Fatalf("connection %d (among the %d oldest) was kept while a newer one was evicted", i, lost)
		}
	}
	a.Flush(col.emit)
	if st := a.Stats(); st.Buffered != 0 {
		t.Fatalf("%d bytes held after Flush", st.Buffered)
	}
}

// TestBudgetCountsOutOfOrder: segments held beyond a hole count against
// the budget, and evicting their direction still delivers the complete
// messages behind the hole (given up on as at the end of the input), so
// nothing is counted as evicted bytes for them; the oldest go first.
func TestBudgetCountsOutOfOrder(t *testing.T) {
	msg := sipMsg("MESSAGE", 1, 3000)
	budget := 3 * len(msg)
	a := New(Options{MaxBuffered: budget})
	var col collector
	for i := range 4 {
		x := newTx(netip.MustParseAddrPort(fmt.Sprintf("10.3.0.%d:5070", i+1)), srv, 100)
		x.t = t0.Add(time.Duration(i) * time.Millisecond)
		a.Add(x.syn(), col.emit)
		x.data("OPTIONS sip:lost SIP/2.0\r\n") // never delivered: a hole
		a.Add(x.data(msg), col.emit)
		checkHeld(t, a)
		if st := a.Stats(); st.Buffered > budget {
			t.Fatalf("held %d, budget %d", st.Buffered, budget)
		}
	}
	st := a.Stats()
	if st.BudgetEvictions == 0 || st.BudgetEvictedBytes != 0 || uint64(len(col.msgs)) != st.BudgetEvictions {
		t.Fatalf("evictions %d (%d bytes), %d messages delivered by them", st.BudgetEvictions, st.BudgetEvictedBytes, len(col.msgs))
	}
	for i, m := range col.msgs {
		if m.payload != msg || m.src.Addr().String() != fmt.Sprintf("10.3.0.%d", i+1) {
			t.Fatalf("evicted message %d from %v: not the oldest direction's", i, m.src)
		}
	}
}

// TestBudgetReleasesOversizedCapacity: a direction that once carried a
// large message gives the memory back when it has been framed.
func TestBudgetReleasesOversizedCapacity(t *testing.T) {
	a := New(Options{})
	x := newTx(cli, srv, 1)
	big := sipMsg("MESSAGE", 1, 200<<10)
	segs := []*Segment{x.syn()}
	for i := 0; i < len(big); i += 1400 {
		segs = append(segs, x.data(big[i:min(i+1400, len(big))]))
	}
	c := run(a, segs...)
	if len(c.msgs) != 1 {
		t.Fatalf("%d messages", len(c.msgs))
	}
	s := a.streams[flowKey{cli, srv}]
	if cap(s.buf) > releaseCap {
		t.Fatalf("emptied buffer keeps %d bytes of capacity", cap(s.buf))
	}
}
