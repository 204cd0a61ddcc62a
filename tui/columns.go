package tui

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Column identifies a call-list column; it is also the sort key passed in
// Query.Sort.
type Column int

// Call-list columns, in their default order.
const (
	ColIndex Column = iota
	ColStart
	ColMethod
	ColFrom
	ColTo
	ColSrc
	ColDst
	ColMsgs
	ColState
	ColSetup
	ColPDD
	ColDuration
	ColCodec
	ColLoss
	ColJitter
	ColMOS
	ColUA
	ColCallID
	ColProblems
	numColumns
)

// AllColumns lists every column in default order (a fresh slice each call).
func AllColumns() []Column {
	c := make([]Column, numColumns)
	for i := range c {
		c[i] = Column(i)
	}
	return c
}

// DefaultColumns is the column set when Options.Columns is empty; the
// list drops columns from the right that do not fit the terminal width.
func DefaultColumns() []Column {
	return []Column{ColIndex, ColStart, ColMethod, ColFrom, ColTo, ColMsgs, ColState,
		ColDuration, ColSetup, ColCodec, ColLoss, ColJitter, ColMOS, ColProblems, ColSrc, ColDst, ColPDD, ColUA, ColCallID}
}

// colSpec is how one column is laid out: it gets at least min cells and
// at most max; rank says what is worth width when not every column fits
// (higher first). A column with an entry width is at most that wide when
// the columns are chosen and grows to what its content wants only with
// the width left over: an IPv4 address always fits in its entry width,
// an IPv6 one gets its width after the other columns (elided in the
// middle otherwise), and the start time gains its milliseconds last.
// Label columns (free text such as From) then take what is still left,
// up to max. right aligns numbers.
type colSpec struct {
	title    string
	min, max int
	rank     int
	entry    int
	label    bool
	right    bool
}

// labelEntry is the entry width of free-text columns (From, To,
// User-Agent…): "sip:alice@example.com" fits, a longer one waits for the
// width left after the columns that carry state, addresses and numbers.
const labelEntry = 22

// addrEntry is the entry width of the address columns: any IPv4
// "255.255.255.255:65535".
const addrEntry = 21

// colSpecs is a read-only table indexed by Column. The ranks put the
// call's identity and outcome first (index, state with its final code,
// method, time, From/To), then the full addresses, then the figures, and
// the low-value columns (PDD, User-Agent, Call-ID) last: on a narrow
// terminal they are the ones dropped.
var colSpecs = [numColumns]colSpec{
	ColIndex:    {title: "Idx", min: 4, max: 7, rank: 100, right: true},
	ColStart:    {title: "Start", min: 8, max: 15, rank: 90, entry: 8}, // 8: "15:04:05", 12 adds milliseconds, 15 microseconds
	ColMethod:   {title: "Method", min: 7, max: 9, rank: 92},           // 9: "SUBSCRIBE"
	ColFrom:     {title: "From", min: 6, max: 32, rank: 85, entry: labelEntry, label: true},
	ColTo:       {title: "To", min: 6, max: 32, rank: 84, entry: labelEntry, label: true},
	ColSrc:      {title: "Source", min: 12, max: 47, rank: 70, entry: addrEntry},      // 47: a full "[ipv6]:port"
	ColDst:      {title: "Destination", min: 12, max: 47, rank: 69, entry: addrEntry}, //
	ColMsgs:     {title: "Msgs", min: 4, max: 5, rank: 60, right: true},
	ColState:    {title: "State", min: 10, max: 14, rank: 95}, // 14: "CANCELLED 487 "
	ColSetup:    {title: "Setup", min: 6, max: 7, rank: 45, right: true},
	ColPDD:      {title: "PDD", min: 6, max: 7, rank: 30, right: true},
	ColDuration: {title: "Dur", min: 5, max: 8, rank: 65, right: true},
	ColCodec:    {title: "Codec", min: 5, max: 8, rank: 56},
	ColLoss:     {title: "Loss%", min: 5, max: 6, rank: 55, right: true},
	ColJitter:   {title: "Jit", min: 5, max: 6, rank: 50, right: true},
	ColMOS:      {title: "MOS", min: 4, max: 4, rank: 58, right: true},
	ColUA:       {title: "User-Agent", min: 10, max: 30, rank: 25, entry: labelEntry, label: true},
	ColCallID:   {title: "Call-ID", min: 12, max: 40, rank: 20, entry: labelEntry, label: true},
	ColProblems: {title: "Problems", min: 8, max: 30, rank: 62, entry: 8, label: true},
}

