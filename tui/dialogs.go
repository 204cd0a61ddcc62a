package tui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Save dialog fields, in Tab order.
const (
	saveFieldScope = iota
	saveFieldFormat
	saveFieldPath
	saveFields
)

// saveView is the F2 export dialog: what to save, in which format, where.
type saveView struct {
	c       *common
	w, h    int
	ids     []string
	related bool
	flow    bool // opened from a ladder: the scope is the ladder's calls

	focus  int
	scope  SaveScope
	format SaveFormat
	path   textField
	err    error
}

func newSaveView(c *common, ids []string, related, flow bool) *saveView {
	v := &saveView{c: c, ids: ids, related: related, flow: flow}
	if flow {
		v.format = FormatFlowText
		v.focus = saveFieldFormat
	}
	if len(ids) == 0 {
		v.scope = SaveDisplayed
	}
	v.path.limit = 4096
	v.path.SetValue(v.defaultPath(v.format))
	return v
}

func (v *saveView) name() string     { return "Save" }
func (v *saveView) capturing() bool  { return v.focus == saveFieldPath }
func (v *saveView) refresh()         {}
func (v *saveView) SetSize(w, h int) { v.w, v.h = w, h; v.path.SetWidth(min(w-16, 50)) }

func (v *saveView) defaultPath(f SaveFormat) string { return "voiptool" + f.ext() }

func (v *saveView) setFocus(i int) tea.Cmd {
	v.focus = (i + saveFields) % saveFields
	if v.flow && v.focus == saveFieldScope {
		// A ladder export always covers the ladder: skip the scope field.
		if i > v.focus {
			v.focus = saveFieldFormat
		} else {
			v.focus = saveFieldPath
		}
	}
	if v.focus == saveFieldPath {
		v.path.CursorEnd()
		v.path.Focus()
		return nil
	}
	v.path.Blur()
	return nil
}

func (v *saveView) cycle(d int) {
	switch v.focus {
	case saveFieldScope:
		v.scope = SaveScope((int(v.scope) + d + 3) % 3)
	case saveFieldFormat:
		old := v.format
		n := int(numSaveFormats)
		v.format = SaveFormat((int(v.format) + d + n) % n)
		// Follow the format with the extension unless the user typed a name.
		if v.path.Value() == v.defaultPath(old) {
			v.path.SetValue(v.defaultPath(v.format))
		}
	}
}

func (v *saveView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if v.focus == saveFieldPath {
			v.path.Update(msg) // paste
		}
		return nil
	}
	k := v.c.keys
	switch {
	case km.String() == "esc":
		v.c.nav.back()
		return nil
	case key.Matches(km, k.NextField):
		return v.setFocus(v.focus + 1)
	case key.Matches(km, k.PrevField):
		return v.setFocus(v.focus - 1)
	case key.Matches(km, k.Accept):
		return v.submit()
	}
	if v.focus == saveFieldPath {
		v.path.Update(km)
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		v.c.nav.back()
	case key.Matches(km, k.Left), key.Matches(km, k.Up):
		v.cycle(-1)
	case key.Matches(km, k.Right), key.Matches(km, k.Down), key.Matches(km, k.Select):
		v.cycle(1)
	}
	return nil
}

func (v *saveView) request() SaveRequest {
	req := SaveRequest{Scope: v.scope, Format: v.format, Path: strings.TrimSpace(v.path.Value()), Related: v.related}
	if v.flow {
		req.Scope = SaveSelected
	}
	if req.Scope == SaveSelected {
		req.CallIDs = append([]string(nil), v.ids...)
	}
	if req.Scope == SaveDisplayed {
		req.Query = v.c.nav.listQuery()
	}
	return req
}

// submit starts the save: the dialog closes and the save runs as a
// command, off the UI goroutine, with a progress line and Esc to cancel.
func (v *saveView) submit() tea.Cmd {
	req := v.request()
	if req.Path == "" {
		v.err = errEmptyPath
		return nil
	}
	v.err = nil
	return v.c.nav.startSave(req, v)
}

