package filter

import (
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// pqual is a protocol qualifier or abbreviation.
type pqual uint8

const (
	pDefault pqual = iota
	pIP
	pIP6
	pTCP
	pUDP
	pSCTP
	pICMP
	pICMP6
	pIGMP
	pARP
	pRARP
	pLink // "ether", "link": only for byte loads
)

var pnames = map[string]pqual{
	"ip": pIP, "ip6": pIP6, "tcp": pTCP, "udp": pUDP, "sctp": pSCTP,
	"icmp": pICMP, "icmp6": pICMP6, "igmp": pIGMP, "arp": pARP, "rarp": pRARP,
	"ether": pLink, "link": pLink,
}

// aqual is an address-type qualifier.
type aqual uint8

const (
	aDefault aqual = iota
	aHost
	aNet
	aPort
	aPortRange
	aProto
)

var aquals = map[string]aqual{"host": aHost, "net": aNet, "port": aPort, "portrange": aPortRange, "proto": aProto}

// qual is the qualifiers in force for an ID: those of its head, or,
// for an ID standing alone after "and"/"or" ("port 5060 or 5061"), those
// of the term before it, as in libpcap's grammar.
type qual struct {
	valid bool
	proto pqual
	dir   dir
	addr  aqual
}

// keywords that start no ID; unsupported ones get a precise error.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "src": true, "dst": true, "vlan": true,
	"greater": true, "less": true, "len": true, "mask": true, "broadcast": true, "multicast": true,
}

var unsupported = map[string]bool{
	"gateway": true, "mpls": true, "pppoed": true,
	"pppoes": true, "geneve": true, "vxlan": true, "inbound": true, "outbound": true,
	"ifindex": true, "protochain": true, "igrp": true, "pim": true, "vrrp": true,
	"carp": true, "ah": true, "esp": true, "atalk": true, "aarp": true, "decnet": true,
	"iso": true, "esis": true, "isis": true, "clnp": true, "stp": true, "ipx": true,
	"netbeui": true, "llc": true, "wlan": true, "fddi": true, "tr": true, "ppp": true,
	"type": true, "subtype": true, "dir": true, "radio": true, "lat": true, "sca": true,
	"moprc": true, "mopdl": true, "atm": true, "addr1": true, "addr2": true, "addr3": true,
	"addr4": true, "ra": true, "ta": true, "iso8473": true, "l1": true, "l2": true,
}

// services are the few service names accepted after "port", the same
// number over TCP and UDP (tcpdump reads them from /etc/services).
var services = map[string]uint32{"sip": 5060, "sip-tls": 5061, "domain": 53}

type compiler struct {
	l    link
	toks []token
	pos  int
	q    qual
	mem  int // scratch-memory slots in use

	arithFail map[int]error // token positions where "(" arithmetic failed
}

func (c *compiler) peek() token { return c.toks[c.pos] }
func (c *compiler) peekN(n int) token {
	if c.pos+n < len(c.toks) {
		return c.toks[c.pos+n]
	}
	return c.toks[len(c.toks)-1]
}
func (c *compiler) next() token {
	t := c.toks[c.pos]
	if t.kind != tEOF {
		c.pos++
	}
	return t
}

func errAt(t token, err error, detail string) error {
	return &SyntaxError{Offset: t.off, Token: t.text, Err: err, Detail: detail}
}

func isAnd(t token) bool { return t.text == "and" || t.text == "&&" }
func isOr(t token) bool  { return t.text == "or" || t.text == "||" }
func isNot(t token) bool { return t.text == "not" || t.text == "!" }

// parse is the whole expression: an empty one accepts everything.
func (c *compiler) parse() (*node, error) {
	if c.peek().kind == tEOF {
		return nodeTrue, nil
	}
	n, err := c.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := c.peek(); t.kind != tEOF {
		return nil, errAt(t, ErrSyntax, "unexpected token")
	}
	return n, nil
}

// parseExpr: "and" and "or" have the same precedence and associate to
// the left, as in tcpdump ("a or b and c" is "(a or b) and c").
func (c *compiler) parseExpr() (*node, error) {
	left, err := c.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		t := c.peek()
		if !isAnd(t) && !isOr(t) {
			return left, nil
		}
		c.next()
		var right *node
		if c.idStartAt(c.pos) && (c.q.valid || !looksLikeName(c.peek().text)) {
			right, err = c.parseID(c.q)
		} else {
			right, err = c.parseTerm()
		}
		if err != nil {
			return nil, err
		}
		if isAnd(t) {
			left = and(left, right)
		} else {
			left = or(left, right)
		}
	}
}

// idStartAt reports whether an ID (a value without qualifiers) starts at
// token i: a word that is no keyword and does not begin an arithmetic
// relation, or "not"/"(" before one.
func (c *compiler) idStartAt(i int) bool {
	if i >= len(c.toks) {
		return false
	}
	t := c.toks[i]
	switch {
	case isNot(t), t.text == "(":
		return c.idStartAt(i + 1)
	case t.kind != tWord, keywords[t.text], pnames[t.text] != pDefault, aquals[t.text] != aDefault, unsupported[t.text]:
		return false
	}
	if i+1 < len(c.toks) {
		n := c.toks[i+1]
		if n.kind == tOp && n.text != "(" && n.text != ")" && n.text != "!" && n.text != "&&" && n.text != "||" && n.text != "/" {
			return false // a number in an arithmetic relation
		}
	}
	return true
}

func (c *compiler) parseTerm() (*node, error) {
	if isNot(c.peek()) {
		c.next()
		n, err := c.parseTerm()
		if err != nil {
			return nil, err
		}
		return not(n), nil
	}
	return c.parseRTerm()
}

