package sipflow

import (
	"testing"
)

// summariesStore holds n complete calls of benchCall (two SDP bodies,
// one negotiation), each with the one problem a SIP-only capture gives
// every short answered call, from one capture source: what the end of
// `voiptool calls` walks on a SIP-heavy capture.
func summariesStore(tb testing.TB, n int) *Store {
	tb.Helper()
	s := NewStore(StoreOptions{Raw: fileRaw{}, MaxCalls: 1 << 30, MaxBytes: 1 << 40})
	s.SetSourceNames([]string{"/tmp/bench.pcap"})
	addCalls(s, benchCall(), 0, n, 42)
	ps := []Problem{{Code: "short-call", Severity: SeverityInfo, Detail: "answered call hung up by the caller after 30 ms"}}
	for _, id := range s.IDs() {
		s.SetProblems(id, ps)
	}
	return s
}

// BenchmarkSummaries times the end-of-run walk over 20 000 calls: the
// summaries alone ("walk", what the engine's last diagnosis reads), and
// the summaries written as the calls report's indented JSON ("json").
// The per-call figures are what matter; allocs/op is per walk.
func BenchmarkSummaries(b *testing.B) {
	const n = 20000
	s := summariesStore(b, n)
	b.Run("walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			k := 0
			for c := range s.Summaries(Filter{}) {
				k += len(c.CallID)
			}
			if k == 0 {
				b.Fatal("no calls walked")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/call")
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for c := range s.Summaries(Filter{}) {
				var ok bool
				if buf, ok = c.AppendJSONIndent(buf[:0], "  ", "  "); !ok {
					b.Fatal("summary off the fast path")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/call")
	})
}

// summariesAllocsPerCall is the walk's allocation budget per call of
// summariesStore's: the slices of the summaries come from a few blocks
// (summaryAlloc) that each chunk reuses, and the calls of one source
// share their Sources, so a walk allocates about a dozen times whatever
// its length (13 measured over 3 000 calls: 0.004 a call), where every
// summary allocated its IPs, Offer, Answer, SDPHistory with its two
// media lists and its Sources (seven a call) before.
const summariesAllocsPerCall = 0.01

// TestSummariesAllocs holds the walk, and the walk written as JSON into
// a buffer with room, to the budget.
func TestSummariesAllocs(t *testing.T) {
	const n = 3000 // a dozen chunks
	s := summariesStore(t, n)
	buf := make([]byte, 0, 1<<16)
	for _, tc := range []struct {
		name string
		each func(*CallSummary)
	}{
		{"walk", func(*CallSummary) {}},
		{"json", func(c *CallSummary) {
			var ok bool
			if buf, ok = c.AppendJSONIndent(buf[:0], "  ", "  "); !ok {
				t.Fatal("summary off the fast path")
			}
		}},
	} {
		seen := 0
		allocs := testing.AllocsPerRun(5, func() {
			seen = 0
			for c := range s.Summaries(Filter{}) {
				tc.each(c)
				seen++
			}
		})
		if seen != n {
			t.Fatalf("%s: walked %d calls, want %d", tc.name, seen, n)
		}
		if per := allocs / n; per > summariesAllocsPerCall {
			t.Errorf("%s: %.3f allocations per call (%v per walk of %d), budget %v", tc.name, per, allocs, n, summariesAllocsPerCall)
		}
	}
}
