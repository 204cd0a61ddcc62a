package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the UI. Keys follow sngrep where sngrep
// has one (Enter flow, F2 save, F3 and / search, F4 extended flow, F5 clear,
// F7 filter, Space select, q/Esc back) and vim for motion. It implements
// help.KeyMap; the help overlay lists FullHelp.
type KeyMap struct {
	Quit, Back, Help key.Binding

	Up, Down, PageUp, PageDown, HalfUp, HalfDown, Top, Bottom, Left, Right key.Binding

	Flow, Extended, Select, Search, Filter, SortNext, SortReverse key.Binding
	Autoscroll, HideNonInvite, Pause, Clear, Columns              key.Binding

	Streams, Stats, Save, Raw, Compare, Legend, Compress, TimeMode key.Binding

	// Playback keys, active when the UI plays a capture (--realtime).
	PlayPause, Faster, Slower, StepMessage, SeekForward, SeekForwardLong key.Binding

	// NextField and PrevField move between the fields of a dialog; Accept
	// submits it.
	NextField, PrevField, Accept key.Binding
	// MoveUp and MoveDown reorder columns in the column picker.
	MoveUp, MoveDown key.Binding
}

// DefaultKeyMap returns the default bindings (a fresh value: callers may
// rebind without affecting other models).
func DefaultKeyMap() *KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := func(s ...string) []string { return s }
	return &KeyMap{
		Quit: b(k("ctrl+c"), "ctrl+c", "quit"),
		Back: b(k("q", "esc"), "q/esc", "back (quit from the list)"),
		Help: b(k("?", "f1"), "?/F1", "help"),

		Up:       b(k("k", "up"), "k/up", "up"),
		Down:     b(k("j", "down"), "j/down", "down"),
		PageUp:   b(k("pgup", "ctrl+b"), "PgUp", "page up"),
		PageDown: b(k("pgdown", "ctrl+f"), "PgDn", "page down"),
		HalfUp:   b(k("ctrl+u"), "ctrl+u", "half page up"),
		HalfDown: b(k("ctrl+d"), "ctrl+d", "half page down"),
		Top:      b(k("g", "home"), "g/Home", "first"),
		Bottom:   b(k("G", "end"), "G/End", "last"),
		Left:     b(k("h", "left"), "h/left", "scroll left"),
		Right:    b(k("l", "right"), "l/right", "scroll right"),

		Flow:          b(k("enter"), "Enter", "call flow"),
		Extended:      b(k("f4", "x"), "F4/x", "extended flow (related legs, selected calls)"),
		Select:        b(k("space"), "Space", "select call"),
		Search:        b(k("/", "f3"), "/ F3", "search text"),
		Filter:        b(k("f7", "f"), "F7/f", "filter expression"),
		SortNext:      b(k("o", ">"), "o/>", "sort by next column"),
		SortReverse:   b(k("O", "<"), "O/<", "reverse sort"),
		Autoscroll:    b(k("A"), "A", "autoscroll to new calls"),
		HideNonInvite: b(k("i"), "i", "only INVITE dialogs"),
		Pause:         b(k("p"), "p", "pause/resume display"),
		Clear:         b(k("f5"), "F5", "clear call list"),
		Columns:       b(k("C", "f10"), "C/F10", "choose columns"),

		Streams:  b(k("s"), "s", "RTP streams"),
		Stats:    b(k("t"), "t", "statistics"),
		Save:     b(k("f2", "ctrl+s"), "F2", "save / export"),
		Raw:      b(k("r", "f6"), "r/F6", "raw message pane"),
		Compare:  b(k("c"), "c", "mark message / compare with mark"),
		Legend:   b(k("H"), "H", "explain the header counters"),
		Compress: b(k("z"), "z", "ladder: compress columns to fit the screen"),
		TimeMode: b(k("T"), "T", "times: clock ms / clock µs / since previous / since first"),

		PlayPause:       b(k("P"), "P", "play/pause (--realtime)"),
		Faster:          b(k("+", "="), "+", "play faster (x2)"),
		Slower:          b(k("-"), "-", "play slower (/2)"),
		StepMessage:     b(k("N"), "N", "play to the next SIP message"),
		SeekForward:     b(k("]"), "]", "skip 10 s ahead"),
		SeekForwardLong: b(k("}"), "}", "skip 1 min ahead"),

		NextField: b(k("tab"), "Tab", "next field"),
		PrevField: b(k("shift+tab"), "shift+Tab", "previous field"),
		Accept:    b(k("enter"), "Enter", "accept"),
		MoveUp:    b(k("K", "shift+up"), "K", "move column up"),
		MoveDown:  b(k("J", "shift+down"), "J", "move column down"),
	}
}

// ShortHelp is the call list's one-line hint; each view has its own.
func (k *KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.Flow, k.Filter, k.Search, k.Select, k.Streams, k.Stats, k.Save, k.Back}
}

// FullHelp groups every binding for the help overlay.
func (k *KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom, k.Left, k.Right},
		{k.Flow, k.Extended, k.Select, k.Search, k.Filter, k.SortNext, k.SortReverse, k.Autoscroll, k.HideNonInvite, k.Columns},
		{k.Streams, k.Stats, k.Save, k.Raw, k.Compare, k.Compress, k.TimeMode, k.Pause, k.Clear, k.Legend, k.Help, k.Back, k.Quit},
		{k.NextField, k.PrevField, k.Accept, k.MoveUp, k.MoveDown},
		{k.PlayPause, k.Faster, k.Slower, k.StepMessage, k.SeekForward, k.SeekForwardLong},
	}
}

// fullHelpTitles names the FullHelp groups in the overlay.
func fullHelpTitles() []string {
	return []string{"Move", "Call list", "Views", "Dialogs", "Playback (--realtime)"}
}

func (l *listView) shortHelp() []key.Binding { return l.c.keys.ShortHelp() }

func (f *flowView) shortHelp() []key.Binding {
	k := f.c.keys
	return []key.Binding{k.Help, k.Raw, k.Compare, k.Extended, k.Compress, k.TimeMode, k.Left, k.Right, k.Streams, k.Save, k.Back}
}

func (s *streamsView) shortHelp() []key.Binding {
	k := s.c.keys
	return []key.Binding{k.Help, k.Up, k.Down, k.MoveDown, k.Flow, k.Back}
}

func (v *statsView) shortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Help, k.Up, k.Down, k.Back}
}

func (v *saveView) shortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.NextField, k.PrevField, k.Accept, k.Back}
}

func (v *helpView) shortHelp() []key.Binding { k := v.c.keys; return []key.Binding{k.Up, k.Down} }

func (v *columnsView) shortHelp() []key.Binding {
	k := v.c.keys
	return []key.Binding{k.Select, k.MoveUp, k.MoveDown, k.Accept}
}
