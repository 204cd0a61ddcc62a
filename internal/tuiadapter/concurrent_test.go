package tuiadapter

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/pcapgen"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/tui"
)

// largeCapture builds an in-memory capture of calls x rtp packets each
// way, with the generator (deterministic).
func largeCapture(tb testing.TB, calls, rtp int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := pcapgen.WriteLarge(&buf, calls, rtp); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestViewWhileRunning reads through the TUI adapter from several
// goroutines while Run writes, as the UI does at 10 Hz during a load.
// Its value is under -race (CI runs it so); it also checks the answers
// are consistent at the end.
func TestViewWhileRunning(t *testing.T) {
	data := largeCapture(t, 40, 100)
	r, err := pcap.NewReader(bytes.NewReader(data), "large")
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Options{})
	v := New(e, nil, false, nil, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 10000; n++ {
				select {
				case <-done:
					return
				default:
				}
				page := v.Calls(tui.Query{Limit: 20, Sort: tui.ColMOS, Desc: true})
				if len(page.Rows) > 0 {
					v.Flow([]string{page.Rows[0].CallID}, true)
					v.Streams(page.Rows[0].CallID)
				}
				v.Counters()
				v.Stats("")
			}
		}()
	}
	if _, err := e.Run(ctx, []capture.Source{r}, nil); err != nil {
		t.Fatal(err)
	}
	close(done)
	wg.Wait()
	page := v.Calls(tui.Query{Limit: 100})
	if page.Matched != 40 || len(page.Rows) != 40 {
		t.Errorf("calls matched %d rows %d, want 40", page.Matched, len(page.Rows))
	}
	if c := v.Counters(); c.Calls != 40 {
		t.Errorf("counters = %+v", c)
	}
	if st := e.Streams(""); len(st) != 80 {
		t.Errorf("streams = %d, want 80 (two per call)", len(st))
	}
}
