package sipflow

import "github.com/voiptool/voiptool/internal/siplex"

// HeaderKind identifies the headers the parser understands. Everything else
// is HeaderOther and kept verbatim in Message.Headers.
type HeaderKind uint8

// Header kinds. Compact forms are listed next to the header they abbreviate.
const (
	HeaderOther              HeaderKind = iota
	HeaderVia                           // v, RFC 3261 20.42
	HeaderFrom                          // f, RFC 3261 20.20
	HeaderTo                            // t, RFC 3261 20.39
	HeaderCallID                        // i, RFC 3261 20.8
	HeaderCSeq                          // RFC 3261 20.16
	HeaderContact                       // m, RFC 3261 20.10
	HeaderContentLength                 // l, RFC 3261 20.14
	HeaderContentType                   // c, RFC 3261 20.15
	HeaderContentEncoding               // e, RFC 3261 20.12
	HeaderSupported                     // k, RFC 3261 20.37
	HeaderSubject                       // s, RFC 3261 20.36
	HeaderEvent                         // o, RFC 6665 8.2.1
	HeaderAllowEvents                   // u, RFC 6665 8.2.2
	HeaderReferTo                       // r, RFC 3515 2.1
	HeaderReferredBy                    // b, RFC 3892 3
	HeaderSessionExpires                // x, RFC 4028 4
	HeaderIdentity                      // y, RFC 8224 4
	HeaderAcceptContact                 // a, RFC 3841 9.2
	HeaderRejectContact                 // j, RFC 3841 9.2
	HeaderRequestDisposition            // d, RFC 3841 9.1
	HeaderRecordRoute                   // RFC 3261 20.30
	HeaderRoute                         // RFC 3261 20.34
	HeaderUserAgent                     // RFC 3261 20.41
	HeaderServer                        // RFC 3261 20.35
	HeaderPAssertedIdentity             // RFC 3325 9.1
	HeaderDiversion                     // RFC 5806 3
	HeaderHistoryInfo                   // RFC 7044 4
	HeaderXCallID                       // X-Call-ID / X-CID: B2BUA leg correlation (vendor)
	HeaderReason                        // RFC 3326 2
	HeaderMaxForwards                   // RFC 3261 20.22
)

// headerNames maps full header names to kinds. Read-only after compile time.
var headerNames = [...]struct {
	name string
	kind HeaderKind
}{
	{"Via", HeaderVia},
	{"From", HeaderFrom},
	{"To", HeaderTo},
	{"Call-ID", HeaderCallID},
	{"CSeq", HeaderCSeq},
	{"Contact", HeaderContact},
	{"Content-Length", HeaderContentLength},
	{"Content-Type", HeaderContentType},
	{"Content-Encoding", HeaderContentEncoding},
	{"Supported", HeaderSupported},
	{"Subject", HeaderSubject},
	{"Event", HeaderEvent},
	{"Allow-Events", HeaderAllowEvents},
	{"Refer-To", HeaderReferTo},
	{"Referred-By", HeaderReferredBy},
	{"Session-Expires", HeaderSessionExpires},
	{"Identity", HeaderIdentity},
	{"Accept-Contact", HeaderAcceptContact},
	{"Reject-Contact", HeaderRejectContact},
	{"Request-Disposition", HeaderRequestDisposition},
	{"Record-Route", HeaderRecordRoute},
	{"Route", HeaderRoute},
	{"User-Agent", HeaderUserAgent},
	{"Server", HeaderServer},
	{"P-Asserted-Identity", HeaderPAssertedIdentity},
	{"Diversion", HeaderDiversion},
	{"History-Info", HeaderHistoryInfo},
	{"X-Call-ID", HeaderXCallID},
	{"X-CID", HeaderXCallID},
	{"Reason", HeaderReason},
	{"Max-Forwards", HeaderMaxForwards},
}

