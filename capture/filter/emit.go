package filter

import (
	"fmt"
	"strings"

	"golang.org/x/net/bpf"
)

// nodeOp is the kind of a node of the boolean program tree.
type nodeOp uint8

const (
	opTest nodeOp = iota
	opAnd
	opOr
	opNot
	opTrue
	opFalse
)

// node is one boolean of the program: either a test (statements that
// leave a value in A, then a conditional jump) or a combination. The tree
// is evaluated left to right with short circuits, as libpcap's blocks are;
// the order matters because a load past the end of the packet ends a
// classic BPF program with "reject" whatever remains to be tested.
type node struct {
	op    nodeOp
	a, b  *node
	stmts []bpf.Instruction // run before the jump; may be empty (reuse A)
	cond  bpf.JumpTest      // JumpEqual, JumpGreaterThan, JumpGreaterOrEqual or JumpBitsSet
	k     uint32
	useX  bool // compare A with X instead of k
	port  bool // a transport-port test (see FragmentWarning)
}

var (
	nodeTrue  = &node{op: opTrue}
	nodeFalse = &node{op: opFalse}
)

func test(stmts []bpf.Instruction, cond bpf.JumpTest, k uint32) *node {
	return &node{op: opTest, stmts: stmts, cond: cond, k: k}
}

// and, or and not fold constants only where the result is exactly the
// same program: the operand that still runs is the one that would run.
func and(a, b *node) *node {
	switch {
	case a.op == opFalse:
		return a
	case a.op == opTrue:
		return b
	case b.op == opTrue:
		return a
	}
	return &node{op: opAnd, a: a, b: b}
}

func or(a, b *node) *node {
	switch {
	case a.op == opTrue:
		return a
	case a.op == opFalse:
		return b
	case b.op == opFalse:
		return a
	}
	return &node{op: opOr, a: a, b: b}
}

func not(a *node) *node {
	switch a.op {
	case opTrue:
		return nodeFalse
	case opFalse:
		return nodeTrue
	case opNot:
		return a.a
	}
	return &node{op: opNot, a: a}
}

// item is an instruction with symbolic jump targets, or a label.
type item struct {
	ins    bpf.Instruction // nil for a label or a jump
	label  int             // >0: this item is the label's position
	jcond  bool            // conditional jump: cond/k/useX with jt/jf
	cond   bpf.JumpTest
	k      uint32
	useX   bool
	jt, jf int    // labels of a conditional jump
	ja     int    // >0: unconditional jump to this label
	akey   string // what A holds at a conditional jump (its statements)
	stmt   bool   // a statement of a test (pure: A and X from the packet)
}

type emitter struct {
	items  []item
	labels int
}

func (e *emitter) newLabel() int { e.labels++; return e.labels }

func (e *emitter) place(l int) { e.items = append(e.items, item{label: l}) }

// keyOf names what a test's statements leave in A. Statements are pure
// functions of the packet (loads, arithmetic, scratch slots they write
// before reading), so equal keys mean equal values.
func keyOf(stmts []bpf.Instruction) string {
	var b strings.Builder
	for _, s := range stmts {
		fmt.Fprintf(&b, "%#v;", s)
	}
	return b.String()
}

// exits is what A holds on a subtree's true and false exits ("" when the
// exits disagree or it is unknown); tAny/fAny say whether there are any.
type exits struct {
	tKey, fKey string
	tAny, fAny bool
}

func meetKey(a string, aAny bool, b string, bAny bool) (string, bool) {
	switch {
	case !aAny:
		return b, bAny
	case !bAny:
		return a, aAny
	case a == b:
		return a, true
	}
	return "", true
}

