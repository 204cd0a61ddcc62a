package tui

import (
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// textField is a one-line editor for the filter, search and file-name
// fields. bubbles/v2/textinput would do, but it pulls in a clipboard
// module that is not in go.sum; this covers what the fields need (type,
// move, delete, paste) without a new dependency.
type textField struct {
	val     []rune
	pos     int // cursor, in runes
	focused bool
	width   int
	limit   int // max runes; 0 means no limit
}

func (t *textField) Value() string { return string(t.val) }

func (t *textField) SetValue(s string) {
	t.val = []rune(s)
	if t.limit > 0 && len(t.val) > t.limit {
		t.val = t.val[:t.limit]
	}
	t.pos = len(t.val)
}

func (t *textField) CursorEnd()     { t.pos = len(t.val) }
func (t *textField) Focus()         { t.focused = true }
func (t *textField) Blur()          { t.focused = false }
func (t *textField) SetWidth(w int) { t.width = w }

func (t *textField) insert(s string) {
	for _, r := range s {
		if r < ' ' || r == utf8.RuneError {
			continue // no control characters in a one-line field
		}
		if t.limit > 0 && len(t.val) >= t.limit {
			return
		}
		t.val = append(t.val, 0)
		copy(t.val[t.pos+1:], t.val[t.pos:])
		t.val[t.pos] = r
		t.pos++
	}
}

// wordStart is where ctrl+w deletes back to: the previous space-separated
// word, as in a shell.
func (t *textField) wordStart() int {
	i := t.pos
	for i > 0 && t.val[i-1] == ' ' {
		i--
	}
	for i > 0 && t.val[i-1] != ' ' {
		i--
	}
	return i
}

// Update edits the value; it reports whether the key was consumed.
func (t *textField) Update(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		t.insert(msg.Content)
		return true
	case tea.KeyPressMsg:
		switch msg.String() {
		case "left", "ctrl+b":
			t.pos = max(t.pos-1, 0)
		case "right", "ctrl+f":
			t.pos = min(t.pos+1, len(t.val))
		case "home", "ctrl+a":
			t.pos = 0
		case "end", "ctrl+e":
			t.pos = len(t.val)
		case "backspace", "ctrl+h":
			if t.pos > 0 {
				t.val = append(t.val[:t.pos-1], t.val[t.pos:]...)
				t.pos--
			}
		case "delete", "ctrl+d":
			if t.pos < len(t.val) {
				t.val = append(t.val[:t.pos], t.val[t.pos+1:]...)
			}
		case "ctrl+u":
			t.val = append(t.val[:0], t.val[t.pos:]...)
			t.pos = 0
		case "ctrl+k":
			t.val = t.val[:t.pos]
		case "ctrl+w":
			s := t.wordStart()
			t.val = append(t.val[:s], t.val[t.pos:]...)
			t.pos = s
		case "space":
			t.insert(" ")
		default:
			if msg.Text == "" {
				return false
			}
			t.insert(msg.Text)
		}
		return true
	}
	return false
}

// View shows the value with a block cursor when focused, scrolled so the
// cursor stays inside width.
func (t *textField) View(cursor lipgloss.Style) string {
	v := t.val
	start := 0
	if t.width > 0 && t.pos >= t.width {
		start = t.pos - t.width + 1
	}
	v = v[start:]
	if t.width > 0 && len(v) > t.width {
		v = v[:t.width]
	}
	if !t.focused {
		return string(v)
	}
	p := t.pos - start
	if p >= len(v) {
		return string(v) + cursor.Render(" ")
	}
	return string(v[:p]) + cursor.Render(string(v[p])) + ansi.Strip(string(v[p+1:]))
}