func (v *saveView) View() string {
	st := v.c.st
	label := func(i int, s string) string {
		if v.focus == i {
			return st.DialogFocus.Render(fit(s, 8, ""))
		}
		return fit(s, 8, "")
	}
	choice := func(cur, n int, name func(int) string) string {
		var b strings.Builder
		for i := range n {
			mark := "( ) "
			if i == cur {
				mark = "(*) "
			}
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(mark + name(i))
		}
		return b.String()
	}
	var lines []string
	if v.flow {
		lines = append(lines, label(saveFieldScope, "Calls")+" the "+strconv.Itoa(len(v.ids))+" call(s) of this flow")
	} else {
		sel := "selected (" + strconv.Itoa(len(v.ids)) + ")"
		lines = append(lines, label(saveFieldScope, "Calls")+" "+choice(int(v.scope), 3, func(i int) string {
			if SaveScope(i) == SaveSelected {
				return sel
			}
			return SaveScope(i).String()
		}))
	}
	lines = append(lines, "")
	// The formats do not fit one line at 80 columns: list them vertically.
	for f := range numSaveFormats {
		mark := "( ) "
		if f == v.format {
			mark = "(*) "
		}
		l := "         "
		if f == 0 {
			l = label(saveFieldFormat, "Format") + " "
		}
		lines = append(lines, l+mark+f.String())
	}
	lines = append(lines, "", label(saveFieldPath, "File")+" "+v.path.View(st.Cursor))
	if v.err != nil {
		lines = append(lines, "", st.StatusErr.Render(v.err.Error()))
	}
	lines = append(lines, "", st.Dim.Render("Tab next field  left/right choose  Enter save  Esc cancel"))
	return dialog(st, "Save / export", strings.Join(lines, "\n"), v.w, v.h)
}

// dialog draws a bordered box centred in w×h.
func dialog(st *Styles, title, body string, w, h int) string {
	box := st.Dialog.MaxWidth(w).Render(st.DialogTitle.Render(title) + "\n\n" + body)
	// Place does not crop: a box taller than the body is cut at the bottom
	// so the status line stays on screen.
	return padLines(strings.Split(lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box), "\n"), w, h)
}

// helpView is the key reference overlay, generated from the KeyMap so it
// cannot drift from the bindings.
type helpView struct {
	c      *common
	w, h   int
	scroll int
}

func newHelpView(c *common) *helpView { return &helpView{c: c} }

func (v *helpView) name() string     { return "Help" }
func (v *helpView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *helpView) capturing() bool  { return false }
func (v *helpView) refresh()         {}

func (v *helpView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := v.c.keys
	switch {
	case key.Matches(km, k.Down), key.Matches(km, k.PageDown):
		v.scroll++
	case key.Matches(km, k.Up), key.Matches(km, k.PageUp):
		v.scroll = max(v.scroll-1, 0)
	default:
		// Any other key closes help, as in sngrep.
		v.c.nav.back()
	}
	return nil
}

const (
	helpKeyW  = 12
	helpMinCW = 38 // narrowest readable column: key + description
)

func (v *helpView) View() string {
	st := v.c.st
	var items []string
	titles := fullHelpTitles()
	for gi, grp := range v.c.keys.FullHelp() {
		if gi > 0 {
			items = append(items, "")
		}
		if gi < len(titles) {
			items = append(items, st.Title.Render(titles[gi]))
		}
		for _, b := range grp {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			items = append(items, st.Key.Render(fit(h.Key, helpKeyW, ""))+" "+h.Desc)
		}
	}
	items = append(items, "", st.Title.Render("Filter language"),
		"from~1001 and code>=400", "method=INVITE or state=busy",
		"9055, alice, \"Bob Smith\": free text",
		"", st.Title.Render("Header counters")+" ("+v.c.keys.Legend.Help().Key+": one by one)")
	for _, hc := range headerCounters {
		for i, l := range wrapWords(hc.help, helpMinCW-8) {
			k := ""
			if i == 0 {
				k = hc.key
			}
			items = append(items, fit(k, 6, "")+" "+l)
		}
	}
	items = append(items, "", st.Dim.Render("j/k scroll, any other key closes"))

	h := v.h
	ncol := max(v.w/helpMinCW, 1)
	per := (len(items) + ncol - 1) / ncol
	if per > h {
		per = h // does not fit: show columns of h lines and scroll
	}
	cw := v.w / ncol
	var cols [][]string
	for i := 0; i < len(items); i += per {
		cols = append(cols, items[i:min(i+per, len(items))])
	}
	// Columns beyond ncol are reached by scrolling a column at a time.
	v.scroll = clamp(v.scroll, 0, max(len(cols)-ncol, 0))
	cols = cols[v.scroll:]
	lines := make([]string, per)
	for r := range per {
		var b strings.Builder
		for ci := 0; ci < ncol && ci < len(cols); ci++ {
			var s string
			if r < len(cols[ci]) {
				s = cols[ci][r]
			}
			b.WriteString(fit(s, cw-1, v.c.g.ellipsis) + " ")
		}
		lines[r] = b.String()
	}
	return padLines(lines, v.w, v.h)
}

