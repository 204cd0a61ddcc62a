package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
)

func (m *Model) focusName() string {
	if m.overlay != nil {
		return m.overlay.name()
	}
	return m.top().name()
}

func TestListNavigation(t *testing.T) {
	d := newMemData(100)
	m := newTestModel(d, 80, 24, Options{})
	l := m.list
	rows := l.rows() // 24 - header - status - bar - column header
	if rows != 20 {
		t.Fatalf("rows = %d, want 20", rows)
	}
	steps := []struct {
		keys        []string
		cursor, top int
	}{
		{[]string{"j", "j", "down"}, 3, 0},
		{[]string{"k", "up"}, 1, 0},
		{[]string{"G"}, 99, 80},
		{[]string{"g"}, 0, 0},
		{[]string{"ctrl+d"}, 10, 0},
		{[]string{"ctrl+d", "ctrl+d"}, 30, 11},
		{[]string{"ctrl+u"}, 20, 11},
		{[]string{"pgdown"}, 40, 21},
		{[]string{"pgup", "pgup", "pgup"}, 0, 0},
		{[]string{"k"}, 0, 0}, // clamped at the top
		{[]string{"end", "j"}, 99, 80},
		{[]string{"home"}, 0, 0},
	}
	for i, s := range steps {
		press(t, m, s.keys...)
		if l.cursor != s.cursor || l.top != s.top {
			t.Fatalf("step %d %v: cursor=%d top=%d, want %d %d", i, s.keys, l.cursor, l.top, s.cursor, s.top)
		}
		// The list asks only for the window it shows.
		if q := d.lastQuery; q.Offset != l.top || q.Limit != rows {
			t.Fatalf("step %d: query offset=%d limit=%d, want %d %d", i, q.Offset, q.Limit, l.top, rows)
		}
		if r, ok := l.current(); !ok || r.Index != s.cursor+1 {
			t.Fatalf("step %d: current row %+v ok=%v", i, r.Index, ok)
		}
	}
}

func TestFilterAppliedAsTyped(t *testing.T) {
	d := newMemData(50)
	m := newTestModel(d, 80, 24, Options{Filter: "state~c"})
	press(t, m, "G")
	press(t, m, "f7")
	if !m.list.capturing() {
		t.Fatal("filter field not focused")
	}
	press(t, m, "ctrl+u")
	typeText(m, "from~1001")
	if d.lastQuery.Filter != "from~1001" {
		t.Fatalf("query filter = %q", d.lastQuery.Filter)
	}
	// Typed "q" and "j" were text, not quit/down.
	if m.quitting || m.list.cursor != 0 {
		t.Fatalf("keys leaked out of the filter field: quitting=%v cursor=%d", m.quitting, m.list.cursor)
	}
	want := 0
	for i := range d.rows {
		if strings.Contains(d.rows[i].From, "1001") {
			want++
		}
	}
	if m.list.matched != want {
		t.Fatalf("matched = %d, want %d", m.list.matched, want)
	}
	press(t, m, "backspace", "backspace", "backspace", "backspace")
	typeText(m, "zzz")
	if m.list.matched != 0 || !strings.Contains(screen(m), "no call matches (50 hidden)") {
		t.Fatalf("empty result not shown:\n%s", screen(m))
	}
	// Esc restores the filter from before editing.
	press(t, m, "esc")
	if m.list.filter != "state~c" || m.list.capturing() {
		t.Fatalf("esc: filter=%q capturing=%v", m.list.filter, m.list.capturing())
	}
	// An invalid filter is shown inline, and Enter keeps it.
	press(t, m, "f", "ctrl+u")
	typeText(m, "nonsense")
	if !errors.Is(m.list.page.FilterErr, errBadFilter) {
		t.Fatalf("FilterErr = %v", m.list.page.FilterErr)
	}
	if s := screen(m); !strings.Contains(strings.Split(s, "\n")[1], "! filter:") {
		t.Fatalf("filter error not on the bar:\n%s", s)
	}
	press(t, m, "enter")
	if m.list.filter != "nonsense" || m.list.capturing() {
		t.Fatalf("enter: filter=%q", m.list.filter)
	}
}

func TestSearch(t *testing.T) {
	d := newMemData(50)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "/")
	typeText(m, "call-00001")
	if d.lastQuery.Search != "call-00001" {
		t.Fatalf("search = %q", d.lastQuery.Search)
	}
	if m.list.matched != 10 { // call-000010 … call-000019
		t.Fatalf("matched = %d, want 10", m.list.matched)
	}
	press(t, m, "enter", "f3")
	if !m.list.capturing() || m.list.mode != inputSearch {
		t.Fatal("F3 did not open search")
	}
	press(t, m, "esc")
	if m.list.search != "call-00001" {
		t.Fatalf("esc changed the search: %q", m.list.search)
	}
}

