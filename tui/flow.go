package tui

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Ladder geometry, in cells.
const (
	flowTimeW     = 12  // "15:04:05.000"
	flowTimeWus   = 15  // "15:04:05.000000", "+12345.123456"
	flowMinSpace  = 18  // narrowest distance between two endpoint columns
	flowHScroll   = 8   // cells per left/right press
	flowSidePane  = 140 // from this width the raw pane goes to the side
	flowItemLines = 2   // label line + arrow line
)

// flowItem is one row pair of the ladder: a SIP message or an RTP stream,
// merged in time order.
type flowItem struct {
	msg    int // index into Flow.Messages, or -1
	stream int // index into Flow.Streams, or -1
	t      time.Time
}

// flowView draws the ladder of one or more dialogs. Only the items in the
// vertical window are drawn, and each line is built at full ladder width
// and then cut to the horizontal window, so wide IPv6 endpoints scroll
// instead of being shortened.
type flowView struct {
	c       *common
	w, h    int
	ids     []string
	related bool

	flow  Flow
	ok    bool
	items []flowItem
	xs    []int // endpoint column centres on the full-width ladder
	ws    []int // endpoint header widths
	width int   // full ladder width
	// callNum numbers the dialogs of a multi-call ladder in order of first
	// message, so each arrow can say which call it belongs to.
	callNum map[string]int

	cursor, top int
	hscroll     int
	// compressed squeezes the columns to fit the viewport (sngrep's
	// compressed view): addresses are elided in the middle, labels cut.
	compressed bool
	showRaw    bool
	rawScroll  int
	mark       int // item index marked for compare, or -1
	comparing  bool
}

func newFlowView(c *common, ids []string, related bool) *flowView {
	return &flowView{c: c, ids: append([]string(nil), ids...), related: related, mark: -1}
}

func (f *flowView) name() string {
	if f.related {
		return "Extended flow"
	}
	return "Call flow"
}

func (f *flowView) SetSize(w, h int) { f.w, f.h = w, h; f.scrollTo() }
func (f *flowView) capturing() bool  { return false }

func (f *flowView) refresh() {
	f.flow, f.ok = f.c.data.Flow(f.ids, f.related)
	safeFlow(&f.flow)
	f.items = f.items[:0]
	for i := range f.flow.Messages {
		f.items = append(f.items, flowItem{msg: i, stream: -1, t: f.flow.Messages[i].Time})
	}
	for i := range f.flow.Streams {
		f.items = append(f.items, flowItem{msg: -1, stream: i, t: f.flow.Streams[i].Start})
	}
	// Stable, so messages with equal times keep the order Data gave them
	// and a stream starting with its 200 OK is drawn after it.
	sort.SliceStable(f.items, func(a, b int) bool { return f.items[a].t.Before(f.items[b].t) })
	clear(f.callNum)
	if f.callNum == nil {
		f.callNum = map[string]int{}
	}
	for i := range f.flow.Messages {
		id := f.flow.Messages[i].CallID
		if _, ok := f.callNum[id]; !ok {
			f.callNum[id] = len(f.callNum) + 1
		}
	}
	f.cursor = clamp(f.cursor, 0, len(f.items)-1)
	if f.mark >= len(f.items) {
		f.mark, f.comparing = -1, false
	}
	f.scrollTo()
}

// flowMinCompressed is the narrowest column of the compressed ladder.
const flowMinCompressed = 8

// flowMaxGap caps how far apart columns spread on a wide terminal: past
// it the eye loses which arrow belongs to which column.
const flowMaxGap = 48

