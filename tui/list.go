package tui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// inputMode is which text field of the list has focus.
type inputMode int

const (
	inputNone inputMode = iota
	inputFilter
	inputSearch
)

// listView is the call list. It keeps only the window of rows on screen
// (page) plus the cursor as an absolute index into the matched list, so a
// million-call store costs the same per frame as a ten-call one.
type listView struct {
	c    *common
	w, h int

	cols       []Column
	sort       Column
	desc       bool
	filter     string
	search     string
	hideNonInv bool
	autoscroll bool

	mode   inputMode
	input  textField
	before string // the field's value when editing began, restored by Esc

	cursor, top int // absolute indexes into the matched list
	matched     int
	page        CallPage

	selected map[string]struct{}
	selOrder []string // selection order: the ladder shows calls as picked

	// want is the widest content seen in each column (and its title), the
	// width layoutColumns tries to give it. It only grows, so the columns
	// do not jump while scrolling; Clear starts it over.
	want colWants

	// prevStart and firstStart are the start times of the call just above the
	// window and of the list's first call, pulled only in the time modes
	// that show the start as a delta (zero: none).
	prevStart, firstStart time.Time
}

func newListView(c *common, o Options) *listView {
	l := &listView{
		c:          c,
		cols:       append([]Column(nil), o.Columns...),
		sort:       ColIndex,
		filter:     o.Filter,
		hideNonInv: o.HideNonInvite,
		autoscroll: o.Autoscroll,
		selected:   map[string]struct{}{},
	}
	if len(l.cols) == 0 {
		l.cols = DefaultColumns()
	}
	return l
}

func (l *listView) name() string { return "Calls" }

func (l *listView) SetSize(w, h int) {
	l.w, l.h = w, h
	l.input.SetWidth(max(w-30, 10))
}

// rows is how many call rows fit: the body minus the bar and column header.
func (l *listView) rows() int { return max(l.h-2, 1) }

func (l *listView) capturing() bool { return l.mode != inputNone }

func (l *listView) query() Query {
	return Query{Filter: l.filter, Search: l.search, Sort: l.sort, Desc: l.desc, HideNonInvite: l.hideNonInv}
}

// refresh pulls the window under the cursor. When the cursor has left the
// window (a jump, a shrinking filter, autoscroll) the window moves and is
// pulled once more; two pulls always suffice because the second is taken
// at the final offset.
func (l *listView) refresh() {
	n := l.rows()
	for range 2 {
		q := l.query()
		q.Offset, q.Limit = l.top, n
		l.page = l.c.data.Calls(q)
		safeRows(l.page.Rows)
		prev := l.matched
		l.matched = l.page.Matched
		if l.autoscroll && l.matched > prev {
			l.cursor = l.matched - 1
		}
		l.cursor = clamp(l.cursor, 0, l.matched-1)
		top := l.top
		if l.cursor < top {
			top = l.cursor
		}
		if l.cursor >= top+n {
			top = l.cursor - n + 1
		}
		top = clamp(top, 0, max(l.matched-n, 0))
		if top == l.top && len(l.page.Rows) <= n {
			break
		}
		l.top = top
	}
	l.pullRefs()
	l.measure()
}

// pullRefs fetches the start times the delta time modes need beyond the
// window: one row each, and only in those modes.
func (l *listView) pullRefs() {
	l.prevStart, l.firstStart = time.Time{}, time.Time{}
	one := func(off int) time.Time {
		q := l.query()
		q.Offset, q.Limit = off, 1
		if p := l.c.data.Calls(q); len(p.Rows) == 1 {
			return p.Rows[0].Start
		}
		return time.Time{}
	}
	switch {
	case l.c.timeMode == timeSincePrev && l.top > 0:
		l.prevStart = one(l.top - 1)
	case l.c.timeMode == timeSinceFirst && l.top > 0:
		l.firstStart = one(0)
	case l.c.timeMode == timeSinceFirst && len(l.page.Rows) > 0:
		l.firstStart = l.page.Rows[0].Start
	}
}