func TestSort(t *testing.T) {
	d := newMemData(30)
	m := newTestModel(d, 80, 24, Options{})
	shown, _ := m.list.layout()
	press(t, m, "o")
	if d.lastQuery.Sort != shown[1] || d.lastQuery.Desc {
		t.Fatalf("o: sort=%v desc=%v, want %v", d.lastQuery.Sort, d.lastQuery.Desc, shown[1])
	}
	press(t, m, "O")
	if !d.lastQuery.Desc {
		t.Fatal("O did not reverse")
	}
	for range shown[1:] {
		press(t, m, ">")
	}
	if d.lastQuery.Sort != shown[0] {
		t.Fatalf("sort did not cycle back: %v", d.lastQuery.Sort)
	}
	// Reverse by index: the first row is the last call.
	press(t, m, "<")
	if r, _ := m.list.current(); r.Index != 30 {
		t.Fatalf("desc index: first row %d", r.Index)
	}
	// Clicking a column header sorts by it; clicking again reverses.
	m.Update(tea.MouseClickMsg{X: 30, Y: 2}) // header row: body line 1
	if d.lastQuery.Sort != ColFrom || d.lastQuery.Desc {
		t.Fatalf("click: sort=%v desc=%v", d.lastQuery.Sort, d.lastQuery.Desc)
	}
	m.Update(tea.MouseClickMsg{X: 30, Y: 2})
	if !d.lastQuery.Desc {
		t.Fatal("second click did not reverse")
	}
}

func TestSelectAndFlow(t *testing.T) {
	d := newMemData(10)
	d.flows[d.rows[2].CallID] = fixtureFlow(d.rows[2].CallID, 0)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "space", "j", "j", "space")
	if got := m.list.selOrder; len(got) != 2 || got[0] != d.rows[0].CallID || got[1] != d.rows[2].CallID {
		t.Fatalf("selection = %v", got)
	}
	press(t, m, "x")
	f, ok := m.top().(*flowView)
	if !ok || !f.related || len(f.ids) != 2 {
		t.Fatalf("x opened %T related=%v ids=%v", m.top(), f != nil && f.related, f)
	}
	if !strings.Contains(screen(m), "#2 INVITE") {
		t.Fatalf("multi-call ladder does not number calls:\n%s", screen(m))
	}
	press(t, m, "s")
	if sv, ok := m.top().(*streamsView); !ok || len(sv.ids) != 2 {
		t.Fatalf("s from a 2-call flow opened %T", m.top())
	}
	press(t, m, "q", "f4")
	if f.related {
		t.Fatal("F4 in the flow did not toggle related")
	}
	press(t, m, "q")
	if _, ok := m.top().(*listView); !ok || m.quitting {
		t.Fatal("q in the flow did not go back to the list")
	}
	press(t, m, "esc") // drops the selection
	if len(m.list.selOrder) != 0 {
		t.Fatal("esc did not clear the selection")
	}
	press(t, m, "k", "k", "enter")
	f = m.top().(*flowView)
	if len(f.ids) != 1 || f.ids[0] != d.rows[0].CallID || f.related {
		t.Fatalf("enter opened %v related=%v", f.ids, f.related)
	}
}

func TestHideNonInviteAndAutoscroll(t *testing.T) {
	d := newMemData(25)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "i")
	if !d.lastQuery.HideNonInvite || m.list.matched != 15 {
		t.Fatalf("i: hide=%v matched=%d", d.lastQuery.HideNonInvite, m.list.matched)
	}
	press(t, m, "i", "A")
	if m.list.cursor != 24 {
		t.Fatalf("A: cursor=%d, want the last row", m.list.cursor)
	}
	d.rows = fixtureRows(40)
	m.Update(tickMsg{})
	if m.list.cursor != 39 || m.list.top != 20 {
		t.Fatalf("autoscroll: cursor=%d top=%d", m.list.cursor, m.list.top)
	}
	press(t, m, "A")
	d.rows = fixtureRows(45)
	m.Update(tickMsg{})
	if m.list.cursor != 39 {
		t.Fatalf("autoscroll off still moved: %d", m.list.cursor)
	}
}

func TestPause(t *testing.T) {
	d := newMemData(5)
	d.counters.Live = true
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "p")
	n := d.queries
	_, cmd := m.Update(tickMsg{})
	if d.queries != n {
		t.Fatal("paused display still pulled a snapshot on tick")
	}
	if cmd == nil {
		t.Fatal("tick chain stopped while paused")
	}
	if !strings.Contains(strings.Split(screen(m), "\n")[0], "LIVE PAUSED") {
		t.Fatalf("header: %q", strings.Split(screen(m), "\n")[0])
	}
	press(t, m, "p")
	m.Update(tickMsg{})
	if d.queries == n {
		t.Fatal("resumed display did not pull")
	}
}

type noClear struct{ Data }

func TestClear(t *testing.T) {
	d := newMemData(5)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "space", "f5")
	if !d.cleared || m.list.matched != 0 || len(m.list.selOrder) != 0 {
		t.Fatalf("F5: cleared=%v matched=%d", d.cleared, m.list.matched)
	}
	m2 := newTestModel(noClear{newMemData(5)}, 80, 24, Options{})
	press(t, m2, "f5")
	if !strings.Contains(screen(m2), "cannot be cleared") {
		t.Fatal("F5 on a source without Clear gave no message")
	}
}

func TestQuitAndBack(t *testing.T) {
	m := newTestModel(newMemData(5), 80, 24, Options{})
	press(t, m, "s", "t")
	if m.focusName() != "Statistics" || len(m.stack) != 3 {
		t.Fatalf("focus=%s depth=%d", m.focusName(), len(m.stack))
	}
	press(t, m, "esc", "enter", "s", "enter", "s", "enter", "t")
	if len(m.stack) != 4 { // list, streams, flow, stats: no duplicates
		t.Fatalf("stack grew to %d", len(m.stack))
	}
	press(t, m, "esc", "q", "q")
	if len(m.stack) != 1 || m.quitting {
		t.Fatalf("back: depth=%d", len(m.stack))
	}
	_, cmd := m.Update(keyMsg("q"))
	if !m.quitting || cmd == nil {
		t.Fatal("q on the list did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not return tea.Quit")
	}
	if m.View().Content != "" {
		t.Fatal("quitting model still draws")
	}
	m2 := newTestModel(newMemData(5), 80, 24, Options{})
	press(t, m2, "f", "ctrl+c")
	if !m2.quitting {
		t.Fatal("ctrl+c inside the filter field did not quit")
	}
}

