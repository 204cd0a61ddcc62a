package siplex

import "bytes"

// Version is the SIP-Version of RFC 3261 7.1, compared case-insensitively.
const Version = "SIP/2.0"

// IsToken reports whether c is a token character (RFC 3261 25.1).
func IsToken(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

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
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if x, y := b[i], s[i]; x != y && Lower(x) != Lower(y) {
			return false
		}
	}
	return true
}

// HasPrefixFold reports whether b starts with s, ASCII case-insensitively.
func HasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && EqualFold(b[:len(s)], s)
}

// ContainsFold reports whether s occurs in b, ASCII case-insensitively.
func ContainsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if EqualFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// IsLWS reports linear white space (RFC 3261 25.1): SP, HTAB, and the CR
// and LF of a folded line.
func IsLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

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
	colon := bytes.IndexByte(line, ':')
	if colon < 1 {
		return nil, nil, false
	}
	name = TrimLWS(line[:colon])
	if len(name) == 0 {
		return nil, nil, false
	}
	for _, c := range name {
		if !IsToken(c) {
			return nil, nil, false
		}
	}
	return name, TrimLWS(line[colon+1:]), true
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
