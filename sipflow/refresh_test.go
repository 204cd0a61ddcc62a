package sipflow

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// refreshFn decides from the summary alone, as the engine's detectors
// do: every third call is deferred, every fifth kept, the rest get one
// or two problems naming the call and its state (so a summary handed to
// the wrong call, or read after the walk reused it, gives the wrong
// text). Calls it saw are noted in seen (shared, locked).
func refreshFn(mu *sync.Mutex, seen map[string]int) func() ProblemFunc {
	return func() ProblemFunc {
		return func(dst []Problem, sum *CallSummary) ([]Problem, Verdict) {
			mu.Lock()
			seen[sum.CallID]++
			mu.Unlock()
			var i int
			fmt.Sscanf(sum.CallID, "walk-%d@h", &i)
			switch {
			case i%3 == 0:
				return dst, Defer
			case i%5 == 0:
				return dst, Keep
			}
			dst = append(dst, Problem{Code: "state", Severity: SeverityInfo, Detail: sum.CallID + " " + sum.State.String()})
			if i%2 == 0 {
				dst = append(dst, Problem{Code: "media", Severity: SeverityWarning, Detail: fmt.Sprint(len(sum.Offer))})
			}
			return dst, Set
		}
	}
}

// TestRefreshProblems checks RefreshProblems against SetProblems call by
// call, on one goroutine and several, over more chunks than its window
// holds: every call decided once, the problems each call ends with, the
// calls deferred in creation order, and the calls kept untouched.
func TestRefreshProblems(t *testing.T) {
	const n = 20*walkChunk + 17
	want := walkStore(n)
	want.SetProblems("walk-0005@h", []Problem{{Code: "old", Severity: SeverityError, Detail: "kept"}})
	var wantDeferred []string
	var mu sync.Mutex
	fn := refreshFn(&mu, map[string]int{})()
	set := map[string][]Problem{}
	for sum := range want.Summaries(Filter{}) {
		ps, v := fn(nil, sum)
		switch v {
		case Defer:
			wantDeferred = append(wantDeferred, sum.CallID)
		case Set:
			set[sum.CallID] = ps
		}
	}
	for i := range n { // after the walk, in creation order: one writer
		id := fmt.Sprintf("walk-%04d@h", i)
		if ps, ok := set[id]; ok {
			want.SetProblems(id, ps)
		}
	}
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			s := walkStore(n)
			s.SetProblems("walk-0005@h", []Problem{{Code: "old", Severity: SeverityError, Detail: "kept"}})
			seen := map[string]int{}
			deferred := s.RefreshProblems(workers, refreshFn(&mu, seen))
			if len(seen) != n {
				t.Errorf("%d calls decided, want %d", len(seen), n)
			}
			for id, k := range seen {
				if k != 1 {
					t.Errorf("%s decided %d times", id, k)
				}
			}
			if !slices.Equal(deferred, wantDeferred) {
				t.Errorf("deferred %d calls, want %d (first %v)", len(deferred), len(wantDeferred), deferred[:min(3, len(deferred))])
			}
			for i := range n {
				id := fmt.Sprintf("walk-%04d@h", i)
				got, _ := s.Summary(id)
				exp, _ := want.Summary(id)
				if !slices.Equal(got.Problems, exp.Problems) {
					t.Fatalf("%s: problems %v, want %v", id, got.Problems, exp.Problems)
				}
			}
			if got, exp := s.Stats().Bytes, want.Stats().Bytes; got != exp {
				t.Errorf("store counts %d bytes, want %d (as SetProblems call by call)", got, exp)
			}
		})
	}
	// The call kept (walk-0005: i%5 == 0) still has what it had.
	if sum, _ := want.Summary("walk-0005@h"); len(sum.Problems) != 1 || sum.Problems[0].Detail != "kept" {
		t.Fatalf("the kept call's problems: %v", sum.Problems)
	}
}

// TestRefreshProblemsReaders runs readers beside the refresh, as the TUI
// reads while a run ends (for the race detector): each reader's walk
// sees every call, with either its old problems or its new ones.
func TestRefreshProblemsReaders(t *testing.T) {
	const n = 6 * walkChunk
	s := walkStore(n)
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := 0
				for sum := range s.Summaries(Filter{}) {
					k++
					for _, p := range sum.Problems {
						if p.Code == "state" && !strings.HasPrefix(p.Detail, sum.CallID+" ") {
							t.Errorf("%s has %s's problem", sum.CallID, p.Detail)
						}
					}
				}
				if k != n {
					t.Errorf("a reader walked %d calls, want %d", k, n)
				}
			}
		})
	}
	for range 3 {
		s.RefreshProblems(2, refreshFn(&mu, map[string]int{}))
	}
	close(stop)
	wg.Wait()
}

// TestRefreshProblemsEmpty: a store without calls decides nothing.
func TestRefreshProblemsEmpty(t *testing.T) {
	s := NewStore(StoreOptions{})
	if d := s.RefreshProblems(2, func() ProblemFunc {
		return func(dst []Problem, _ *CallSummary) ([]Problem, Verdict) {
			t.Error("decided a call of an empty store")
			return dst, Keep
		}
	}); len(d) != 0 {
		t.Fatalf("deferred %v", d)
	}
}

// BenchmarkRefreshProblems is the end of a run's diagnosis without the
// detectors: summaries built and problems written, on one goroutine and
// two.
func BenchmarkRefreshProblems(b *testing.B) {
	s := walkStore(8 * walkChunk)
	fn := func() ProblemFunc {
		return func(dst []Problem, sum *CallSummary) ([]Problem, Verdict) {
			return append(dst, Problem{Code: "state", Severity: SeverityInfo, Detail: sum.State.String()}), Set
		}
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprint(w), func(b *testing.B) {
			for b.Loop() {
				s.RefreshProblems(w, fn)
			}
		})
	}
}