func TestFlowScrollRawCompare(t *testing.T) {
	d := newMemData(3)
	id := d.rows[0].CallID
	d.flows[id] = fixtureFlow(id, 300)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "enter")
	f := m.top().(*flowView)
	v6 := "[2001:db8:85a3::8a2e:370:7334]:5060"
	if strings.Contains(screen(m), v6) {
		t.Fatal("fixture too narrow: the IPv6 endpoint fits at 80 columns")
	}
	for range 20 {
		press(t, m, "l")
	}
	maxH := f.ladderWidth() - (80 - flowTimeW - 1)
	if f.hscroll != maxH || maxH <= 0 {
		t.Fatalf("hscroll = %d, want clamp at %d", f.hscroll, maxH)
	}
	if !strings.Contains(screen(m), v6) {
		t.Fatalf("IPv6 endpoint not shown in full after scrolling:\n%s", screen(m))
	}
	for range 20 {
		press(t, m, "h")
	}
	if f.hscroll != 0 {
		t.Fatalf("h: hscroll = %d", f.hscroll)
	}
	// Only the visible window of a long flow is drawn.
	press(t, m, "G")
	if f.cursor != len(f.items)-1 || f.top != len(f.items)-f.visibleItems() {
		t.Fatalf("G: cursor=%d top=%d items=%d", f.cursor, f.top, len(f.items))
	}
	press(t, m, "g", "r")
	if !f.showRaw || !strings.Contains(screen(m), "Via: SIP/2.0/UDP 192.168.1.10:5060") {
		t.Fatalf("raw pane:\n%s", screen(m))
	}
	press(t, m, "enter")
	if f.showRaw {
		t.Fatal("enter did not close the raw pane")
	}
	press(t, m, "c", "j", "j", "c")
	if !f.comparing || f.mark != 0 || f.cursor != 2 {
		t.Fatalf("compare: comparing=%v mark=%d cursor=%d", f.comparing, f.mark, f.cursor)
	}
	if s := screen(m); !strings.Contains(s, "marked: 20:00:00.000 INVITE") || !strings.Contains(s, "Via: SIP/2.0/UDP 10.0.0.254") {
		t.Fatalf("compare view:\n%s", s)
	}
	press(t, m, "esc")
	if f.comparing || f.mark != -1 || len(m.stack) != 2 {
		t.Fatal("esc did not leave compare mode first")
	}
	// Wheel and click move the cursor.
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if f.cursor != 3 {
		t.Fatalf("wheel: cursor=%d", f.cursor)
	}
	m.Update(tea.MouseClickMsg{X: 30, Y: 1 + f.headerLines() + 2*5})
	if f.cursor != 5 {
		t.Fatalf("click: cursor=%d", f.cursor)
	}
}

func TestFlowGone(t *testing.T) {
	d := newMemData(3)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "enter")
	delete(d.flows, d.rows[0].CallID)
	m.Update(tickMsg{})
	if !strings.Contains(screen(m), "call not in store") {
		t.Fatalf("expired call:\n%s", screen(m))
	}
	press(t, m, "j", "l", "r", "c", "G") // nothing to move on: must not panic
}

func TestSaveDialog(t *testing.T) {
	d := newMemData(10)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "j", "f2")
	if m.focusName() != "Save" {
		t.Fatalf("F2 focus = %s", m.focusName())
	}
	// Scope: selected → displayed; format: pcap → pcap+RTP → text → md → mermaid → CSV.
	press(t, m, "right", "tab", "l", "l", "l", "l", "l", "tab")
	v := m.overlay.(*saveView)
	if v.scope != SaveDisplayed || v.format != FormatCSV || v.path.Value() != "voiptool.csv" {
		t.Fatalf("scope=%v format=%v path=%q", v.scope, v.format, v.path.Value())
	}
	press(t, m, "ctrl+u")
	typeText(m, "q out.csv") // q is text here, not back
	runSave(t, m, "enter")
	if len(d.saved) != 1 {
		t.Fatalf("saved %d requests", len(d.saved))
	}
	got := d.saved[0]
	if got.Path != "q out.csv" || got.Format != FormatCSV || got.Scope != SaveDisplayed || got.Query.Limit != 0 {
		t.Fatalf("request = %+v", got)
	}
	if m.overlay != nil || !strings.Contains(screen(m), "wrote CSV to q out.csv") {
		t.Fatalf("after save:\n%s", screen(m))
	}
	// An error keeps the dialog open and shows it.
	d.saveErr = errors.New("save: permission denied")
	press(t, m, "f2")
	runSave(t, m, "enter")
	if m.overlay == nil || !strings.Contains(screen(m), "permission denied") {
		t.Fatalf("save error:\n%s", screen(m))
	}
	press(t, m, "esc")
	if m.overlay != nil {
		t.Fatal("esc did not close the dialog")
	}
	// From a flow, the export covers the ladder's calls.
	d.saveErr = nil
	press(t, m, "k", "enter", "f2")
	runSave(t, m, "enter")
	got = d.saved[len(d.saved)-1]
	if got.Format != FormatFlowText || len(got.CallIDs) != 1 || got.CallIDs[0] != d.rows[0].CallID {
		t.Fatalf("flow save = %+v", got)
	}
}

