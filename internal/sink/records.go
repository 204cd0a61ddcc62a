package sink

import "github.com/voiptool/voiptool/capture"

// Records writes, for each event, the capture record that completed it
// (dump -w): each record once, however many messages it carried. It
// sees the records by wrapping the sources (capture.Last), so it keeps
// one record per source, never a table of packets: events come in
// record order, and a record can only be written while it is the
// source's latest.
type Records struct {
	out     RecordSink
	last    []*capture.Last
	srcs    []capture.Source
	written []int // per source, the number of the record written last
	counts  Counts
}

// NewRecords wraps srcs; read them through Sources.
func NewRecords(out RecordSink, srcs []capture.Source) *Records {
	r := &Records{out: out, written: make([]int, len(srcs))}
	for _, s := range srcs {
		l := &capture.Last{Source: s}
		r.last = append(r.last, l)
		r.srcs = append(r.srcs, l)
	}
	return r
}

// Sources are the wrapped sources, to hand to capture.Run.
func (r *Records) Sources() []capture.Source { return r.srcs }

// WriteEvent writes the record behind ev unless it was written already
// (several messages in one segment) or is no longer in hand (a message
// completed by the end-of-input flush): both are counted as Skipped.
func (r *Records) WriteEvent(ev *capture.Event) error {
	if ev.Source < 0 || ev.Source >= len(r.last) {
		r.counts.Skipped++
		return nil
	}
	l := r.last[ev.Source]
	if l.Packet.Number != ev.Packet.Number || r.written[ev.Source] == ev.Packet.Number {
		r.counts.Skipped++
		return nil
	}
	if err := r.out.WriteRecord(ev.Source, l.Packet, l.Data); err != nil {
		r.counts.Failed++
		return err
	}
	r.written[ev.Source] = ev.Packet.Number
	r.counts.Written++
	return nil
}

// Counts returns what was written, in records.
func (r *Records) Counts() Counts { return r.counts }

// Close closes the record sink.
func (r *Records) Close() error {
	if r.out == nil {
		return nil
	}
	err := r.out.Close()
	r.out = nil
	return err
}