// measure raises the wanted column widths to the content of the page.
func (l *listView) measure() {
	l.want.fullStart = l.c.timeMode != timeAbs
	for _, c := range l.cols {
		if c < 0 || c >= numColumns {
			continue
		}
		// The title without the sort arrow: the arrow takes the title's
		// last cell when there is no room, so sorting never moves columns.
		l.want.want[c] = max(l.want.want[c], ansi.StringWidth(colSpecs[c].title))
		for i := range l.page.Rows {
			l.want.want[c] = max(l.want.want[c], textWidth(l.cell(c, i, colSpecs[ColStart].max)))
		}
	}
}

// cell is the text of page row i in column c for a cell w wide; the
// start time follows the time mode: the clock to the µs, or seconds since
// the row above or the list's first call.
func (l *listView) cell(c Column, i, w int) string {
	r := &l.page.Rows[i]
	if c != ColStart {
		return cell(c, r, l.c.loc, w)
	}
	var ref time.Time
	switch l.c.timeMode {
	case timeAbsMicro:
		if w >= len("15:04:05.000000") {
			return fmtClock(r.Start, l.c.loc, true)
		}
	case timeSincePrev:
		ref = l.prevStart
		if i > 0 {
			ref = l.page.Rows[i-1].Start
		}
	case timeSinceFirst:
		ref = l.firstStart
	}
	if d := fmtDelta(r.Start, ref, 6); d != "" {
		return d
	}
	return cell(c, r, l.c.loc, w)
}

// title is a column's header text; the start column says which time it
// shows.
func (l *listView) title(c Column) string {
	if c == ColStart {
		switch l.c.timeMode {
		case timeSincePrev:
			return "+prev"
		case timeSinceFirst:
			return "+first"
		}
	}
	return colSpecs[c].title
}

// layout is the columns shown at the list's width and their widths.
func (l *listView) layout() ([]Column, []int) { return layoutColumns(l.cols, l.w-1, &l.want) }

// current is the row under the cursor, if the snapshot has it.
func (l *listView) current() (CallRow, bool) {
	i := l.cursor - l.top
	if i < 0 || i >= len(l.page.Rows) {
		return CallRow{}, false
	}
	return l.page.Rows[i], true
}

// targets are the calls an action applies to: the selection when there is
// one (sngrep), else the call under the cursor.
func (l *listView) targets() []string {
	if len(l.selOrder) > 0 {
		return append([]string(nil), l.selOrder...)
	}
	if r, ok := l.current(); ok {
		return []string{r.CallID}
	}
	return nil
}

func (l *listView) toggleSelect(id string) {
	if _, ok := l.selected[id]; ok {
		delete(l.selected, id)
		for i, s := range l.selOrder {
			if s == id {
				l.selOrder = append(l.selOrder[:i], l.selOrder[i+1:]...)
				break
			}
		}
		return
	}
	l.selected[id] = struct{}{}
	l.selOrder = append(l.selOrder, id)
}

func (l *listView) clearSelection() {
	clear(l.selected)
	l.selOrder = l.selOrder[:0]
}

func (l *listView) move(d int) {
	l.cursor = clamp(l.cursor+d, 0, l.matched-1)
	l.refresh()
}

func (l *listView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if l.mode != inputNone {
			return l.editKey(msg)
		}
		return l.key(msg)
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			l.move(-3)
		case tea.MouseWheelDown:
			l.move(3)
		}
	case tea.MouseClickMsg:
		l.click(msg.X, msg.Y)
	case tea.PasteMsg:
		if l.mode != inputNone {
			l.input.Update(msg)
			l.setEdited(l.input.Value())
			l.cursor, l.top = 0, 0
			l.refresh()
		}
	}
	return nil
}

// click sorts on a header click (again reverses) and moves the cursor on a
// row click.
func (l *listView) click(x, y int) {
	switch {
	case y == 1:
		shown, widths := l.layout()
		cx := 1
		for i, c := range shown {
			if x >= cx && x < cx+widths[i]+1 {
				if l.sort == c {
					l.desc = !l.desc
				} else {
					l.sort, l.desc = c, false
				}
				l.refresh()
				return
			}
			cx += widths[i] + 1
		}
	case y >= 2:
		i := l.top + y - 2
		if i < l.matched {
			l.cursor = i
			l.refresh()
		}
	}
}