// TestSaveRunsOffUpdateAndEscCancels: Enter in the save dialog returns
// a command instead of saving inside Update; while it runs the status
// line shows its progress, Esc cancels its context, and the end of the
// command says the save was cancelled.
func TestSaveRunsOffUpdateAndEscCancels(t *testing.T) {
	d := newMemData(10)
	d.saveGate = make(chan struct{}) // never opened: only ctx ends the save
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "f2")
	_, cmd := m.Update(keyMsg("enter"))
	if cmd == nil || m.saving == nil || m.overlay != nil {
		t.Fatalf("enter: cmd %v saving %v overlay %v", cmd != nil, m.saving != nil, m.overlay)
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	// Update keeps working while the save runs; a second save is refused.
	press(t, m, "j", "f2")
	if _, again := m.Update(keyMsg("enter")); again != nil {
		t.Fatal("a second save started while one runs")
	}
	press(t, m, "esc") // closes nothing: cancels the save
	if !m.saving.cancelled {
		t.Fatal("esc did not cancel the save")
	}
	if !strings.Contains(screen(m), "cancelling save") {
		t.Fatalf("after esc:\n%s", screen(m))
	}
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("the save did not return after its context was cancelled")
	}
	m.Update(msg)
	if m.saving != nil || !strings.Contains(screen(m), "save cancelled") || len(d.saved) != 0 {
		t.Fatalf("after the save returned (saved %d):\n%s", len(d.saved), screen(m))
	}
	// Esc is Back again once no save runs.
	press(t, m, "esc")
	if m.overlay != nil {
		t.Fatal("esc did not close the dialog")
	}
}

