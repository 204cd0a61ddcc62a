package pace

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// fakeClock advances only when the Pacer sleeps (and by step on every
// Now, to model the cost of polling), so the tests are exact and take no
// wall time.
type fakeClock struct {
	now    time.Time
	step   time.Duration
	sleeps []time.Duration
	// over is how much each sleep overshoots, as a real timer does.
	over time.Duration
}

func (c *fakeClock) Now() time.Time {
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d + c.over)
	return ctx.Err()
}

func TestPacer(t *testing.T) {
	base := time.Unix(1700000000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name   string
		speed  float64
		maxGap time.Duration
		over   time.Duration // each sleep's overshoot
		pkts   []time.Time
		work   time.Duration // wall time the caller spends per packet
		want   []time.Duration
	}{
		{name: "max speed never sleeps", speed: 0, pkts: []time.Time{at(0), at(1000), at(5000)}, want: nil},
		{name: "original pacing", speed: 1, pkts: []time.Time{at(0), at(20), at(40), at(100)}, want: []time.Duration{ms(20), ms(20), ms(60)}},
		{name: "4x", speed: 4, pkts: []time.Time{at(0), at(20), at(40), at(100)}, want: []time.Duration{ms(5), ms(5), ms(15)}},
		{name: "half speed", speed: 0.5, pkts: []time.Time{at(0), at(20)}, want: []time.Duration{ms(40)}},
		{name: "caller work absorbs the sleep", speed: 1, pkts: []time.Time{at(0), at(20), at(40)}, work: ms(15), want: []time.Duration{ms(5), ms(5)}},
		{name: "slow caller never sleeps", speed: 1, pkts: []time.Time{at(0), at(20), at(40)}, work: ms(30), want: nil},
		// The schedule is absolute: an overshoot shortens the next sleep
		// instead of pushing every later packet back.
		{name: "overshoot does not accumulate", speed: 1, over: ms(3), pkts: []time.Time{at(0), at(20), at(40), at(60)}, want: []time.Duration{ms(20), ms(17), ms(17)}},
		{name: "time going backwards is no gap", speed: 1, pkts: []time.Time{at(0), at(100), at(50), at(120)}, want: []time.Duration{ms(100), ms(20)}},
		{name: "gap capped", speed: 1, maxGap: time.Second, pkts: []time.Time{at(0), base.Add(24 * 365 * time.Hour), base.Add(24*365*time.Hour + ms(10))}, want: []time.Duration{time.Second, ms(10)}},
		{name: "default cap", speed: 1, pkts: []time.Time{at(0), base.Add(time.Hour)}, want: []time.Duration{DefaultMaxGap}},
		{name: "no cap", speed: 1, maxGap: -1, pkts: []time.Time{at(0), base.Add(time.Hour)}, want: []time.Duration{time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: time.Unix(5, 0), over: tt.over}
			p := New(Options{Speed: tt.speed, MaxGap: tt.maxGap, Clock: c})
			for i, pt := range tt.pkts {
				sent, err := p.Wait(context.Background(), pt)
				if err != nil {
					t.Fatal(err)
				}
				if !sent.Equal(c.now) {
					t.Fatalf("packet %d: Wait returned %v, clock says %v", i, sent, c.now)
				}
				c.now = c.now.Add(tt.work)
			}
			if fmt.Sprint(c.sleeps) != fmt.Sprint(tt.want) {
				t.Fatalf("sleeps %v, want %v", c.sleeps, tt.want)
			}
		})
	}
}