func (l *listView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := l.c.keys
	n := l.rows()
	switch {
	case key.Matches(msg, k.Up):
		l.move(-1)
	case key.Matches(msg, k.Down):
		l.move(1)
	case key.Matches(msg, k.PageUp):
		l.move(-n)
	case key.Matches(msg, k.PageDown):
		l.move(n)
	case key.Matches(msg, k.HalfUp):
		l.move(-max(n/2, 1))
	case key.Matches(msg, k.HalfDown):
		l.move(max(n/2, 1))
	case key.Matches(msg, k.Top):
		l.autoscroll = false
		l.cursor = 0
		l.refresh()
	case key.Matches(msg, k.Bottom):
		l.cursor = l.matched - 1
		l.refresh()
	case key.Matches(msg, k.Flow):
		l.c.nav.openFlow(l.targets(), false)
	case key.Matches(msg, k.Extended):
		l.c.nav.openFlow(l.targets(), true)
	case key.Matches(msg, k.Streams):
		l.c.nav.openStreams(l.targets())
	case key.Matches(msg, k.Select):
		if r, ok := l.current(); ok {
			l.toggleSelect(r.CallID)
		}
	case key.Matches(msg, k.Filter):
		return l.startEdit(inputFilter)
	case key.Matches(msg, k.Search):
		return l.startEdit(inputSearch)
	case key.Matches(msg, k.SortNext):
		l.sort = l.nextSortColumn()
		l.desc = false
		l.refresh()
	case key.Matches(msg, k.SortReverse):
		l.desc = !l.desc
		l.refresh()
	case key.Matches(msg, k.Autoscroll):
		l.autoscroll = !l.autoscroll
		if l.autoscroll {
			l.cursor = l.matched - 1
		}
		l.refresh()
	case key.Matches(msg, k.HideNonInvite):
		l.hideNonInv = !l.hideNonInv
		l.refresh()
	case key.Matches(msg, k.Clear):
		cl, ok := l.c.data.(Clearer)
		if !ok {
			l.c.nav.setStatus("this source cannot be cleared", nil)
			return nil
		}
		cl.Clear()
		l.clearSelection()
		l.want = colWants{}
		l.cursor, l.top, l.matched = 0, 0, 0
		l.refresh()
		l.c.nav.setStatus("call list cleared", nil)
	case key.Matches(msg, k.Save):
		l.c.nav.openSave(l.targets(), false, false)
	case key.Matches(msg, k.Columns):
		l.c.nav.openOverlay(newColumnsView(l.c, l))
	case key.Matches(msg, k.Back):
		// q at the root quits (handled by the router); Esc drops the
		// selection, the one piece of list state that is easy to lose.
		l.clearSelection()
	}
	return nil
}

// nextSortColumn cycles through the shown columns, the ones the user can
// see change order.
func (l *listView) nextSortColumn() Column {
	shown, _ := l.layout()
	if len(shown) == 0 {
		return ColIndex
	}
	for i, c := range shown {
		if c == l.sort {
			return shown[(i+1)%len(shown)]
		}
	}
	return shown[0]
}

func (l *listView) startEdit(m inputMode) tea.Cmd {
	l.mode = m
	if m == inputFilter {
		l.before = l.filter
	} else {
		l.before = l.search
	}
	l.input.SetValue(l.before)
	l.input.Focus()
	return nil
}

// editKey feeds the filter or search field and applies it as typed.
func (l *listView) editKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "enter":
		l.mode = inputNone
		l.input.Blur()
		return nil
	case "esc":
		l.setEdited(l.before)
		l.mode = inputNone
		l.input.Blur()
		l.refresh()
		return nil
	}
	l.input.Update(msg)
	if v := l.input.Value(); v != l.edited() {
		l.setEdited(v)
		l.cursor, l.top = 0, 0
		l.refresh()
	}
	return nil
}

func (l *listView) edited() string {
	if l.mode == inputFilter {
		return l.filter
	}
	return l.search
}

func (l *listView) setEdited(v string) {
	if l.mode == inputFilter {
		l.filter = v
	} else {
		l.search = v
	}
}