// columnsView is the column picker: Space shows/hides, J/K reorders, and
// the list follows every change at once.
type columnsView struct {
	c      *common
	w, h   int
	list   *listView
	order  []Column // every column: shown ones first, in list order
	cursor int
}

func newColumnsView(c *common, l *listView) *columnsView {
	v := &columnsView{c: c, list: l}
	seen := map[Column]bool{}
	for _, col := range l.cols {
		if !seen[col] && col >= 0 && col < numColumns {
			seen[col] = true
			v.order = append(v.order, col)
		}
	}
	for _, col := range AllColumns() {
		if !seen[col] {
			v.order = append(v.order, col)
		}
	}
	return v
}

func (v *columnsView) name() string     { return "Columns" }
func (v *columnsView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *columnsView) capturing() bool  { return false }
func (v *columnsView) refresh()         {}

func (v *columnsView) shown(c Column) bool {
	for _, x := range v.list.cols {
		if x == c {
			return true
		}
	}
	return false
}

// apply rebuilds the list's columns from the picker order and checks.
func (v *columnsView) apply(toggle Column, flip bool) {
	var cols []Column
	for _, c := range v.order {
		on := v.shown(c)
		if flip && c == toggle {
			on = !on
		}
		if on {
			cols = append(cols, c)
		}
	}
	v.list.cols = cols
}

func (v *columnsView) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	k := v.c.keys
	n := len(v.order)
	switch {
	case key.Matches(km, k.Back), key.Matches(km, k.Accept), key.Matches(km, k.Columns):
		v.c.nav.back()
		v.list.refresh()
	case key.Matches(km, k.Up):
		v.cursor = clamp(v.cursor-1, 0, n-1)
	case key.Matches(km, k.Down):
		v.cursor = clamp(v.cursor+1, 0, n-1)
	case key.Matches(km, k.Select):
		v.apply(v.order[v.cursor], true)
	case key.Matches(km, k.MoveUp) && v.cursor > 0:
		v.order[v.cursor], v.order[v.cursor-1] = v.order[v.cursor-1], v.order[v.cursor]
		v.cursor--
		v.apply(0, false)
	case key.Matches(km, k.MoveDown) && v.cursor < n-1:
		v.order[v.cursor], v.order[v.cursor+1] = v.order[v.cursor+1], v.order[v.cursor]
		v.cursor++
		v.apply(0, false)
	}
	return nil
}

func (v *columnsView) View() string {
	st := v.c.st
	var lines []string
	// The box has a title, a hint and a border: 6 lines that are not rows.
	n := max(v.h-6, 3)
	first := clamp(v.cursor-n+1, 0, max(len(v.order)-n, 0))
	for i := first; i < len(v.order) && i < first+n; i++ {
		c := v.order[i]
		mark := "[ ] "
		if v.shown(c) {
			mark = "[x] "
		}
		l := fit(mark+c.String(), 20, "")
		if i == v.cursor {
			l = st.DialogFocus.Render(l)
		}
		lines = append(lines, l)
	}
	lines = append(lines, "", st.Dim.Render("Space show/hide  J/K move  Enter done"))
	return dialog(st, "Columns", strings.Join(lines, "\n"), v.w, v.h)
}

// wrapWords breaks s into lines of at most w cells at spaces (a longer
// word is cut by fit when drawn).
func wrapWords(s string, w int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
			line += " " + word
		default:
			out = append(out, line)
			line = word
		}
	}
	return append(out, line)
}
