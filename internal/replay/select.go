package replay

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
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
	eng := engine.New(engine.Options{Capture: o.Capture})
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
	all := eng.Calls(sipflow.Filter{}, 0, -1)
	sel.calls = make(map[string]bool)
	for _, id := range o.CallIDs {
		var found []string
		for _, c := range all {
			if c.CallID == id {
				found = []string{id}
				break
			}
			if strings.HasPrefix(c.CallID, id) {
				found = append(found, c.CallID)
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
		for _, c := range eng.Calls(o.Filter, 0, -1) {
			// --call and --filter together: the calls named that match
			if len(o.CallIDs) == 0 || sel.calls[c.CallID] {
				sel.calls[c.CallID] = true
			}
		}
		if len(o.CallIDs) > 0 {
			for id := range sel.calls {
				if !o.Filter.Match(summaryOf(all, id)) {
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

func summaryOf(all []sipflow.CallSummary, id string) *sipflow.CallSummary {
	for i := range all {
		if all[i].CallID == id {
			return &all[i]
		}
	}
	return &sipflow.CallSummary{}
}