func TestHelpAndColumns(t *testing.T) {
	m := newTestModel(newMemData(10), 80, 24, Options{})
	press(t, m, "?")
	if m.focusName() != "Help" {
		t.Fatal("? did not open help")
	}
	s := screen(m)
	for _, want := range []string{"F7/f", "Space", "ctrl+d", "F4/x"} {
		if !strings.Contains(s, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	press(t, m, "x")
	if m.overlay != nil {
		t.Fatal("a key did not close help")
	}
	press(t, m, "C", "space") // hide Idx
	if m.list.cols[0] == ColIndex {
		t.Fatal("space did not hide the first column")
	}
	press(t, m, "j", "j", "J") // move Method below From
	if m.list.cols[0] != ColStart || m.list.cols[1] != ColFrom || m.list.cols[2] != ColMethod {
		t.Fatalf("cols = %v", m.list.cols[:3])
	}
	press(t, m, "enter")
	if m.overlay != nil || !strings.Contains(strings.Split(screen(m), "\n")[2], "Start") {
		t.Fatal("column picker did not close or apply")
	}
}

func TestResizeAndMouse(t *testing.T) {
	d := newMemData(500)
	m := newTestModel(d, 80, 24, Options{})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	if d.lastQuery.Limit != 56 {
		t.Fatalf("limit after resize = %d", d.lastQuery.Limit)
	}
	checkFrame(t, screen(m), 200, 60)
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if m.list.cursor != 6 {
		t.Fatalf("wheel: cursor = %d", m.list.cursor)
	}
	m.Update(tea.MouseClickMsg{X: 10, Y: 1 + 2 + 9}) // header, bar, column header
	if m.list.cursor != 9 {
		t.Fatalf("click: cursor = %d", m.list.cursor)
	}
	m.Update(tea.WindowSizeMsg{Width: 10, Height: 3}) // absurdly small: must not panic
	_ = screen(m)
}

func TestStreamsAndStats(t *testing.T) {
	d := newMemData(3)
	m := newTestModel(d, 80, 24, Options{})
	press(t, m, "s")
	s := screen(m)
	for _, want := range []string{"0xdeadbeef", "DTMF   1234#", "RR fraction", "[2001:db8:85a3::8a2e:370:7334]:6000"} {
		if !strings.Contains(s, want) {
			t.Errorf("streams view lacks %q", want)
		}
	}
	press(t, m, "j")
	if !strings.Contains(screen(m), "Stream 0x1234") {
		t.Fatal("j did not select the second stream")
	}
	press(t, m, "q", "j", "s")
	if !strings.Contains(screen(m), "no RTP streams") {
		t.Fatal("call without streams")
	}
	press(t, m, "q", "f")
	typeText(m, "state~busy")
	press(t, m, "enter", "t")
	if !strings.Contains(screen(m), "filter: state~busy") || !strings.Contains(screen(m), "70.0%") {
		t.Fatalf("stats:\n%s", screen(m))
	}
	press(t, m, "t")
	if m.focusName() != "Calls" {
		t.Fatal("t did not toggle stats off")
	}
}

func TestSparkline(t *testing.T) {
	ramp := newGlyphs(false).spark
	cases := []struct {
		name   string
		v      []float64
		w      int
		lo, hi float64
		low    bool
		want   string
	}{
		{"ramp", []float64{0, 1, 2, 3, 4, 5, 6, 7}, 8, 0, 7, false, "▁▂▃▄▅▆▇█"},
		{"spike kept when bucketed", []float64{0, 0, 0, 7, 0, 0, 0, 0}, 4, 0, 7, false, "▁█▁▁"},
		{"MOS dip kept", []float64{4.5, 4.5, 1, 4.5}, 2, 1, 4.5, true, "█▁"},
		{"NaN blank", []float64{math.NaN(), 7}, 2, 0, 7, false, " █"},
		{"flat zero range", []float64{3, 3}, 2, 3, 3, false, "▁▁"},
		{"fewer points than cells", []float64{7}, 10, 0, 7, false, "█"},
		{"empty", nil, 10, 0, 1, false, ""},
	}
	for _, c := range cases {
		if got := sparkline(c.v, c.w, c.lo, c.hi, c.low, ramp); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := sparkline([]float64{0, 7}, 2, 0, 7, false, newGlyphs(true).spark); got != "_#" {
		t.Errorf("ascii: %q", got)
	}
}

func TestLayoutColumns(t *testing.T) {
	for _, w := range []int{0, 5, 40, 79, 120, 159, 400} {
		shown, widths := layoutColumns(AllColumns(), w, nil)
		total := 0
		for i, c := range shown {
			if widths[i] < colSpecs[c].min || widths[i] > colSpecs[c].max {
				t.Errorf("w=%d %v width %d outside [%d,%d]", w, c, widths[i], colSpecs[c].min, colSpecs[c].max)
			}
			total += widths[i]
		}
		if len(shown) > 0 {
			total += len(shown) - 1
		}
		if total > w {
			t.Errorf("w=%d: columns take %d", w, total)
		}
		if w == 400 && len(shown) != int(numColumns) {
			t.Errorf("w=400 shows %d columns", len(shown))
		}
	}
	for _, c := range AllColumns() {
		if p, ok := ParseColumn(c.String()); !ok || p != c {
			t.Errorf("ParseColumn(%q) = %v %v", c.String(), p, ok)
		}
	}
	if _, ok := ParseColumn("nope"); ok {
		t.Error("ParseColumn accepted nonsense")
	}
}

func TestDiffLines(t *testing.T) {
	a := []string{"INVITE", "Via: a", "CSeq: 1", "x"}
	b := []string{"INVITE", "Via: b", "CSeq: 1", "x", "y"}
	got := diffLines(a, b)
	want := []diffOp{{diffSame, "INVITE", "INVITE"}, {diffChange, "Via: a", "Via: b"}, {diffSame, "CSeq: 1", "CSeq: 1"}, {diffSame, "x", "x"}, {diffIns, "", "y"}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("op %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	big := make([]string, maxDiffLines+1)
	if n := len(diffLines(big, []string{"a"})); n != len(big) {
		t.Errorf("by-index fallback: %d ops", n)
	}
}

func TestTextField(t *testing.T) {
	var f textField
	f.limit = 10
	f.Focus()
	for _, k := range []string{"a", "b", "c"} {
		f.Update(keyMsg(k))
	}
	steps := []struct {
		key  string
		want string
		pos  int
	}{
		{"left", "abc", 2}, {"backspace", "ac", 1}, {"home", "ac", 0}, {"delete", "c", 0},
		{"end", "c", 1}, {"space", "c ", 2}, {"ctrl+w", "", 0},
	}
	for _, s := range steps {
		f.Update(keyMsg(s.key))
		if f.Value() != s.want || f.pos != s.pos {
			t.Fatalf("%s: %q pos %d, want %q %d", s.key, f.Value(), f.pos, s.want, s.pos)
		}
	}
	f.Update(tea.PasteMsg{Content: "0123456789ABC\n"})
	if f.Value() != "0123456789" {
		t.Fatalf("paste/limit: %q", f.Value())
	}
	if f.Update(keyMsg("tab")) {
		t.Fatal("tab consumed by a text field")
	}
}

func TestOddFlows(t *testing.T) {
	// Data from a store under load can be inconsistent between fields; the
	// ladder must draw whatever it gets.
	flows := []Flow{
		{},
		{Endpoints: []Endpoint{{Addr: "a"}}},
		{Endpoints: []Endpoint{{Addr: "a"}}, Messages: []FlowMessage{{From: 5, To: -2, Label: strings.Repeat("é\x00\t世", 40), Class: 99}}},
		{Endpoints: []Endpoint{{Addr: "a"}, {Addr: "b"}}, Streams: []FlowStream{{From: 1, To: 0}}, Messages: []FlowMessage{{From: 0, To: 1, Raw: ""}}},
	}
	for i, fl := range flows {
		d := newMemData(1)
		d.flows[d.rows[0].CallID] = fl
		for _, sz := range sizes {
			m := newTestModel(d, sz.w, sz.h, Options{})
			press(t, m, "enter", "r", "j", "c", "k", "c", "l", "G", "h")
			checkFrame(t, screen(m), sz.w, sz.h)
			_ = i
		}
	}
}

func TestRun(t *testing.T) {
	if err := Run(context.Background(), nil, Options{}); !errors.Is(err, ErrNilData) {
		t.Fatalf("nil data: %v", err)
	}
	// "q" on the input quits the program; Run must return nil and leave
	// no goroutine behind (the program owns its readers).
	err := Run(context.Background(), newMemData(3), Options{Input: strings.NewReader("q"), Output: io.Discard, Tick: time.Hour})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pr, pw := io.Pipe()
	defer pw.Close()
	if err := Run(ctx, newMemData(3), Options{Input: pr, Output: io.Discard}); err != nil {
		t.Fatalf("Run with cancelled ctx: %v", err)
	}
}

// TestNoColorProfile renders through the writer bubbletea uses when
// NO_COLOR is set (the ASCII profile): no colour may survive, but reverse
// video must, or the cursor row would be invisible.
func TestNoColorProfile(t *testing.T) {
	m := newTestModel(newMemData(20), 80, 24, Options{})
	press(t, m, "j")
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ASCII}
	if _, err := w.WriteString(m.View().Content); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	reverse := false
	for _, seq := range sgrRe.FindAllStringSubmatch(out, -1) {
		params := strings.Split(seq[1], ";")
		for i := 0; i < len(params); i++ {
			p, _ := strconv.Atoi(params[i])
			switch {
			case p == 7:
				reverse = true
			case p >= 30 && p <= 49, p >= 90 && p <= 107:
				t.Fatalf("colour SGR %q survived the ASCII profile", seq[0])
			}
		}
	}
	if !reverse {
		t.Fatal("cursor reverse video lost under the ASCII profile")
	}
	if ansi.Strip(out) != screen(m) {
		t.Fatal("ASCII profile changed the text")
	}
}

var sgrRe = regexp.MustCompile("\x1b\\[([0-9;]*)m")

// TestListWidths is issue 14's call list at 160 and 80 columns: the
// final code of a failed call beside its state, whole IPv4 addresses,
// IPv6 elided in the middle with its port kept, a wild jitter in
// seconds rather than cut digits.
func TestListWidths(t *testing.T) {
	d := newMemData(40)
	m := newTestModel(d, 160, 48, Options{})
	s := screen(m)
	for _, want := range []string{"BUSY 486", "CANCELLED 487", "REJECTED 404", "10.186.207.1:6060", "10.186.207.254:6060", "]:5060", "2.7s", "Source", "Destination", "MOS"} {
		if !strings.Contains(s, want) {
			t.Errorf("160 columns lack %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "2730") {
		t.Errorf("raw jitter shown:\n%s", s)
	}
	m = newTestModel(d, 80, 24, Options{})
	s = screen(m)
	for _, want := range []string{"BUSY 486", "Idx", "Start", "From", "To"} {
		if !strings.Contains(s, want) {
			t.Errorf("80 columns lack %q:\n%s", want, s)
		}
	}
}

func TestCellFormats(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"10.0.0.1:5060", 20, "10.0.0.1:5060"},
		{"[2001:db8:85a3::8a2e:370:7334]:5060", 20, "[2001:d…0:7334]:5060"},
		{"10.186.207.254:6060", 16, "10.18…7.254:6060"},
		{"[2001:db8:85a3::8a2e:370:7334]:5060", 10, "…334]:5060"},
		{"[::1]:5060", 6, "[::1]:5060"}, // no room beside the port: fit cuts it
	} {
		got := elideAddr(c.in, c.w, "…")
		if got != c.want {
			t.Errorf("elideAddr(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(c.in) > c.w && got != c.in && ansi.StringWidth(got) != c.w {
			t.Errorf("elideAddr(%q) is %d wide", c.in, ansi.StringWidth(got))
		}
	}
	for _, c := range []struct {
		ms   float64
		want string
	}{{0, "0.0"}, {12.34, "12.3"}, {99.96, "100"}, {512.4, "512"}, {2730.5, "2.7s"}, {123456, "123s"}, {nan(), "-"}} {
		if got := fmtJitter(c.ms); got != c.want || len(got) > 5 {
			t.Errorf("fmtJitter(%v) = %q, want %q", c.ms, got, c.want)
		}
	}
	for _, c := range []struct {
		ms   int64
		want string
	}{{-1, "-"}, {850, "850ms"}, {2730, "2.73s"}, {27300, "27.3s"}, {273000, "273s"}} {
		if got := fmtMS(c.ms); got != c.want {
			t.Errorf("fmtMS(%d) = %q, want %q", c.ms, got, c.want)
		}
	}
	for _, c := range []struct {
		state string
		code  int
		want  string
	}{{"BUSY", 486, "BUSY 486"}, {"REJECTED 404", 404, "REJECTED 404"}, {"COMPLETED", 200, "COMPLETED"}, {"CALL SETUP", 0, "CALL SETUP"}} {
		if got := stateText(&CallRow{State: c.state, FinalCode: c.code}); got != c.want {
			t.Errorf("stateText(%q, %d) = %q, want %q", c.state, c.code, got, c.want)
		}
	}
}

// TestHeaderLegend: H (or a click on a counter) explains one header
// counter on a line of its own; left/right move between counters, Esc
// closes it and gives the line back to the body.
func TestHeaderLegend(t *testing.T) {
	d := newMemData(40)
	m := newTestModel(d, 80, 24, Options{})
	_, h0 := m.bodySize()
	press(t, m, "H")
	s := strings.Split(screen(m), "\n")
	if !strings.HasPrefix(s[1], " dlg 40: dialogs held") {
		t.Fatalf("H: legend line %q", s[1])
	}
	if _, h := m.bodySize(); h != h0-1 {
		t.Fatalf("body %d lines with the legend, want %d", h, h0-1)
	}
	press(t, m, "left") // wraps to the last counter
	if s := strings.Split(screen(m), "\n"); !strings.HasPrefix(s[1], " mem 12.0 MiB: memory") {
		t.Fatalf("left from the first: %q", s[1])
	}
	press(t, m, "esc")
	if m.legend != 0 || len(m.stack) != 1 || m.quitting {
		t.Fatalf("esc: legend %d, stack %d", m.legend, len(m.stack))
	}
	if _, h := m.bodySize(); h != h0 {
		t.Fatalf("body %d lines after the legend, want %d", h, h0)
	}
	// A click on "skip 0" explains it; a second click closes it.
	x := ansi.StringWidth(screen(m)[:strings.Index(screen(m), "skip 0")])
	m.Update(tea.MouseClickMsg{X: x + 2, Y: 0})
	if s := strings.Split(screen(m), "\n"); !strings.HasPrefix(s[1], " skip 0: records that are not VoIP") {
		t.Fatalf("click on skip: %q", s[1])
	}
	m.Update(tea.MouseClickMsg{X: x + 2, Y: 0})
	if m.legend != 0 {
		t.Fatal("second click did not close the legend")
	}
	// Another key closes the legend and still does its job.
	press(t, m, "H", "j")
	if m.legend != 0 || m.list.cursor != 1 {
		t.Fatalf("j with the legend: legend %d cursor %d", m.legend, m.list.cursor)
	}
}

// TestFlowOffscreenAndCompressed: at 60 columns, scrolled to the right
// end of the ladder, the arrows between the columns scrolled away are
// marked at the left edge with their columns; z fits every column on
// screen, eliding the IPv6 header in the middle.
func TestFlowOffscreenAndCompressed(t *testing.T) {
	d := newMemData(5)
	id := d.rows[0].CallID
	v6 := func(n int) Endpoint { return Endpoint{Addr: fmt.Sprintf("[2001:db8:85a3::8a2e:370:%d]:5060", 7330+n)} }
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	d.flows[id] = Flow{
		Endpoints: []Endpoint{v6(0), v6(1), v6(2), v6(3)},
		Messages: []FlowMessage{
			{Time: at(0), From: 0, To: 1, Label: "INVITE", CallID: id},
			{Time: at(1), From: 2, To: 3, Label: "INVITE", SDP: "AMR-WB,AMR-WB,PCMU,telephone-event [fd17:625c:f037:2:a00:27ff:feb9:4222]:4000", CallID: id},
			{Time: at(2), From: 3, To: 2, Label: "200 OK", CallID: id},
			{Time: at(3), From: 1, To: 0, Label: "200 OK", CallID: id},
		},
	}
	m := newTestModel(d, 60, 30, Options{})
	press(t, m, "enter")
	for range 30 {
		press(t, m, "l")
	}
	s := screen(m)
	for _, want := range []string{"◀ col 1→2 INVITE", "◀ col 2→1 200 OK"} {
		if !strings.Contains(s, want) {
			t.Errorf("scrolled ladder lacks the mark %q:\n%s", want, s)
		}
	}
	for range 30 {
		press(t, m, "h")
	}
	if s := screen(m); !strings.Contains(s, "INVITE (AMR-WB") || !strings.Contains(s, "… col 3→4 ▶\n") {
		t.Errorf("ladder scrolled to the left lacks the mark on the right, long label cut before it:\n%s", s)
	}
	press(t, m, "z")
	s = screen(m)
	for _, want := range []string{"…330]:5060", "…333]:5060", "col"} {
		if want == "col" {
			if strings.Contains(s, "col ") {
				t.Errorf("compressed ladder still has off-screen marks:\n%s", s)
			}
			continue
		}
		if !strings.Contains(s, want) {
			t.Errorf("compressed ladder lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "»") {
		t.Errorf("compressed ladder still scrolls:\n%s", s)
	}
}

// TestTimeModes: T cycles the ladder's times through clock (ms), clock
// (µs), since the previous message and since the first, and the list's
// start time follows the precision.
func TestTimeModes(t *testing.T) {
	d := newMemData(5)
	id := d.rows[0].CallID
	f := d.flows[id]
	f.Messages[1].Time = f.Messages[1].Time.Add(123 * time.Microsecond) // 100 Trying at +5.123 ms
	d.flows[id] = f
	m := newTestModel(d, 160, 48, Options{})
	press(t, m, "enter")
	want := [][]string{
		{"20:00:00.005 ", "+0.005 "},                         // clock ms, delta ms
		{"20:00:00.005123", "+0.005123"},                     // clock µs
		{"+0.005123", "20:00:00.005"},                        // since previous, clock beside
		{"+3.200000", "+2.598000", "times: since the first"}, // since first (200 OK), delta beside
	}
	for i, ws := range want {
		if i > 0 {
			press(t, m, "T")
		}
		s := screen(m)
		for _, w := range ws {
			if !strings.Contains(s, w) {
				t.Errorf("mode %d (%v): ladder lacks %q:\n%s", i, m.c.timeMode, w, s)
			}
		}
	}
	press(t, m, "T")
	if m.c.timeMode != timeAbs {
		t.Fatalf("T after the last mode: %v", m.c.timeMode)
	}
	m = newTestModel(d, 200, 48, Options{})
	press(t, m, "T")
	if s := screen(m); !strings.Contains(s, "20:00:00.000000") {
		t.Errorf("list in µs mode lacks µs start times:\n%s", s)
	}
}

// TestIdleTickDoesNothing is issue 17's idle UI: once loaded, a tick on a
// Data whose Version did not move pulls nothing, draws no frame and
// allocates nothing; a moved Version, a key or a resize draws again.
func TestIdleTickDoesNothing(t *testing.T) {
	d := &versionedData{memData: newMemData(40)}
	m := newTestModel(d, 160, 48, Options{})
	m.Update(tickMsg{}) // the first tick records the Version
	first := m.View().Content
	q, r := d.queries, m.renders
	allocs := testing.AllocsPerRun(100, func() {
		_, cmd := m.Update(tickMsg{})
		if cmd == nil {
			t.Fatal("tick chain stopped")
		}
		_ = m.View()
	})
	if allocs != 0 {
		t.Errorf("idle tick allocates %v times", allocs)
	}
	if d.queries != q || m.renders != r {
		t.Errorf("idle ticks pulled %d snapshots and drew %d frames", d.queries-q, m.renders-r)
	}
	if m.View().Content != first {
		t.Error("idle frame changed")
	}

	d.v++
	d.rows[0].State = "IN CALL"
	m.Update(tickMsg{})
	if s := screen(m); m.renders != r+1 || !strings.Contains(strings.Split(s, "\n")[3], "IN CALL") {
		t.Errorf("moved Version: %d frames, row %q", m.renders-r, strings.Split(s, "\n")[3])
	}
	press(t, m, "j")
	_ = m.View()
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	_ = m.View()
	if m.renders != r+3 {
		t.Errorf("key and resize drew %d frames, want 2", m.renders-r-1)
	}
}

// TestListTimeModes: the list's start column in the delta modes, also
// for the first row of a scrolled window (whose reference is off it).
func TestListTimeModes(t *testing.T) {
	d := newMemData(40) // calls 1.5 s apart
	m := newTestModel(d, 200, 10, Options{})
	press(t, m, "G", "T", "T") // since the previous call
	s := screen(m)
	lines := strings.Split(s, "\n")
	if !strings.Contains(lines[2], "+prev") {
		t.Fatalf("header: %q", lines[2])
	}
	if !strings.Contains(lines[3], "+1.500000") || m.list.top == 0 {
		t.Errorf("first row of a scrolled window (top %d): %q", m.list.top, lines[3])
	}
	press(t, m, "T") // since the first call
	lines = strings.Split(screen(m), "\n")
	top := m.list.top
	want := fmt.Sprintf("+%.6f", float64(top)*1.5)
	if !strings.Contains(lines[2], "+first") || !strings.Contains(lines[3], want) {
		t.Errorf("since first, row %d: want %s in %q (header %q)", top+1, want, lines[3], lines[2])
	}
	press(t, m, "T") // back to the clock
	if lines = strings.Split(screen(m), "\n"); !strings.Contains(lines[2], "Start") || strings.Contains(lines[3], "+") {
		t.Errorf("clock mode: %q / %q", lines[2], lines[3])
	}
}

// TestLoadingPullsEveryTick: the progress bar moves, and disappears at
// the end, even when the Version stood still over the last bytes; while
// loading, every loadPullTicks-th tick pulls and draws, no other.
func TestLoadingPullsEveryTick(t *testing.T) {
	d := &versionedData{memData: newMemData(5)}
	d.counters.LoadDone, d.counters.LoadTotal = 80, 100
	m := newTestModel(d, 80, 24, Options{})
	if !strings.Contains(screen(m), "loading 80%") {
		t.Fatalf("no progress line:\n%s", screen(m))
	}
	d.counters.LoadDone = 90 // Version unchanged
	q, r := d.queries, m.renders
	for range loadPullTicks - 1 {
		m.Update(tickMsg{})
		_ = m.View()
	}
	if d.queries != q || m.renders != r {
		t.Errorf("%d ticks while loading pulled %d snapshots and drew %d frames, want none", loadPullTicks-1, d.queries-q, m.renders-r)
	}
	m.Update(tickMsg{})
	if !strings.Contains(screen(m), "loading 90%") {
		t.Fatalf("progress line did not move:\n%s", screen(m))
	}
	d.counters.LoadDone = 100 // Version unchanged
	for range loadPullTicks {
		m.Update(tickMsg{})
	}
	if s := screen(m); strings.Contains(s, "loading") {
		t.Fatalf("progress line stuck after the load ended:\n%s", s)
	}
}

// loaderData is a versionedData whose load ends when loaded is closed
// (tui.Loader), as the engine adapter's does when Run returns.
type loaderData struct {
	*versionedData
	loaded chan struct{}
}

func (d *loaderData) Loaded() <-chan struct{} { return d.loaded }

// TestLoadedEndsProgressAtOnce: the end of a load is seen when it
// happens, not at the next tick: the wait command returns loadedMsg as
// the channel closes, and that message alone drops the progress line.
// Once the UI has quit, the wait returns without the load ending.
func TestLoadedEndsProgressAtOnce(t *testing.T) {
	d := &loaderData{versionedData: &versionedData{memData: newMemData(5)}, loaded: make(chan struct{})}
	d.counters.LoadDone, d.counters.LoadTotal = 99, 100
	m := newTestModel(d, 80, 24, Options{})
	if !strings.Contains(screen(m), "loading 99%") {
		t.Fatalf("no progress line:\n%s", screen(m))
	}
	wait := m.waitLoaded(d.loaded)
	got := make(chan tea.Msg, 1)
	go func() { got <- wait() }()
	select {
	case msg := <-got:
		t.Fatalf("wait returned %T before the load ended", msg)
	case <-time.After(20 * time.Millisecond):
	}
	d.counters.LoadDone = 100
	close(d.loaded)
	msg := <-got
	if _, ok := msg.(loadedMsg); !ok {
		t.Fatalf("wait returned %T, want loadedMsg", msg)
	}
	m.Update(msg)
	if s := screen(m); strings.Contains(s, "loading") {
		t.Fatalf("progress line after loadedMsg:\n%s", s)
	}

	m = newTestModel(d, 80, 24, Options{})
	wait = m.waitLoaded(make(chan struct{})) // a load that never ends
	m.quit()
	if msg := wait(); msg != nil {
		t.Errorf("wait after quit returned %T, want nil", msg)
	}
}
