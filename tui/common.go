package tui

import (
	"io"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Options configures the UI. The zero value is useful: default columns,
// styles and keys, local time, 10 Hz refresh.
type Options struct {
	// Columns is the call-list column order; empty means DefaultColumns.
	Columns []Column
	// ASCII draws with ASCII instead of box-drawing and block characters.
	ASCII bool
	// NoColor forces the no-colour profile. The NO_COLOR environment
	// variable is honoured without it (bubbletea detects it).
	NoColor bool
	// Location is the time zone of displayed times; nil means time.Local.
	Location *time.Location
	// Tick is the refresh interval; 0 means 100 ms (10 Hz).
	Tick time.Duration
	// Styles and Keys override the defaults.
	Styles *Styles
	Keys   *KeyMap
	// Filter, HideNonInvite and Autoscroll are the initial list state.
	Filter        string
	HideNonInvite bool
	Autoscroll    bool
	// Player, when set, is a capture played at its own pace
	// (--realtime): its state is in the header and the playback keys
	// drive it.
	Player Player
	// Input and Output replace stdin/stdout in Run (tests, ssh sessions).
	Input  io.Reader
	Output io.Writer
}

// defaultTick is 10 Hz: fast enough that a live capture looks live, slow
// enough that the snapshot copies cost nothing measurable.
const defaultTick = 100 * time.Millisecond

// common is what every view shares: the size it may draw in, styles, keys,
// glyphs and the data source, plus the router it asks to change views.
type common struct {
	w, h int
	st   *Styles
	keys *KeyMap
	g    glyphs
	loc  *time.Location
	data Data
	nav  navigator
	// timeMode is how times are shown in the ladder and the call list;
	// shared so it holds across views.
	timeMode timeMode
}

// timeMode selects how times are shown (T cycles them).
type timeMode int

const (
	timeAbs        timeMode = iota // clock time to the millisecond, delta from the previous message beside
	timeAbsMicro                   // clock time to the microsecond
	timeSincePrev                  // time since the previous message, µs
	timeSinceFirst                 // time since the first message of the ladder, µs
	numTimeModes
)

func (t timeMode) String() string {
	switch t {
	case timeAbs:
		return "clock time (ms)"
	case timeAbsMicro:
		return "clock time (µs)"
	case timeSincePrev:
		return "since the previous message (µs)"
	case timeSinceFirst:
		return "since the first message (µs)"
	}
	return "?"
}

// fmtClock is t's time of day, to the millisecond or the microsecond;
// "-" for an unknown time.
func fmtClock(t time.Time, loc *time.Location, micro bool) string {
	if t.IsZero() {
		return "-"
	}
	if micro {
		return t.In(loc).Format("15:04:05.000000")
	}
	return t.In(loc).Format("15:04:05.000")
}

// fmtDelta is t - from in seconds with prec decimals and a sign:
// "+1.234", "+0.000125"; "" when either is unknown.
func fmtDelta(t, from time.Time, prec int) string {
	if from.IsZero() || t.IsZero() {
		return ""
	}
	d := t.Sub(from)
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return sign + strconv.FormatFloat(d.Seconds(), 'f', prec, 64)
}

// navigator is implemented by the root Model; views call it instead of
// returning navigation messages so Update stays synchronous and testable.
type navigator interface {
	openFlow(callIDs []string, related bool)
	openStreams(callIDs []string)
	openStats()
	openSave(callIDs []string, related bool, flow bool)
	// startSave closes the save dialog and returns the command that runs
	// the save off the UI goroutine; from is reopened if it fails.
	startSave(req SaveRequest, from *saveView) tea.Cmd
	openOverlay(v view)
	back()
	setStatus(msg string, err error)
	listQuery() Query
}

// view is one screen. Views are pointers mutated in place; Update returns
// only a command because navigation goes through common.nav.
type view interface {
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(w, h int)
	// refresh pulls a fresh snapshot from Data.
	refresh()
	// capturing is true while a text field has focus, so printable keys
	// are text rather than commands.
	capturing() bool
	// name is the view title shown in the header.
	name() string
	// shortHelp is the key hint in the status line.
	shortHelp() []key.Binding
}

// textWidth is the display width of s, as ansi.StringWidth measures it,
// with a fast path for printable ASCII (a cell a byte), which is nearly
// every cell of the call list: the grapheme segmentation StringWidth
// does otherwise was most of a frame's cost.
func textWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// fit truncates s to w cells (marking the cut with an ellipsis) and pads
// it with spaces to exactly w cells.
func fit(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	n := textWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, ell)
		n = textWidth(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// fitRight is fit with the padding on the left, for numbers.
func fitRight(s string, w int, ell string) string {
	if w <= 0 {
		return ""
	}
	n := textWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, ell)
		n = textWidth(s)
	}
	if n < w {
		s = strings.Repeat(" ", w-n) + s
	}
	return s
}

// center places s in the middle of w cells.
func center(s string, w int, ell string) string {
	n := ansi.StringWidth(s)
	if n >= w {
		return fit(s, w, ell)
	}
	l := (w - n) / 2
	return strings.Repeat(" ", l) + s + strings.Repeat(" ", w-n-l)
}

// padLines makes body exactly h lines of at most w cells, so a short view
// does not let the footer float up and a long one cannot push it off.
func padLines(lines []string, w, h int) string {
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(lines) {
			l := lines[i]
			if ansi.StringWidth(l) > w {
				l = ansi.Truncate(l, w, "")
			}
			b.WriteString(l)
		}
	}
	return b.String()
}

// clamp bounds v to [lo, hi]; hi < lo yields lo.
func clamp(v, lo, hi int) int {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}

// fmtBytes renders a byte count with binary units.
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return itoa64(n) + " B"
	}
	f := float64(n)
	u := "KMGTPE"
	i := -1
	for f >= unit && i < len(u)-1 {
		f /= unit
		i++
	}
	return fmtFloat(f, 1) + " " + string(u[i]) + "iB"
}
