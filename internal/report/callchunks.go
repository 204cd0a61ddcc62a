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
// lines and CSV encode chunk N on a second goroutine while the walk
// builds chunk N+1 and the caller's goroutine writes chunk N-1, so the
// end of `voiptool calls` on a SIP-heavy capture, single-threaded
// before, uses both cores. The table (two passes over the calls) is
// written as WriteCallSeq writes it. Writing stops at the first error,
// and the encoding goroutine has ended when WriteCallChunks returns.
func WriteCallChunks(w io.Writer, f Format, chunks iter.Seq[[]sipflow.CallSummary], o TableOptions) error {
	// One core: a second goroutine would only take turns with this one.
	return writeCallChunks(w, f, chunks, o, runtime.GOMAXPROCS(0) >= 2)
}

// writeCallChunks is WriteCallChunks, encoding on a second goroutine
// when parallel.
func writeCallChunks(w io.Writer, f Format, chunks iter.Seq[[]sipflow.CallSummary], o TableOptions, parallel bool) error {
	var enc chunkEncoder
	switch f {
	case FormatJSON:
		enc = &jsonChunks{a: newJSONArray(nil)}
	case FormatJSONL:
		enc = newJSONLChunks()
	case FormatCSV:
		enc = newCSVChunks()
	default:
		return WriteCallSeq(w, f, flatten(chunks), o)
	}
	out := newWriter(w)
	if parallel {
		writeChunks(out, chunks, enc)
	} else {
		writeChunksSeq(out, chunks, enc)
	}
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

// chunkEncoder turns chunks of summaries into the report's bytes. head
// and tail are called on the writing goroutine, encode on the encoding
// one, never at the same time: the encoder's state (the elements
// counted) passes between them through the channels.
type chunkEncoder interface {
	// head appends what comes before the first call (a CSV header).
	head(b []byte) []byte
	// encode appends the calls of chunk, stopping early (with what it
	// appended so far) when stop is set; an error ends the report after
	// the bytes returned with it.
	encode(b []byte, chunk []sipflow.CallSummary, stop *atomic.Bool) ([]byte, error)
	// tail appends what comes after the last call (the JSON array's
	// close).
	tail(b []byte) []byte
}

// writeChunksSeq encodes and writes each chunk in turn on this
// goroutine.
func writeChunksSeq(out *writer, chunks iter.Seq[[]sipflow.CallSummary], enc chunkEncoder) {
	var stop atomic.Bool
	b := enc.head(nil)
	_, _ = out.Write(b)
	for c := range chunks {
		if out.err != nil {
			break
		}
		var err error
		b, err = enc.encode(b[:0], c, &stop)
		_, _ = out.Write(b)
		if err != nil && out.err == nil {
			out.err = err
		}
	}
	if out.err == nil {
		_, _ = out.Write(enc.tail(b[:0]))
	}
}

// encoded is a chunk's bytes and the error that cut them short.
type encoded struct {
	b   []byte
	err error
}

// chunkJob is a chunk to encode into b's storage.
type chunkJob struct {
	chunk []sipflow.CallSummary
	b     []byte
}

// writeChunks is writeChunksSeq with the encoding on a goroutine it
// owns, one chunk behind the walk: on receiving chunk N+1 it waits for
// chunk N's bytes (chunk N's blocks are reused once this yield returns),
// hands over N+1 and writes N. Two byte buffers alternate, one being
// filled while the other is written. On a write or an encoding error it
// stops the walk, tells the goroutine to stop and waits for it.
func writeChunks(out *writer, chunks iter.Seq[[]sipflow.CallSummary], enc chunkEncoder) {
	jobs := make(chan chunkJob)
	done := make(chan encoded, 1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for j := range jobs {
			b, err := enc.encode(j.b[:0], j.chunk, &stop)
			done <- encoded{b, err}
		}
	}()
	pending := false // a chunk is with the goroutine
	defer func() {   // also when the walk panics: nothing left running
		stop.Store(true)
		if pending {
			<-done
		}
		close(jobs)
		wg.Wait()
	}()
	spare := enc.head(nil) // a buffer not with the goroutine
	_, _ = out.Write(spare)
	for c := range chunks {
		if out.err != nil {
			break
		}
		var r encoded
		had := pending
		if pending {
			r = <-done
			pending = false
			if r.err != nil {
				_, _ = out.Write(r.b)
				if out.err == nil {
					out.err = r.err
				}
				break
			}
		}
		jobs <- chunkJob{c, spare}
		spare, pending = nil, true
		if had {
			_, _ = out.Write(r.b) // while the goroutine encodes c
			spare = r.b
			if out.err != nil {
				break // the walk builds no further chunk
			}
		}
	}
	if pending {
		r := <-done
		pending = false
		if out.err == nil {
			_, _ = out.Write(r.b)
			if r.err != nil {
				out.err = r.err
			}
		}
		spare = r.b
	}
	if out.err == nil {
		_, _ = out.Write(enc.tail(spare[:0]))
	}
}

// jsonChunks is the indented JSON array, elements appended by
// jsonArray.appendElem.
type jsonChunks struct{ a *jsonArray }

func (j *jsonChunks) head(b []byte) []byte { return b }

func (j *jsonChunks) encode(b []byte, chunk []sipflow.CallSummary, stop *atomic.Bool) ([]byte, error) {
	for i := range chunk {
		if stop.Load() {
			break
		}
		var err error
		if b, err = j.a.appendElem(b, &chunk[i]); err != nil {
			return b, err
		}
	}
	return b, nil
}

func (j *jsonChunks) tail(b []byte) []byte {
	if j.a.n == 0 {
		return append(b, "[]\n"...)
	}
	return append(b, "\n]\n"...)
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

func (j *jsonlChunks) head(b []byte) []byte { return b }

func (j *jsonlChunks) encode(b []byte, chunk []sipflow.CallSummary, stop *atomic.Bool) ([]byte, error) {
	for i := range chunk {
		if stop.Load() {
			break
		}
		var ok bool
		if b, ok = chunk[i].AppendJSON(b); ok {
			b = append(b, '\n')
			continue
		}
		j.buf.Reset()
		if err := j.e.Encode(&chunk[i]); err != nil {
			return b, fmt.Errorf("report: encoding JSON: %w", err)
		}
		b = append(b, j.buf.Bytes()...)
	}
	return b, nil
}

func (j *jsonlChunks) tail(b []byte) []byte { return b }

// csvChunks is the calls CSV: callCSVRow's rows through an
// encoding/csv writer that appends to the chunk's buffer.
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

// flushed flushes the CSV writer into b and returns b.
func (c *csvChunks) flushed(b []byte) ([]byte, error) {
	c.cw.Flush()
	b, c.to.b = c.to.b, nil
	return b, c.cw.Error()
}

func (c *csvChunks) head(b []byte) []byte {
	c.to.b = b
	_ = c.cw.Write(callCSVHeader()) // errors surface through cw.Error
	b, _ = c.flushed(b)
	return b
}

func (c *csvChunks) encode(b []byte, chunk []sipflow.CallSummary, stop *atomic.Bool) ([]byte, error) {
	c.to.b = b
	for i := range chunk {
		if stop.Load() {
			break
		}
		r := callCSVRow(&c.r, &chunk[i])
		for j := range r {
			r[j] = sanitize(r[j]) // as csvStream.row
		}
		_ = c.cw.Write(r)
	}
	return c.flushed(b)
}

func (c *csvChunks) tail(b []byte) []byte { return b }
