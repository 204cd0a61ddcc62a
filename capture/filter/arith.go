package filter

import (
	"golang.org/x/net/bpf"
)

// aexpr is an arithmetic expression of a relation ("ip[6:2] & 0x1fff").
type aexpr struct {
	op    string // "num", "len", "load", "neg", or a binary operator
	k     uint32 // op "num"
	proto pqual  // op "load"
	idx   *aexpr // op "load": offset
	size  int    // op "load"
	l, r  *aexpr
	tok   token
}

// maxMem is the number of scratch-memory slots (BPF_MEMWORDS).
const maxMem = 16

var relops = map[string]bool{">": true, ">=": true, "=": true, "==": true, "<": true, "<=": true, "!=": true}

// parseRelation is "arith relop arith".
func (c *compiler) parseRelation() (*node, error) {
	l, err := c.parseArith(0)
	if err != nil {
		return nil, err
	}
	opTok := c.peek()
	if opTok.kind != tOp || !relops[opTok.text] {
		return nil, errAt(opTok, ErrSyntax, "expected a comparison (=, !=, <, <=, >, >=)")
	}
	c.next()
	r, err := c.parseArith(0)
	if err != nil {
		return nil, err
	}
	checks := nodeTrue
	lst, lchk, transport, err := c.compileArith(l)
	if err != nil {
		return nil, err
	}
	checks = and(checks, lchk)
	var cond bpf.JumpTest
	negate := false
	switch opTok.text {
	case ">":
		cond = bpf.JumpGreaterThan
	case ">=":
		cond = bpf.JumpGreaterOrEqual
	case "=", "==":
		cond = bpf.JumpEqual
	case "<":
		cond, negate = bpf.JumpGreaterOrEqual, true
	case "<=":
		cond, negate = bpf.JumpGreaterThan, true
	case "!=":
		cond, negate = bpf.JumpEqual, true
	}
	var t *node
	if r.op == "num" {
		t = test(lst, cond, r.k)
	} else {
		slot, err := c.alloc(opTok)
		if err != nil {
			return nil, err
		}
		rst, rchk, rtr, err := c.compileArith(r)
		if err != nil {
			return nil, err
		}
		c.mem--
		transport = transport || rtr
		checks = and(checks, rchk)
		st := append(lst, bpf.StoreScratch{Src: bpf.RegA, N: slot})
		st = append(st, rst...)
		st = append(st, bpf.TAX{}, bpf.LoadScratch{Dst: bpf.RegA, N: slot})
		t = &node{op: opTest, stmts: st, cond: cond, useX: true}
	}
	if negate {
		t = not(t)
	}
	n := and(checks, t)
	// Reading a transport header fails on later fragments whatever the
	// comparison: the relation as a whole is what drops them.
	if transport && n.op != opTrue && n.op != opFalse {
		n.port = true
	}
	return n, nil
}

func (c *compiler) alloc(t token) (int, error) {
	if c.mem >= maxMem {
		return 0, errAt(t, ErrUnsupported, "expression too complex (more than 16 scratch slots)")
	}
	c.mem++
	return c.mem - 1, nil
}