func (c *compiler) parseRTerm() (*node, error) {
	t := c.peek()
	if t.text == "(" {
		save, saveQ := c.pos, c.q
		if n, err := c.parseRelation(); err == nil {
			c.q = qual{}
			return n, nil
		}
		c.pos, c.mem = save, 0
		c.next()
		n, err := c.parseExpr()
		if err != nil {
			return nil, err
		}
		if e := c.expect(")"); e != nil {
			return nil, e
		}
		c.q = saveQ
		return n, nil
	}
	if t.text == "-" {
		c.q = qual{}
		return c.parseRelation()
	}
	if t.kind != tWord {
		return nil, errAt(t, ErrSyntax, "expected a primitive")
	}
	w := t.text
	if p, ok := pnames[w]; ok {
		n1 := c.peekN(1)
		if n1.text == "[" {
			c.q = qual{}
			return c.parseRelation()
		}
		if n1.text == "src" || n1.text == "dst" || aquals[n1.text] != aDefault {
			return c.parseHead()
		}
		if n1.text == "broadcast" || n1.text == "multicast" {
			c.next()
			c.next()
			c.q = qual{}
			return c.castTest(p, n1.text == "multicast", n1)
		}
		c.next()
		c.q = qual{}
		return c.protoAbbrev(p, t)
	}
	switch {
	case w == "src" || w == "dst" || aquals[w] != aDefault:
		return c.parseHead()
	case w == "broadcast" || w == "multicast":
		c.next()
		c.q = qual{}
		return c.castTest(pDefault, w == "multicast", t)
	case w == "vlan":
		c.next()
		c.q = qual{}
		return c.parseVLAN(t)
	case w == "greater" || w == "less":
		c.next()
		c.q = qual{}
		nt := c.next()
		v, ok := parseNum(nt.text)
		if nt.kind != tWord || !ok {
			return nil, errAt(nt, ErrBadNumber, "expected a length after "+w)
		}
		load := []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtLen}}
		if w == "greater" {
			return test(load, bpf.JumpGreaterOrEqual, v), nil
		}
		return not(test(load, bpf.JumpGreaterThan, v)), nil
	case w == "len" || isNumberish(w):
		c.q = qual{}
		return c.parseRelation()
	case unsupported[w]:
		return nil, errAt(t, ErrUnsupported, "")
	case keywords[w]:
		return nil, errAt(t, ErrSyntax, "unexpected keyword")
	}
	return nil, errAt(t, ErrUnknownPrimitive, "")
}

func (c *compiler) expect(s string) error {
	t := c.peek()
	if t.text != s || t.kind == tEOF {
		return errAt(t, ErrSyntax, "expected \""+s+"\"")
	}
	c.next()
	return nil
}

// parseHead reads [proto] [src|dst|src or dst|src and dst] [host|net|port|portrange|proto] ID.
func (c *compiler) parseHead() (*node, error) {
	q := qual{valid: true}
	if p, ok := pnames[c.peek().text]; ok {
		q.proto = p
		c.next()
	}
	switch c.peek().text {
	case "src", "dst":
		first := c.next().text
		q.dir = dirSrc
		if first == "dst" {
			q.dir = dirDst
		}
		if o := c.peek(); (isAnd(o) || isOr(o)) && (c.peekN(1).text == "src" || c.peekN(1).text == "dst") && c.peekN(1).text != first {
			c.next()
			c.next()
			q.dir = dirDefault
			if isAnd(o) {
				q.dir = dirAnd
			}
		}
	}
	if a, ok := aquals[c.peek().text]; ok {
		q.addr = a
		c.next()
	}
	c.q = q
	return c.parseID(q)
}

// parseID is an ID, "not ID", or a parenthesised list of IDs joined by
// and/or, all under the same qualifiers ("host (a or b)").
func (c *compiler) parseID(q qual) (*node, error) {
	t := c.peek()
	switch {
	case isNot(t):
		c.next()
		n, err := c.parseID(q)
		if err != nil {
			return nil, err
		}
		return not(n), nil
	case t.text == "(" && t.kind == tOp:
		c.next()
		n, err := c.parseID(q)
		if err != nil {
			return nil, err
		}
		for isAnd(c.peek()) || isOr(c.peek()) {
			op := c.next()
			m, err := c.parseID(q)
			if err != nil {
				return nil, err
			}
			if isAnd(op) {
				n = and(n, m)
			} else {
				n = or(n, m)
			}
		}
		if err := c.expect(")"); err != nil {
			return nil, err
		}
		return n, nil
	case t.kind != tWord || keywords[t.text] || pnames[t.text] != pDefault || aquals[t.text] != aDefault:
		return nil, errAt(t, ErrSyntax, "expected an address, number or name")
	}
	c.next()
	if !q.valid {
		return nil, errAt(t, ErrSyntax, "a value needs a qualifier such as host or port")
	}
	return c.value(q, t)
}

// parseNum reads a number as libpcap does: decimal, 0x hex or 0 octal,
// at most 32 bits.
func parseNum(s string) (uint32, bool) {
	base := 10
	switch {
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, base, 32)
	return uint32(v), err == nil
}

func isNumberish(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// parseDotted reads N, N.N, N.N.N or N.N.N.N (libpcap's atoin): the value
// right-aligned and its length in bits.
func parseDotted(s string) (v uint32, bits int, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, 0, false
	}
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil || p == "" {
			return 0, 0, false
		}
		v = v<<8 | uint32(n)
	}
	return v, 8 * len(parts), true
}

// looksLikeName: a word that is neither a number nor an address, so after
// "and"/"or" with no qualifiers to inherit it is more likely a misspelt
// primitive than a value.
func looksLikeName(w string) bool {
	return !isNumberish(w) && strings.IndexByte(w, ':') < 0
}
