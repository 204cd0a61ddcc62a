package tui

import (
	"strings"
	"testing"
)

// TestWireTextIsSafe feeds terminal control sequences through every
// field a Data answers (as a hostile SIP header would) and checks that no
// view draws them raw: the frame may hold our own SGR styling only.
func TestWireTextIsSafe(t *testing.T) {
	d := newMemData(3)
	d.rows[0].From = "evil\x1b]0;pwned\x07x"
	d.rows[0].UA = "ua\x1b[2J"
	d.rows[0].State = "BUSY\x1b]0;x\x07"
	d.streams[d.rows[0].CallID][0].Codec = "PC\x1b[2JMU"
	d.streams[d.rows[0].CallID][0].RTCP = []string{"SR \x1b]52;c;AAAA\x07"}
	d.stats.Methods = append(d.stats.Methods, Count{"EVIL\x1b[2J", 1})
	f := d.flows[d.rows[0].CallID]
	f.Messages[0].Raw = "INVITE sip:x SIP/2.0\r\nFrom: \x1b]52;c;AAAA\x07\r\n\r\n"
	f.Messages[0].Label = "INV\x1b[2JITE"
	d.flows[d.rows[0].CallID] = f
	m := newTestModel(d, 160, 48, Options{})
	for _, keys := range [][]string{nil, {"enter"}, {"r"}, {"s"}, {"esc", "esc", "t"}} {
		press(t, m, keys...)
		s := m.View().Content
		if strings.Contains(s, "\x1b]") || strings.Contains(s, "\x1b[2J") || strings.Contains(s, "\x07") {
			t.Errorf("after %v raw control reached the frame:\n%q", keys, s)
		}
		if !strings.Contains(s, `\x1b`) {
			t.Errorf("after %v the escaped sequence is not shown:\n%s", keys, screen(m))
		}
	}
}
