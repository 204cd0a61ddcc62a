package heptransport

import (
	"context"
	"time"
)

// DefaultMaxGap caps one inter-packet pause of a paced replay, see Pacer.
const DefaultMaxGap = 10 * time.Second

// Pacer spaces out a replay by the capture's packet times (hep-forward
// --speed). Speed 1 keeps the original pacing, N plays N times faster, and
// the zero value (or a negative Speed) sends as fast as possible. Pacing is
// computed from the first packet, not packet to packet, so sleep overshoot
// does not accumulate.
//
// Whether the forwarded packet carries its original time or the send time
// (--restamp) is the caller's choice: Wait returns the send time.
//
// A Pacer is not safe for concurrent use.
type Pacer struct {
	Speed float64
	// MaxGap shortens any gap between consecutive packet times to at most
	// this much capture time, because broken captures jump by years
	// (0: DefaultMaxGap; negative: never shorten). Backward jumps count as
	// no gap.
	MaxGap time.Duration
	// Now and Sleep are the clock; nil means time.Now and a timer that
	// stops early when ctx is done. Tests inject fakes.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	started   bool
	wallStart time.Time
	last      time.Time     // previous packet time
	elapsed   time.Duration // capture time since the first packet, gaps capped
}

// Wait blocks until the packet stamped pt is due and returns the clock's
// time when it returns. It returns ctx's error if ctx ends first.
func (p *Pacer) Wait(ctx context.Context, pt time.Time) (time.Time, error) {
	now := p.now()
	if p.Speed <= 0 {
		return now, ctx.Err()
	}
	if !p.started {
		p.started, p.wallStart, p.last = true, now, pt
		return now, ctx.Err()
	}
	gap := pt.Sub(p.last)
	if gap < 0 {
		gap = 0
	} else {
		p.last = pt
	}
	maxGap := p.MaxGap
	if maxGap == 0 {
		maxGap = DefaultMaxGap
	}
	if maxGap > 0 && gap > maxGap {
		gap = maxGap
	}
	p.elapsed += gap
	due := p.wallStart.Add(time.Duration(float64(p.elapsed) / p.Speed))
	if d := due.Sub(now); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return p.now(), err
		}
		now = p.now()
	}
	return now, ctx.Err()
}

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	if !sleepCtx(ctx, d) {
		return ctx.Err()
	}
	return nil
}
