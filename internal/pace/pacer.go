package pace

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxGap caps one inter-packet pause, see Options.MaxGap.
const DefaultMaxGap = 10 * time.Second

// Clock is the time source a Pacer waits on. Tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done (then it returns ctx's error).
	Sleep(ctx context.Context, d time.Duration) error
}

// Options configure a Pacer; the zero value sends as fast as possible.
type Options struct {
	// Speed 1 keeps the original timing, N plays N times faster, 0.5 at
	// half speed; 0 or negative: no pacing.
	Speed float64
	// MaxGap shortens any gap between consecutive packet times to at most
	// this much capture time, because broken captures jump by years
	// (0: DefaultMaxGap; negative: never shorten). Time going backwards
	// counts as no gap.
	MaxGap time.Duration
	// Spin, when positive, sleeps only until Spin before each deadline
	// and polls the clock for the rest, trading a busy core for
	// precision. It only helps when longer than the timer's overshoot
	// (about a millisecond here) and does nothing for the tail a loaded
	// host adds; BenchmarkDeparture has the figures. 0: plain sleeps.
	Spin time.Duration
	// Clock is the time source (nil: the system clock).
	Clock Clock
	// PPS, when positive, replaces the capture's timing with a fixed
	// rate: packet i is due at start + i/PPS (tcpreplay --pps).
	PPS float64
	// BitRate, when positive (and PPS is not), replaces it with a bit
	// rate: a packet is due at start + (bytes before it)*8/BitRate, the
	// sizes given to WaitSize (tcpreplay --mbps).
	BitRate float64
}

// Pacer spaces out a replay. It is not safe for concurrent use.
type Pacer struct {
	o         Options
	started   bool
	wallStart time.Time
	last      time.Time     // previous packet time
	offset    time.Duration // capture time since the first packet, gaps capped
	packets   float64       // packets scheduled before (rate modes)
	bytes     float64       // bytes scheduled before (BitRate)
	late      histogram
}

// New returns a Pacer with o.
func New(o Options) *Pacer {
	if o.MaxGap == 0 {
		o.MaxGap = DefaultMaxGap
	}
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	return &Pacer{o: o}
}

// Speed is the configured factor (<= 0: unpaced).
func (p *Pacer) Speed() float64 { return p.o.Speed }

// paced reports whether Wait waits at all.
func (p *Pacer) paced() bool { return p.o.Speed > 0 || p.o.PPS > 0 || p.o.BitRate > 0 }

// due returns the deadline of a packet stamped pt and advances the
// schedule (the first packet is due at once, and starts the schedule).
func (p *Pacer) due(pt time.Time, size int, now time.Time) time.Time {
	if p.o.PPS > 0 || p.o.BitRate > 0 {
		// a rate: the deadline follows from what was scheduled before
		if !p.started {
			p.started, p.wallStart = true, now
		}
		var d time.Duration
		if p.o.PPS > 0 {
			d = time.Duration(p.packets / p.o.PPS * float64(time.Second))
		} else {
			d = time.Duration(p.bytes * 8 / p.o.BitRate * float64(time.Second))
		}
		p.packets++
		p.bytes += float64(size)
		return p.wallStart.Add(d)
	}
	if !p.started {
		p.started, p.wallStart, p.last = true, now, pt
		return now
	}
	gap := pt.Sub(p.last)
	if gap < 0 {
		gap = 0
	} else {
		p.last = pt
	}
	if p.o.MaxGap > 0 && gap > p.o.MaxGap {
		gap = p.o.MaxGap
	}
	p.offset += gap
	return p.wallStart.Add(time.Duration(float64(p.offset) / p.o.Speed))
}

// Wait blocks until the packet stamped pt is due and returns the clock's
// time when it returns (the departure time, for a restamping caller). It
// returns ctx's error if ctx ends first. Unpaced, it returns at once.
func (p *Pacer) Wait(ctx context.Context, pt time.Time) (time.Time, error) {
	return p.WaitSize(ctx, pt, 0)
}

// WaitSize is Wait for a packet of size bytes, which a BitRate schedule
// spaces by (the other schedules ignore it).
func (p *Pacer) WaitSize(ctx context.Context, pt time.Time, size int) (time.Time, error) {
	now := p.o.Clock.Now()
	if !p.paced() {
		return now, ctx.Err()
	}
	due := p.due(pt, size, now)
	if d := due.Sub(now) - p.o.Spin; d > 0 {
		if err := p.o.Clock.Sleep(ctx, d); err != nil {
			return p.o.Clock.Now(), err
		}
		now = p.o.Clock.Now()
	}
	if p.o.Spin > 0 {
		for now.Before(due) {
			if err := ctx.Err(); err != nil {
				return now, err
			}
			now = p.o.Clock.Now()
		}
	}
	p.late.add(now.Sub(due))
	return now, ctx.Err()
}

// Lateness returns the distribution of departure errors so far.
func (p *Pacer) Lateness() Lateness { return p.late.summary() }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ParseSpeed reads a --speed value: "max" (or "") is 0, as fast as
// possible; otherwise a positive factor, "1" for the original timing,
// with an optional "x" suffix ("10x").
func ParseSpeed(s string) (float64, error) {
	if s == "max" || s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%w %q (want max, 1, or a positive factor)", ErrBadSpeed, s)
	}
	return v, nil
}