// layout places the endpoint columns: each gets the width of its address
// (or alias) in full, and neighbours are at least flowMinSpace apart so a
// short label fits between them; spare viewport width spreads them out so
// labels are not cut. xs are the column centres.
func (f *flowView) layout() {
	n := len(f.flow.Endpoints)
	lw, _, _, _ := f.panes()
	vw := lw - f.timeW() - 1
	f.xs, f.ws = f.xs[:0], f.ws[:0]
	if f.compressed && n > 0 {
		// Equal columns that fit the viewport, each header elided to its
		// column; below flowMinCompressed cells a column is useless and
		// the ladder scrolls after all.
		cw := max(vw/n, flowMinCompressed)
		for i, e := range f.flow.Endpoints {
			w := max(ansi.StringWidth(e.Addr), ansi.StringWidth(e.Alias), 3)
			f.xs = append(f.xs, i*cw+cw/2)
			f.ws = append(f.ws, min(w, cw-1))
		}
		f.width = n * cw
		return
	}
	for i, e := range f.flow.Endpoints {
		w := max(ansi.StringWidth(e.Addr), ansi.StringWidth(e.Alias), 3)
		x := w / 2
		if i > 0 {
			px, pw := f.xs[i-1], f.ws[i-1]
			x = px + max(pw-pw/2+w/2+2, flowMinSpace)
		}
		f.xs = append(f.xs, x)
		f.ws = append(f.ws, w)
	}
	f.width = 0
	if n == 0 {
		return
	}
	f.width = f.xs[n-1] + f.ws[n-1] - f.ws[n-1]/2 + 1
	if n > 1 && f.width < vw {
		gaps := make([]int, n-1)
		for i := range gaps {
			gaps[i] = f.xs[i+1] - f.xs[i]
		}
		for spare := vw - f.width; spare > 0; {
			grew := false
			for i := range gaps {
				if spare > 0 && gaps[i] < flowMaxGap {
					gaps[i]++
					spare--
					grew = true
				}
			}
			if !grew {
				break
			}
		}
		for i := range gaps {
			f.xs[i+1] = f.xs[i] + gaps[i]
		}
		f.width = f.xs[n-1] + f.ws[n-1] - f.ws[n-1]/2 + 1
	}
}

func (f *flowView) ladderWidth() int { return f.width }

// panes splits the body: the ladder area and, when shown, the raw pane.
func (f *flowView) panes() (lw, lh, rw, rh int) {
	lw, lh = f.w, f.h
	if !f.showRaw {
		return
	}
	if f.w >= flowSidePane {
		rw = f.w / 2
		lw = f.w - rw - 1
		rh = f.h
		return
	}
	rh = f.h / 2
	lh = f.h - rh - 1
	rw = f.w
	return
}

func (f *flowView) headerLines() int {
	n := 3 // title, addresses, rule
	for _, e := range f.flow.Endpoints {
		if e.Alias != "" {
			n = 3
			break
		}
	}
	if len(f.flow.Problems) > 0 {
		n++ // the problems line above the ladder
	}
	return n
}

// visibleItems is how many items fit in the ladder pane.
func (f *flowView) visibleItems() int {
	_, lh, _, _ := f.panes()
	return max((lh-f.headerLines())/flowItemLines, 1)
}

func (f *flowView) scrollTo() {
	f.layout()
	n := f.visibleItems()
	if f.cursor < f.top {
		f.top = f.cursor
	}
	if f.cursor >= f.top+n {
		f.top = f.cursor - n + 1
	}
	f.top = clamp(f.top, 0, max(len(f.items)-n, 0))
	lw, _, _, _ := f.panes()
	f.hscroll = clamp(f.hscroll, 0, max(f.ladderWidth()-(lw-f.timeW()-1), 0))
}

func (f *flowView) move(d int) {
	f.cursor = clamp(f.cursor+d, 0, len(f.items)-1)
	f.rawScroll = 0
	f.scrollTo()
}

func (f *flowView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return f.key(msg)
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			f.move(-1)
		case tea.MouseWheelDown:
			f.move(1)
		case tea.MouseWheelLeft:
			f.hscroll -= flowHScroll
			f.scrollTo()
		case tea.MouseWheelRight:
			f.hscroll += flowHScroll
			f.scrollTo()
		}
	case tea.MouseClickMsg:
		i := f.top + (msg.Y-f.headerLines())/flowItemLines
		if msg.Y >= f.headerLines() && i < len(f.items) {
			f.cursor = i
			f.scrollTo()
		}
	}
	return nil
}

