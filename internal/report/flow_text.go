package report

import (
	"strings"
	"unicode/utf8"
)

// Text ladder geometry, in terminal columns.
const (
	ladderMinCol = 16 // narrowest column: room for "INVITE [R]" and margins
	ladderMaxCol = 48 // widest: an SDP summary with two codecs and an IPv6 address
	ladderMargin = 4  // blank runes around a label between two lifelines
)

// writeFlowText draws an ASCII ladder. Column width follows the longest
// label per spanned column, narrowed toward ladderMinCol to fit o.Width.
// When even that is too wide the ladder is drawn at ladderMinCol and a
// note says so: endpoint columns are never merged or dropped.
func writeFlowText(w *writer, f *Flow, o FlowOptions) {
	ev := f.timeline()
	dl := deltas(ev)
	dW := len("delta")
	for _, d := range dl {
		dW = max(dW, len(d))
	}
	left := len(clockTime) + 1 + dW + 2
	n := len(f.Endpoints)

	want := ladderMinCol
	need := func(text string, from, to int) {
		span := max(abs(to-from), 1)
		want = max(want, (utf8.RuneCountInString(text)+ladderMargin+span-1)/span)
	}
	for _, e := range ev {
		if e.msg != nil {
			need(f.label(e.msg), e.msg.From, e.msg.To)
			need(e.msg.SDP, e.msg.From, e.msg.To)
		} else {
			need(e.stream.Label, e.stream.From, e.stream.To)
		}
	}
	colW := min(want, ladderMaxCol)
	width := TableOptions{Width: o.Width}.width()
	if n > 0 && left+n*colW > width {
		colW = max(ladderMinCol, (width-left)/n)
	}
	total := left + n*colW

	w.str(sanitize(o.title()))
	if t := firstTime(ev); !t.IsZero() {
		w.str(": " + t.UTC().Format("2006-01-02") + " (UTC)")
	}
	w.printf(", %d endpoints, %d messages", n, len(f.Messages))
	if len(f.Streams) > 0 {
		w.printf(", %d streams", len(f.Streams))
	}
	w.str("\n")
	for i, id := range f.CallIDs {
		if len(f.CallIDs) > 1 {
			w.printf("Call-ID [%d] %s\n", i+1, sanitize(id))
		} else {
			w.str("Call-ID " + sanitize(id) + "\n")
		}
	}
	for _, p := range f.Problems {
		line := "problem: " + sanitize(p)
		if r := []rune(line); len(r) > width { // the ladder's width bounds every line
			line = string(r[:max(width-3, 0)]) + "..."
		}
		w.str(line + "\n")
	}
	if total > width {
		w.printf("note: %d endpoints need %d columns, wider than the requested %d\n", n, total, width)
	}
	w.str("\n")

	pos := func(i int) int { return left + i*colW + colW/2 }
	canvas := make([]rune, total)
	reset := func() {
		for i := range canvas {
			canvas[i] = ' '
		}
		for i := range n {
			canvas[pos(i)] = '|'
		}
	}
	put := func(x int, s string) {
		for _, r := range s {
			if x >= 0 && x < len(canvas) {
				canvas[x] = r
			}
			x++
		}
	}
	// put text centered in the open interval (a, b), cut to fit.
	center := func(a, b int, s string) {
		room := b - a - 1 - 2
		s = fit(s, max(room, 1))
		put(a+1+(b-a-1-utf8.RuneCountInString(s))/2, s)
	}
	emit := func() {
		w.str(strings.TrimRight(string(canvas), " "))
		w.str("\n")
	}

	// Titles sit centered on their lifeline; a title that would overlap
	// its left neighbour moves to the next header row, so full IPv6
	// addresses are always printed whole.
	var rows [][]int // per header row, the endpoint indexes placed
	var rowEnd []int
	for i := range f.Endpoints {
		name := sanitize(f.Endpoints[i].Name())
		start := max(pos(i)-utf8.RuneCountInString(name)/2, 0)
		placed := false
		for r := range rows {
			if start > rowEnd[r] {
				rows[r] = append(rows[r], i)
				rowEnd[r] = start + utf8.RuneCountInString(name)
				placed = true
				break
			}
		}
		if !placed {
			rows = append(rows, []int{i})
			rowEnd = append(rowEnd, start+utf8.RuneCountInString(name))
		}
	}
	for _, r := range rows {
		line := make([]rune, 0, total)
		for _, i := range r {
			name := []rune(sanitize(f.Endpoints[i].Name()))
			start := max(pos(i)-len(name)/2, 0)
			for len(line) < start {
				line = append(line, ' ')
			}
			line = append(line, name...)
		}
		w.str(string(line) + "\n")
	}
	reset()
	put(0, "time")
	put(len(clockTime)+1+dW-len("delta"), "delta")
	emit()

	for k, e := range ev {
		from, to, label, fill := 0, 0, "", '-'
		if e.msg != nil {
			from, to, label = e.msg.From, e.msg.To, f.label(e.msg)
		} else {
			from, to, label, fill = e.stream.From, e.stream.To, e.stream.Label, '='
		}
		xa, xb := pos(from), pos(to)
		lo, hi := min(xa, xb), max(xa, xb)
		reset()
		if from == to {
			put(xa+2, sanitize(label)+" (to itself)")
		} else {
			center(lo, hi, sanitize(label))
		}
		emit()

		reset()
		put(0, clock(e.t))
		put(len(clockTime)+1+dW-len(dl[k]), dl[k])
		switch {
		case from == to:
			put(xa+1, "<-'")
		case xa < xb:
			for x := xa + 1; x < xb; x++ {
				canvas[x] = fill
			}
			canvas[xb-1] = '>'
		default:
			for x := xb + 1; x < xa; x++ {
				canvas[x] = fill
			}
			canvas[xb+1] = '<'
		}
		emit()

		if e.msg != nil && e.msg.SDP != "" {
			reset()
			if from == to {
				put(xa+2, sanitize(e.msg.SDP))
			} else {
				center(lo, hi, sanitize(e.msg.SDP))
			}
			emit()
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
