package sipflow

import (
	"net/netip"
	"strconv"
	"strings"
)

// Filter is a compiled filter expression. The zero Filter matches every
// call. A Filter is immutable and safe for concurrent use.
//
// Grammar (keywords case-insensitive, and binds tighter than or):
//
//	expr   = and { ("or" | "||") and }
//	and    = unary { ["and" | "&&"] unary }     ; juxtaposition means and
//	unary  = ("not" | "!") unary | "(" expr ")" | term
//	term   = column op value
//	op     = "=" | "==" | "!=" | "~" | "!~" | ">" | ">=" | "<" | "<="
//	value  = word | '"' chars '"'              ; \" and \\ escape in quotes
//
// "~" is a case-insensitive substring match. Columns: from, to (user,
// display name; from also PAI), method (any method in the dialog), state,
// type, code (final code), ua, ip (any address seen; "=" accepts a CIDR
// prefix), src, dst, callid, reason, hangup, and the numbers duration,
// setup, pdd (ms), messages, retrans. problem matches the code of any
// problem diagnosed on the call ("problem=one-way-audio", "problem~loss");
// problem alone, with no operator, means "has at least one problem", so
// "not problem" keeps the clean calls.
type Filter struct {
	root *node
	src  string
}

// String returns the source expression.
func (f Filter) String() string { return f.src }

// IsZero reports whether f matches everything because it is empty.
func (f Filter) IsZero() bool { return f.root == nil }

type column uint8

const (
	colFrom column = iota + 1
	colTo
	colMethod
	colState
	colType
	colCode
	colUA
	colIP
	colSrc
	colDst
	colCallID
	colReason
	colHangup
	colDuration
	colSetup
	colPDD
	colMessages
	colRetrans
	colProblem
	colText // a bare word or quoted string: free text on the call's names, IDs and addresses
)

var columnNames = [...]struct {
	name string
	col  column
}{
	{"from", colFrom}, {"to", colTo}, {"method", colMethod}, {"state", colState},
	{"type", colType}, {"code", colCode}, {"ua", colUA}, {"ip", colIP},
	{"src", colSrc}, {"dst", colDst}, {"callid", colCallID}, {"call_id", colCallID},
	{"reason", colReason}, {"hangup", colHangup}, {"duration", colDuration},
	{"setup", colSetup}, {"pdd", colPDD}, {"messages", colMessages}, {"retrans", colRetrans},
	{"problem", colProblem}, {"problems", colProblem},
}

func (c column) numeric() bool {
	switch c {
	case colCode, colDuration, colSetup, colPDD, colMessages, colRetrans:
		return true
	}
	return false
}

type cmpOp uint8

const (
	opEq cmpOp = iota + 1
	opNe
	opContains
	opNotContains
	opGt
	opGe
	opLt
	opLe
	opExists // a column named alone (only problem)
)

type nodeKind uint8

const (
	nodeTerm nodeKind = iota
	nodeAnd
	nodeOr
	nodeNot
)

type node struct {
	kind   nodeKind
	l, r   *node
	col    column
	op     cmpOp
	str    string // lower-cased for ~
	num    int64
	prefix netip.Prefix
	state  State
}

