package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// fuzzKeys is the alphabet FuzzKeys draws from: every bound key plus
// text, resizes, mouse events and ticks.
var fuzzKeys = []string{
	"j", "k", "g", "G", "h", "l", "enter", "esc", "q", "space", "tab", "shift+tab",
	"f", "f7", "/", "f3", "f2", "f4", "x", "f5", "s", "t", "r", "c", "C", "J", "K",
	"o", "O", "A", "i", "p", "?", "pgup", "pgdown", "ctrl+d", "ctrl+u", "backspace",
	"home", "end", "left", "right", "up", "down", "a", "~", "1", "=", "H", "z", "T",
}

// FuzzKeys drives the whole UI with arbitrary input: no sequence may
// panic, quit without q/ctrl+c, or draw a frame that is not exactly the
// terminal size.
func FuzzKeys(f *testing.F) {
	f.Add([]byte{0, 6, 0, 0, 6, 16, 17, 18})
	f.Add([]byte("\x06\x14\x14\x12\x06\x05\x05\x13\x13\x13"))
	f.Add([]byte{200, 201, 202, 203, 204, 205, 1, 1, 1, 6, 22, 5})
	f.Add([]byte{26, 0, 3, 36, 6, 10, 15, 15, 26, 42, 43, 44, 6})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 200 {
			in = in[:200]
		}
		d := newMemData(60)
		d.flows[d.rows[1].CallID] = fixtureFlow(d.rows[1].CallID, 30)
		d.counters.Live = true
		w, h := 80, 24
		m := newTestModel(d, w, h, Options{})
		for _, b := range in {
			switch {
			case b >= 250: // resize
				w, h = 20+int(b-250)*40, 5+int(b-250)*11
				m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			case b >= 240:
				m.Update(tea.MouseClickMsg{X: int(b-240) * 7, Y: int(b-240) * 2})
			case b >= 230:
				m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
			case b >= 220:
				m.Update(tickMsg{})
			case b >= 200:
				d.rows = fixtureRows(int(b-200) * 7) // the store shrinks and grows
				m.Update(tickMsg{})
			default:
				k := fuzzKeys[int(b)%len(fuzzKeys)]
				if k == "q" && len(m.stack) == 1 && m.overlay == nil && !m.top().capturing() {
					continue // quitting is allowed there; skip to keep exploring
				}
				m.Update(keyMsg(k))
			}
			if m.quitting {
				t.Fatalf("quit without q/ctrl+c after %v", in)
			}
		}
		s := screen(m)
		lines := strings.Split(s, "\n")
		if len(lines) != max(h, 5) {
			t.Fatalf("%d lines at h=%d", len(lines), h)
		}
		for i, l := range lines {
			if n := len([]rune(l)); n > max(w, 20) {
				t.Fatalf("line %d: %d cells at w=%d", i, n, w)
			}
		}
	})
}