// String is the column title, also accepted by ParseColumn.
func (c Column) String() string {
	if c < 0 || c >= numColumns {
		return "Column(" + strconv.Itoa(int(c)) + ")"
	}
	return colSpecs[c].title
}

// ParseColumn maps a title (case-insensitive, as in String, or a short
// alias such as "src", "dst", "ua", "callid", "duration") to a Column, so
// the command line can pass --columns.
func ParseColumn(s string) (Column, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "index", "#":
		return ColIndex, true
	case "src":
		return ColSrc, true
	case "dst":
		return ColDst, true
	case "ua":
		return ColUA, true
	case "callid", "call_id":
		return ColCallID, true
	case "duration":
		return ColDuration, true
	case "jitter":
		return ColJitter, true
	case "loss":
		return ColLoss, true
	case "messages":
		return ColMsgs, true
	case "problem":
		return ColProblems, true
	}
	for c := range numColumns {
		if strings.ToLower(colSpecs[c].title) == s {
			return c, true
		}
	}
	return 0, false
}

// cell formats one column of a row for a cell w wide; "-" marks "not
// available" so an empty cell never looks like a zero.
func cell(c Column, r *CallRow, loc *time.Location, w int) string {
	switch c {
	case ColIndex:
		return strconv.Itoa(r.Index)
	case ColStart:
		if r.Start.IsZero() {
			return "-"
		}
		if w < len("15:04:05.000") {
			return r.Start.In(loc).Format("15:04:05")
		}
		return r.Start.In(loc).Format("15:04:05.000")
	case ColMethod:
		return r.Method
	case ColFrom:
		return r.From
	case ColTo:
		return r.To
	case ColSrc:
		return r.Src
	case ColDst:
		return r.Dst
	case ColMsgs:
		return strconv.Itoa(r.Messages)
	case ColState:
		return stateText(r)
	case ColSetup:
		return fmtMS(r.SetupMS)
	case ColPDD:
		return fmtMS(r.PDDMS)
	case ColDuration:
		return fmtDurMS(r.DurationMS)
	case ColCodec:
		return r.Codec
	case ColLoss:
		return fmtFloat(r.LossPct, 1)
	case ColJitter:
		return fmtJitter(r.JitterMS)
	case ColMOS:
		return fmtFloat(r.MOS, 1)
	case ColUA:
		return r.UA
	case ColCallID:
		return r.CallID
	case ColProblems:
		if r.Problems == "" {
			return "-"
		}
		return r.Problems
	}
	return ""
}

// stateText is the state with the final code of a failed dialog
// ("BUSY 486", "REJECTED 403"), unless the state already carries it: a
// state alone cannot tell 486 from 487 or 403 from 404.
func stateText(r *CallRow) string {
	if r.FinalCode < 300 || r.FinalCode > 699 || strings.ContainsAny(r.State, "0123456789") {
		return r.State
	}
	return r.State + " " + strconv.Itoa(r.FinalCode)
}

// fmtMS renders a setup or PDD time compactly in at most 6 cells:
// "850ms", "2.73s", "27.3s", "273s".
func fmtMS(ms int64) string {
	switch {
	case ms < 0:
		return "-"
	case ms < 1000:
		return strconv.FormatInt(ms, 10) + "ms"
	case ms < 10_000:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 2, 64) + "s"
	case ms < 100_000:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + "s"
	default:
		return strconv.FormatInt(ms/1000, 10) + "s"
	}
}

// fmtJitter renders a jitter in milliseconds in at most 5 cells: one
// decimal under 100 ms, whole milliseconds under a second, then seconds
// ("2.7s" for 2 730.5 ms), so a wild value is never cut to "2730…".
func fmtJitter(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "-"
	case ms < 99.95:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	case ms < 999.5:
		return strconv.FormatFloat(ms, 'f', 0, 64)
	case ms < 99_950:
		return strconv.FormatFloat(ms/1000, 'f', 1, 64) + "s"
	default:
		return strconv.FormatFloat(ms/1000, 'f', 0, 64) + "s"
	}
}

