package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// stalled is a live source that delivers a capture's records and then
// waits, as a quiet interface does, until Run is cancelled.
type stalled struct{ r *pcap.Reader }

func (s *stalled) Next() ([]byte, pcap.Packet, error) { return s.NextContext(context.Background()) }

func (s *stalled) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	data, p, err := s.r.Next()
	if errors.Is(err, io.EOF) {
		<-ctx.Done()
		return nil, pcap.Packet{}, ctx.Err()
	}
	return data, p, err
}

// The writer holds the tracker's lock across a batch of RTP events, not
// per packet: while Run waits for input, readers get the lock and see
// every event handled (counts and clock published at the batch's end).
func TestBatchLockReleasedWhileWaiting(t *testing.T) {
	const calls, rtp = 2, 300
	data := largeCapture(t, calls, rtp)
	for _, pipe := range []bool{false, true} {
		r, err := pcap.NewReader(bytes.NewReader(data), "large")
		if err != nil {
			t.Fatal(err)
		}
		e := New(Options{Capture: capture.Options{Pipeline: pipe}})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := e.Run(ctx, []capture.Source{&stalled{r}}, nil)
			done <- err
		}()
		deadline := time.Now().Add(10 * time.Second)
		var st Status
		for {
			got := make(chan Status, 1)
			go func() {
				s := e.Status()
				e.StreamCount() // blocks while the writer holds the lock
				got <- s
			}()
			select {
			case st = <-got:
			case <-time.After(5 * time.Second):
				t.Fatalf("pipeline %v: a reader waited 5 s for the lock while Run waited for input", pipe)
			}
			if st.Engine.Events[capture.KindRTP] == calls*2*rtp || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if n := st.Engine.Events[capture.KindRTP]; n != calls*2*rtp {
			t.Errorf("pipeline %v: %d RTP events published while waiting, want %d", pipe, n, calls*2*rtp)
		}
		if n := e.StreamCount(); n != 2*calls {
			t.Errorf("pipeline %v: %d streams, want %d", pipe, n, 2*calls)
		}
		if st.Clock.IsZero() {
			t.Errorf("pipeline %v: clock not published", pipe)
		}
		cancel()
		<-done
	}
}