// gen lays out n so that it continues at label t when true and f when
// false; aIn is what A holds on entry. A test whose statements would
// reload what A already holds skips them.
func (e *emitter) gen(n *node, t, f int, aIn string) exits {
	switch n.op {
	case opTest:
		key := keyOf(n.stmts)
		if key != aIn || key == "" {
			for _, s := range n.stmts {
				e.items = append(e.items, item{ins: s, stmt: true})
			}
		}
		e.items = append(e.items, item{jcond: true, cond: n.cond, k: n.k, useX: n.useX, jt: t, jf: f, akey: key})
		return exits{key, key, true, true}
	case opAnd:
		m := e.newLabel()
		a := e.gen(n.a, m, f, aIn)
		e.place(m)
		b := e.gen(n.b, t, f, a.tKey)
		fk, fAny := meetKey(a.fKey, a.fAny, b.fKey, b.fAny)
		return exits{b.tKey, fk, b.tAny, fAny}
	case opOr:
		m := e.newLabel()
		a := e.gen(n.a, t, m, aIn)
		e.place(m)
		b := e.gen(n.b, t, f, a.fKey)
		tk, tAny := meetKey(a.tKey, a.tAny, b.tKey, b.tAny)
		return exits{tk, b.fKey, tAny, b.fAny}
	case opNot:
		x := e.gen(n.a, f, t, aIn)
		return exits{x.fKey, x.tKey, x.fAny, x.tAny}
	case opTrue:
		e.items = append(e.items, item{ja: t})
		return exits{tKey: aIn, tAny: true}
	default: // opFalse
		e.items = append(e.items, item{ja: f})
		return exits{fKey: aIn, fAny: true}
	}
}

// maxInsns is the kernel's limit (BPF_MAXINSNS).
const maxInsns = 4096

// assemble lays the tree out as a classic BPF program that returns snap
// for an accepted packet and 0 otherwise.
func assemble(root *node, snap uint32) ([]bpf.Instruction, error) {
	switch root.op {
	case opTrue:
		return []bpf.Instruction{bpf.RetConstant{Val: snap}}, nil
	case opFalse:
		return nil, ErrRejectsAll
	}
	e := &emitter{}
	acc, rej := e.newLabel(), e.newLabel()
	e.gen(root, acc, rej, "")
	e.place(acc)
	e.items = append(e.items, item{ins: bpf.RetConstant{Val: snap}})
	e.place(rej)
	e.items = append(e.items, item{ins: bpf.RetConstant{Val: 0}})
	e.dropJumpsToNext()
	e.thread()
	e.dropDead()
	e.dropJumpsToNext()
	if n := e.count(); n > maxInsns {
		// Trampolines only add instructions: fail before laying out
		// (quadratic in the worst case) a program that cannot fit.
		return nil, ErrTooLong
	}
	for !e.relax() {
	}
	return e.resolve()
}

// thread retargets each edge of a conditional jump past tests it decides:
// after "A == k" (or "A != k", or any test's outcome), a later test of the
// same value on that path has a known outcome, so the edge can go straight
// to where that test would send it (libpcap's optimiser does this too).
// Only tests of the very value A holds are skipped, so A is unchanged on
// arrival; no test relies on X or scratch slots set by another.
func (e *emitter) thread() {
	at := make(map[int]int, e.labels) // label -> index of the item after it
	for i, it := range e.items {
		if it.label > 0 {
			at[it.label] = i
		}
	}
	follow := func(target int, key string, cond bpf.JumpTest, k uint32, outcome bool) int {
		for {
			i := at[target]
			for i < len(e.items) && e.items[i].label > 0 {
				i++
			}
			if i >= len(e.items) {
				return target
			}
			if e.items[i].ja > 0 {
				target = e.items[i].ja
				continue
			}
			j := i
			for j < len(e.items) && e.items[j].stmt {
				j++
			}
			if j >= len(e.items) || !e.items[j].jcond || e.items[j].useX {
				return target
			}
			c := e.items[j]
			if c.akey != key || (j > i && keyOf(stmtsOf(e.items[i:j])) != key) {
				return target
			}
			d, ok := decide(cond, k, outcome, c.cond, c.k)
			if !ok {
				return target
			}
			if d {
				target = c.jt
			} else {
				target = c.jf
			}
		}
	}
	for i := range e.items {
		it := &e.items[i]
		if !it.jcond || it.useX || it.akey == "" {
			continue
		}
		it.jt = follow(it.jt, it.akey, it.cond, it.k, true)
		it.jf = follow(it.jf, it.akey, it.cond, it.k, false)
	}
}

func stmtsOf(items []item) []bpf.Instruction {
	out := make([]bpf.Instruction, len(items))
	for i, it := range items {
		out[i] = it.ins
	}
	return out
}