func (f *flowView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := f.c.keys
	n := f.visibleItems()
	switch {
	case key.Matches(msg, k.Back):
		if f.comparing || f.mark >= 0 {
			f.comparing, f.mark = false, -1
			return nil
		}
		f.c.nav.back()
	case key.Matches(msg, k.Up):
		f.move(-1)
	case key.Matches(msg, k.Down):
		f.move(1)
	case key.Matches(msg, k.PageUp):
		f.move(-n)
	case key.Matches(msg, k.PageDown):
		f.move(n)
	case key.Matches(msg, k.HalfUp):
		f.move(-max(n/2, 1))
	case key.Matches(msg, k.HalfDown):
		f.move(max(n/2, 1))
	case key.Matches(msg, k.Top):
		f.move(-len(f.items))
	case key.Matches(msg, k.Bottom):
		f.move(len(f.items))
	case key.Matches(msg, k.Left):
		f.hscroll -= flowHScroll
		f.scrollTo()
	case key.Matches(msg, k.Right):
		f.hscroll += flowHScroll
		f.scrollTo()
	case key.Matches(msg, k.Raw), key.Matches(msg, k.Flow):
		f.showRaw = !f.showRaw
		f.scrollTo()
	case key.Matches(msg, k.MoveDown):
		f.rawScroll++
	case key.Matches(msg, k.MoveUp):
		f.rawScroll = max(f.rawScroll-1, 0)
	case key.Matches(msg, k.Extended):
		f.related = !f.related
		f.refresh()
	case key.Matches(msg, k.Streams):
		f.c.nav.openStreams(f.callIDs())
	case key.Matches(msg, k.Save):
		f.c.nav.openSave(f.ids, f.related, true)
	case key.Matches(msg, k.Compare):
		f.compareKey()
	case key.Matches(msg, k.Compress):
		f.compressed = !f.compressed
		f.hscroll = 0
		f.scrollTo()
	}
	return nil
}

// callIDs are the dialogs on the ladder: with related legs shown, more
// than were asked for.
func (f *flowView) callIDs() []string {
	if len(f.callNum) == 0 {
		return f.ids
	}
	out := make([]string, len(f.callNum))
	for id, n := range f.callNum {
		out[n-1] = id
	}
	return out
}

// compareKey marks the message under the cursor, or, with a mark set on
// another message, shows the two side by side.
func (f *flowView) compareKey() {
	switch {
	case f.comparing:
		f.comparing, f.mark = false, -1
	case f.mark >= 0 && f.mark != f.cursor:
		f.comparing = true
	case f.mark == f.cursor:
		f.mark = -1
	default:
		if f.cursor < len(f.items) && f.items[f.cursor].msg >= 0 {
			f.mark = f.cursor
			f.c.nav.setStatus("message marked: move to another and press c to compare", nil)
		}
	}
}

func (f *flowView) View() string {
	if !f.ok {
		return padLines([]string{"", f.c.st.Dim.Render(" call not in store (expired or cleared)")}, f.w, f.h)
	}
	if f.comparing {
		return f.compareView()
	}
	lw, lh, rw, rh := f.panes()
	ladder := f.ladderLines(lw, lh)
	if !f.showRaw {
		return padLines(ladder, f.w, f.h)
	}
	raw := f.rawLines(rw, rh)
	if rh == f.h { // side by side
		sep := f.c.st.Dim.Render(f.c.g.vline)
		lines := make([]string, f.h)
		for i := range lines {
			var l, r string
			if i < len(ladder) {
				l = ladder[i]
			}
			if i < len(raw) {
				r = raw[i]
			}
			lines[i] = fit(l, lw, "") + sep + r
		}
		return padLines(lines, f.w, f.h)
	}
	lines := make([]string, 0, f.h)
	for i := range lh {
		if i < len(ladder) {
			lines = append(lines, ladder[i])
		} else {
			lines = append(lines, "")
		}
	}
	lines = append(lines, f.c.st.Dim.Render(strings.Repeat(f.c.g.hline, f.w)))
	return padLines(append(lines, raw...), f.w, f.h)
}

// title names the dialogs on the ladder: the Call-ID, and how many legs
// are drawn with it (the numbers their arrows carry).
func (f *flowView) title() string {
	ids := f.callIDs()
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(" Call-ID " + ids[0])
	if len(ids) > 1 {
		b.WriteString(" (#1) + " + strconv.Itoa(len(ids)-1) + " leg")
		if len(ids) > 2 {
			b.WriteByte('s')
		}
		b.WriteString(":")
		for i, id := range ids[1:] {
			b.WriteString(" #" + strconv.Itoa(i+2) + " " + id)
		}
	}
	return b.String()
}

