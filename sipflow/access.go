package sipflow

import "github.com/voiptool/voiptool/internal/siplex"

// Exported entry points to the parser's pieces, for packages that rewrite
// messages (internal/anon): they locate fields with the one SIP parser
// instead of a second one. Every returned slice aliases its input.

// ParseURI parses a SIP, SIPS or TEL URI; ok as for a Request-URI.
func ParseURI(b []byte) (u URI, ok bool) {
	ok = u.parse(b)
	return u, ok
}

// ParseNameAddr parses one name-addr or addr-spec with its header
// parameters (one element of From, To, Contact, Route ...).
func ParseNameAddr(b []byte) (n NameAddr, ok bool) {
	ok = n.parse(b)
	return n, ok
}

// ParseVia parses one via-parm.
func ParseVia(b []byte) (v Via, ok bool) {
	ok = v.parse(b)
	return v, ok
}

// NextElem splits a comma-separated header value at the first comma outside
// a quoted string or <...>; elem is trimmed.
func NextElem(v []byte) (elem, rest []byte) { return nextElem(v) }

// NextLine returns the line starting at i without its CRLF (or bare LF) and
// the index after the terminator.
func NextLine(b []byte, i int) (line []byte, next int) {
	line, next, _ = siplex.NextLine(b, i)
	return line, next
}

// Field returns the first run of non-white-space bytes of b and the rest.
func Field(b []byte) (f, rest []byte) { return field(b) }

// Offset returns the position in base of sub, a slice that aliases base (as
// every field of a decoded Message aliases Message.Raw), or -1 when sub is
// empty or does not lie within base. It uses only the slices' capacities:
// a sub-slice b[i:j] of base keeps the capacity cap(base)-i.
func Offset(base, sub []byte) int {
	if len(sub) == 0 {
		return -1
	}
	off := cap(base) - cap(sub)
	if off < 0 || off+len(sub) > len(base) {
		return -1
	}
	if &base[off] != &sub[0] {
		return -1 // not an alias of base
	}
	return off
}

// Part is one body part of a multipart body (RFC 2046 5.1).
type Part struct {
	Headers     []byte // the part's header lines, CRLFs included, without the empty line
	ContentType []byte // value of the part's Content-Type, nil when absent
	Content     []byte // the part's body, without the CRLF before the next delimiter
}

// Parts calls fn for each part of a multipart body with the given boundary
// (unquoted), in order, and reports whether any delimiter was found. It
// stops early when fn returns false.
func Parts(body, boundary []byte, fn func(Part) bool) (found bool) {
	for {
		i := indexDelim(body, boundary)
		if i < 0 {
			break
		}
		found = true
		body = body[i+2+len(boundary):]
		if len(body) >= 2 && body[0] == '-' && body[1] == '-' {
			break // close-delimiter
		}
		// the part runs to the next delimiter
		end := indexDelim(body, boundary)
		part := body
		if end >= 0 {
			part = body[:end]
		}
		// skip the rest of the delimiter line
		_, n, _ := siplex.NextLine(part, 0)
		part = part[n:]
		var ctype []byte
		p := 0
		for p < len(part) {
			line, n, _ := siplex.NextLine(part, p)
			p = n
			if len(line) == 0 {
				break
			}
			if c := indexByte(line, ':'); c > 0 && LookupHeader(siplex.TrimLWS(line[:c])) == HeaderContentType {
				ctype = siplex.TrimLWS(line[c+1:])
			}
		}
		hdrEnd := p
		// drop the empty line ending the headers from Headers
		for hdrEnd > 0 && (part[hdrEnd-1] == '\n' || part[hdrEnd-1] == '\r') {
			hdrEnd--
		}
		content := part[p:]
		// the CRLF before the next delimiter belongs to the delimiter
		if len(content) >= 2 && content[len(content)-2] == '\r' && content[len(content)-1] == '\n' {
			content = content[:len(content)-2]
		} else if len(content) >= 1 && content[len(content)-1] == '\n' {
			content = content[:len(content)-1]
		}
		if !fn(Part{Headers: part[:hdrEnd], ContentType: ctype, Content: content}) {
			return found
		}
		if end < 0 {
			break
		}
	}
	return found
}
