package anon

import (
	"sort"

	"github.com/voiptool/voiptool/sipflow"
)

// editor collects replacements of sub-slices of one base slice (every
// slice sipflow returns aliases the bytes it parsed, so sipflow.Offset
// places them) and applies them in one copy.
type editor struct {
	base     []byte
	eds      []edit
	overlaps int
}

type edit struct {
	off, end int
	repl     string
}

// set replaces sub (a slice of base) by repl.
func (e *editor) set(sub []byte, repl string) {
	if string(sub) == repl {
		return
	}
	off := sipflow.Offset(e.base, sub)
	if off < 0 {
		return
	}
	e.eds = append(e.eds, edit{off, off + len(sub), repl})
}

// insert inserts s before position off of base.
func (e *editor) insert(off int, s string) {
	e.eds = append(e.eds, edit{off, off, s})
}

// setRange replaces base[off:end].
func (e *editor) setRange(off, end int, repl string) {
	if off < 0 || end < off || end > len(e.base) || string(e.base[off:end]) == repl {
		return
	}
	e.eds = append(e.eds, edit{off, end, repl})
}

// apply returns base with the replacements made. Replacements never
// overlap by construction; should two do, the one starting first wins and
// the other is counted (the leak check would then report what was left).
func (e *editor) apply() []byte {
	sort.SliceStable(e.eds, func(i, j int) bool { return e.eds[i].off < e.eds[j].off })
	n := len(e.base)
	for _, x := range e.eds {
		n += len(x.repl) - (x.end - x.off)
	}
	out := make([]byte, 0, max(n, 0))
	pos := 0
	for _, x := range e.eds {
		if x.off < pos {
			e.overlaps++
			continue
		}
		out = append(out, e.base[pos:x.off]...)
		out = append(out, x.repl...)
		pos = x.end
	}
	return append(out, e.base[pos:]...)
}