// ladderLines renders the endpoint header and the visible items into lw×lh.
func (f *flowView) ladderLines(lw, lh int) []string {
	st, g := f.c.st, f.c.g
	cw := f.ladderWidth()
	tw := f.timeW()
	vw := max(lw-tw-1, 1) // ladder viewport width
	hs := f.hscroll
	lines := make([]string, 0, lh)
	left := strings.Repeat(" ", tw+1)

	// Endpoint header: alias (if any) then address, centred on the column.
	hdr := func(text func(e Endpoint) string) string {
		row := []rune(strings.Repeat(" ", cw))
		for i, e := range f.flow.Endpoints {
			put(row, f.xs[i]-f.ws[i]/2, []rune(center(elideAddr(text(e), f.ws[i], g.ellipsis), f.ws[i], g.ellipsis)))
		}
		return left + st.Endpoint.Render(cut(row, hs, vw))
	}
	lines = append(lines, fit(st.Title.Render(f.title()), lw, g.ellipsis))
	if len(f.flow.Problems) > 0 {
		// What diagnose found, first: the reason to open the ladder.
		lines = append(lines, fit(st.StateFailed.Render(" ! "+strings.Join(f.flow.Problems, "; ")), lw, g.ellipsis))
	}
	for _, e := range f.flow.Endpoints {
		if e.Alias != "" {
			lines = append(lines, hdr(func(e Endpoint) string { return e.Alias }))
			break
		}
	}
	lines = append(lines, hdr(func(e Endpoint) string { return e.Addr }))
	// Rows reach the viewport's right edge even when the ladder is
	// narrower, so a long label can run into the free width.
	base := []rune(strings.Repeat(" ", max(cw, hs+vw)))
	for i := range f.flow.Endpoints {
		base[f.xs[i]] = []rune(g.vline)[0]
	}
	// The rule under the header says when there is more ladder to either
	// side, so a cut-off endpoint is never mistaken for the last one.
	rule := []rune(cut(base[:cw], hs, vw))
	if hs > 0 && len(rule) > 0 {
		rule[0] = []rune(g.moreL)[0]
	}
	if hs+vw < cw && len(rule) > 0 {
		rule[len(rule)-1] = []rune(g.moreR)[0]
	}
	lines = append(lines, left+st.Dim.Render(string(rule)))

	var prev time.Time
	if f.top > 0 && f.top-1 < len(f.items) {
		prev = f.items[f.top-1].t
	}
	for i := f.top; i < len(f.items) && len(lines)+flowItemLines <= lh; i++ {
		it := f.items[i]
		l1, l2 := f.itemLines(it, base, prev, i == f.cursor, i == f.mark, hs, vw)
		prev = it.t
		lines = append(lines, l1, l2)
	}
	return lines
}

// itemLines draws one message or stream: the label above the arrow, and
// the time and delta on the left.
func (f *flowView) itemLines(it flowItem, base []rune, prev time.Time, cur, marked bool, hs, vw int) (string, string) {
	st, g := f.c.st, f.c.g
	var from, to int
	var label string
	var style lipgloss.Style
	shaft := g.hline
	if it.msg >= 0 {
		m := &f.flow.Messages[it.msg]
		from, to, label = m.From, m.To, m.Label
		if m.SDP != "" {
			label += " (" + m.SDP + ")"
		}
		if len(f.callNum) > 1 {
			label = "#" + strconv.Itoa(f.callNum[m.CallID]) + " " + label
		}
		if m.Retrans {
			label = "[R] " + label
			style = st.Retrans
		} else {
			style = st.Class[clamp(int(m.Class), 0, int(ClassError))]
		}
	} else {
		s := &f.flow.Streams[it.stream]
		from, to, label = s.From, s.To, s.Label
		style = st.Stream
		shaft = g.stream
	}
	n := len(f.flow.Endpoints)
	from, to = clamp(from, 0, n-1), clamp(to, 0, n-1)
	if n == 0 {
		return "", ""
	}
	x1, x2 := f.xs[from], f.xs[to]

	row1 := append([]rune(nil), base...)
	row2 := append([]rune(nil), base...)
	var a, b int   // styled span [a, b) of the arrow row
	var a1, b1 int // and of the label row
	end := hs + vw // the viewport's right edge on the row
	if from == to {
		// A message to itself (a proxy spiral): a loop glyph beside the column.
		// The label may run up to the next column, or to the edge.
		b = len(base)
		if from+1 < n {
			b = f.xs[from+1]
		}
		a = min(x1+1, b)
		put(row2, a, []rune(g.self))
		put(row1, a, []rune(fit(label, b-a, g.ellipsis)))
		a1, b1 = a, b
	} else {
		a, b = min(x1, x2)+1, max(x1, x2)
		w := b - a
		sh := []rune(strings.Repeat(shaft, w))
		if x2 > x1 {
			sh[w-1] = []rune(g.arrowR)[0]
		} else {
			sh[0] = []rune(g.arrowL)[0]
		}
		put(row2, a, sh)
		a1, b1 = f.placeLabel(row1, label, a, b, hs, end, from, to)
	}
	lab := st.Normal
	if cur {
		lab = st.Cursor
	}
	tw := f.timeW()
	t1, t2 := f.times(it.t, prev)
	if strings.HasPrefix(t1, "+") || strings.HasPrefix(t1, "-") && t1 != "-" {
		t1 = fitRight(t1, tw, "") // deltas line up on their decimal point
	} else {
		t1 = fit(t1, tw, "")
	}
	t2 = fitRight(t2, tw, "")
	if marked {
		t2 = fit("marked", tw, "")
	}
	return lab.Render(t1) + " " + spanCut(row1, a1, b1, hs, vw, style, cur, st),
		lab.Render(t2) + " " + spanCut(row2, a, b, hs, vw, style, false, st)
}