// decide reports the outcome of "A cond2 k2" given that "A cond k" was
// outcome, when that is known.
func decide(cond bpf.JumpTest, k uint32, outcome bool, cond2 bpf.JumpTest, k2 uint32) (bool, bool) {
	if cond == bpf.JumpEqual && outcome {
		// A's value is known exactly.
		switch cond2 {
		case bpf.JumpEqual:
			return k == k2, true
		case bpf.JumpGreaterThan:
			return k > k2, true
		case bpf.JumpGreaterOrEqual:
			return k >= k2, true
		case bpf.JumpBitsSet:
			return k&k2 != 0, true
		}
		return false, false
	}
	if cond == cond2 && k == k2 {
		return outcome, true
	}
	return false, false
}

// dropDead removes what no jump reaches any more. All jumps go forward,
// so one pass in order sees every jump into an item before the item.
func (e *emitter) dropDead() {
	targeted := make(map[int]bool)
	out := e.items[:0]
	live := true
	for _, it := range e.items {
		if it.label > 0 {
			live = live || targeted[it.label]
			if live {
				out = append(out, it)
			}
			continue
		}
		if !live {
			continue
		}
		out = append(out, it)
		switch {
		case it.jcond:
			targeted[it.jt], targeted[it.jf] = true, true
			live = false
		case it.ja > 0:
			targeted[it.ja] = true
			live = false
		case isRet(it.ins):
			live = false
		}
	}
	e.items = out
}

// count is the number of instructions (items that are not labels).
func (e *emitter) count() int {
	n := 0
	for _, it := range e.items {
		if it.label == 0 {
			n++
		}
	}
	return n
}

func isRet(in bpf.Instruction) bool {
	switch in.(type) {
	case bpf.RetConstant, bpf.RetA:
		return true
	}
	return false
}

// dropJumpsToNext removes unconditional jumps to the label that follows.
func (e *emitter) dropJumpsToNext() {
	out := e.items[:0]
	for i, it := range e.items {
		if it.ja > 0 && e.labelFollows(i, it.ja) {
			continue
		}
		out = append(out, it)
	}
	e.items = out
}

func (e *emitter) labelFollows(i, l int) bool {
	for j := i + 1; j < len(e.items) && e.items[j].label > 0; j++ {
		if e.items[j].label == l {
			return true
		}
	}
	return false
}

// positions maps labels to instruction indexes and items to theirs.
func (e *emitter) positions() (lab map[int]int, pos []int) {
	lab = make(map[int]int)
	pos = make([]int, len(e.items))
	n := 0
	for i, it := range e.items {
		pos[i] = n
		if it.label > 0 {
			lab[it.label] = n
			continue
		}
		n++
	}
	return lab, pos
}

// relax gives every conditional jump further than 255 instructions a
// trampoline ("ja") right after it, and reports whether none was needed.
func (e *emitter) relax() bool {
	lab, pos := e.positions()
	for i, it := range e.items {
		if !it.jcond {
			continue
		}
		farT := lab[it.jt]-pos[i]-1 > 255
		farF := lab[it.jf]-pos[i]-1 > 255
		if !farT && !farF {
			continue
		}
		var tramp []item
		if farT {
			l := e.newLabel()
			tramp = append(tramp, item{label: l}, item{ja: it.jt})
			e.items[i].jt = l
		}
		if farF {
			l := e.newLabel()
			tramp = append(tramp, item{label: l}, item{ja: it.jf})
			e.items[i].jf = l
		}
		rest := append(tramp, e.items[i+1:]...)
		e.items = append(e.items[:i+1], rest...)
		return false
	}
	return true
}

func (e *emitter) resolve() ([]bpf.Instruction, error) {
	lab, pos := e.positions()
	var prog []bpf.Instruction
	for i, it := range e.items {
		switch {
		case it.label > 0:
			continue
		case it.jcond:
			jt := uint8(lab[it.jt] - pos[i] - 1)
			jf := uint8(lab[it.jf] - pos[i] - 1)
			if it.useX {
				prog = append(prog, bpf.JumpIfX{Cond: it.cond, SkipTrue: jt, SkipFalse: jf})
			} else {
				prog = append(prog, bpf.JumpIf{Cond: it.cond, Val: it.k, SkipTrue: jt, SkipFalse: jf})
			}
		case it.ja > 0:
			prog = append(prog, bpf.Jump{Skip: uint32(lab[it.ja] - pos[i] - 1)})
		default:
			prog = append(prog, it.ins)
		}
	}
	if len(prog) > maxInsns {
		return nil, ErrTooLong
	}
	return prog, nil
}
