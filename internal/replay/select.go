package replay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
)

// selection is what the first pass learnt.
type selection struct {
	calls       map[string]bool // selected Call-IDs; nil: no selection
	first, last time.Time       // capture time span
}

// openFiles opens every capture; the caller closes them with done.
func openFiles(files []string) (srcs []capture.Source, done func(), err error) {
	var rs []*pcap.Reader
	done = func() {
		for _, r := range rs {
			r.Close()
		}
	}
	for _, f := range files {
		r, err := pcap.Open(f)
		if err != nil {
			done()
			return nil, nil, err
		}
		rs = append(rs, r)
		srcs = append(srcs, r)
	}
	return srcs, done, nil
}

// selectCalls runs the first pass: the engine groups the capture into
// calls, the filter and the Call-IDs pick some, and the time span gives
// the progress line its ETA.
// seen, when set, is shown every event of the pass (frame replay looks
// for the interface's own addresses there).
func selectCalls(ctx context.Context, o *Options, warn func(error), seen func(*capture.Event)) (selection, error) {
	var sel selection
	srcs, done, err := openFiles(o.Files)
	if err != nil {
		return sel, err
	}
	defer done()
	// Files: the store keeps where each message lies in them, not its
	// bytes (this pass only needs the calls' summaries).
	eng := engine.New(engine.Options{Capture: o.Capture, Files: o.Files})
	defer eng.Close()
	eng.Bind(srcs)
	_, err = capture.Run(ctx, srcs, o.Capture, warn, func(ev *capture.Event) error {
		if sel.first.IsZero() || ev.Time.Before(sel.first) {
			sel.first = ev.Time
		}
		if ev.Time.After(sel.last) {
			sel.last = ev.Time
		}
		if seen != nil {
			seen(ev)
		}
		return eng.Handle(ev)
	})
	if err != nil {
		return sel, err
	}
	if len(o.CallIDs) == 0 && o.Filter.IsZero() {
		return sel, nil
	}
	eng.Flush()
	// The store is asked call by call and walked, never copied whole:
	// a summary each of 200 000 calls was 0.9 GB.
	st := eng.Store()
	sel.calls = make(map[string]bool)
	var ids []string // every Call-ID, for prefixes; listed once if needed
	for _, id := range o.CallIDs {
		if _, ok := st.Summary(id); ok {
			sel.calls[id] = true
			continue
		}
		if ids == nil {
			ids = st.IDs()
		}
		var found []string
		for _, c := range ids {
			if strings.HasPrefix(c, id) {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			return sel, fmt.Errorf("%w: no call with Call-ID %q", ErrNoCalls, id)
		case 1:
			sel.calls[found[0]] = true
		default:
			return sel, fmt.Errorf("%w: Call-ID prefix %q is ambiguous (%d calls)", ErrNoCalls, id, len(found))
		}
	}
	if !o.Filter.IsZero() {
		if len(o.CallIDs) == 0 {
			for c := range st.Summaries(o.Filter) {
				sel.calls[c.CallID] = true
			}
		} else {
			// --call and --filter together: the calls named that match
			for id := range sel.calls {
				if c, ok := st.Summary(id); !ok || !o.Filter.Match(&c) {
					delete(sel.calls, id)
				}
			}
		}
	}
	if len(sel.calls) == 0 {
		return sel, ErrNoCalls
	}
	return sel, nil
}