// placeLabel writes an arrow's label into its row and returns the span
// it takes. The label is centred over the part of the arrow on screen; a
// label longer than that runs on into the free width to the right, up to
// the viewport's edge, rather than being cut at the next column. An arrow
// wholly off screen (its columns scrolled away) leaves a mark at the
// edge it lies beyond ("INVITE col 3→5 ▶", "◀ col 2→1 200 OK"), so the
// row is never blank.
func (f *flowView) placeLabel(row []rune, label string, a, b, hs, end, from, to int) (int, int) {
	g := f.c.g
	va, vb := max(a, hs), min(b, end)
	if vb <= va {
		// The columns go next to the edge mark, so a long label is cut,
		// never the columns.
		cols := "col " + strconv.Itoa(from+1) + g.to + strconv.Itoa(to+1)
		if b <= hs {
			s := []rune(ansi.Truncate(g.arrowL+" "+cols+" "+label, end-hs, g.ellipsis))
			put(row, hs, s)
			return hs, hs + len(s)
		}
		tail := " " + cols + " " + g.arrowR
		s := []rune(ansi.Truncate(label, max(end-hs-ansi.StringWidth(tail), 0), g.ellipsis) + tail)
		if len(s) > end-hs {
			s = s[len(s)-(end-hs):]
		}
		put(row, end-len(s), s)
		return end - len(s), end
	}
	lw := len([]rune(label))
	if lw <= vb-va {
		put(row, va, []rune(center(label, vb-va, g.ellipsis)))
		return va, vb
	}
	// Cut, not padded: the columns after the label keep their lines.
	s := []rune(ansi.Truncate(label, end-va, g.ellipsis))
	put(row, va, s)
	return va, va + len(s)
}

func (f *flowView) fmtTime(t time.Time) string { return fmtClock(t, f.c.loc, f.c.timeMode != timeAbs) }

// timeW is the width of the time column: microseconds need more.
func (f *flowView) timeW() int {
	if f.c.timeMode == timeAbs {
		return flowTimeW
	}
	return flowTimeWus
}

// times are the two time cells of an item, after the time mode: the
// first line carries what the mode is about, the second the delta from
// the previous item (or, in that mode, the clock time).
func (f *flowView) times(t, prev time.Time) (string, string) {
	switch f.c.timeMode {
	case timeSincePrev:
		return fmtDelta(t, prev, 6), fmtClock(t, f.c.loc, false)
	case timeSinceFirst:
		var first time.Time
		if len(f.items) > 0 {
			first = f.items[0].t
		}
		if prev.IsZero() {
			return fmtDelta(t, first, 6), ""
		}
		return fmtDelta(t, first, 6), fmtDelta(t, prev, 6)
	case timeAbsMicro:
		return fmtClock(t, f.c.loc, true), fmtDelta(t, prev, 6)
	}
	return fmtClock(t, f.c.loc, false), fmtDelta(t, prev, 3)
}

// put writes src into dst at x, clipped to dst; runes wider than one cell
// would shift the columns, so they are replaced.
func put(dst []rune, x int, src []rune) {
	for i, r := range src {
		if x+i < 0 || x+i >= len(dst) {
			continue
		}
		if r < ' ' || ansi.StringWidth(string(r)) != 1 {
			r = '?'
		}
		dst[x+i] = r
	}
}

