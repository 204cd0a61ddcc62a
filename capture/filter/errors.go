package filter

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compile wraps them in a *SyntaxError that names the
// offending token and its byte offset; test with errors.Is.
var (
	// ErrSyntax: the expression does not follow tcpdump's grammar.
	ErrSyntax = errors.New("filter: syntax error")
	// ErrUnknownPrimitive: a word where a primitive was expected is none we know.
	ErrUnknownPrimitive = errors.New("filter: unknown primitive")
	// ErrBadAddress: an IPv4/IPv6 address, prefix or mask is malformed,
	// or has host bits set beyond its prefix.
	ErrBadAddress = errors.New("filter: bad address")
	// ErrBadNumber: a number, port, port range, VLAN ID, size or shift is
	// malformed or out of range.
	ErrBadNumber = errors.New("filter: bad number")
	// ErrQualifier: qualifiers that do not go together ("ip port 80",
	// "host 10.0.0.0/8", "tcp host ...").
	ErrQualifier = errors.New("filter: illegal qualifier")
	// ErrUnsupported: valid tcpdump syntax this compiler does not implement
	// (host names, most service names, 802.11, MPLS, ...).
	ErrUnsupported = errors.New("filter: not supported")
	// ErrLinkType: the link type is not one we compile for, or the
	// primitive makes no sense on it ("vlan" on Linux cooked or raw IP).
	ErrLinkType = errors.New("filter: unsupported link type")
	// ErrRejectsAll: the expression can match no packet on this link type
	// ("arp" on raw IP); tcpdump refuses these too.
	ErrRejectsAll = errors.New("filter: expression rejects all packets")
	// ErrTooLong: the program exceeds the kernel's 4096 instructions.
	ErrTooLong = errors.New("filter: program too long")
	// ErrNoLibpcap: CompileLibpcap in a build without -tags libpcap and cgo.
	ErrNoLibpcap = errors.New("filter: built without libpcap (go build -tags libpcap, with cgo and libpcap-dev)")
)

// SyntaxError locates a compile error in the expression.
type SyntaxError struct {
	Offset int    // byte offset of Token in the expression
	Token  string // the offending token; "" at the end of the expression
	Detail string // optional detail after the reason
	Err    error  // one of the sentinels above
}

func (e *SyntaxError) Error() string {
	reason := strings.TrimPrefix(e.Err.Error(), "filter: ")
	if e.Detail != "" {
		reason += ": " + e.Detail
	}
	tok := fmt.Sprintf("%q", e.Token)
	if e.Token == "" {
		tok = "end of expression"
	}
	return fmt.Sprintf("filter: at offset %d (%s): %s", e.Offset, tok, reason)
}

func (e *SyntaxError) Unwrap() error { return e.Err }