// ParseFilter compiles a filter expression. An empty or all-blank
// expression yields the zero Filter. Errors are *FilterError values that
// unwrap to ErrFilterSyntax, ErrFilterColumn or ErrFilterValue.
func ParseFilter(s string) (Filter, error) {
	p := &parser{s: s}
	p.skip()
	if p.i == len(s) {
		return Filter{src: s}, nil
	}
	n, err := p.expr(0)
	if err != nil {
		return Filter{}, err
	}
	p.skip()
	if p.i < len(s) {
		return Filter{}, p.errf(ErrFilterSyntax, "", "unexpected %q", p.rest())
	}
	return Filter{root: n, src: s}, nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 100

type parser struct {
	s string
	i int
}

func (p *parser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *parser) errf(kind error, col, format string, args ...any) error {
	msg := format
	if len(args) > 0 {
		msg = sprintf(format, args...)
	}
	return &FilterError{Offset: p.i, Column: col, Msg: msg, Err: kind}
}

func (p *parser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// keyword consumes kw if it is next as a whole word (or symbol).
func (p *parser) keyword(kw string) bool {
	p.skip()
	if len(p.s)-p.i < len(kw) || !strings.EqualFold(p.s[p.i:p.i+len(kw)], kw) {
		return false
	}
	end := p.i + len(kw)
	if isWordByte(kw[0]) && end < len(p.s) && isWordByte(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *parser) expr(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errf(ErrFilterSyntax, "", "nesting deeper than %d", maxDepth)
	}
	l, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword("or") || p.keyword("||") {
		r, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		l = &node{kind: nodeOr, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and(depth int) (*node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		if p.keyword("and") || p.keyword("&&") {
			// explicit
		} else {
			p.skip()
			if p.i >= len(p.s) || p.s[p.i] == ')' || p.peekKeyword("or") || strings.HasPrefix(p.s[p.i:], "||") {
				return l, nil
			}
		}
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = &node{kind: nodeAnd, l: l, r: r}
	}
}

func (p *parser) peekKeyword(kw string) bool {
	save := p.i
	ok := p.keyword(kw)
	p.i = save
	return ok
}

func (p *parser) unary(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, p.errf(ErrFilterSyntax, "", "nesting deeper than %d", maxDepth)
	}
	p.skip()
	if p.i >= len(p.s) {
		return nil, p.errf(ErrFilterSyntax, "", "expression expected at end of input")
	}
	if p.keyword("not") || (p.s[p.i] == '!' && (p.i+1 >= len(p.s) || p.s[p.i+1] != '=' && p.s[p.i+1] != '~') && p.keyword("!")) {
		n, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeNot, l: n}, nil
	}
	if p.s[p.i] == '(' {
		open := p.i
		p.i++
		n, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skip()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			p2 := *p
			p2.i = open
			return nil, p2.errf(ErrFilterSyntax, "", "unbalanced '('")
		}
		p.i++
		return n, nil
	}
	return p.term()
}

func (p *parser) term() (*node, error) {
	start := p.i
	if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
		// A quoted string alone is free text, as in sngrep.
		val, err := p.value("")
		if err != nil {
			return nil, err
		}
		return &node{kind: nodeTerm, col: colText, op: opContains, str: strings.ToLower(val)}, nil
	}
	for p.i < len(p.s) && isWordByte(p.s[p.i]) {
		p.i++
	}
	word := p.s[start:p.i]
	name := strings.ToLower(word)
	if name == "" || name == "and" || name == "or" {
		p.i = start
		return nil, p.errf(ErrFilterSyntax, "", "a column, a word or a quoted string expected, found %q", p.rest())
	}
	var col column
	for _, c := range columnNames {
		if c.name == name {
			col = c.col
		}
	}
	if col == 0 {
		// A bare word not followed by an operator is free text (9055,
		// alice, 10.0.0.1, bob@example.com): what an sngrep user types.
		// Followed by an operator it was meant as a column.
		for p.i < len(p.s) && !strings.ContainsRune(" \t()=!~<>\"'", rune(p.s[p.i])) {
			p.i++
		}
		text := p.s[start:p.i]
		save := p.i
		p.skip()
		if p.op() == 0 {
			p.i = save
			return &node{kind: nodeTerm, col: colText, op: opContains, str: strings.ToLower(text)}, nil
		}
		p.i = start
		return nil, p.errf(ErrFilterColumn, word, "unknown column (columns: %s)", columnList())
	}
	p.skip()
	opAt := p.i
	op := p.op()
	if op == 0 && col == colProblem {
		return &node{kind: nodeTerm, col: col, op: opExists}, nil
	}
	if op == 0 {
		return nil, p.errf(ErrFilterSyntax, name, "operator expected (= != ~ !~ > >= < <=), found %q", p.rest())
	}
	p.skip()
	valAt := p.i
	val, err := p.value(name)
	if err != nil {
		return nil, err
	}
	n := &node{kind: nodeTerm, col: col, op: op}
	at := func(i int) *parser { q := *p; q.i = i; return &q }
	if col.numeric() {
		if op == opContains || op == opNotContains {
			return nil, at(opAt).errf(ErrFilterSyntax, name, "~ is not defined on a number column")
		}
		v, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return nil, at(valAt).errf(ErrFilterValue, name, "number expected, found %q", val)
		}
		n.num = v
		return n, nil
	}
	if op >= opGt {
		return nil, at(opAt).errf(ErrFilterSyntax, name, "ordering operators need a number column")
	}
	switch col {
	case colState:
		if op == opEq || op == opNe {
			st, ok := ParseState(val)
			if !ok {
				return nil, at(valAt).errf(ErrFilterValue, name, "unknown state %q", val)
			}
			n.state = st
			return n, nil
		}
	case colIP:
		if op == opEq || op == opNe {
			if strings.Contains(val, "/") {
				pr, err := netip.ParsePrefix(val)
				if err != nil {
					return nil, at(valAt).errf(ErrFilterValue, name, "bad address prefix %q", val)
				}
				n.prefix = pr.Masked()
			} else {
				a, err := netip.ParseAddr(val)
				if err != nil {
					return nil, at(valAt).errf(ErrFilterValue, name, "bad address %q", val)
				}
				n.prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			return n, nil
		}
	}
	n.str = val
	if op == opContains || op == opNotContains {
		n.str = strings.ToLower(val)
	}
	return n, nil
}

func (p *parser) op() cmpOp {
	two := ""
	if p.i+2 <= len(p.s) {
		two = p.s[p.i : p.i+2]
	}
	switch two {
	case "==":
		p.i += 2
		return opEq
	case "!=":
		p.i += 2
		return opNe
	case "!~":
		p.i += 2
		return opNotContains
	case ">=":
		p.i += 2
		return opGe
	case "<=":
		p.i += 2
		return opLe
	}
	if p.i >= len(p.s) {
		return 0
	}
	switch p.s[p.i] {
	case '=':
		p.i++
		return opEq
	case '~':
		p.i++
		return opContains
	case '>':
		p.i++
		return opGt
	case '<':
		p.i++
		return opLt
	}
	return 0
}

