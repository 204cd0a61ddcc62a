package capture

import "testing"

// BenchmarkPipeBatchAdd is the decoding goroutine's share of the
// pipeline's hand-over, per event: copying an event and its bytes into
// a batch (events of loadBench's capture, nearly all RTP, each with its
// record).
func BenchmarkPipeBatchAdd(b *testing.B) {
	frames, pkts := loadBench()
	d := NewDecoder(Options{})
	var evs []Event
	for i := range 8192 {
		f := frames[i]
		_ = d.Decode(f, pkts[i], func(ev *Event) {
			ev.Record = f
			evs = append(evs, *ev)
		})
	}
	if len(evs) == 0 {
		b.Fatal("no events")
	}
	bt := newPipeBatch()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bt.add(&evs[i])
		if bt.full() {
			bt.reset()
		}
		if i++; i == len(evs) {
			i = 0
		}
	}
}