// compactKind maps the one-letter compact forms (RFC 3261 7.3.3 and the
// extensions cited on each kind) to kinds.
func compactKind(c byte) HeaderKind {
	switch c | 0x20 {
	case 'v':
		return HeaderVia
	case 'f':
		return HeaderFrom
	case 't':
		return HeaderTo
	case 'i':
		return HeaderCallID
	case 'm':
		return HeaderContact
	case 'l':
		return HeaderContentLength
	case 'c':
		return HeaderContentType
	case 'e':
		return HeaderContentEncoding
	case 'k':
		return HeaderSupported
	case 's':
		return HeaderSubject
	case 'o':
		return HeaderEvent
	case 'u':
		return HeaderAllowEvents
	case 'r':
		return HeaderReferTo
	case 'b':
		return HeaderReferredBy
	case 'x':
		return HeaderSessionExpires
	case 'y':
		return HeaderIdentity
	case 'a':
		return HeaderAcceptContact
	case 'j':
		return HeaderRejectContact
	case 'd':
		return HeaderRequestDisposition
	}
	return HeaderOther
}

// LookupHeader returns the kind of a header name, case-insensitively, with
// compact forms.
func LookupHeader(name []byte) HeaderKind {
	if len(name) == 1 {
		return compactKind(name[0])
	}
	if len(name) == 0 || len(name) >= len(headersByLen) {
		return HeaderOther
	}
	// Only the names of this length, and of those only the ones with
	// this first letter, are compared: a walk comparing every name was a
	// fifth of the cost of parsing an INVITE.
	c := siplex.Lower(name[0])
	for _, i := range headersByLen[len(name)] {
		if h := &headerNames[i]; siplex.Lower(h.name[0]) == c && siplex.EqualFold(name, h.name) {
			return h.kind
		}
	}
	return HeaderOther
}

// maxHeaderName is longer than every name in headerNames.
const maxHeaderName = 32

// headersByLen lists the indexes of headerNames by name length; built
// once, read-only after.
var headersByLen = func() (t [maxHeaderName][]uint8) {
	for i, h := range headerNames {
		t[len(h.name)] = append(t[len(h.name)], uint8(i))
	}
	return t
}()

// Header is one header line. Name and Value alias the decoded message; a
// folded value keeps its CRLF+WSP continuation bytes, which every accessor
// treats as linear white space (RFC 3261 7.3.1).
type Header struct {
	Name  []byte
	Value []byte
	Kind  HeaderKind
}

// atoi parses a non-negative decimal; ok is false on empty input, a non-digit
// or overflow past max.
func atoi(b []byte, max int) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}

// nextElem splits a comma-separated header value at the first comma that is
// not inside a quoted string or <...>. elem is trimmed.
func nextElem(v []byte) (elem, rest []byte) {
	inQuote, inAngle := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			return siplex.TrimLWS(v[:i]), v[i+1:]
		}
	}
	return siplex.TrimLWS(v), nil
}

// Param returns the value of the named ";name=value" parameter in a
// parameter list (leading ';' optional). A parameter without "=" yields an
// empty non-nil value; found is false when absent. Quotes are kept.
func Param(params []byte, name string) (value []byte, found bool) {
	for {
		k, v, rest, ok := NextParam(params)
		if !ok {
			return nil, false
		}
		if siplex.EqualFold(k, name) {
			return v, true
		}
		params = rest
	}
}

// NextParam returns the first ";name[=value]" parameter of a parameter list
// (leading ';' optional), trimmed, and the rest of the list; ok is false
// when the list holds no more parameters. A parameter without "=" has an
// empty non-nil value. Quotes are kept; a ';' inside quotes does not split.
func NextParam(params []byte) (name, value, rest []byte, ok bool) {
	// skip to the start of a parameter
	for len(params) > 0 && (params[0] == ';' || siplex.IsLWS(params[0])) {
		params = params[1:]
	}
	if len(params) == 0 {
		return nil, nil, nil, false
	}
	// find end, honouring quotes
	end := len(params)
	inQuote := false
	for i := 0; i < len(params); i++ {
		c := params[i]
		if inQuote {
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
			continue
		}
		if c == '"' {
			inQuote = true
		} else if c == ';' {
			end = i
			break
		}
	}
	p := params[:end]
	eq := -1
	for i, c := range p {
		if c == '=' {
			eq = i
			break
		}
	}
	if eq < 0 {
		return siplex.TrimLWS(p), p[len(p):], params[end:], true
	}
	return siplex.TrimLWS(p[:eq]), siplex.TrimLWS(p[eq+1:]), params[end:], true
}

// unquote strips one pair of surrounding double quotes without unescaping.
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