// precedence of binary operators, lowest first, as in libpcap's grammar.
// '%' and '^' have no declared precedence there, so yacc shifts them:
// they take the operand just before them and all the arithmetic after
// ("a * b % c + d" is "a * (b % (c + d))"), and so do we.
var binPrec = map[string]int{"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5}

func (c *compiler) parseArith(minPrec int) (*aexpr, error) {
	l, err := c.parseUnary()
	if err != nil {
		return nil, err
	}
	if t := c.peek(); t.kind == tOp && (t.text == "%" || t.text == "^") {
		c.next()
		r, err := c.parseArith(0)
		if err != nil {
			return nil, err
		}
		return fold(t, l, r)
	}
	for {
		t := c.peek()
		p, ok := binPrec[t.text]
		if t.kind != tOp || !ok || p <= minPrec {
			return l, nil
		}
		c.next()
		r, err := c.parseArith(p)
		if err != nil {
			return nil, err
		}
		l, err = fold(t, l, r)
		if err != nil {
			return nil, err
		}
	}
}

// fold builds a binary node, computing it when both sides are constants;
// constant division by zero and shifts past 31 are errors, as in libpcap.
func fold(t token, l, r *aexpr) (*aexpr, error) {
	if r.op == "num" {
		switch {
		case (t.text == "/" || t.text == "%") && r.k == 0:
			return nil, errAt(t, ErrBadNumber, "division by zero")
		case (t.text == "<<" || t.text == ">>") && r.k > 31:
			return nil, errAt(t, ErrBadNumber, "shift by more than 31 bits")
		}
	}
	if l.op == "num" && r.op == "num" {
		a, b := l.k, r.k
		var v uint32
		switch t.text {
		case "+":
			v = a + b
		case "-":
			v = a - b
		case "*":
			v = a * b
		case "/":
			v = a / b
		case "%":
			v = a % b
		case "&":
			v = a & b
		case "|":
			v = a | b
		case "^":
			v = a ^ b
		case "<<":
			v = a << b
		case ">>":
			v = a >> b
		}
		return &aexpr{op: "num", k: v, tok: t}, nil
	}
	return &aexpr{op: t.text, l: l, r: r, tok: t}, nil
}

func (c *compiler) parseUnary() (*aexpr, error) {
	t := c.peek()
	switch {
	case t.kind == tOp && t.text == "-":
		c.next()
		x, err := c.parseUnary()
		if err != nil {
			return nil, err
		}
		if x.op == "num" {
			return &aexpr{op: "num", k: -x.k, tok: t}, nil
		}
		return &aexpr{op: "neg", l: x, tok: t}, nil
	case t.kind == tOp && t.text == "(":
		// A parenthesis may open arithmetic or a boolean expression: the
		// relation is tried first, so remember where arithmetic failed,
		// or nested parentheses would be re-read at every level.
		if err, ok := c.arithFail[c.pos]; ok {
			return nil, err
		}
		start := c.pos
		c.next()
		x, err := c.parseArith(0)
		if err == nil {
			err = c.expect(")")
		}
		if err != nil {
			if c.arithFail == nil {
				c.arithFail = make(map[int]error)
			}
			c.arithFail[start] = err
			return nil, err
		}
		return x, nil
	case t.kind != tWord:
		return nil, errAt(t, ErrSyntax, "expected a number, len or a protocol[offset]")
	case t.text == "len":
		c.next()
		return &aexpr{op: "len", tok: t}, nil
	}
	if p, ok := pnames[t.text]; ok && c.peekN(1).text == "[" {
		c.next()
		c.next()
		idx, err := c.parseArith(0)
		if err != nil {
			return nil, err
		}
		size := 1
		if c.peek().text == ":" {
			c.next()
			st := c.next()
			n, ok := parseNum(st.text)
			if st.kind != tWord || !ok || (n != 1 && n != 2 && n != 4) {
				return nil, errAt(st, ErrBadNumber, "data size must be 1, 2, or 4")
			}
			size = int(n)
		}
		if err := c.expect("]"); err != nil {
			return nil, err
		}
		switch p {
		case pICMP6, pRARP:
			return nil, errAt(t, ErrUnsupported, t.text+"[...]")
		}
		return &aexpr{op: "load", proto: p, idx: idx, size: size, tok: t}, nil
	}
	v, ok := parseNum(t.text)
	if k, named := namedConsts[t.text]; named {
		v, ok = k, true
	}
	if !ok {
		if isNumberish(t.text) {
			return nil, errAt(t, ErrBadNumber, "")
		}
		return nil, errAt(t, ErrUnknownPrimitive, "")
	}
	c.next()
	return &aexpr{op: "num", k: v, tok: t}, nil
}

// namedConsts are libpcap's names for header fields and flag values.
var namedConsts = map[string]uint32{
	"icmptype": 0, "icmpcode": 1, "tcpflags": 13,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

var aluOps = map[string]bpf.ALUOp{
	"+": bpf.ALUOpAdd, "-": bpf.ALUOpSub, "*": bpf.ALUOpMul, "/": bpf.ALUOpDiv, "%": bpf.ALUOpMod,
	"&": bpf.ALUOpAnd, "|": bpf.ALUOpOr, "^": bpf.ALUOpXor, "<<": bpf.ALUOpShiftLeft, ">>": bpf.ALUOpShiftRight,
}

// compileArith returns statements leaving e in A, the protocol checks that
// must pass before they run (libpcap's arth.b), and whether a transport
// header is read (so later IP fragments never match).
func (c *compiler) compileArith(e *aexpr) ([]bpf.Instruction, *node, bool, error) {
	switch e.op {
	case "num":
		return []bpf.Instruction{bpf.LoadConstant{Dst: bpf.RegA, Val: e.k}}, nodeTrue, false, nil
	case "len":
		return []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtLen}}, nodeTrue, false, nil
	case "neg":
		// 0 - A rather than "neg": the same in the kernel, and x/net/bpf's
		// VM, which tests run programs in, does not implement NegateA.
		st, chk, tr, err := c.compileArith(e.l)
		return append(st, bpf.TAX{}, bpf.LoadConstant{Dst: bpf.RegA, Val: 0}, bpf.ALUOpX{Op: bpf.ALUOpSub}), chk, tr, err
	case "load":
		return c.compileLoad(e)
	}
	lst, lchk, ltr, err := c.compileArith(e.l)
	if err != nil {
		return nil, nil, false, err
	}
	op := aluOps[e.op]
	if e.r.op == "num" {
		return append(lst, bpf.ALUOpConstant{Op: op, Val: e.r.k}), lchk, ltr, nil
	}
	slot, err := c.alloc(e.tok)
	if err != nil {
		return nil, nil, false, err
	}
	rst, rchk, rtr, err := c.compileArith(e.r)
	if err != nil {
		return nil, nil, false, err
	}
	c.mem--
	st := append(lst, bpf.StoreScratch{Src: bpf.RegA, N: slot})
	st = append(st, rst...)
	st = append(st, bpf.TAX{}, bpf.LoadScratch{Dst: bpf.RegA, N: slot}, bpf.ALUOpX{Op: op})
	return st, and(lchk, rchk), ltr || rtr, nil
}

