package report

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"testing"

	"github.com/voiptool/voiptool/sipflow"
)

// reusedSeq yields copies of calls through one reused summary, the way
// sipflow.Store.Summaries does, and counts what it yielded: a writer
// that kept the pointers instead of writing each call would print the
// last call n times.
func reusedSeq(calls []sipflow.CallSummary, yielded *int) iter.Seq[*sipflow.CallSummary] {
	return func(yield func(*sipflow.CallSummary) bool) {
		var cur sipflow.CallSummary
		for i := range calls {
			cur = calls[i]
			*yielded++
			if !yield(&cur) {
				return
			}
		}
	}
}

// manySampleCalls is the sample calls repeated with distinct Call-IDs and
// parties of varied widths, so columns are sized by rows other than the
// last.
func manySampleCalls(t testing.TB, n int) []sipflow.CallSummary {
	base := sampleCalls(t)
	out := make([]sipflow.CallSummary, n)
	for i := range out {
		c := base[i%len(base)]
		c.CallID = fmt.Sprintf("%d-%s", i, c.CallID)
		c.From = c.From + string(bytes.Repeat([]byte("x"), i%17))
		out[i] = c
	}
	return out
}

// WriteCallSeq writes, call by call, the bytes WriteCalls writes for the
// same calls, in every format and table shape.
func TestWriteCallSeqEqualsWriteCalls(t *testing.T) {
	calls := manySampleCalls(t, 300)
	for _, f := range []Format{FormatTable, FormatJSON, FormatJSONL, FormatCSV} {
		for _, o := range []TableOptions{{}, {Width: -1}, {Width: 60}, {Width: 200, NoHeader: true}} {
			for _, cs := range [][]sipflow.CallSummary{calls, nil, calls[:1]} {
				var want, got bytes.Buffer
				if err := WriteCalls(&want, f, cs, o); err != nil {
					t.Fatal(err)
				}
				n := 0
				if err := WriteCallSeq(&got, f, reusedSeq(cs, &n), o); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("%v %+v, %d calls: streamed output differs\n got: %.300q\nwant: %.300q", f, o, len(cs), got.String(), want.String())
				}
				passes := 1
				if f == FormatTable {
					passes = 2 // measure, then write
				}
				if n != passes*len(cs) {
					t.Errorf("%v: %d summaries pulled for %d calls, want %d", f, n, len(cs), passes*len(cs))
				}
			}
		}
	}
}

// A failed write stops the walk: the rest of a 200 000-call store is not
// summarised for nothing.
func TestWriteCallSeqStopsOnWriteError(t *testing.T) {
	calls := manySampleCalls(t, 2000)
	for _, f := range []Format{FormatTable, FormatJSON, FormatJSONL, FormatCSV} {
		n := 0
		err := WriteCallSeq(&failWriter{8192}, f, reusedSeq(calls, &n), TableOptions{})
		if !errors.Is(err, errBoom) {
			t.Fatalf("%v: err %v, want errBoom", f, err)
		}
		limit := len(calls) / 2
		if f == FormatTable {
			limit += len(calls) // the measuring pass reads them all
		}
		if n > limit {
			t.Errorf("%v: %d summaries pulled after the writer failed early", f, n)
		}
	}
}
