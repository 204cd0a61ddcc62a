package tui

import (
	"testing"
	"time"
)

// sliceData serves a fixed slice without filtering, so the benchmarks
// measure the UI, not the fixture's linear filter.
type sliceData struct {
	*memData
}

func (d sliceData) Calls(q Query) CallPage {
	lo := min(q.Offset, len(d.rows))
	hi := min(lo+q.Limit, len(d.rows))
	return CallPage{Rows: append([]CallRow(nil), d.rows[lo:hi]...), Total: len(d.rows), Matched: len(d.rows)}
}

func benchFrame(b *testing.B, m *Model, step func()) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if step != nil {
			step()
		} else {
			m.dirty = true // measure drawing the frame, not the cached one
		}
		_ = m.View()
	}
	b.ReportMetric(float64(b.Elapsed())/float64(time.Millisecond)/float64(b.N), "ms/frame")
}

// BenchmarkListView100k renders one frame of a 100 000-call list; only
// the visible window is fetched and drawn, so size does not matter.
func BenchmarkListView100k(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sizeName(sz.w, sz.h), func(b *testing.B) {
			d := sliceData{newMemData(100_000)}
			m := newTestModel(d, sz.w, sz.h, Options{})
			press(nil, m, "G")
			benchFrame(b, m, nil)
		})
	}
}

// BenchmarkListScroll100k is a key press (cursor down, window refetch)
// plus the frame it causes: the cost of holding j.
func BenchmarkListScroll100k(b *testing.B) {
	d := sliceData{newMemData(100_000)}
	m := newTestModel(d, 160, 48, Options{})
	down := keyMsg("j")
	benchFrame(b, m, func() { m.Update(down) })
}

// BenchmarkFlowView500 renders a 500-message ladder with the raw pane.
func BenchmarkFlowView500(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sizeName(sz.w, sz.h), func(b *testing.B) {
			d := newMemData(1)
			id := d.rows[0].CallID
			d.flows[id] = fixtureFlow(id, 500-12)
			m := newTestModel(d, sz.w, sz.h, Options{})
			press(nil, m, "enter", "r")
			for range 250 {
				press(nil, m, "j")
			}
			benchFrame(b, m, nil)
		})
	}
}

// BenchmarkFlowTick500 is the 10 Hz refresh of an open 500-message ladder:
// Flow snapshot, re-merge, re-layout and a frame.
func BenchmarkFlowTick500(b *testing.B) {
	d := newMemData(1)
	id := d.rows[0].CallID
	d.flows[id] = fixtureFlow(id, 500-12)
	m := newTestModel(d, 160, 48, Options{})
	press(nil, m, "enter")
	benchFrame(b, m, func() { m.Update(tickMsg{}) })
}

func sizeName(w, h int) string { return itoa64(int64(w)) + "x" + itoa64(int64(h)) }

// versionedData is a memData that says when it changed (tui.Versioned),
// as the engine adapter does.
type versionedData struct {
	*memData
	v int64
}

func (d *versionedData) Version() int64 { return d.v }

// BenchmarkIdleTick is a tick on a loaded, untouched list: the runtime's
// Update and View with nothing changed. Goal: 0 allocations, no frame.
func BenchmarkIdleTick(b *testing.B) {
	d := &versionedData{memData: newMemData(100)}
	m := newTestModel(d, 160, 48, Options{})
	m.Update(tickMsg{})
	_ = m.View()
	benchFrame(b, m, func() { m.Update(tickMsg{}) })
}
