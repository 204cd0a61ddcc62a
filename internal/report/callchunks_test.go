package report

import (
	"bytes"
	"errors"
	"io"
	"iter"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiptool/voiptool/sipflow"
)

// reusedChunks yields calls in chunks of size from two buffers used in
// turn, as sipflow.Store.SummaryChunks does: a buffer is overwritten by
// the chunk after next, so an encoder still reading a chunk past the
// next chunk's yield would write other calls' fields. It counts the
// summaries it yielded.
func reusedChunks(calls []sipflow.CallSummary, size int, yielded *int) iter.Seq[[]sipflow.CallSummary] {
	return func(yield func([]sipflow.CallSummary) bool) {
		var bufs [2][]sipflow.CallSummary
		k := 0
		for start := 0; start < len(calls); start += size {
			bufs[k] = append(bufs[k][:0], calls[start:min(start+size, len(calls))]...)
			*yielded += len(bufs[k])
			if !yield(bufs[k]) {
				return
			}
			k ^= 1
		}
	}
}

// The chunked writer, on a second goroutine or not, writes the bytes
// WriteCallSeq writes, for every format, chunk size and list length.
func TestWriteCallChunksEqualsWriteCallSeq(t *testing.T) {
	calls := manySampleCalls(t, 1000)
	for _, f := range []Format{FormatJSON, FormatJSONL, FormatCSV, FormatTable} {
		for _, cs := range [][]sipflow.CallSummary{calls, nil, calls[:1], calls[:257]} {
			var want bytes.Buffer
			n := 0
			if err := WriteCallSeq(&want, f, reusedSeq(cs, &n), TableOptions{Width: -1}); err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 3, 256, 1000, 5000} {
				for _, parallel := range []bool{true, false} {
					var got bytes.Buffer
					n := 0
					if err := writeCallChunks(&got, f, reusedChunks(cs, size, &n), TableOptions{Width: -1}, parallel); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got.Bytes(), want.Bytes()) {
						t.Errorf("%v, %d calls in chunks of %d, parallel %v: output differs\n got: %.300q\nwant: %.300q",
							f, len(cs), size, parallel, got.String(), want.String())
					}
				}
			}
		}
	}
}

// On a store (chunks of 256 summaries from reused blocks), filtered or
// not, the chunked walk written in parallel equals the summaries walk
// written call by call.
func TestWriteCallChunksStore(t *testing.T) {
	s := storeOfCalls(t, 1500)
	for _, expr := range []string{"", "state=COMPLETED", "callid~bench-0001", "type=REGISTER", "callid~nothing"} {
		flt, err := sipflow.ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []Format{FormatJSON, FormatJSONL, FormatCSV} {
			var want, got bytes.Buffer
			if err := WriteCallSeq(&want, f, s.Summaries(flt), TableOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := writeCallChunks(&got, f, s.SummaryChunks(flt), TableOptions{}, true); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("%q %v: chunked output differs (%d bytes, want %d)", expr, f, got.Len(), want.Len())
			}
		}
	}
}

// slowEncoder is jsonChunks taking its time over each piece, noting in
// its counters how many encodes are running and how many began.
type slowEncoder struct {
	jsonChunks
	running, began *atomic.Int32
}

func (e *slowEncoder) encode(b []byte, calls []sipflow.CallSummary, index int) ([]byte, error) {
	e.began.Add(1)
	e.running.Add(1)
	defer e.running.Add(-1)
	time.Sleep(30 * time.Millisecond)
	return e.jsonChunks.encode(b, calls, index)
}

// slowWriter takes its time over each write to w: the encoding goroutine
// is well into its piece by the time a write fails.
type slowWriter struct{ w io.Writer }

func (s slowWriter) Write(p []byte) (int, error) {
	time.Sleep(5 * time.Millisecond)
	return s.w.Write(p)
}

// waitGoroutines waits until at most n goroutines run (one that has
// signalled its end may take a moment to exit).
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for range 100 {
		if runtime.NumGoroutine() <= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%d goroutines, want at most %d: the encoding goroutine outlived the report", runtime.NumGoroutine(), n)
}

// A write error early on (a closed pipe) stops the walk, and the writer
// returns only once the encoding goroutine has ended.
func TestWriteCallChunksStopsOnWriteError(t *testing.T) {
	calls := manySampleCalls(t, 5000)
	base := runtime.NumGoroutine()
	for _, f := range []Format{FormatJSON, FormatJSONL, FormatCSV} {
		n := 0
		err := writeCallChunks(&failWriter{8192}, f, reusedChunks(calls, 100, &n), TableOptions{}, true)
		if !errors.Is(err, errBoom) {
			t.Fatalf("%v: err %v, want errBoom", f, err)
		}
		if n > 500 {
			t.Errorf("%v: %d summaries pulled after the writer failed early", f, n)
		}
		waitGoroutines(t, base)
	}

	var running, began atomic.Int32
	cf := chunkFormat{newEncoder: func() callEncoder {
		return &slowEncoder{jsonChunks{newJSONArray(nil)}, &running, &began}
	}}
	out := newWriter(slowWriter{&failWriter{8192}})
	n := 0
	writeChunks(out, reusedChunks(calls, 100, &n), cf, true)
	if !errors.Is(out.err, errBoom) {
		t.Fatalf("err %v, want errBoom", out.err)
	}
	if r := running.Load(); r != 0 {
		t.Fatalf("%d encodes still running after writeChunks returned", r)
	}
	b0 := began.Load()
	time.Sleep(20 * time.Millisecond)
	if b := began.Load(); b != b0 {
		t.Errorf("%d encodes began after writeChunks returned", b-b0)
	}
	if b0 > 10 { // 7 pieces a chunk: the chunk written, the next one's first
		t.Errorf("%d pieces encoded after the writer failed early", b0)
	}
	waitGoroutines(t, base)
}

// An element encoding/json refuses (a NaN the fast path leaves to it)
// ends the report with the error WriteCallSeq returns, after the
// elements before it; the goroutine ends.
func TestWriteCallChunksEncodeError(t *testing.T) {
	calls := manySampleCalls(t, 600)
	i := slicesIndexStreams(calls)
	if i < 0 {
		t.Skip("no sample call with streams")
	}
	bad := calls[i+300].Clone()
	bad.Streams = append([]sipflow.Stream(nil), bad.Streams...)
	bad.Streams[0].MOS = math.NaN()
	calls[i+300] = bad
	base := runtime.NumGoroutine()
	for _, f := range []Format{FormatJSON, FormatJSONL} {
		n := 0
		want := WriteCallSeq(&bytes.Buffer{}, f, reusedSeq(calls, &n), TableOptions{})
		if want == nil {
			t.Fatalf("%v: WriteCallSeq took a NaN", f)
		}
		for _, size := range []int{1, 7, 256} {
			var got bytes.Buffer
			n := 0
			err := writeCallChunks(&got, f, reusedChunks(calls, size, &n), TableOptions{}, true)
			if err == nil || err.Error() != want.Error() {
				t.Errorf("%v, chunks of %d: err %v, want %v", f, size, err, want)
			}
			if strings.Contains(got.String(), bad.CallID) {
				t.Errorf("%v, chunks of %d: the call that failed was written", f, size)
			}
		}
		waitGoroutines(t, base)
	}
}

// slicesIndexStreams is the index of the first call with a stream.
func slicesIndexStreams(calls []sipflow.CallSummary) int {
	for i := range calls {
		if len(calls[i].Streams) > 0 {
			return i
		}
	}
	return -1
}
