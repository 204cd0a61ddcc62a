package forward

import (
	"context"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/internal/sink"
)

// Sink is an event sink that says which kinds it takes, so the pacer
// waits only for packets that will leave.
type Sink interface {
	sink.EventSink
	Wants(capture.Kind) bool
}

// Options configure Run. Sink is required.
type Options struct {
	Capture capture.Options
	// Engine, when set, is fed the signalling (SIP and HEP) before the
	// sink sees it; RTP is not measured here, as nobody reads it.
	Engine *engine.Engine
	Sink   Sink
	// Pacer spaces the departures (nil: as fast as possible).
	Pacer *pace.Pacer
}

// Run decodes srcs and hands every event the sink wants to it, each at
// its time on the pacer's schedule. It returns the decoder's statistics
// at the end of input, ctx's error when cancelled, or the first error of
// the engine or the sink.
func Run(ctx context.Context, srcs []capture.Source, o Options, warn func(error)) (capture.Stats, error) {
	if o.Engine != nil {
		o.Engine.Bind(srcs) // its messages in files are located, not copied
	}
	return capture.Run(ctx, srcs, o.Capture, warn, func(ev *capture.Event) error {
		if o.Engine != nil && (ev.Kind == capture.KindSIP || ev.Kind == capture.KindHEP) {
			if err := o.Engine.Handle(ev); err != nil {
				return err
			}
		}
		if !o.Sink.Wants(ev.Kind) {
			return nil
		}
		if o.Pacer != nil {
			if _, err := o.Pacer.Wait(ctx, ev.Time); err != nil {
				return err
			}
		}
		return o.Sink.WriteEvent(ev)
	})
}
