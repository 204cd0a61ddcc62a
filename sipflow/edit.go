package sipflow

import (
	"slices"
	"strconv"
)

// Editor collects replacements of byte ranges of one base slice and applies
// them in one copy. Every slice the parser returns aliases the bytes it
// parsed, so Offset places it in the base: a rewriter decodes a Message,
// calls Set with the fields to change (a URI host, a Via sent-by, an SDP
// port) and Apply builds the new message. The base is never modified.
//
//	ed := sipflow.NewEditor(raw)
//	ed.Set(msg.RequestURI.Host, "192.0.2.1")
//	ed.SetContentLength(&msg, len(newBody))
//	out := ed.Apply()
//
// An Editor can be reused with Reset, keeping its capacity.
type Editor struct {
	base     []byte
	eds      []edit
	overlaps int
}

type edit struct {
	off, end int
	repl     string
}

// NewEditor returns an Editor over base.
func NewEditor(base []byte) *Editor { return &Editor{base: base} }

// Reset forgets every edit and starts over on base.
func (e *Editor) Reset(base []byte) {
	e.base = base
	e.eds = e.eds[:0]
	e.overlaps = 0
}

// Base is the slice being edited.
func (e *Editor) Base() []byte { return e.base }

// Len is the number of edits collected so far.
func (e *Editor) Len() int { return len(e.eds) }

// Overlaps counts the edits Apply dropped because they overlapped an
// earlier one.
func (e *Editor) Overlaps() int { return e.overlaps }

// Set replaces sub, which must be a sub-slice of the base (a slice that
// does not alias it is ignored), by repl. Setting a range to its own
// text records nothing.
func (e *Editor) Set(sub []byte, repl string) {
	if string(sub) == repl {
		return
	}
	off := Offset(e.base, sub)
	if off < 0 {
		return
	}
	e.eds = append(e.eds, edit{off, off + len(sub), repl})
}

// Insert inserts s before position off of the base.
func (e *Editor) Insert(off int, s string) {
	if off < 0 || off > len(e.base) || s == "" {
		return
	}
	e.eds = append(e.eds, edit{off, off, s})
}

// SetRange replaces base[off:end]; an out-of-range span is ignored.
func (e *Editor) SetRange(off, end int, repl string) {
	if off < 0 || end < off || end > len(e.base) || string(e.base[off:end]) == repl {
		return
	}
	e.eds = append(e.eds, edit{off, end, repl})
}

// SetContentLength sets the Content-Length header of msg (decoded from the
// base) to n: its value is replaced, or one is written after the colon of
// a "Content-Length:" with no value. A message without the header is left
// alone (over UDP it is optional, RFC 3261 20.14).
func (e *Editor) SetContentLength(msg *Message, n int) {
	v := strconv.Itoa(n)
	for _, h := range msg.Headers {
		if h.Kind != HeaderContentLength {
			continue
		}
		if len(h.Value) > 0 {
			e.Set(h.Value, v)
			continue
		}
		if off := Offset(e.base, h.Name); off >= 0 {
			c := off + len(h.Name)
			for c < len(e.base) && e.base[c] != ':' {
				c++
			}
			if c < len(e.base) {
				e.Insert(c+1, " "+v)
			}
		}
	}
}

// Apply returns a new slice (never nil) holding the base with the edits
// made.
func (e *Editor) Apply() []byte {
	return e.AppendApply(make([]byte, 0, e.size()))
}

// size is the length of the edited base.
func (e *Editor) size() int {
	n := len(e.base)
	for _, x := range e.eds {
		n += len(x.repl) - (x.end - x.off)
	}
	return max(n, 0)
}

// AppendApply appends the edited base to dst and returns it, so a caller
// on a per-packet path can reuse one buffer. Edits never overlap when
// they come from distinct parsed fields; should two overlap, the one
// starting first wins and the other is counted (Overlaps). Insertions at
// the same position keep their order.
func (e *Editor) AppendApply(dst []byte) []byte {
	slices.SortStableFunc(e.eds, func(a, b edit) int { return a.off - b.off })
	dst = slices.Grow(dst, e.size())
	pos := 0
	for _, x := range e.eds {
		if x.off < pos {
			e.overlaps++
			continue
		}
		dst = append(dst, e.base[pos:x.off]...)
		dst = append(dst, x.repl...)
		pos = x.end
	}
	return append(dst, e.base[pos:]...)
}