// elideAddr fits an "ip:port" or "[ipv6]:port" into w cells by cutting
// the middle of the address, never the port: "[2001:db8…370:7334]:5060".
// Narrower, it keeps the end ("…7334]:5060"); anything else, or a width
// too small for the port, is cut at the end.
func elideAddr(s string, w int, ell string) string {
	if len(s) <= w {
		return s
	}
	p := strings.LastIndexByte(s, ':')
	if p < 0 || strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }) >= 0 {
		return s
	}
	if strings.HasPrefix(s, "[") {
		p = strings.LastIndex(s, "]:")
		if p < 0 {
			return s
		}
	}
	host, port := s[:p], s[p:]
	ew := ansi.StringWidth(ell)
	avail := w - ew - len(port)
	if avail < 4 {
		// Too narrow to show both ends: the end of the address and the
		// port tell endpoints apart better than its start.
		if w > ew+len(port) {
			return ell + s[len(s)-(w-ew):]
		}
		return s
	}
	l := (avail + 1) / 2
	return host[:l] + ell + host[len(host)-(avail-l):] + port
}

// fmtDurMS renders a call duration as h:mm:ss (m:ss under an hour).
func fmtDurMS(ms int64) string {
	if ms < 0 {
		return "-"
	}
	s := ms / 1000
	h, m := s/3600, s/60%60
	s %= 60
	var b []byte
	if h > 0 {
		b = strconv.AppendInt(b, h, 10)
		b = append(b, ':')
		b = append2(b, m)
	} else {
		b = strconv.AppendInt(b, m, 10)
	}
	b = append(b, ':')
	b = append2(b, s)
	return string(b)
}

func append2(b []byte, v int64) []byte {
	if v < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, v, 10)
}

func fmtFloat(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// colWants is what the content of each column asks for, measured by the
// list: want is the widest cell seen, and fullStart says the start time
// is wanted whole (the user chose µs or a delta: the clock's seconds
// alone would hide what was asked for), so it enters at its width.
type colWants struct {
	want      [numColumns]int
	fullStart bool
}

// layoutColumns picks the columns that fit width and their widths.
// cw holds the width each column's content asks for (nil: the minimum).
// Columns are taken by rank, each at its wanted width (at most its entry
// width), skipping any that no longer fits, so the state with
// its code and whole addresses win over PDD or the User-Agent. The width
// left is then dealt out one cell at a time: first to columns still below
// what their content wants, then to the label columns up to their
// maximum. Shown columns keep the order of cols.
func layoutColumns(cols []Column, width int, cw *colWants) (shown []Column, widths []int) {
	wantOf := func(c Column) int {
		sp := colSpecs[c]
		if cw == nil {
			return sp.min
		}
		return clamp(cw.want[c], sp.min, sp.max)
	}
	var seen [numColumns]bool
	idx := make([]int, 0, len(cols))
	for i, c := range cols {
		if c < 0 || c >= numColumns || seen[c] {
			continue
		}
		seen[c] = true
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return colSpecs[cols[idx[a]]].rank > colSpecs[cols[idx[b]]].rank })
	w := make([]int, len(cols))
	used, n := 0, 0
	for _, i := range idx {
		c := cols[i]
		ww := wantOf(c)
		if e := colSpecs[c].entry; e > 0 && !(c == ColStart && cw != nil && cw.fullStart) {
			ww = max(min(ww, e), colSpecs[c].min)
		}
		need := ww
		if n > 0 {
			need++
		}
		if used+need > width {
			continue
		}
		used += need
		n++
		w[i] = ww
	}
	for i, c := range cols {
		if w[i] > 0 {
			shown = append(shown, c)
			widths = append(widths, w[i])
		}
	}
	spare := width - used
	grow := func(limit func(Column) int) {
		for grew := true; spare > 0 && grew; {
			grew = false
			for i, c := range shown {
				if spare > 0 && widths[i] < limit(c) {
					widths[i]++
					spare--
					grew = true
				}
			}
		}
	}
	// The start time is useful only at whole steps (seconds, ms, µs): it
	// grows by a step at a time, after the addresses had their width.
	grow(func(c Column) int {
		if c == ColStart {
			return 0
		}
		return wantOf(c)
	})
	for i, c := range shown {
		if c != ColStart {
			continue
		}
		for _, step := range []int{len("15:04:05.000000"), len("15:04:05.000")} {
			if step <= wantOf(c) && step > widths[i] && step-widths[i] <= spare {
				spare -= step - widths[i]
				widths[i] = step
				break
			}
		}
	}
	grow(func(c Column) int {
		if colSpecs[c].label {
			return colSpecs[c].max
		}
		return 0
	})
	return shown, widths
}
