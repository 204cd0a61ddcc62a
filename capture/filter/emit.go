package filter

import (
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
	ins    bpf.Instruction // nil for a label or a conditional jump
	label  int             // >0: this item is the label's position
	jcond  bool            // conditional jump: cond/k/useX with jt/jf
	cond   bpf.JumpTest
	k      uint32
	useX   bool
	jt, jf int // labels of a conditional jump
	ja     int // >0: unconditional jump to this label
}

type emitter struct {
	items  []item
	labels int
}

func (e *emitter) newLabel() int { e.labels++; return e.labels }

func (e *emitter) place(l int) { e.items = append(e.items, item{label: l}) }

func (e *emitter) gen(n *node, t, f int) {
	switch n.op {
	case opTest:
		for _, s := range n.stmts {
			e.items = append(e.items, item{ins: s})
		}
		e.items = append(e.items, item{jcond: true, cond: n.cond, k: n.k, useX: n.useX, jt: t, jf: f})
	case opAnd:
		m := e.newLabel()
		e.gen(n.a, m, f)
		e.place(m)
		e.gen(n.b, t, f)
	case opOr:
		m := e.newLabel()
		e.gen(n.a, t, m)
		e.place(m)
		e.gen(n.b, t, f)
	case opNot:
		e.gen(n.a, f, t)
	case opTrue:
		e.items = append(e.items, item{ja: t})
	case opFalse:
		e.items = append(e.items, item{ja: f})
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
	e.gen(root, acc, rej)
	e.place(acc)
	e.items = append(e.items, item{ins: bpf.RetConstant{Val: snap}})
	e.place(rej)
	e.items = append(e.items, item{ins: bpf.RetConstant{Val: 0}})
	e.dropJumpsToNext()
	if n := len(e.items) - e.labels; n > maxInsns {
		// Trampolines only add instructions: fail before laying out
		// (quadratic in the worst case) a program that cannot fit.
		return nil, ErrTooLong
	}
	for !e.relax() {
	}
	return e.resolve()
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