// TestLateness: a sleep that overshoots by 3 ms makes every paced packet
// 3 ms late; a slow caller makes them later.
func TestLateness(t *testing.T) {
	c := &fakeClock{now: time.Unix(5, 0), over: 3 * time.Millisecond}
	p := New(Options{Speed: 1, Clock: c})
	base := time.Unix(1700000000, 0)
	for i := range 101 {
		if _, err := p.Wait(context.Background(), base.Add(time.Duration(i)*20*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	l := p.Lateness()
	// The first packet starts the schedule (late 0); 100 are 3 ms late.
	if l.Count != 101 || l.Max != 3*time.Millisecond || l.P50 != 3*time.Millisecond || l.P99 != 3*time.Millisecond {
		t.Errorf("lateness %+v", l)
	}
	if l.Mean != 300*time.Millisecond/101 {
		t.Errorf("mean %v", l.Mean)
	}
	if u := New(Options{}).Lateness(); u != (Lateness{}) {
		t.Errorf("unpaced lateness %+v", u)
	}
}

func TestSpin(t *testing.T) {
	// Each Now costs 10 µs; with a 1 ms spin the sleep stops 1 ms early
	// and polling reaches the deadline within one step.
	c := &fakeClock{now: time.Unix(5, 0), step: 10 * time.Microsecond, over: 0}
	p := New(Options{Speed: 1, Spin: time.Millisecond, Clock: c})
	base := time.Unix(1700000000, 0)
	for i := range 3 {
		if _, err := p.Wait(context.Background(), base.Add(time.Duration(i)*20*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.sleeps) != 2 || c.sleeps[0] >= 19*time.Millisecond || c.sleeps[0] < 18*time.Millisecond {
		t.Errorf("sleeps %v", c.sleeps)
	}
	if l := p.Lateness(); l.Max >= 10*time.Microsecond {
		t.Errorf("spin left lateness %+v", l)
	}
}

func TestPacerCancel(t *testing.T) {
	c := &fakeClock{now: time.Unix(5, 0)}
	p := New(Options{Speed: 1, Clock: c})
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.Wait(ctx, time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := p.Wait(ctx, time.Unix(101, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	// The system clock's sleep returns at once on a cancelled context.
	q := New(Options{Speed: 1})
	_, _ = q.Wait(context.Background(), time.Unix(100, 0))
	if _, err := q.Wait(ctx, time.Unix(200, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("real sleep: %v", err)
	}
	// So does a spinning one.
	s := New(Options{Speed: 1, Spin: time.Hour})
	_, _ = s.Wait(context.Background(), time.Unix(100, 0))
	if _, err := s.Wait(ctx, time.Unix(200, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("spin: %v", err)
	}
}

func TestHistogramBuckets(t *testing.T) {
	prevUpper := uint64(0)
	for i := 0; i < nBuckets-1; i++ {
		u := upperOf(i)
		if i > 0 && u <= prevUpper {
			t.Fatalf("bucket %d upper %d not above %d", i, u, prevUpper)
		}
		if bucketOf(u) != i || bucketOf(u+1) != i+1 {
			t.Fatalf("bucket %d: upper %d maps to %d, next to %d", i, u, bucketOf(u), bucketOf(u+1))
		}
		prevUpper = u
	}
	var h histogram
	for v := range 1000 {
		h.add(time.Duration(v) * time.Microsecond)
	}
	for _, q := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 499 * time.Microsecond}, {0.9, 899 * time.Microsecond}, {0.99, 989 * time.Microsecond}} {
		got := h.quantile(q.q)
		if got < q.want || float64(got) > float64(q.want)*1.125 {
			t.Errorf("q%.2f = %v, want %v within 12.5%%", q.q, got, q.want)
		}
	}
}

func TestWaitAllocs(t *testing.T) {
	c := &fakeClock{now: time.Unix(5, 0)}
	p := New(Options{Speed: 1, Clock: c})
	pt := time.Unix(1700000000, 0)
	if n := testing.AllocsPerRun(100, func() { pt = pt.Add(time.Millisecond); _, _ = p.Wait(context.Background(), pt) }); n != 0 {
		t.Errorf("Wait allocs = %v", n)
	}
}

func TestParseSpeed(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"max", 0, true}, {"", 0, true}, {"1", 1, true}, {"10", 10, true}, {"10x", 10, true}, {"0.5", 0.5, true},
		{"0", 0, false}, {"-2", 0, false}, {"fast", 0, false}, {"Inf", 0, false}, {"NaN", 0, false},
	} {
		got, err := ParseSpeed(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseSpeed(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadSpeed) {
			t.Errorf("ParseSpeed(%q): %v is not ErrBadSpeed", tt.in, err)
		}
	}
}

// TestPacerRates: --pps and --mbps space packets by count or size,
// whatever their capture times, and keep an absolute schedule too.
func TestPacerRates(t *testing.T) {
	base := time.Unix(1700000000, 0)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name string
		o    Options
		over time.Duration
		size []int
		want []time.Duration
	}{
		{name: "100 pps", o: Options{PPS: 100}, size: []int{1, 1, 1, 1}, want: []time.Duration{ms(10), ms(10), ms(10)}},
		{name: "pps ignores speed", o: Options{PPS: 1000, Speed: 1}, size: []int{1, 1}, want: []time.Duration{ms(1)}},
		// 1 Mbit/s: 1250 bytes take 10 ms, 125 bytes 1 ms
		{name: "1 Mbit/s", o: Options{BitRate: 1e6}, size: []int{1250, 125, 1250, 1}, want: []time.Duration{ms(10), ms(1), ms(10)}},
		{name: "overshoot does not accumulate", o: Options{PPS: 100}, over: ms(2), size: []int{1, 1, 1}, want: []time.Duration{ms(10), ms(8)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: time.Unix(5, 0), over: tt.over}
			tt.o.Clock = c
			p := New(tt.o)
			for i, n := range tt.size {
				// capture times a second apart: a rate ignores them
				if _, err := p.WaitSize(context.Background(), base.Add(time.Duration(i)*time.Second), n); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(c.sleeps) != fmt.Sprint(tt.want) {
				t.Fatalf("sleeps %v, want %v", c.sleeps, tt.want)
			}
			if l := p.Lateness(); l.Count != uint64(len(tt.size)) {
				t.Fatalf("lateness counted %d departures", l.Count)
			}
		})
	}
}
