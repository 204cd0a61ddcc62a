package siplex

import "bytes"

// Version is the SIP-Version of RFC 3261 7.1, compared case-insensitively.
const Version = "SIP/2.0"

// IsToken reports whether c is a token character (RFC 3261 25.1).
func IsToken(c byte) bool { return class[c]&classToken != 0 }

// Character classes of class: a table lookup instead of a chain of
// comparisons, since every byte of a header name and of the LWS around
// each value is classified.
const (
	classToken = 1 << iota // token (RFC 3261 25.1)
	classLWS               // SP, HTAB, CR, LF
)

// class holds the classes of every byte; built once, read-only after.
var class = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= classToken
		t[c-'a'+'A'] |= classToken
	}
	for c := '0'; c <= '9'; c++ {
		t[c] |= classToken
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] |= classToken
	}
	for _, c := range " \t\r\n" {
		t[c] |= classLWS
	}
	return t
}()

// IsDigit reports whether c is an ASCII digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// Lower folds an ASCII upper-case letter to lower case.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// EqualFold compares b and s ASCII case-insensitively.
func EqualFold(b []byte, s string) bool {
	// Inline, with the spelling nearly every sender uses compared
	// first: for the constant s of most callers, the compiler makes
	// that a word compare or two, without a call.
	return len(b) == len(s) && (string(b) == s || equalFold(b, s))
}

// equalFold is EqualFold for b and s of one length.
func equalFold(b []byte, s string) bool {
	// Word compares first (the last word overlapping the one before):
	// names are nearly always spelt as the RFCs spell them, and a byte
	// loop over them was a tenth of parsing a message. A difference in
	// case falls through to the byte loop.
	n := len(b)
	switch {
	case n >= 8:
		i := 0
		for ; i+8 <= n; i += 8 {
			if load64(b[i:]) != load64s(s[i:]) {
				break
			}
		}
		if i+8 > n && load64(b[n-8:]) == load64s(s[n-8:]) {
			return true
		}
	case n >= 4:
		if load32(b) == load32s(s) && load32(b[n-4:]) == load32s(s[n-4:]) {
			return true
		}
	}
	for i := 0; i < n; i++ {
		if x, y := b[i], s[i]; x != y && Lower(x) != Lower(y) {
			return false
		}
	}
	return true
}

// load64 and load64s read eight bytes little-endian; the compiler makes
// each one load.
func load64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func load64s(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func load32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func load32s(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// HasPrefixFold reports whether b starts with s, ASCII case-insensitively.
func HasPrefixFold(b []byte, s string) bool {
	// equalFold, not EqualFold: inline here, EqualFold's exact compare
	// with s (no longer a constant) would be a runtime call.
	return len(b) >= len(s) && equalFold(b[:len(s)], s)
}

// ContainsFold reports whether s occurs in b, ASCII case-insensitively.
func ContainsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// IsLWS reports linear white space (RFC 3261 25.1): SP, HTAB, and the CR
// and LF of a folded line.
func IsLWS(c byte) bool { return c <= ' ' && class[c]&classLWS != 0 } // one comparison for the usual byte

// TrimLWS trims linear white space at both ends.
func TrimLWS(b []byte) []byte {
	for len(b) > 0 && IsLWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && IsLWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// NextLine returns the line of b starting at i without its CRLF (a bare
// LF is accepted, RFC 3261 7.5) and the index after the terminator. When
// no LF follows, line is the rest of b, next is len(b) and terminated is
// false.
func NextLine(b []byte, i int) (line []byte, next int, terminated bool) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		line, next = b[i:], len(b)
	} else {
		line, next, terminated = b[i:i+j], i+j+1, true
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, next, terminated
}

// SplitHeader splits a header field "name: value" (RFC 3261 7.3.1: a
// token, optional white space, a colon). Name and value are trimmed of
// linear white space; ok is false for a line that is not a header field.
func SplitHeader(line []byte) (name, value []byte, ok bool) {
	name, value, ok = CutHeader(line)
	if !ok || !IsTokens(name) {
		return nil, nil, false
	}
	return name, value, true
}

// CutHeader is SplitHeader without the check that the name is a token:
// for a caller that first compares the name with names it knows (all
// tokens) and checks only a name it does not know with IsTokens.
func CutHeader(line []byte) (name, value []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon < 1 {
		return nil, nil, false
	}
	name = TrimLWS(line[:colon])
	if len(name) == 0 {
		return nil, nil, false
	}
	return name, TrimLWS(line[colon+1:]), true
}

// IsTokens reports whether every byte of b is a token character.
func IsTokens(b []byte) bool {
	for _, c := range b {
		if class[c]&classToken == 0 {
			return false
		}
	}
	return true
}

// StatusLine reports whether line (without its terminator) is a
// Status-Line: "SIP/2.0 SP 3DIGIT SP Reason-Phrase" (RFC 3261 7.2), the
// version compared case-insensitively as tshark does, and the reason
// phrase with its SP optional (some stacks omit it).
func StatusLine(line []byte) bool {
	if len(line) < len(Version)+4 || !HasPrefixFold(line, Version) || line[len(Version)] != ' ' {
		return false
	}
	r := line[len(Version)+1:]
	if !IsDigit(r[0]) || !IsDigit(r[1]) || !IsDigit(r[2]) {
		return false
	}
	return len(r) == 3 || r[3] == ' '
}

// RequestLine splits a Request-Line "Method SP Request-URI SP SIP/2.0"
// (RFC 3261 7.1), line without its terminator: the method is a token,
// the URI is everything between the first and the last space and not
// empty, and the version is compared case-insensitively. Callers that
// need more (a scheme in the URI, an upper-case method) check the parts.
func RequestLine(line []byte) (method, uri []byte, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 1 {
		return nil, nil, false
	}
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp2 <= sp+1 || !EqualFold(line[sp2+1:], Version) {
		return nil, nil, false
	}
	for _, c := range line[:sp] {
		if !IsToken(c) {
			return nil, nil, false
		}
	}
	return line[:sp], line[sp+1 : sp2], true
}
