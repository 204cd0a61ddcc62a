package sipflow

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// mapSpill is a Spiller that holds the messages in a map and checks
// that the store releases each exactly once, with its length.
type mapSpill struct {
	t    *testing.T
	next uint32
	held map[uint32][]byte
}

func (m *mapSpill) Spill(b []byte) (uint32, bool) {
	m.next++
	m.held[m.next] = bytes.Clone(b)
	return m.next, true
}

func (m *mapSpill) ReadSpill(loc uint32, n int, buf []byte) ([]byte, error) {
	b, ok := m.held[loc]
	if !ok {
		return nil, errors.New("released")
	}
	return append(buf[:0], b...), nil
}

func (m *mapSpill) Release(loc uint32, n int) {
	b, ok := m.held[loc]
	switch {
	case !ok:
		m.t.Errorf("location %d released twice, or never spilled", loc)
	case len(b) != n:
		m.t.Errorf("location %d released with length %d, spilled %d", loc, n, len(b))
	}
	delete(m.held, loc)
}

// TestStoreReleasesSpilled: the store hands every spilled message of a
// call it evicts or clears back to the Spiller, once, with its length
// (a message too long for the narrow record included), and only those:
// the calls it still holds read back whole.
func TestStoreReleasesSpilled(t *testing.T) {
	sp := &mapSpill{t: t, held: map[uint32][]byte{}}
	const keep = 10
	s := NewStore(StoreOptions{Spill: sp, MaxCalls: keep})
	tmpl := benchCall()
	d := dlg{callID: "bench-0000000000", fromTag: "ft"}
	tmpl = append(tmpl, d.req("MESSAGE", 3, "tt", "z9hG4bK4", strings.Repeat("x", 70000))) // wide: n > 65535
	addCalls(s, tmpl, 0, 100, 0)
	st := s.Stats()
	if st.Evicted != 100-keep || st.Calls != keep {
		t.Fatalf("stats %+v: want %d calls evicted, %d held", st, 100-keep, keep)
	}
	if len(sp.held) != keep*len(tmpl) {
		t.Errorf("spill holds %d messages, want the %d of the calls held", len(sp.held), keep*len(tmpl))
	}
	for _, id := range s.IDs() {
		c, _ := s.Call(id)
		for i, m := range c.Messages {
			if m.RawError != "" || !strings.Contains(m.Raw, id) {
				t.Fatalf("call %s message %d: %s", id, i, m.RawError)
			}
		}
	}
	s.Clear()
	if len(sp.held) != 0 {
		t.Errorf("spill holds %d messages after Clear", len(sp.held))
	}
}

// mapCompactor is a mapSpill that can move messages: the locations in
// moving are to be moved when pending; fail makes each Move fail.
type mapCompactor struct {
	mapSpill
	moving   map[uint32]bool
	pending  bool
	fail     bool
	moves    int // Move calls
	walks    int // Compacted calls
	failures int
}

func (m *mapCompactor) Compacting() bool      { return m.pending && len(m.moving) > 0 }
func (m *mapCompactor) Moves(loc uint32) bool { return m.moving[loc] }
func (m *mapCompactor) Compacted()            { m.pending, m.walks = false, m.walks+1; clear(m.moving) }

func (m *mapCompactor) Move(loc uint32, n int) (uint32, bool) {
	m.moves++
	if m.fail {
		m.failures++
		return 0, false
	}
	to, _ := m.Spill(m.held[loc])
	m.Release(loc, n)
	delete(m.moving, loc)
	return to, true
}

// TestStoreCompactsSpill: when the Spiller asks, the store's writer has
// each message in the parts it names moved, once, and the calls read
// back whole from where they went; a move that fails stops the walk and
// leaves the message where it was, still readable.
func TestStoreCompactsSpill(t *testing.T) {
	for _, fail := range []bool{false, true} {
		sp := &mapCompactor{mapSpill: mapSpill{t: t, held: map[uint32][]byte{}}, moving: map[uint32]bool{}, fail: fail}
		s := NewStore(StoreOptions{Spill: sp})
		tmpl := benchCall()
		addCalls(s, tmpl, 0, 10, 0)
		before := map[uint32]bool{}
		for loc := range sp.held {
			before[loc] = true
			if loc%2 == 0 {
				sp.moving[loc] = true
			}
		}
		want := len(sp.moving)
		sp.pending = true
		addCalls(s, tmpl, 10, 1, 0) // a message spilled: the writer walks
		switch {
		case sp.walks != 1:
			t.Errorf("fail %v: %d walks, want 1", fail, sp.walks)
		case !fail && sp.moves != want:
			t.Errorf("%d moves, want %d", sp.moves, want)
		case fail && (sp.moves != 1 || sp.failures != 1):
			t.Errorf("failing: %d moves, want the walk stopped at the first", sp.moves)
		}
		left := 0
		for loc := range before {
			if _, ok := sp.held[loc]; ok {
				left++
			}
		}
		if wantLeft := len(before) - want; fail && left != len(before) || !fail && left != wantLeft {
			t.Errorf("fail %v: %d of the %d first messages where they were", fail, left, len(before))
		}
		for _, id := range s.IDs() {
			c, _ := s.Call(id)
			for i, m := range c.Messages {
				if m.RawError != "" || !strings.Contains(m.Raw, id) {
					t.Fatalf("fail %v: call %s message %d: %s", fail, id, i, m.RawError)
				}
			}
		}
		s.Clear() // mapSpill checks each release
		if len(sp.held) != 0 {
			t.Errorf("fail %v: spill holds %d messages after Clear", fail, len(sp.held))
		}
	}
}
