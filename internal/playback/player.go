package playback

import (
	"context"
	"sync"
	"time"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// Speed bounds: the issue's ×0.1 … ×100.
const (
	MinSpeed = 0.1
	MaxSpeed = 100.0
)

// DefaultMaxGap caps one pause between consecutive records.
const DefaultMaxGap = 10 * time.Second

// Options configure a Player.
type Options struct {
	Speed  float64       // 1: as recorded; clamped to MinSpeed..MaxSpeed; 0 means 1
	MaxGap time.Duration // 0: DefaultMaxGap
	Paused bool          // start paused (the first record waits for a resume or a step)
	// Now is the wall clock (nil: time.Now); tests inject one.
	Now func() time.Time
	// Idle, when set, is called on the waiting goroutine (the engine's
	// writer) at least every idleEvery while a record is held back: the
	// engine serves its readers' requests there (stream summaries, a
	// clear), which would otherwise wait for the next record — for ever
	// while paused.
	Idle func()
}

// idleEvery is how often a held record lets Options.Idle run.
const idleEvery = 100 * time.Millisecond

// Status is what the UI shows of a Player.
type Status struct {
	Paused   bool
	Stepping bool
	Speed    float64
	Clock    time.Time // capture time of the last record released
	Seeking  bool      // a seek is releasing records without waiting
	Records  int       // records released
}

// Player paces records. OnRecord and OnMessage are called by the
// engine's writer goroutine; the controls by any goroutine.
type Player struct {
	ctx    context.Context
	maxGap time.Duration
	now    func() time.Time
	idle   func()
	wake   chan struct{} // a control changed: a waiting record looks again

	mu         sync.Mutex
	speed      float64
	paused     bool
	stepping   bool
	seekTo     time.Duration // release without waiting while virtual time < seekTo; 0: none
	started    bool
	anchorWall time.Time
	anchorV    time.Duration // virtual time at anchorWall
	v          time.Duration // virtual time of the last record released
	lastPT     time.Time     // its capture time (for gaps)
	clock      time.Time
	records    int
}

// New returns a Player whose waits end when ctx does.
func New(ctx context.Context, o Options) *Player {
	if o.MaxGap <= 0 {
		o.MaxGap = DefaultMaxGap
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Player{
		ctx: ctx, maxGap: o.MaxGap, now: o.Now, idle: o.Idle, wake: make(chan struct{}, 1),
		speed: clampSpeed(o.Speed), paused: o.Paused,
	}
}

func clampSpeed(s float64) float64 {
	if s == 0 {
		return 1
	}
	return min(max(s, MinSpeed), MaxSpeed)
}

// OnRecord blocks until the record stamped p.Timestamp is due (or the
// context ends); it has capture.Options.OnRecord's signature.
func (pl *Player) OnRecord(_ int, p pcap.Packet, _ []byte) {
	pl.mu.Lock()
	vt := pl.v
	if pl.started {
		gap := p.Timestamp.Sub(pl.lastPT)
		if gap > pl.maxGap {
			gap = pl.maxGap
		}
		if gap > 0 {
			vt += gap
		}
	}
	for {
		now := pl.now()
		if !pl.started {
			pl.started, pl.anchorWall, pl.anchorV = true, now, vt
			if !pl.paused {
				break
			}
		}
		if pl.seekTo > 0 {
			if vt < pl.seekTo {
				break
			}
			// arrived: the play head is at the target now, and this
			// record is due when the time from the target to it has
			// passed
			pl.anchorWall, pl.anchorV, pl.seekTo = now, pl.seekTo, 0
		}
		if pl.stepping {
			break
		}
		var wait time.Duration = -1 // paused: until a control changes
		if !pl.paused {
			due := pl.anchorWall.Add(time.Duration(float64(vt-pl.anchorV) / pl.speed))
			if !now.Before(due) {
				break
			}
			wait = due.Sub(now)
		}
		pl.mu.Unlock()
		if !pl.sleep(wait) {
			pl.mu.Lock()
			break // the context ended: let the record through, Run returns soon
		}
		pl.mu.Lock()
	}
	if p.Timestamp.After(pl.lastPT) || !pl.started || pl.records == 0 {
		pl.lastPT = p.Timestamp
	}
	pl.v, pl.clock = vt, p.Timestamp
	pl.records++
	pl.mu.Unlock()
}

// sleep waits d (d < 0: without a deadline) or until a control changes;
// false when the context ended. With an Idle hook it wakes at least every
// idleEvery to run it (the caller's loop then looks at the schedule again).
func (pl *Player) sleep(d time.Duration) bool {
	if pl.idle != nil && (d < 0 || d > idleEvery) {
		d = idleEvery
		defer pl.idle()
	}
	var tc <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-pl.ctx.Done():
		return false
	case <-pl.wake:
	case <-tc:
	}
	return true
}

// OnMessage ends a step: the record that held a SIP message has been
// released; the next one waits paused. It has engine.Options.OnMessage's
// signature.
func (pl *Player) OnMessage(*sipflow.Message, sipflow.Meta) {
	pl.mu.Lock()
	if pl.stepping {
		pl.stepping = false
		pl.rebase()
	}
	pl.mu.Unlock()
}

// rebase moves the anchor to the play head now, so that the schedule
// continues from where the screen is (mu held).
func (pl *Player) rebase() {
	now := pl.now()
	pl.anchorV, pl.anchorWall = pl.v, now
}

func (pl *Player) poke() {
	select {
	case pl.wake <- struct{}{}:
	default:
	}
}

// TogglePause pauses or resumes.
func (pl *Player) TogglePause() {
	pl.mu.Lock()
	pl.paused = !pl.paused
	pl.stepping = false
	pl.rebase()
	pl.mu.Unlock()
	pl.poke()
}

// SetSpeed sets the factor (clamped to MinSpeed..MaxSpeed).
func (pl *Player) SetSpeed(s float64) {
	pl.mu.Lock()
	pl.speed = clampSpeed(s)
	pl.rebase()
	pl.mu.Unlock()
	pl.poke()
}

// Faster doubles the speed; Slower halves it.
func (pl *Player) Faster() { pl.SetSpeed(pl.Status().Speed * 2) }

// Slower halves the speed.
func (pl *Player) Slower() { pl.SetSpeed(pl.Status().Speed / 2) }

// Step releases records at once up to and including the next one that
// carries a SIP message, then pauses.
func (pl *Player) Step() {
	pl.mu.Lock()
	pl.paused, pl.stepping = true, true
	pl.mu.Unlock()
	pl.poke()
}

// Seek jumps forward by d of capture time: the records before it are
// released without waiting (the store and the statistics see them all),
// then play goes on at the current speed. Going back would mean reading
// the file again from its start; it is not offered.
func (pl *Player) Seek(d time.Duration) {
	if d <= 0 {
		return
	}
	pl.mu.Lock()
	pl.seekTo = pl.v + d
	pl.stepping = false
	pl.mu.Unlock()
	pl.poke()
}

// Status returns a copy of the play state.
func (pl *Player) Status() Status {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return Status{Paused: pl.paused, Stepping: pl.stepping, Speed: pl.speed, Clock: pl.clock, Seeking: pl.seekTo > 0, Records: pl.records}
}
