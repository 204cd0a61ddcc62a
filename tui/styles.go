package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Styles holds every style the views use. Views read them from common and
// never build styles while rendering: building a lipgloss.Style per cell
// per frame costs more than the rest of View.
type Styles struct {
	Header, HeaderKey, Status, StatusErr, Title lipgloss.Style
	ColHeader, ColHeaderSorted                  lipgloss.Style
	Cursor, Selected, Normal, Dim               lipgloss.Style
	// State colours rows of the call list.
	StateSetup, StateInCall, StateDone, StateCancel, StateFailed lipgloss.Style
	// Class colours ladder arrows by MessageClass.
	Class                                 [ClassError + 1]lipgloss.Style
	Retrans, Stream, Endpoint             lipgloss.Style
	RawStart, RawHeader, RawSDP, RawBody  lipgloss.Style
	DiffOld, DiffNew                      lipgloss.Style
	FilterPrompt, FilterErr               lipgloss.Style
	Dialog, DialogTitle, DialogFocus, Key lipgloss.Style
	Bar, BarEmpty                         lipgloss.Style
	GoodMOS, FairMOS, BadMOS              lipgloss.Style
}

// DefaultStyles returns the default theme: ANSI 16 colours, so it reads
// on both dark and light backgrounds, downsampled at output (NO_COLOR keeps
// bold and reverse, which is how the cursor stays visible).
func DefaultStyles() *Styles {
	s := lipgloss.NewStyle
	return &Styles{
		Header:          s().Bold(true),
		HeaderKey:       s().Faint(true),
		Status:          s().Faint(true),
		StatusErr:       s().Foreground(lipgloss.Red).Bold(true),
		Title:           s().Bold(true).Underline(true),
		ColHeader:       s().Bold(true).Underline(true),
		ColHeaderSorted: s().Bold(true).Underline(true).Foreground(lipgloss.Cyan),
		Cursor:          s().Reverse(true),
		Selected:        s().Bold(true).Foreground(lipgloss.BrightWhite),
		Normal:          s(),
		Dim:             s().Faint(true),
		StateSetup:      s().Foreground(lipgloss.Yellow),
		StateInCall:     s().Foreground(lipgloss.Green),
		StateDone:       s().Foreground(lipgloss.Blue),
		StateCancel:     s().Foreground(lipgloss.Magenta),
		StateFailed:     s().Foreground(lipgloss.Red),
		Class: [ClassError + 1]lipgloss.Style{
			ClassRequest:     s().Foreground(lipgloss.BrightWhite).Bold(true),
			ClassProvisional: s().Foreground(lipgloss.Yellow),
			ClassSuccess:     s().Foreground(lipgloss.Green),
			ClassRedirect:    s().Foreground(lipgloss.Cyan),
			ClassError:       s().Foreground(lipgloss.Red),
		},
		Retrans:      s().Foreground(lipgloss.BrightRed),
		Stream:       s().Foreground(lipgloss.Cyan),
		Endpoint:     s().Bold(true),
		RawStart:     s().Bold(true),
		RawHeader:    s().Foreground(lipgloss.Cyan),
		RawSDP:       s().Foreground(lipgloss.Green),
		RawBody:      s(),
		DiffOld:      s().Foreground(lipgloss.Red),
		DiffNew:      s().Foreground(lipgloss.Green),
		FilterPrompt: s().Bold(true),
		FilterErr:    s().Foreground(lipgloss.Red),
		Dialog:       s().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		DialogTitle:  s().Bold(true),
		DialogFocus:  s().Reverse(true),
		Key:          s().Bold(true).Foreground(lipgloss.Cyan),
		Bar:          s().Foreground(lipgloss.Green),
		BarEmpty:     s().Faint(true),
		GoodMOS:      s().Foreground(lipgloss.Green),
		FairMOS:      s().Foreground(lipgloss.Yellow),
		BadMOS:       s().Foreground(lipgloss.Red),
	}
}

// stateStyle colours a call-list row from its state text. The states are
// sngrep's words; matching by substring keeps the adapter free to say
// "CALL SETUP" or "setup".
func (s *Styles) stateStyle(state string) lipgloss.Style {
	st := strings.ToLower(state)
	switch {
	case strings.Contains(st, "setup"), strings.Contains(st, "ring"), strings.Contains(st, "progress"):
		return s.StateSetup
	case strings.Contains(st, "in call"), strings.Contains(st, "incall"), strings.Contains(st, "answer"):
		return s.StateInCall
	case strings.Contains(st, "cancel"):
		return s.StateCancel
	case strings.Contains(st, "reject"), strings.Contains(st, "busy"), strings.Contains(st, "fail"):
		return s.StateFailed
	case strings.Contains(st, "complete"), strings.Contains(st, "divert"):
		return s.StateDone
	}
	return s.Normal
}

// glyphs are the drawing characters; ASCII mode (Options.ASCII) swaps them
// for terminals or fonts without box drawing and block elements.
type glyphs struct {
	hline, vline, arrowR, arrowL, stream, self string
	spark                                      []rune
	barFull, barEmpty, ellipsis, sel           string
	moreL, moreR                               string // more ladder off screen
	sortAsc, sortDesc, sep                     string
	to                                         string // "col 1→3" in off-screen arrow marks
}

func newGlyphs(ascii bool) glyphs {
	if ascii {
		return glyphs{"-", "|", ">", "<", "=", "@", []rune("_.-~=+*#"), "#", "-", "~", "*", "<", ">", "^", "v", ", ", "->"}
	}
	return glyphs{"─", "│", "▶", "◀", "═", "↺", []rune("▁▂▃▄▅▆▇█"), "█", "░", "…", "●", "«", "»", "▲", "▼", " · ", "→"}
}