// cut returns the cells [hs, hs+vw) of row.
func cut(row []rune, hs, vw int) string {
	if hs >= len(row) {
		return ""
	}
	return string(row[hs:min(hs+vw, len(row))])
}

// spanCut cuts [hs, hs+vw) from row and styles the part inside [a, b).
func spanCut(row []rune, a, b, hs, vw int, style lipgloss.Style, cur bool, st *Styles) string {
	e := min(hs+vw, len(row))
	if hs >= e {
		return ""
	}
	a, b = clamp(a, hs, e), clamp(b, hs, e)
	if cur {
		style = st.Cursor
	}
	s := string(row[hs:a])
	if b > a {
		s += style.Render(string(row[a:b]))
	}
	return s + string(row[b:e])
}

// rawLines renders the selected message with its start line, header names
// and SDP body highlighted.
func (f *flowView) rawLines(w, h int) []string {
	if f.cursor >= len(f.items) {
		return nil
	}
	it := f.items[f.cursor]
	var raw string
	if it.msg >= 0 {
		raw = f.flow.Messages[it.msg].Raw
	} else {
		s := f.flow.Streams[it.stream]
		raw = "RTP " + s.Label + "\n" + f.fmtTime(s.Start) + " - " + f.fmtTime(s.End)
	}
	all := highlightRaw(raw, f.c.st)
	f.rawScroll = clamp(f.rawScroll, 0, max(len(all)-h, 0))
	all = all[f.rawScroll:]
	out := make([]string, 0, h)
	for _, l := range all {
		if len(out) == h {
			break
		}
		out = append(out, ansi.Truncate(l, w, f.c.g.ellipsis))
	}
	return out
}

// highlightRaw splits a SIP message into styled lines: the start line, the
// header names, and the SDP lines after the blank line (RFC 3261 section 7).
func highlightRaw(raw string, st *Styles) []string {
	raw = strings.ReplaceAll(raw, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(raw, "\n"), "\n")
	out := make([]string, 0, len(lines))
	body := false
	for i, l := range lines {
		l = strings.ReplaceAll(l, "\t", "    ")
		switch {
		case i == 0:
			out = append(out, st.RawStart.Render(l))
		case body:
			if len(l) > 1 && l[1] == '=' {
				out = append(out, st.RawSDP.Render(l[:2])+l[2:])
			} else {
				out = append(out, st.RawBody.Render(l))
			}
		case l == "":
			body = true
			out = append(out, "")
		default:
			if c := strings.IndexByte(l, ':'); c > 0 {
				out = append(out, st.RawHeader.Render(l[:c+1])+l[c+1:])
			} else {
				out = append(out, l)
			}
		}
	}
	return out
}

// compareView shows the marked message and the one under the cursor side
// by side, aligned on a line diff, differing lines coloured.
func (f *flowView) compareView() string {
	raw := func(i int) string {
		if i < 0 || i >= len(f.items) || f.items[i].msg < 0 {
			return ""
		}
		return strings.ReplaceAll(f.flow.Messages[f.items[i].msg].Raw, "\r\n", "\n")
	}
	a := strings.Split(strings.TrimRight(raw(f.mark), "\n"), "\n")
	b := strings.Split(strings.TrimRight(raw(f.cursor), "\n"), "\n")
	cw := (f.w - 3) / 2
	st := f.c.st
	title := func(i int) string {
		if i < 0 || i >= len(f.items) || f.items[i].msg < 0 {
			return ""
		}
		m := &f.flow.Messages[f.items[i].msg]
		return f.fmtTime(m.Time) + " " + m.Label
	}
	lines := []string{st.Title.Render(fit("marked: "+title(f.mark), cw, f.c.g.ellipsis)) + " " + f.c.g.vline + " " +
		st.Title.Render(fit("selected: "+title(f.cursor), cw, f.c.g.ellipsis))}
	for _, op := range diffLines(a, b) {
		l, r := fit(op.a, cw, f.c.g.ellipsis), fit(op.b, cw, f.c.g.ellipsis)
		switch op.kind {
		case diffDel:
			l = st.DiffOld.Render(l)
		case diffIns:
			r = st.DiffNew.Render(r)
		case diffChange:
			l, r = st.DiffOld.Render(l), st.DiffNew.Render(r)
		}
		lines = append(lines, l+" "+f.c.g.vline+" "+r)
		if len(lines) >= f.h {
			break
		}
	}
	return padLines(lines, f.w, f.h)
}
