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
	stmts []bpf.Instruction // run before the jump (skipped when A already holds their value)
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
	known  facts  // at a conditional jump: what every path to it has tested
}

// fact is the outcome of a test of a value (named by its statements).
type fact struct {
	key     string
	cond    bpf.JumpTest
	k       uint32
	outcome bool
}

// facts are what is known on a path; kept short, as most paths test few
// values (and forgetting one only costs a test).
type facts []fact

const maxFacts = 32

func (fs facts) with(f fact) facts {
	out := make(facts, 0, len(fs)+1)
	if len(fs) >= maxFacts {
		fs = fs[1:]
	}
	out = append(out, fs...)
	return append(out, f)
}

// meet keeps the facts known on both of two merging paths.
func meetFacts(a facts, aAny bool, b facts, bAny bool) facts {
	switch {
	case !aAny:
		return b
	case !bAny:
		return a
	}
	var out facts
	for _, f := range a {
		for _, g := range b {
			if f == g {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// decide is the outcome of "value key cond k" if the facts tell it.
func (fs facts) decide(key string, cond bpf.JumpTest, k uint32) (bool, bool) {
	for _, f := range fs {
		if f.key != key {
			continue
		}
		if d, ok := decide(f.cond, f.k, f.outcome, cond, k); ok {
			return d, true
		}
	}
	return false, false
}

type emitter struct {
	items  []item
	labels int
	plain  bool // no optimisation: every test as written (for tests)
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

// exits is what holds on a subtree's true and false exits: what A holds
// ("" when the exits disagree) and the facts all of them share; tAny and
// fAny say whether there are any.
type exits struct {
	tKey, fKey     string
	tAny, fAny     bool
	tFacts, fFacts facts
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
// false; aIn is what A holds on entry and in what every path to n has
// tested. A test the facts already decide becomes a jump (its value was
// loaded before on every path, so skipping the load changes nothing); a
// test whose statements would reload what A holds skips them.
func (e *emitter) gen(n *node, t, f int, aIn string, in facts) exits {
	switch n.op {
	case opTest:
		key := keyOf(n.stmts)
		if !n.useX && key != "" && !e.plain {
			if d, ok := in.decide(key, n.cond, n.k); ok {
				if d {
					e.items = append(e.items, item{ja: t})
					return exits{tKey: aIn, tAny: true, tFacts: in}
				}
				e.items = append(e.items, item{ja: f})
				return exits{fKey: aIn, fAny: true, fFacts: in}
			}
		}
		if key != aIn || key == "" || e.plain {
			for _, s := range n.stmts {
				e.items = append(e.items, item{ins: s, stmt: true})
			}
			// A jump that arrives holding this value already enters here.
			e.place(e.newLabel())
		}
		e.items = append(e.items, item{jcond: true, cond: n.cond, k: n.k, useX: n.useX, jt: t, jf: f, akey: key, known: in})
		x := exits{tKey: key, fKey: key, tAny: true, fAny: true, tFacts: in, fFacts: in}
		if !n.useX && key != "" {
			x.tFacts = in.with(fact{key, n.cond, n.k, true})
			x.fFacts = in.with(fact{key, n.cond, n.k, false})
		}
		return x
	case opAnd:
		m := e.newLabel()
		a := e.gen(n.a, m, f, aIn, in)
		e.place(m)
		b := e.gen(n.b, t, f, a.tKey, a.tFacts)
		fk, fAny := meetKey(a.fKey, a.fAny, b.fKey, b.fAny)
		return exits{b.tKey, fk, b.tAny, fAny, b.tFacts, meetFacts(a.fFacts, a.fAny, b.fFacts, b.fAny)}
	case opOr:
		m := e.newLabel()
		a := e.gen(n.a, t, m, aIn, in)
		e.place(m)
		b := e.gen(n.b, t, f, a.fKey, a.fFacts)
		tk, tAny := meetKey(a.tKey, a.tAny, b.tKey, b.tAny)
		return exits{tk, b.fKey, tAny, b.fAny, meetFacts(a.tFacts, a.tAny, b.tFacts, b.tAny), b.fFacts}
	case opNot:
		x := e.gen(n.a, f, t, aIn, in)
		return exits{x.fKey, x.tKey, x.fAny, x.tAny, x.fFacts, x.tFacts}
	case opTrue:
		e.items = append(e.items, item{ja: t})
		return exits{tKey: aIn, tAny: true, tFacts: in}
	default: // opFalse
		e.items = append(e.items, item{ja: f})
		return exits{fKey: aIn, fAny: true, fFacts: in}
	}
}

// maxInsns is the kernel's limit (BPF_MAXINSNS).
const maxInsns = 4096

// assemble lays the tree out as a classic BPF program that returns snap
// for an accepted packet and 0 otherwise.
func assemble(root *node, snap uint32) ([]bpf.Instruction, error) {
	return assembleWith(root, snap, false)
}

// assembleWith can leave the program unoptimised (plain), as the tests
// that check the optimisations change no verdict need.
func assembleWith(root *node, snap uint32, plain bool) ([]bpf.Instruction, error) {
	switch root.op {
	case opTrue:
		return []bpf.Instruction{bpf.RetConstant{Val: snap}}, nil
	case opFalse:
		return nil, ErrRejectsAll
	}
	e := &emitter{plain: plain}
	acc, rej := e.newLabel(), e.newLabel()
	e.gen(root, acc, rej, "", nil)
	e.place(acc)
	e.items = append(e.items, item{ins: bpf.RetConstant{Val: snap}})
	e.place(rej)
	e.items = append(e.items, item{ins: bpf.RetConstant{Val: 0}})
	e.dropJumpsToNext()
	if !plain {
		e.thread()
		e.dropDead()
		e.dropJumpsToNext()
	}
	if n := e.count(); n > maxInsns {
		// Trampolines only add instructions: fail before laying out
		// (quadratic in the worst case) a program that cannot fit.
		return nil, ErrTooLong
	}
	for !e.relax() {
		if e.count() > maxInsns {
			return nil, ErrTooLong
		}
	}
	return e.resolve()
}

// thread retargets each edge of a conditional jump past the tests that
// what is known on that edge decides (libpcap's optimiser does the same):
// the facts of every path to the jump, plus its own outcome. A decided
// test is skipped with its statements; the edge may only land where the
// code does not count on A holding a value it does not hold (a test
// whose reload was skipped), and, when the next test reloads exactly what
// A holds, lands after that reload.
func (e *emitter) thread() {
	at := make(map[int]int, e.labels) // label -> index of its item
	for i, it := range e.items {
		if it.label > 0 {
			at[it.label] = i
		}
	}
	// landing is where a jump to target really continues: past labels,
	// and "ja".
	landing := func(target int) (int, int) {
		for {
			i := at[target]
			for i < len(e.items) && e.items[i].label > 0 {
				i++
			}
			if i < len(e.items) && e.items[i].ja > 0 {
				target = e.items[i].ja
				continue
			}
			return target, i
		}
	}
	follow := func(target int, aKey string, known facts) int {
		safe := target
		for {
			var i int
			target, i = landing(target)
			if i >= len(e.items) {
				return target
			}
			j := i
			for j < len(e.items) && e.items[j].stmt {
				j++
			}
			post := 0 // the label between a test's statements and its jump
			for j < len(e.items) && e.items[j].label > 0 {
				post = e.items[j].label
				j++
			}
			if j >= len(e.items) || !e.items[j].jcond {
				return target // a return: safe
			}
			c := e.items[j]
			reloads := post > 0 && j-1 > i
			if !reloads && c.akey != aKey {
				return safe // the code here counts on A holding c.akey
			}
			safe = target
			if c.useX || c.akey == "" {
				return safe
			}
			d, ok := known.decide(c.akey, c.cond, c.k)
			if !ok {
				if reloads && c.akey == aKey {
					return post // A holds it: skip the reload
				}
				return safe
			}
			// The outcome follows from the facts: nothing new to add.
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
		it.jt = follow(it.jt, it.akey, it.known.with(fact{it.akey, it.cond, it.k, true}))
		it.jf = follow(it.jf, it.akey, it.known.with(fact{it.akey, it.cond, it.k, false}))
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
// Trampolines lengthen other jumps, so it runs until nothing changes.
func (e *emitter) relax() bool {
	lab, pos := e.positions()
	out := make([]item, 0, len(e.items))
	done := true
	for i, it := range e.items {
		if !it.jcond {
			out = append(out, it)
			continue
		}
		farT := lab[it.jt]-pos[i]-1 > 255
		farF := lab[it.jf]-pos[i]-1 > 255
		if !farT && !farF {
			out = append(out, it)
			continue
		}
		done = false
		var tramp []item
		if farT {
			l := e.newLabel()
			tramp = append(tramp, item{label: l}, item{ja: it.jt})
			it.jt = l
		}
		if farF {
			l := e.newLabel()
			tramp = append(tramp, item{label: l}, item{ja: it.jf})
			it.jf = l
		}
		out = append(out, it)
		out = append(out, tramp...)
	}
	e.items = out
	return done
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
