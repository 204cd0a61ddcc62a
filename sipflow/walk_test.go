package sipflow

import (
	"fmt"
	"reflect"
	"testing"
)

// walkStore holds n dialogs over several chunks of Summaries: every
// third busy, every fifth cancelled by the caller, the rest ringing.
func walkStore(n int) *Store {
	s := NewStore(StoreOptions{})
	s.SetSourceNames([]string{"walk.pcap"})
	for i := range n {
		d := dlg{callID: fmt.Sprintf("walk-%04d@h", i), fromTag: "a"}
		steps := []step{{i, true, d.req("INVITE", 1, "", "z9hG4bK1", sdpBody("10.0.0.1", 4000+2*i, "sendrecv"))}}
		switch {
		case i%3 == 0:
			steps = append(steps, step{i + 1, false, d.resp(486, "Busy Here", "INVITE", 1, "t", "z9hG4bK1", "", "")})
		case i%5 == 0:
			steps = append(steps, step{i + 1, true, d.req("CANCEL", 1, "", "z9hG4bK1", "")})
		default:
			steps = append(steps, step{i + 1, false, d.resp(180, "Ringing", "INVITE", 1, "t", "z9hG4bK1", "", "")})
		}
		run(s, steps)
	}
	return s
}

func collect(s *Store, f Filter) []CallSummary {
	var out []CallSummary
	for c := range s.Summaries(f) {
		out = append(out, *c)
	}
	return out
}

// Summaries yields what Calls returns, in the same order, for any filter.
func TestSummariesEqualCalls(t *testing.T) {
	s := walkStore(3*walkChunk + 7)
	for _, expr := range []string{"", "state=BUSY", "not state=BUSY", "method=CANCEL", "callid~walk-01", "code>=400 or method=CANCEL", "callid=none"} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		want := s.Calls(f, 0, -1)
		if len(want) == 0 && expr != "callid=none" {
			t.Fatalf("%q matches nothing: the fixture does not exercise it", expr)
		}
		got := collect(s, f)
		if len(got) != len(want) {
			t.Fatalf("%q: %d summaries, Calls has %d", expr, len(got), len(want))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: summaries differ from Calls", expr)
		}
	}
}

// A sequence can be ranged over again and visits the same calls; calls
// added after it was made are not in it, calls cleared since are
// skipped, and breaking out stops the walk.
func TestSummariesSnapshotAndStop(t *testing.T) {
	s := walkStore(walkChunk + 3)
	seq := s.Summaries(Filter{})
	d := dlg{callID: "late@h", fromTag: "a"}
	run(s, []step{{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")}})
	first, second := 0, 0
	for range seq {
		first++
	}
	for range seq {
		second++
	}
	if first != walkChunk+3 || second != first {
		t.Errorf("ranges visited %d then %d calls, want %d each", first, second, walkChunk+3)
	}
	n := 0
	for range seq {
		n++
		if n == 5 {
			break
		}
	}
	if n != 5 {
		t.Errorf("break after 5: visited %d", n)
	}
	s.Clear()
	for c := range seq {
		t.Fatalf("after Clear: %s", c.CallID)
	}
}

// The consumer runs without the store's lock: the writer can add a
// message in the middle of a walk (a slow pipe must not stall a live
// capture).
func TestSummariesUnlockedWhileYielding(t *testing.T) {
	s := walkStore(10)
	for c := range s.Summaries(Filter{}) {
		if !s.mu.TryLock() {
			t.Fatalf("store locked while %s is yielded", c.CallID)
		}
		s.mu.Unlock()
	}
}
