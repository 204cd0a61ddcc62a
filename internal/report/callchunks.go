package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/voiptool/voiptool/sipflow"
)

// WriteCallChunks is WriteCallSeq over a walk's chunks of summaries
// (sipflow.Store.SummaryChunks), and writes the same bytes. A chunk must
// stay valid until the yield of the chunk after it returns: JSON, JSON
// lines and CSV are encoded by a second goroutine, which starts on chunk
// N as soon as it is yielded, while the caller's goroutine writes chunk
// N-1, walks to chunk N+1 and then helps finish chunk N, so the end of
// `voiptool calls` on a SIP-heavy capture, single-threaded before, keeps
// both cores busy. The table (two passes over the calls) is written as
// WriteCallSeq writes it. Writing stops at the first error, and the
// encoding goroutine has ended when WriteCallChunks returns.
func WriteCallChunks(w io.Writer, f Format, chunks iter.Seq[[]sipflow.CallSummary], o TableOptions) error {
	// One core: a second goroutine would only take turns with this one.
	return writeCallChunks(w, f, chunks, o, runtime.GOMAXPROCS(0) >= 2)
}

// writeCallChunks is WriteCallChunks, encoding on a second goroutine
// too when parallel.
func writeCallChunks(w io.Writer, f Format, chunks iter.Seq[[]sipflow.CallSummary], o TableOptions, parallel bool) error {
	var cf chunkFormat
	switch f {
	case FormatJSON:
		cf = chunkFormat{
			newEncoder: func() callEncoder { return &jsonChunks{a: newJSONArray(nil)} },
			tail: func(b []byte, n int) []byte {
				if n == 0 {
					return append(b, "[]\n"...)
				}
				return append(b, "\n]\n"...)
			},
		}
	case FormatJSONL:
		cf = chunkFormat{newEncoder: func() callEncoder { return newJSONLChunks() }}
	case FormatCSV:
		cf = chunkFormat{
			newEncoder: func() callEncoder { return newCSVChunks() },
			head:       func(b []byte) []byte { return newCSVChunks().head(b) },
		}
	default:
		return WriteCallSeq(w, f, flatten(chunks), o)
	}
	out := newWriter(w)
	writeChunks(out, chunks, cf, parallel)
	return out.flush()
}

// flatten is chunks a summary at a time.
func flatten(chunks iter.Seq[[]sipflow.CallSummary]) iter.Seq[*sipflow.CallSummary] {
	return func(yield func(*sipflow.CallSummary) bool) {
		for c := range chunks {
			for i := range c {
				if !yield(&c[i]) {
					return
				}
			}
		}
	}
}

// chunkFormat is a report written by chunks: what comes before the
// first call and after the last (nil: nothing), and an encoder of calls
// for each goroutine.
type chunkFormat struct {
	head       func(b []byte) []byte
	tail       func(b []byte, n int) []byte
	newEncoder func() callEncoder
}

// callEncoder appends the report's bytes for calls, the first of which
// is the index-th call of the report; an error ends the report after
// the bytes returned with it. One goroutine uses an encoder.
type callEncoder interface {
	encode(b []byte, calls []sipflow.CallSummary, index int) ([]byte, error)
}

// partCalls is how many calls of a chunk are encoded as one piece: the
// two goroutines share a chunk's pieces.
const partCalls = 16

// encoded is a piece's bytes and the error that cut them short.
type encoded struct {
	b   []byte
	err error
}

// chunkWork is one chunk being encoded: its pieces are taken in turn,
// by either goroutine, and each encoded into its own buffer.
type chunkWork struct {
	calls []sipflow.CallSummary
	index int          // the report's index of calls[0]
	next  atomic.Int32 // the next piece to take
	parts []encoded
	stop  *atomic.Bool
}

// reset makes w the work of calls, keeping the pieces' buffers.
func (w *chunkWork) reset(calls []sipflow.CallSummary, index int) {
	w.calls, w.index = calls, index
	w.next.Store(0)
	n := (len(calls) + partCalls - 1) / partCalls
	for len(w.parts) < n {
		w.parts = append(w.parts, encoded{})
	}
	w.parts = w.parts[:n]
}

// help encodes pieces of w with enc until none is left or the report
// stops.
func (w *chunkWork) help(enc callEncoder) {
	for !w.stop.Load() {
		k := int(w.next.Add(1)) - 1
		if k >= len(w.parts) {
			return
		}
		lo := k * partCalls
		p := &w.parts[k]
		p.b, p.err = enc.encode(p.b[:0], w.calls[lo:min(lo+partCalls, len(w.calls))], w.index+lo)
	}
}

// write writes w's pieces in order, up to the first error.
func (w *chunkWork) write(out *writer) {
	for i := range w.parts {
		p := &w.parts[i]
		_, _ = out.Write(p.b)
		if p.err != nil && out.err == nil {
			out.err = p.err
		}
		if out.err != nil {
			return
		}
	}
}

