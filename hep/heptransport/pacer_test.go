package heptransport

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock advances only when the Pacer sleeps, so the test is exact and
// takes no wall time.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
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
		{name: "time going backwards is no gap", speed: 1, pkts: []time.Time{at(0), at(100), at(50), at(120)}, want: []time.Duration{ms(100), ms(20)}},
		{name: "gap capped", speed: 1, maxGap: time.Second, pkts: []time.Time{at(0), base.Add(24 * 365 * time.Hour), base.Add(24*365*time.Hour + ms(10))}, want: []time.Duration{time.Second, ms(10)}},
		{name: "default cap", speed: 1, pkts: []time.Time{at(0), base.Add(time.Hour)}, want: []time.Duration{DefaultMaxGap}},
		{name: "no cap", speed: 1, maxGap: -1, pkts: []time.Time{at(0), base.Add(time.Hour)}, want: []time.Duration{time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeClock{now: time.Unix(5, 0)}
			p := Pacer{Speed: tt.speed, MaxGap: tt.maxGap, Now: c.Now, Sleep: c.Sleep}
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
			if len(c.sleeps) != len(tt.want) {
				t.Fatalf("sleeps %v, want %v", c.sleeps, tt.want)
			}
			for i := range tt.want {
				if c.sleeps[i] != tt.want[i] {
					t.Fatalf("sleeps %v, want %v", c.sleeps, tt.want)
				}
			}
		})
	}
}

func TestPacerCancel(t *testing.T) {
	c := &fakeClock{now: time.Unix(5, 0)}
	p := Pacer{Speed: 1, Now: c.Now, Sleep: c.Sleep}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := p.Wait(ctx, time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := p.Wait(ctx, time.Unix(101, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	// The real sleeper returns at once on a cancelled context.
	q := Pacer{Speed: 1}
	_, _ = q.Wait(context.Background(), time.Unix(100, 0))
	if _, err := q.Wait(ctx, time.Unix(200, 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("real sleep: %v", err)
	}
}
