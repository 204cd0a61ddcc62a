package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// DefaultSnapLen is what an accepted packet's program returns when
// Compile is given no snap length (tcpdump's default).
const DefaultSnapLen = 262144

// Compile compiles a tcpdump filter expression into a classic BPF program
// for packets of the given link type (a tcpdump.org LINKTYPE_ value, as in
// pcap.LinkType). Accepted packets return snaplen (DefaultSnapLen if
// snaplen <= 0), rejected ones 0. An empty expression accepts everything.
func Compile(expr string, linkType uint32, snaplen int) ([]bpf.RawInstruction, error) {
	prog, err := CompileInstructions(expr, linkType, snaplen)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter: assemble: %w", err)
	}
	return raw, nil
}

// CompileInstructions is Compile returning the program as x/net/bpf
// instructions (readable, or to run in bpf.NewVM).
func CompileInstructions(expr string, linkType uint32, snaplen int) ([]bpf.Instruction, error) {
	l, err := linkFor(linkType)
	if err != nil {
		return nil, err
	}
	root, err := parse(expr, l)
	if err != nil {
		return nil, err
	}
	snap := uint32(DefaultSnapLen)
	if snaplen > 0 {
		snap = uint32(snaplen)
	}
	prog, err := assemble(root, snap)
	if err != nil {
		return nil, fmt.Errorf("%w on %s", err, l.name)
	}
	return prog, nil
}

func parse(expr string, l link) (*node, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	c := &compiler{l: l, toks: toks}
	return c.parse()
}

// FragmentWarning reports whether expr tests UDP/TCP/SCTP ports (or reads
// a transport header) in a way that drops IP fragments: IPv4 fragments
// after the first carry no transport header, and tcpdump's port tests
// never match IPv6 fragments (next header 44) at all, so a fragmented SIP
// message over UDP loses its tail or all of it. The hint says how to keep
// them, with the expression WithFragments returns. Expressions that do
// not compile give no warning (Compile reports their error).
func FragmentWarning(expr string) (string, bool) {
	l, _ := linkFor(LinkTypeEthernet)
	root, err := parse(expr, l)
	if err != nil || !positivePort(root, false) {
		return "", false
	}
	return fmt.Sprintf("filter %q drops IPv4 fragments after the first (they carry no transport header) "+
		"and every IPv6 fragment (port tests do not look past the fragment header), so fragmented SIP is lost; "+
		"to keep fragments use %q", expr, WithFragments(expr)), true
}

// WithFragments widens expr to also accept every IPv4 fragment but the
// first (the first matches expr itself) and every IPv6 fragment.
func WithFragments(expr string) string {
	return "(" + expr + ") or (ip[6:2] & 0x1fff != 0) or (ip6[6] = 44)"
}

// positivePort reports whether a port test is reached with positive
// polarity (an even number of "not" above it): only then does failing it
// for a fragment drop the fragment.
func positivePort(n *node, neg bool) bool {
	if n.port && !neg {
		return true
	}
	switch n.op {
	case opNot:
		return positivePort(n.a, !neg)
	case opAnd, opOr:
		return positivePort(n.a, neg) || positivePort(n.b, neg)
	}
	return false
}
