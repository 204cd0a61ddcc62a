package leak

// automaton is an Aho–Corasick automaton over ASCII-case-folded bytes. When
// the transition table fits maxDFA entries it is a full DFA over byte
// classes (one table lookup per input byte); otherwise the goto/fail form is
// scanned with a dense root row, which is still linear in the input.
type automaton struct {
	// goto/fail form
	edgeLo  []int32 // edges of state s are ekey/enext[edgeLo[s]:edgeLo[s+1]]
	ekey    []byte
	enext   []int32
	fail    []int32
	root    [256]int32
	out     []int32 // first pattern ending in state s, -1 if none
	dict    []int32 // next state on the fail chain with an output, -1 if none
	outNext []int32 // for pattern p: next pattern with the same bytes, -1
	// DFA form (nil when too large)
	class   [256]uint8
	nclass  int
	dfa     []int32
	hasOut  []bool
	nstates int
}

// outFlag marks a DFA entry whose target state has an output, so the scan
// loop needs one table lookup per byte.
const outFlag = -1 << 31

// maxDFA bounds the DFA table (int32 entries): 16M entries is 64 MiB.
const maxDFA = 16 << 20

// fold maps ASCII upper case to lower case and keeps every other byte.
var fold = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t[i] = c
	}
	return t
}()

// buildAutomaton builds the automaton for pats (already folded).
func buildAutomaton(pats [][]byte) *automaton {
	type node struct {
		next map[byte]int32
		out  int32
	}
	nodes := []node{{next: map[byte]int32{}, out: -1}}
	outNext := make([]int32, len(pats))
	for p, b := range pats {
		s := int32(0)
		for _, c := range b {
			n, ok := nodes[s].next[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{next: map[byte]int32{}, out: -1})
				nodes[s].next[c] = n
			}
			s = n
		}
		outNext[p] = nodes[s].out
		nodes[s].out = int32(p)
	}
	a := &automaton{nstates: len(nodes), outNext: outNext}
	n := len(nodes)
	a.fail = make([]int32, n)
	a.out = make([]int32, n)
	a.dict = make([]int32, n)
	a.edgeLo = make([]int32, n+1)
	for s := range nodes {
		a.out[s] = nodes[s].out
		a.edgeLo[s] = int32(len(a.ekey))
		for c := 0; c < 256; c++ {
			if t, ok := nodes[s].next[byte(c)]; ok {
				a.ekey = append(a.ekey, byte(c))
				a.enext = append(a.enext, t)
			}
		}
	}
	a.edgeLo[n] = int32(len(a.ekey))
	for c := range a.root {
		a.root[c] = 0
	}
	for i := a.edgeLo[0]; i < a.edgeLo[1]; i++ {
		a.root[a.ekey[i]] = a.enext[i]
	}
	// breadth-first: fail links and dictionary links
	queue := make([]int32, 0, n)
	for i := a.edgeLo[0]; i < a.edgeLo[1]; i++ {
		t := a.enext[i]
		a.fail[t] = 0
		a.dict[t] = -1
		queue = append(queue, t)
	}
	a.dict[0] = -1
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for i := a.edgeLo[s]; i < a.edgeLo[s+1]; i++ {
			c, t := a.ekey[i], a.enext[i]
			f := a.fail[s]
			for {
				if nx, ok := a.step(f, c); ok {
					a.fail[t] = nx
					break
				}
				if f == 0 {
					a.fail[t] = 0
					break
				}
				f = a.fail[f]
			}
			if a.fail[t] == t {
				a.fail[t] = 0
			}
			ft := a.fail[t]
			if a.out[ft] >= 0 {
				a.dict[t] = ft
			} else {
				a.dict[t] = a.dict[ft]
			}
			queue = append(queue, t)
		}
	}
	a.buildDFA()
	return a
}

// step follows the goto edge of s on c.
func (a *automaton) step(s int32, c byte) (int32, bool) {
	if s == 0 {
		t := a.root[c]
		return t, t != 0
	}
	lo, hi := a.edgeLo[s], a.edgeLo[s+1]
	for i := lo; i < hi; i++ {
		if a.ekey[i] == c {
			return a.enext[i], true
		}
	}
	return 0, false
}

// next is the full transition: goto, else fail links.
func (a *automaton) next(s int32, c byte) int32 {
	for {
		if t, ok := a.step(s, c); ok {
			return t
		}
		if s == 0 {
			return 0
		}
		s = a.fail[s]
	}
}

func (a *automaton) buildDFA() {
	var used [256]bool
	for _, c := range a.ekey {
		used[c] = true
	}
	nc := 1 // class 0: bytes in no pattern, always back to the root
	for c := 0; c < 256; c++ {
		if used[c] {
			a.class[c] = uint8(nc)
			nc++
		}
	}
	if nc > 255 {
		// every byte value is used: class = byte + 1 does not fit a uint8;
		// stay with the goto/fail form.
		return
	}
	if a.nstates*nc > maxDFA {
		return
	}
	// input is not folded: upper-case letters share the class of their
	// lower-case form
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	a.nclass = nc
	rep := make([]byte, nc)
	for c := 0; c < 256; c++ {
		if used[c] {
			rep[a.class[c]] = byte(c)
		}
	}
	a.dfa = make([]int32, a.nstates*nc)
	a.hasOut = make([]bool, a.nstates)
	// breadth-first order guarantees fail[s] is done before s
	order := make([]int32, 0, a.nstates)
	order = append(order, 0)
	for k := 0; k < len(order); k++ {
		s := order[k]
		for i := a.edgeLo[s]; i < a.edgeLo[s+1]; i++ {
			order = append(order, a.enext[i])
		}
	}
	for _, s := range order {
		a.hasOut[s] = a.out[s] >= 0 || a.dict[s] >= 0
	}
	for _, s := range order {
		row := a.dfa[int(s)*nc : int(s)*nc+nc]
		for k := 1; k < nc; k++ {
			c := rep[k]
			if t, ok := a.step(s, c); ok {
				// entries hold the target's row offset, not its number:
				// the scan adds the class and loads, no multiply
				row[k] = t * int32(nc)
				if a.hasOut[t] {
					row[k] |= outFlag
				}
			} else if s == 0 {
				row[k] = 0
			} else {
				row[k] = a.dfa[int(a.fail[s])*nc+k]
			}
		}
	}
}
