package forward

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// keep is a Sink taking SIP only, remembering what it got.
type keep struct {
	times []time.Time
	fail  error
}

func (k *keep) Wants(kind capture.Kind) bool { return kind == capture.KindSIP }
func (k *keep) WriteEvent(ev *capture.Event) error {
	k.times = append(k.times, ev.Time)
	return k.fail
}
func (k *keep) Counts() sink.Counts { return sink.Counts{Written: uint64(len(k.times))} }
func (k *keep) Close() error        { return nil }

// clock is a pace.Clock that only moves when slept on.
type clock struct {
	now   time.Time
	slept time.Duration
}

func (c *clock) Now() time.Time { return c.now }
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.now, c.slept = c.now.Add(d), c.slept+d
	return ctx.Err()
}

func open(t *testing.T, name string) capture.Source {
	t.Helper()
	r, err := pcap.Open(filepath.Join("..", "..", "testdata", "pcaps", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestRun forwards basic-call.pcap at speed 2: the 13 SIP messages reach
// the sink in capture order, the pacer slept half the capture's span, and
// the engine learnt the calls.
func TestRun(t *testing.T) {
	k := &keep{}
	c := &clock{now: time.Unix(5, 0)}
	p := pace.New(pace.Options{Speed: 2, Clock: c})
	eng := engine.New(engine.Options{})
	st, err := Run(context.Background(), []capture.Source{open(t, "basic-call.pcap")}, Options{Engine: eng, Sink: k, Pacer: p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.times) != 13 || st.SIP != 13 {
		t.Fatalf("sink got %d, decoder saw %d SIP", len(k.times), st.SIP)
	}
	span := k.times[len(k.times)-1].Sub(k.times[0])
	if c.slept != span/2 {
		t.Errorf("slept %v for a capture span of %v at speed 2", c.slept, span)
	}
	if l := p.Lateness(); l.Count != 13 || l.Max != 0 {
		t.Errorf("lateness %+v", l)
	}
	if n := len(eng.Calls(sipflow.Filter{}, 0, -1)); n == 0 {
		t.Error("engine saw no calls")
	}
	if s := eng.Status(); s.Engine.Events[capture.KindRTP] != 0 {
		t.Errorf("engine measured RTP: %+v", s.Engine.Events)
	}
}

func TestRunErrors(t *testing.T) {
	boom := errors.New("sink failed")
	k := &keep{fail: boom}
	if _, err := Run(context.Background(), []capture.Source{open(t, "basic-call.pcap")}, Options{Sink: k}, nil); !errors.Is(err, boom) || len(k.times) != 1 {
		t.Errorf("sink error: %v after %d", err, len(k.times))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k = &keep{}
	p := pace.New(pace.Options{Speed: 1})
	if _, err := Run(ctx, []capture.Source{open(t, "basic-call.pcap")}, Options{Sink: k, Pacer: p}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestRunLocatesFileMessages: the engine hep-forward feeds keeps the
// messages of its capture files as locations in them: none goes to the
// spill, and none is held in memory beyond what an engine without the
// files holds. Run binds the sources; before, the engine was never told
// them and spilled (or copied) every message.
func TestRunLocatesFileMessages(t *testing.T) {
	name := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	run := func(o engine.Options) *engine.Engine {
		eng := engine.New(o)
		t.Cleanup(func() { eng.Close() })
		if _, err := Run(context.Background(), []capture.Source{open(t, "basic-call.pcap")}, Options{Engine: eng, Sink: &keep{}}, nil); err != nil {
			t.Fatal(err)
		}
		eng.Flush()
		return eng
	}
	located := run(engine.Options{Files: []string{name}, SpillMax: 1 << 20, SpillDir: t.TempDir()})
	held := run(engine.Options{})
	if sp := located.Status().Spill; sp.Messages != 0 || sp.Refused != 0 {
		t.Errorf("spill %+v: messages of a capture file spilled", sp)
	}
	if l, h := located.Store().Stats().Bytes, held.Store().Stats().Bytes; l >= h {
		t.Errorf("store holds %d bytes with the file, %d without: messages not located", l, h)
	}
}
