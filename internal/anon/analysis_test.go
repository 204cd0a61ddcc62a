package anon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// analysis describes what voiptool makes of a capture without naming
// anything a pseudonym changes: per call its type, state, final code,
// message count and leg count; per stream its packets, loss and jitter.
func analysis(t *testing.T, path string) (calls []string, streams []string, jitter []float64) {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := engine.New(engine.Options{})
	if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		calls = append(calls, fmt.Sprintf("%s %s %d msgs=%d legs=%d", c.Type, c.State, c.FinalCode, c.Messages, len(c.Legs)))
	}
	reps := e.Streams("")
	sort.Slice(reps, func(i, j int) bool {
		if reps[i].Packets != reps[j].Packets {
			return reps[i].Packets < reps[j].Packets
		}
		return reps[i].MaxJitterMs < reps[j].MaxJitterMs
	})
	for _, s := range reps {
		streams = append(streams, fmt.Sprintf("pt=%d packets=%d lost=%d dup=%d", s.PayloadType, s.Packets, s.Lost, s.Duplicates))
		jitter = append(jitter, s.MaxJitterMs)
	}
	sort.Strings(calls)
	return calls, streams, jitter
}

// TestAnonymizedAnalysisEqual: an anonymised capture is still
// analysable: the same calls with the same states, final codes, message
// counts and legs, and the same streams with the same packets, loss and
// jitter, over the generated captures and the corpus. Captures whose
// records the driver had to drop (fragments, reassembled SCTP or
// WebSocket that changed size) are reported, not compared: what is
// missing is counted in its summary.
func TestAnonymizedAnalysisEqual(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*.pcap*"))
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "*.pcap*"))
	files = append(files, corpus...)
	compared := 0
	for _, in := range files {
		name := filepath.Base(in)
		if r, err := pcap.Open(in); err != nil {
			continue // not a capture (the damaged-file fixtures)
		} else {
			r.Close()
		}
		t.Run(name, func(t *testing.T) {
			m := NewMapper(testKey(t, "analysis"), Options{})
			out := filepath.Join(t.TempDir(), strings.TrimSuffix(name, ".gz"))
			st := anonymizeFile(t, m, in, out, CaptureOptions{})
			if st.DroppedReassembled+st.DroppedFixup+st.DroppedHEP > 0 {
				t.Skipf("records dropped by the driver (reassembled %d, fixup %d, HEP %d): not comparable", st.DroppedReassembled, st.DroppedFixup, st.DroppedHEP)
			}
			c1, s1, j1 := analysis(t, in)
			c2, s2, j2 := analysis(t, out)
			if strings.Join(c1, "\n") != strings.Join(c2, "\n") {
				t.Errorf("calls differ:\n in: %v\nout: %v", c1, c2)
			}
			if strings.Join(s1, "\n") != strings.Join(s2, "\n") {
				t.Errorf("streams differ:\n in: %v\nout: %v", s1, s2)
			} else {
				for i := range j1 {
					if j1[i] > 3.6e6 {
						// An hour of jitter: the stream has a record without a
						// timestamp (a pcapng Simple Packet Block), and the
						// figure means nothing on either side.
						t.Logf("stream %d: jitter %.0f ms from a record without a time, not compared", i, j1[i])
						continue
					}
					if math.Abs(j1[i]-j2[i]) > 1e-9 {
						t.Errorf("stream %d max jitter %.3f became %.3f", i, j1[i], j2[i])
					}
				}
			}
			compared++
		})
	}
	t.Logf("%d captures compared", compared)
}