// compileLoad is libpcap's gen_load: proto[idx:size].
func (c *compiler) compileLoad(e *aexpr) ([]bpf.Instruction, *node, bool, error) {
	var (
		base      uint32
		chk       *node
		transport bool
		ipProto   uint32
	)
	switch e.proto {
	case pLink:
		base, chk = 0, nodeTrue
	case pIP:
		base, chk = c.l.offNet, c.linkProto(etherIPv4)
	case pIP6:
		base, chk = c.l.offNet, c.linkProto(etherIPv6)
	case pARP:
		base, chk = c.l.offNet, c.linkProto(etherARP)
	default:
		transport = true
		base = c.l.offNet
		switch e.proto {
		case pTCP:
			ipProto = protoTCP
		case pUDP:
			ipProto = protoUDP
		case pSCTP:
			ipProto = protoSCTP
		case pICMP:
			ipProto = protoICMP
		case pIGMP:
			ipProto = protoIGMP
		}
		// tcpdump reads a transport header of IPv4 only, of the first
		// fragment, behind the variable-length IPv4 header.
		chk = and(c.proto4(ipProto), c.firstFragment())
	}
	var st []bpf.Instruction
	idxChk := nodeTrue
	if e.idx.op == "num" {
		if transport {
			st = []bpf.Instruction{c.ipHeaderLen(), bpf.LoadIndirect{Off: base + e.idx.k, Size: e.size}}
		} else {
			st = []bpf.Instruction{bpf.LoadAbsolute{Off: base + e.idx.k, Size: e.size}}
		}
	} else {
		ist, ichk, itr, err := c.compileArith(e.idx)
		if err != nil {
			return nil, nil, false, err
		}
		idxChk = ichk
		transport = transport || itr
		st = ist
		if ipProto != 0 {
			slot, err := c.alloc(e.tok)
			if err != nil {
				return nil, nil, false, err
			}
			c.mem--
			st = append(st, bpf.StoreScratch{Src: bpf.RegA, N: slot}, c.ipHeaderLen(),
				bpf.LoadScratch{Dst: bpf.RegA, N: slot}, bpf.ALUOpX{Op: bpf.ALUOpAdd})
		}
		st = append(st, bpf.TAX{}, bpf.LoadIndirect{Off: base, Size: e.size})
	}
	return st, and(idxChk, chk), transport, nil
}