// writeChunks writes the report of chunks. When parallel, a goroutine
// it owns starts encoding chunk N when it is yielded; this one writes
// chunk N-1 meanwhile, and at chunk N+1's yield helps finish chunk N
// (chunk N's summaries are reused once that yield returns), waits for
// the goroutine to be done with it, hands it chunk N+1 and writes chunk
// N. Two chunkWorks alternate, one being encoded while the other is
// written. On a write or an encoding error it stops the walk, tells the
// goroutine to stop and waits for it.
func writeChunks(out *writer, chunks iter.Seq[[]sipflow.CallSummary], cf chunkFormat, parallel bool) {
	var stop atomic.Bool
	var works [2]chunkWork
	works[0].stop, works[1].stop = &stop, &stop
	mine := cf.newEncoder()
	var jobs chan *chunkWork
	var done chan struct{}
	if parallel {
		jobs = make(chan *chunkWork)
		done = make(chan struct{}, 1)
		theirs := cf.newEncoder()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for w := range jobs {
				w.help(theirs)
				done <- struct{}{}
			}
		}()
		defer wg.Wait()
		defer close(jobs)
	}
	var cur *chunkWork // handed to the goroutine, not yet written
	// finish helps finish cur and waits for the goroutine to be done with
	// it.
	finish := func() *chunkWork {
		w := cur
		cur = nil
		w.help(mine)
		if parallel {
			<-done
		}
		return w
	}
	defer func() { // on an early stop, and when the walk panics
		if cur != nil {
			stop.Store(true)
			finish()
		}
	}()
	if cf.head != nil {
		_, _ = out.Write(cf.head(nil))
	}
	n, k := 0, 0
	for c := range chunks {
		var prev *chunkWork
		if cur != nil {
			prev = finish()
		}
		w := &works[k]
		k ^= 1
		w.reset(c, n)
		n += len(c)
		cur = w
		if parallel {
			jobs <- w
		}
		if prev != nil {
			prev.write(out) // while the goroutine encodes c
		}
		if out.err != nil {
			break
		}
	}
	if cur != nil && out.err == nil {
		finish().write(out)
	}
	if out.err == nil && cf.tail != nil {
		_, _ = out.Write(cf.tail(nil, n))
	}
}

// jsonChunks is the indented JSON array's elements, appended by
// jsonArray.appendElem.
type jsonChunks struct{ a *jsonArray }

func (j *jsonChunks) encode(b []byte, calls []sipflow.CallSummary, index int) ([]byte, error) {
	for i := range calls {
		j.a.n = index + i // the first opens the array; errors name the element
		var err error
		if b, err = j.a.appendElem(b, &calls[i]); err != nil {
			return b, err
		}
	}
	return b, nil
}

// jsonlChunks is JSON lines: sipflow's AppendJSON, else encoding/json.
type jsonlChunks struct {
	buf bytes.Buffer
	e   *json.Encoder
}

func newJSONLChunks() *jsonlChunks {
	j := &jsonlChunks{}
	j.e = json.NewEncoder(&j.buf)
	j.e.SetEscapeHTML(false)
	return j
}

func (j *jsonlChunks) encode(b []byte, calls []sipflow.CallSummary, _ int) ([]byte, error) {
	for i := range calls {
		var ok bool
		if b, ok = calls[i].AppendJSON(b); ok {
			b = append(b, '\n')
			continue
		}
		j.buf.Reset()
		if err := j.e.Encode(&calls[i]); err != nil {
			return b, fmt.Errorf("report: encoding JSON: %w", err)
		}
		b = append(b, j.buf.Bytes()...)
	}
	return b, nil
}

// csvChunks is the calls CSV: callCSVRow's rows through an
// encoding/csv writer that appends to the piece's buffer.
type csvChunks struct {
	to appendWriter
	cw *csv.Writer
	r  csvRow
}

func newCSVChunks() *csvChunks {
	c := &csvChunks{}
	c.cw = csv.NewWriter(&c.to)
	return c
}

// appendWriter is an io.Writer appending to b.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// flushed flushes the CSV writer and returns what it appended.
func (c *csvChunks) flushed() ([]byte, error) {
	c.cw.Flush()
	b := c.to.b
	c.to.b = nil
	return b, c.cw.Error()
}

// head appends the header row.
func (c *csvChunks) head(b []byte) []byte {
	c.to.b = b
	_ = c.cw.Write(callCSVHeader()) // errors surface through cw.Error
	b, _ = c.flushed()
	return b
}

func (c *csvChunks) encode(b []byte, calls []sipflow.CallSummary, _ int) ([]byte, error) {
	c.to.b = b
	for i := range calls {
		r := callCSVRow(&c.r, &calls[i])
		for j := range r {
			r[j] = sanitize(r[j]) // as csvStream.row
		}
		_ = c.cw.Write(r)
	}
	return c.flushed()
}
