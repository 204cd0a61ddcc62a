package playback

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

func rec(pl *Player, at time.Duration) { pl.OnRecord(0, pcap.Packet{Timestamp: t0.Add(at)}, nil) }

// released runs OnRecord on a goroutine and reports whether it returned
// within d.
func released(pl *Player, at, d time.Duration) (chan struct{}, bool) {
	done := make(chan struct{})
	go func() {
		rec(pl, at)
		close(done)
	}()
	select {
	case <-done:
		return done, true
	case <-time.After(d):
		return done, false
	}
}

// A record is never released before it is due: at speed 10, 300 ms of
// capture take at least 30 ms; at speed 100 a one-year jump is capped to
// MaxGap.
func TestPace(t *testing.T) {
	pl := New(context.Background(), Options{Speed: 10})
	start := time.Now()
	for _, at := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond} {
		rec(pl, at)
	}
	if el := time.Since(start); el < 30*time.Millisecond || el > 5*time.Second {
		t.Errorf("300 ms of capture at x10 took %v", el)
	}
	if s := pl.Status(); s.Records != 4 || !s.Clock.Equal(t0.Add(300*time.Millisecond)) {
		t.Errorf("status %+v", s)
	}

	pl = New(context.Background(), Options{Speed: 100, MaxGap: time.Second})
	rec(pl, 0)
	start = time.Now()
	rec(pl, 365*24*time.Hour)
	if el := time.Since(start); el < 10*time.Millisecond || el > 5*time.Second {
		t.Errorf("a one-year jump capped to 1 s at x100 took %v", el)
	}
}

// Paused, a record waits for the resume; a speed change while waiting
// takes effect at once.
func TestPauseAndSpeed(t *testing.T) {
	pl := New(context.Background(), Options{Paused: true})
	done, ok := released(pl, 0, 50*time.Millisecond)
	if ok {
		t.Fatal("released while paused")
	}
	pl.TogglePause()
	<-done
	// an hour away at x1: waits; at the maximum speed 100 it is 36 s,
	// still waiting; paused again and seeked past it, it is released
	done, ok = released(pl, time.Hour, 50*time.Millisecond)
	if ok {
		t.Fatal("a record an hour ahead was released at once")
	}
	pl.SetSpeed(1e6)
	if s := pl.Status(); s.Speed != MaxSpeed {
		t.Errorf("speed %v, want clamped to %v", s.Speed, MaxSpeed)
	}
	select {
	case <-done:
		t.Fatal("released at x100 long before due")
	case <-time.After(50 * time.Millisecond):
	}
	pl.Seek(2 * time.Hour)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("seek past the record did not release it")
	}
	pl.Slower()
	if s := pl.Status(); s.Speed != MaxSpeed/2 {
		t.Errorf("slower: %v", s.Speed)
	}
}

// Step releases records without waiting up to the one that carried a
// SIP message, then holds the next.
func TestStep(t *testing.T) {
	pl := New(context.Background(), Options{Paused: true})
	pl.Step()
	if _, ok := released(pl, 0, time.Second); !ok {
		t.Fatal("step did not release the first record")
	}
	if _, ok := released(pl, time.Minute, time.Second); !ok {
		t.Fatal("step stopped before a message")
	}
	pl.OnMessage(nil, sipflow.Meta{})
	done, ok := released(pl, 2*time.Minute, 50*time.Millisecond)
	if ok {
		t.Fatal("released after the step's message")
	}
	if s := pl.Status(); !s.Paused || s.Stepping {
		t.Errorf("after a step: %+v", s)
	}
	pl.Step()
	<-done
}

// Seeking forward releases what lies before the target at once, then
// paces from there.
func TestSeek(t *testing.T) {
	pl := New(context.Background(), Options{Speed: 1})
	rec(pl, 0)
	pl.Seek(25 * time.Second)
	start := time.Now()
	rec(pl, 10*time.Second)
	rec(pl, 20*time.Second)
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("records before the seek target waited %v", el)
	}
	if s := pl.Status(); !s.Seeking {
		t.Error("not seeking before the target")
	}
	done, ok := released(pl, 30*time.Second, 50*time.Millisecond)
	if ok {
		t.Fatal("the record past the target was not paced")
	}
	if s := pl.Status(); s.Seeking {
		t.Error("still seeking at the target")
	}
	pl.Seek(time.Minute)
	<-done
}

// The context's end releases a waiting record (Run then returns).
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pl := New(ctx, Options{Paused: true})
	done, ok := released(pl, 0, 20*time.Millisecond)
	if ok {
		t.Fatal("released while paused")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not release")
	}
}

func TestStepWhileWaiting(t *testing.T) {
	pl := New(context.Background(), Options{Speed: 0.1})
	rec(pl, 0)
	rec(pl, 12*time.Millisecond)
	pl.TogglePause()
	done, ok := released(pl, 30*time.Millisecond, 100*time.Millisecond)
	if ok {
		t.Fatal("released while paused")
	}
	pl.Step()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("step did not release a waiting record: %+v", pl.Status())
	}
}

// While a record is held back (paused), the Idle hook runs on the
// waiting goroutine every idleEvery or so, and stops with the wait.
func TestIdleWhileHeld(t *testing.T) {
	var calls atomic.Int32
	pl := New(context.Background(), Options{Paused: true, Idle: func() { calls.Add(1) }})
	done, ok := released(pl, 0, 350*time.Millisecond)
	if ok {
		t.Fatal("released while paused")
	}
	if n := calls.Load(); n < 2 {
		t.Errorf("Idle ran %d times in 350 ms of waiting", n)
	}
	pl.TogglePause()
	<-done
}
