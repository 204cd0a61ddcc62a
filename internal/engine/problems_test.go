package engine

import (
	"strings"
	"testing"

	"github.com/voiptool/voiptool/sipflow"
)

// TestProblemScenarios: each generated call triggers exactly the
// detectors its scenario names (the clean calls, and the call on hold
// with one-way media, none), with the default thresholds.
func TestProblemScenarios(t *testing.T) {
	for _, name := range []string{"problems-media-a", "problems-media-b", "problems-signalling"} {
		t.Run(name, func(t *testing.T) {
			sc, f := scenarioByName(t, name)
			e := New(Options{})
			runFiles(t, e, f)
			for _, d := range sc.Want.Dialogs {
				c, ok := e.Store().Summary(d.CallID)
				if !ok {
					t.Errorf("%s: not found", d.CallID)
					continue
				}
				var got []string
				for _, p := range c.Problems {
					if len(got) == 0 || got[len(got)-1] != p.Code { // one per code: per-stream ones repeat
						got = append(got, p.Code)
					}
					if p.Severity == "" || p.Detail == "" {
						t.Errorf("%s: %s without severity or detail", d.CallID, p.Code)
					}
				}
				if strings.Join(got, ",") != strings.Join(d.Problems, ",") {
					t.Errorf("%s: problems %v, want %v", d.CallID, c.Problems, d.Problems)
				}
			}
			// The filter terms select the same calls.
			for _, d := range sc.Want.Dialogs {
				for _, code := range d.Problems {
					f, err := sipflow.ParseFilter("problem=" + code + " and callid=" + d.CallID)
					if err != nil {
						t.Fatal(err)
					}
					if e.Store().Count(f) != 1 {
						t.Errorf("problem=%s does not select %s", code, d.CallID)
					}
				}
			}
		})
	}
}
