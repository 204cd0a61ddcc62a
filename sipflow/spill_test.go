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
