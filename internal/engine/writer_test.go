package engine

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// TestWriterWithUIReader runs a UI-like reader beside Run: it reads
// pages, a call's streams and the status, asks for stream summaries and,
// once, a Clear, the way the TUI does. Its value is under -race (only the
// writer may write to the store and the tracker); it also checks the
// requests were carried out by the writer: the Clear (counted in the
// store), and the summaries (every call's streams copied into it when
// Run returns). Halfway through, the source waits (up to 10 s) for the
// reader to have done all that once: on a loaded machine the whole run
// could otherwise end before the reader's goroutine ran at all; and a
// source that blocks (stdin from a pipe) must not keep readers waiting.
func TestWriterWithUIReader(t *testing.T) {
	data := largeCapture(t, 60, 200)
	r, err := pcap.NewReader(bytes.NewReader(data), "large")
	if err != nil {
		t.Fatal(err)
	}
	open := make(chan struct{})
	src := &gated{r: r, at: 12000, open: open}
	e := New(Options{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	var sawRunning, sawDecoder bool
	wg.Add(1)
	go func() {
		defer wg.Done()
		cleared, opened := false, false
		var last int64 = -1
		for {
			select {
			case <-done:
				return
			default:
			}
			if !opened {
				e.StreamCount() // takes the tracker's read lock: held up if the writer keeps it across the wait
			}
			if !opened && cleared && sawRunning && sawDecoder {
				close(open) // the Clear is served once Run goes on
				opened = true
			}
			v := e.Version()
			if v == last {
				time.Sleep(100 * time.Microsecond) // nothing moved: no copy, as the UI does
				continue
			}
			last = v
			s := e.Status()
			sawRunning = sawRunning || s.Running
			sawDecoder = sawDecoder || (s.Running && s.Decoder.Packets > 0)
			calls := e.Calls(sipflow.Filter{}, 0, 20)
			if len(calls) > 0 {
				e.Streams(calls[0].CallID)
				e.Call(calls[0].CallID)
			}
			e.RequestStreams()
			if !cleared && s.Store.Calls >= 10 {
				e.Clear()
				cleared = true
			}
		}
	}()
	if _, err := e.Run(context.Background(), []capture.Source{src}, nil); err != nil {
		t.Fatal(err)
	}
	close(done)
	wg.Wait()
	if src.timedOut {
		t.Error("the reader was held up for 10 s while the source waited for it")
	}
	s := e.Status()
	if e.ClearPending() || s.Store.Cleared == 0 {
		t.Errorf("the Clear was not carried out: pending %v, cleared %d", e.ClearPending(), s.Store.Cleared)
	}
	if !sawRunning || !sawDecoder {
		t.Errorf("status while running: running seen %v, decoder counters seen %v", sawRunning, sawDecoder)
	}
	if s.Running || s.Decoder.Packets != int(s.Records) {
		t.Errorf("after Run: running %v, decoder packets %d, records %d", s.Running, s.Decoder.Packets, s.Records)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) == 0 {
		t.Fatal("no call after the Clear")
	}
	for _, c := range calls {
		if n := len(e.Streams(c.CallID)); n != len(c.Streams) {
			t.Errorf("call %s: %d streams, summary has %d", c.CallID, n, len(c.Streams))
		}
	}
}

// TestExternalWriterRequests: without Run, the goroutine calling Handle
// is the writer; a reader's requests wait for its next event instead of
// being carried out on the reader's goroutine beside it (-race checks
// it).
func TestExternalWriterRequests(t *testing.T) {
	e := New(Options{})
	src := netip.MustParseAddrPort("10.0.0.1:4000")
	dst := netip.MustParseAddrPort("10.0.0.2:5000")
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	const n = 2000
	start := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Src: src, Dst: dst, Payload: pkt}
		close(start)
		for i := 0; i < n; i++ {
			pkt[2], pkt[3] = byte(i>>8), byte(i)
			ev.Time = t0.Add(time.Duration(i) * 20 * time.Millisecond)
			if err := e.Handle(ev); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	<-start
	for i := 0; i < 50; i++ {
		e.RequestStreams()
		e.Clear()
		e.Streams("")
		e.Status()
	}
	wg.Wait()
	s := e.Status()
	if s.Engine.Events[capture.KindRTP] != n {
		t.Errorf("events %d, want %d", s.Engine.Events[capture.KindRTP], n)
	}
	// The last Clear may still wait for an event that will never come:
	// the writer carries it out, nobody else.
	if e.ClearPending() {
		if err := e.Handle(&capture.Event{Kind: capture.KindRTP, Src: src, Dst: dst, Time: t0.Add(time.Hour), Payload: make([]byte, 12)}); err != nil {
			t.Fatal(err)
		}
	}
	if e.ClearPending() {
		t.Error("the writer did not carry out the pending Clear")
	}
	if e.Status().Store.Cleared != 0 {
		t.Error("cleared calls that never existed")
	}
}

// gated is a source that, before its record at, waits for open (at most
// 10 s): a reader beside Run is sure to see it running.
type gated struct {
	r    *pcap.Reader
	n    int
	at   int
	open <-chan struct{}
	// timedOut says the reader never got through while the source
	// waited: the writer held a lock it needed across the wait.
	timedOut bool
}

func (g *gated) Next() ([]byte, pcap.Packet, error) {
	if g.n == g.at {
		select {
		case <-g.open:
		case <-time.After(10 * time.Second):
			g.timedOut = true
		}
	}
	g.n++
	return g.r.Next()
}
