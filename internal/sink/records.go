package sink

import "github.com/voiptool/voiptool/capture"

// Records writes, for each event, the capture record that completed it
// (dump -w, recording SIP or calls): each record once, however many
// messages it carried. It takes the record from the event
// (capture.Event.Record), so it works alike for files and live
// interfaces and keeps one record number per source, never a table of
// packets: events of a source come in record order.
type Records struct {
	out     RecordSink
	written map[int]int // per source, the number of the record written last (sources are few)
	counts  Counts
}

// NewRecords writes to out.
func NewRecords(out RecordSink) *Records {
	return &Records{out: out, written: make(map[int]int)}
}

// WriteEvent writes the record behind ev unless it was written already
// (several messages in one segment) or is no longer in hand (a message
// completed by the end-of-input flush, RTP the heuristic held back):
// both are counted as Skipped.
func (r *Records) WriteEvent(ev *capture.Event) error {
	if ev.Record == nil {
		r.counts.Skipped++
		return nil
	}
	if n, ok := r.written[ev.Source]; ok && n == ev.Packet.Number {
		r.counts.Skipped++
		return nil
	}
	if err := r.out.WriteRecord(ev.Source, ev.Packet, ev.Record); err != nil {
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
