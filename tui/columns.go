package tui

import (
	"math"
	"strconv"
	"strings"
	"time"
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

// colSpec is how one column is laid out: it gets at least min cells, grows
// up to max when there is room, and right-aligns numbers.
type colSpec struct {
	title    string
	min, max int
	right    bool
}

// colSpecs is a read-only table indexed by Column.
var colSpecs = [numColumns]colSpec{
	ColIndex:    {"Idx", 4, 6, true},
	ColStart:    {"Start", 8, 12, false}, // 8: "15:04:05", 12 adds milliseconds
	ColMethod:   {"Method", 7, 9, false}, // 9: "SUBSCRIBE"
	ColFrom:     {"From", 14, 30, false},
	ColTo:       {"To", 14, 30, false},
	ColSrc:      {"Source", 15, 47, false},      // 15: "10.0.0.254:5060"; 47: a full "[ipv6]:port"
	ColDst:      {"Destination", 15, 47, false}, //
	ColMsgs:     {"Msgs", 4, 4, true},
	ColState:    {"State", 10, 11, false}, // 10: "CALL SETUP"
	ColSetup:    {"Setup", 6, 7, true},
	ColPDD:      {"PDD", 6, 7, true},
	ColDuration: {"Dur", 5, 8, true},
	ColCodec:    {"Codec", 5, 8, false},
	ColLoss:     {"Loss%", 5, 6, true},
	ColJitter:   {"Jit", 5, 6, true},
	ColMOS:      {"MOS", 4, 4, true},
	ColUA:       {"User-Agent", 10, 30, false},
	ColCallID:   {"Call-ID", 12, 40, false},
	ColProblems: {"Problems", 8, 30, false},
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
		return r.State
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
		return fmtFloat(r.JitterMS, 1)
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

// fmtMS renders a setup or PDD time compactly: "850ms", "12.3s".
func fmtMS(ms int64) string {
	switch {
	case ms < 0:
		return "-"
	case ms < 10000:
		return strconv.FormatInt(ms, 10) + "ms"
	default:
		return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + "s"
	}
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

// layoutColumns picks the columns that fit width and their widths: each
// column in order takes its minimum (plus one separating space) until the
// next would overflow; the spare width is then dealt out one cell at a time
// to the columns still below their maximum, so no column starves.
func layoutColumns(cols []Column, width int) (shown []Column, widths []int) {
	used := 0
	for _, c := range cols {
		if c < 0 || c >= numColumns {
			continue
		}
		need := colSpecs[c].min
		if len(shown) > 0 {
			need++
		}
		if used+need > width {
			break
		}
		used += need
		shown = append(shown, c)
		widths = append(widths, colSpecs[c].min)
	}
	spare := width - used
	for grew := true; spare > 0 && grew; {
		grew = false
		for i, c := range shown {
			if spare > 0 && widths[i] < colSpecs[c].max {
				widths[i]++
				spare--
				grew = true
			}
		}
	}
	return shown, widths
}
