package report

import (
	"github.com/voiptool/voiptool/internal/safetext"

	"sort"
	"strings"
	"unicode/utf8"
)

// column describes one table column and how it gives way when the table
// is wider than requested.
type column struct {
	name  string
	right bool // right-align (numbers)
	// shrink > 0 marks free text that may be ellipsized down to shrink
	// runes. Addresses keep 0: a cut "2001:db8::1" is ambiguous, so such
	// columns are dropped instead.
	shrink int
	// drop > 0 makes the column removable; higher ranks go first.
	drop int
}

// table is a plain grid of already-formatted cells.
type table struct {
	cols []column
	rows [][]string
}

func (t *table) add(cells ...string) {
	for i, c := range cells {
		cells[i] = sanitize(c)
	}
	t.rows = append(t.rows, cells)
}

// colSep separates columns; two spaces keep adjacent numbers readable.
const colSep = "  "

// ellipsis marks text that was cut to fit.
const ellipsis = "…"

// render fits the table to width (see TableOptions.Width) and writes it.
func (t *table) render(w *writer, width int, header bool) {
	m := t.measure(header)
	for _, r := range t.rows {
		m.row(r)
	}
	l := m.layout(width)
	if header {
		l.header(w)
	}
	for _, r := range t.rows {
		l.emit(w, r)
	}
}

// measure starts measuring the columns' natural widths (the header's
// names when header is set), for a table whose rows are not all held:
// feed it every row (measurer.row), then lay it out.
func (t *table) measure(header bool) *measurer {
	m := &measurer{cols: t.cols, natural: make([]int, len(t.cols))}
	if header {
		m.hdr = true
		for i, c := range t.cols {
			m.natural[i] = utf8.RuneCountInString(c.name)
		}
	}
	return m
}

// measurer accumulates the natural width of each column.
type measurer struct {
	cols    []column
	natural []int
	hdr     bool
}

// row widens the columns to hold cells (already sanitized).
func (m *measurer) row(cells []string) {
	for i, c := range cells {
		m.natural[i] = max(m.natural[i], utf8.RuneCountInString(c))
	}
}

// tableLayout is a measured table fitted to a width: which columns show
// and how wide each is.
type tableLayout struct {
	cols   []column
	active []bool
	cur    []int
	line   strings.Builder
}

// layout fits the measured columns to width: columns are dropped, least
// useful first, until the narrowest rendering fits, then free text is
// narrowed.
func (m *measurer) layout(width int) *tableLayout {
	n := len(m.cols)
	natural := m.natural
	minW := func(i int) int {
		if s := m.cols[i].shrink; s > 0 {
			return min(s, natural[i])
		}
		return natural[i]
	}
	active := make([]bool, n)
	for i := range active {
		active[i] = true
	}
	total := func(wf func(int) int) int {
		sum, k := 0, 0
		for i := range n {
			if active[i] {
				sum += wf(i)
				k++
			}
		}
		if k > 1 {
			sum += len(colSep) * (k - 1)
		}
		return sum
	}
	// Drop columns, highest rank first, until the narrowest rendering fits.
	for total(minW) > width {
		victim, rank := -1, 0
		for i, c := range m.cols {
			if active[i] && c.drop >= rank && c.drop > 0 {
				victim, rank = i, c.drop
			}
		}
		if victim < 0 {
			break // nothing left to drop: render wider than asked
		}
		active[victim] = false
	}
	// Dropping a wide column can free room for a narrower one dropped
	// before it: give columns back, most useful first, while they fit.
	for _, i := range dropped(m.cols, active) {
		active[i] = true
		if total(minW) > width {
			active[i] = false
		}
	}
	// Then narrow the widest shrinkable column one rune at a time. The loop
	// is bounded by the excess, which only decreases.
	cur := append([]int(nil), natural...)
	for excess := total(func(i int) int { return cur[i] }) - width; excess > 0; excess-- {
		best := -1
		for i := range n {
			if active[i] && cur[i] > minW(i) && (best < 0 || cur[i] > cur[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		cur[best]--
	}
	return &tableLayout{cols: m.cols, active: active, cur: cur}
}

// header writes the column names.
func (l *tableLayout) header(w *writer) {
	names := make([]string, len(l.cols))
	for i, c := range l.cols {
		names[i] = c.name
	}
	l.emit(w, names)
}

// emit writes one row of sanitized cells. A cell wider than measured (a
// live store changed between a streamed table's two passes) is cut to
// the column.
func (l *tableLayout) emit(w *writer, cells []string) {
	l.line.Reset()
	first := true
	for i, c := range cells {
		if !l.active[i] {
			continue
		}
		if !first {
			l.line.WriteString(colSep)
		}
		first = false
		c = fit(c, l.cur[i])
		pad := l.cur[i] - utf8.RuneCountInString(c)
		if l.cols[i].right {
			l.line.WriteString(strings.Repeat(" ", pad))
			l.line.WriteString(c)
		} else {
			l.line.WriteString(c)
			l.line.WriteString(strings.Repeat(" ", pad))
		}
	}
	w.str(strings.TrimRight(l.line.String(), " "))
	w.str("\n")
}

// fit ellipsizes s to at most n runes.
func fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i, k := 0, 0
	for j := range s {
		if k == n-1 {
			i = j
			break
		}
		k++
	}
	return s[:i] + ellipsis
}

// sanitize neutralises text from the wire for a table cell: SIP headers
// must not drive the terminal that shows the table (safetext.Line shows
// every control character as an escape).
func sanitize(s string) string { return safetext.Line(s) }

// dropped lists inactive columns, lowest drop rank (most useful) first.
func dropped(cols []column, active []bool) []int {
	var out []int
	for i := range cols {
		if !active[i] {
			out = append(out, i)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return cols[out[a]].drop < cols[out[b]].drop })
	return out
}