func (p *parser) value(col string) (string, error) {
	if p.i >= len(p.s) {
		return "", p.errf(ErrFilterSyntax, col, "value expected at end of input")
	}
	if p.s[p.i] == '"' {
		open := p.i
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
				continue
			}
			if c == '"' {
				p.i++
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		p.i = open
		return "", p.errf(ErrFilterSyntax, col, "unterminated quoted value")
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' && p.s[p.i] != ')' && p.s[p.i] != '(' {
		p.i++
	}
	if p.i == start {
		return "", p.errf(ErrFilterSyntax, col, "value expected, found %q", p.rest())
	}
	return p.s[start:p.i], nil
}

// Match reports whether the call matches. A nil summary never matches a
// non-empty filter.
func (f Filter) Match(c *CallSummary) bool {
	if f.root == nil {
		return true
	}
	if c == nil {
		return false
	}
	return f.root.match(c)
}

func (n *node) match(c *CallSummary) bool {
	switch n.kind {
	case nodeAnd:
		return n.l.match(c) && n.r.match(c)
	case nodeOr:
		return n.l.match(c) || n.r.match(c)
	case nodeNot:
		return !n.l.match(c)
	}
	if n.op == opNe || n.op == opNotContains {
		return !n.positive(c)
	}
	return n.positive(c)
}

// positive evaluates the term with != and !~ turned into = and ~, so a
// multi-valued column (method, ua, ip) negates as "none of them".
func (n *node) positive(c *CallSummary) bool {
	switch n.col {
	case colFrom:
		return n.str3(c.From, c.FromDisplay, c.PAI)
	case colTo:
		return n.str3(c.To, c.ToDisplay, "")
	case colMethod:
		for _, m := range c.Methods {
			if n.strMatch(m) {
				return true
			}
		}
		return n.strMatch(c.Type)
	case colState:
		if n.state != 0 {
			return c.State == n.state
		}
		return n.strMatch(c.State.String())
	case colType:
		return n.strMatch(c.Type)
	case colUA:
		for _, u := range c.UserAgents {
			if n.strMatch(u) {
				return true
			}
		}
		return false
	case colIP:
		for _, a := range c.IPs {
			if n.prefix.IsValid() {
				if n.prefix.Contains(a.Unmap()) {
					return true
				}
			} else if n.strMatch(a.String()) {
				return true
			}
		}
		return false
	case colSrc:
		return n.strMatch(c.Src.String())
	case colDst:
		return n.strMatch(c.Dst.String())
	case colCallID:
		return n.strMatch(c.CallID)
	case colReason:
		return n.strMatch(c.Reason)
	case colHangup:
		return n.strMatch(c.HangupBy)
	case colCode:
		return n.numMatch(int64(c.FinalCode))
	case colDuration:
		return n.numMatch(c.DurationMS)
	case colSetup:
		return n.numMatch(c.SetupMS)
	case colPDD:
		return n.numMatch(c.PDDMS)
	case colMessages:
		return n.numMatch(int64(c.Messages))
	case colRetrans:
		return n.numMatch(int64(c.Retransmissions))
	case colText:
		if n.str3(c.From, c.FromDisplay, c.PAI) || n.str3(c.To, c.ToDisplay, c.CallID) ||
			n.strMatch(c.Src.String()) || n.strMatch(c.Dst.String()) {
			return true
		}
		for _, a := range c.IPs {
			if n.strMatch(a.String()) {
				return true
			}
		}
		for _, u := range c.UserAgents {
			if n.strMatch(u) {
				return true
			}
		}
		return false
	case colProblem:
		if n.op == opExists {
			return len(c.Problems) > 0
		}
		for _, p := range c.Problems {
			if n.strMatch(p.Code) {
				return true
			}
		}
		return false
	}
	return false
}

func (n *node) str3(a, b, c string) bool {
	return n.strMatch(a) || b != "" && n.strMatch(b) || c != "" && n.strMatch(c)
}

func (n *node) strMatch(v string) bool {
	switch n.op {
	case opContains, opNotContains:
		return containsFoldString(v, n.str)
	}
	return strings.EqualFold(v, n.str)
}

func (n *node) numMatch(v int64) bool {
	switch n.op {
	case opEq:
		return v == n.num
	case opNe:
		return v == n.num // negated by match
	case opGt:
		return v > n.num
	case opGe:
		return v >= n.num
	case opLt:
		return v < n.num
	case opLe:
		return v <= n.num
	}
	return false
}

// containsFoldString reports whether lower (already lower-case ASCII) is a
// substring of v, ignoring ASCII case, without allocating.
func containsFoldString(v, lower string) bool {
	if lower == "" {
		return true
	}
	for i := 0; i+len(lower) <= len(v); i++ {
		ok := true
		for j := 0; j < len(lower); j++ {
			c := v[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// columnList names the filter's columns for error hints.
func columnList() string {
	var names []string
	for _, c := range columnNames {
		if c.name == "call_id" || c.name == "problems" {
			continue // aliases
		}
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}