func (l *listView) View() string {
	lines := make([]string, 0, l.h)
	lines = append(lines, l.bar())
	shown, widths := l.layout()
	lines = append(lines, l.headerLine(shown, widths))
	st := l.c.st
	var b strings.Builder
	for i := range l.page.Rows {
		if len(lines) >= l.h {
			break
		}
		r := &l.page.Rows[i]
		b.Reset()
		_, sel := l.selected[r.CallID]
		if sel {
			b.WriteString(l.c.g.sel)
		} else {
			b.WriteByte(' ')
		}
		for j, c := range shown {
			if j > 0 {
				b.WriteByte(' ')
			}
			s := l.cell(c, i, widths[j])
			if c == ColSrc || c == ColDst {
				s = elideAddr(s, widths[j], l.c.g.ellipsis)
			}
			if colSpecs[c].right {
				b.WriteString(fitRight(s, widths[j], l.c.g.ellipsis))
			} else {
				b.WriteString(fit(s, widths[j], l.c.g.ellipsis))
			}
		}
		line := fit(b.String(), l.w, "")
		switch {
		case l.top+i == l.cursor:
			line = st.Cursor.Render(line)
		case sel:
			line = st.Selected.Render(line)
		default:
			line = st.stateStyle(r.State).Render(line)
		}
		lines = append(lines, line)
	}
	if len(l.page.Rows) == 0 && len(lines) < l.h {
		msg := "no calls yet"
		if l.page.Total > 0 {
			msg = "no call matches (" + strconv.Itoa(l.page.Total) + " hidden)"
		}
		lines = append(lines, st.Dim.Render(" "+msg))
	}
	return padLines(lines, l.w, l.h)
}

func (l *listView) headerLine(shown []Column, widths []int) string {
	var b strings.Builder
	b.WriteByte(' ')
	for j, c := range shown {
		if j > 0 {
			b.WriteByte(' ')
		}
		t := l.title(c)
		if c == l.sort {
			if ansi.StringWidth(t) >= widths[j] {
				t = ansi.Truncate(t, widths[j]-1, "")
			}
			t += l.sortGlyph(!l.desc)
		}
		if colSpecs[c].right {
			b.WriteString(fitRight(t, widths[j], ""))
		} else {
			b.WriteString(fit(t, widths[j], ""))
		}
	}
	return l.c.st.ColHeader.Render(fit(b.String(), l.w, ""))
}

func (l *listView) sortGlyph(asc bool) string {
	if asc {
		return l.c.g.sortAsc
	}
	return l.c.g.sortDesc
}

// bar is the first body line: the filter and search fields (editable in
// place, errors inline) and the list's toggles and counts.
func (l *listView) bar() string {
	st := l.c.st
	var parts []string
	switch l.mode {
	case inputFilter:
		parts = append(parts, st.FilterPrompt.Render("Filter:")+" "+l.input.View(st.Cursor))
	case inputSearch:
		parts = append(parts, st.FilterPrompt.Render("Search:")+" "+l.input.View(st.Cursor))
	default:
		if l.filter != "" {
			parts = append(parts, st.FilterPrompt.Render("Filter:")+" "+l.filter)
		}
		if l.search != "" {
			parts = append(parts, st.FilterPrompt.Render("Search:")+" "+l.search)
		}
	}
	if l.page.FilterErr != nil {
		parts = append(parts, st.FilterErr.Render("! "+l.page.FilterErr.Error()))
	}
	var flags []string
	flags = append(flags, strconv.Itoa(l.matched)+"/"+strconv.Itoa(l.page.Total)+" dialogs")
	if n := len(l.selOrder); n > 0 {
		flags = append(flags, strconv.Itoa(n)+" selected")
	}
	if l.hideNonInv {
		flags = append(flags, "INVITE only")
	}
	if l.autoscroll {
		flags = append(flags, "autoscroll")
	}
	right := strings.Join(flags, l.c.g.sep)
	left := strings.Join(parts, "  ")
	if left == "" {
		left = st.Dim.Render("F7/f filter  / search")
	}
	return fit(left, max(l.w-ansi.StringWidth(right)-2, 0), l.c.g.ellipsis) + "  " + st.Status.Render(right)
}
