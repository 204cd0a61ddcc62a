package sipflow

import (
	"github.com/voiptool/voiptool/internal/siplex"
)

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

// headerNames maps full header names to kinds (LookupHeader's switch
// spells them out; FuzzLookupHeader holds the two alike). Read-only after
// compile time.
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
	// The names of headerNames by length and first letter, each
	// compared by siplex.EqualFold, inline: the spelling nearly every
	// sender uses is a word compare or two with the constant, without a
	// call. A hash of length and first and last letter, probed and
	// compared three folded words at a time, cost four times the
	// instructions. FuzzLookupHeader holds this to headerNames.
	n := len(name)
	if n < 2 {
		if n == 1 {
			return compactKind(name[0])
		}
		return HeaderOther
	}
	c := name[0] | 0x20
	switch n {
	case 2:
		if siplex.EqualFold(name, "To") {
			return HeaderTo
		}
	case 3:
		if siplex.EqualFold(name, "Via") {
			return HeaderVia
		}
	case 4:
		switch {
		case c == 'f' && siplex.EqualFold(name, "From"):
			return HeaderFrom
		case c == 'c' && siplex.EqualFold(name, "CSeq"):
			return HeaderCSeq
		}
	case 5:
		switch {
		case c == 'e' && siplex.EqualFold(name, "Event"):
			return HeaderEvent
		case c == 'r' && siplex.EqualFold(name, "Route"):
			return HeaderRoute
		case c == 'x' && siplex.EqualFold(name, "X-CID"):
			return HeaderXCallID
		}
	case 6:
		switch {
		case c == 's' && siplex.EqualFold(name, "Server"):
			return HeaderServer
		case c == 'r' && siplex.EqualFold(name, "Reason"):
			return HeaderReason
		}
	case 7:
		switch {
		case siplex.EqualFold(name, "Call-ID"):
			return HeaderCallID
		case siplex.EqualFold(name, "Contact"):
			return HeaderContact
		case siplex.EqualFold(name, "Subject"):
			return HeaderSubject
		}
	case 8:
		switch {
		case c == 'r' && siplex.EqualFold(name, "Refer-To"):
			return HeaderReferTo
		case c == 'i' && siplex.EqualFold(name, "Identity"):
			return HeaderIdentity
		}
	case 9:
		switch {
		case c == 's' && siplex.EqualFold(name, "Supported"):
			return HeaderSupported
		case c == 'd' && siplex.EqualFold(name, "Diversion"):
			return HeaderDiversion
		case c == 'x' && siplex.EqualFold(name, "X-Call-ID"):
			return HeaderXCallID
		}
	case 10:
		if siplex.EqualFold(name, "User-Agent") {
			return HeaderUserAgent
		}
	case 11:
		if siplex.EqualFold(name, "Referred-By") {
			return HeaderReferredBy
		}
	case 12:
		switch c {
		case 'c':
			if siplex.EqualFold(name, "Content-Type") {
				return HeaderContentType
			}
		case 'm':
			if siplex.EqualFold(name, "Max-Forwards") {
				return HeaderMaxForwards
			}
		case 'a':
			if siplex.EqualFold(name, "Allow-Events") {
				return HeaderAllowEvents
			}
		case 'r':
			if siplex.EqualFold(name, "Record-Route") {
				return HeaderRecordRoute
			}
		case 'h':
			if siplex.EqualFold(name, "History-Info") {
				return HeaderHistoryInfo
			}
		}
	case 14:
		switch {
		case c == 'c' && siplex.EqualFold(name, "Content-Length"):
			return HeaderContentLength
		case c == 'a' && siplex.EqualFold(name, "Accept-Contact"):
			return HeaderAcceptContact
		case c == 'r' && siplex.EqualFold(name, "Reject-Contact"):
			return HeaderRejectContact
		}
	case 15:
		if siplex.EqualFold(name, "Session-Expires") {
			return HeaderSessionExpires
		}
	case 16:
		if siplex.EqualFold(name, "Content-Encoding") {
			return HeaderContentEncoding
		}
	case 19:
		switch {
		case c == 'p' && siplex.EqualFold(name, "P-Asserted-Identity"):
			return HeaderPAssertedIdentity
		case c == 'r' && siplex.EqualFold(name, "Request-Disposition"):
			return HeaderRequestDisposition
		}
	}
	return HeaderOther
}

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
	// Most values hold one element, or a comma with no quote or '<'
	// before it: the first comma then ends the element, as the walk
	// below would find.
	c := indexByte(v, ',')
	if c < 0 {
		return siplex.TrimLWS(v), nil
	}
	if indexByte(v[:c], '"') < 0 && indexByte(v[:c], '<') < 0 {
		return siplex.TrimLWS(v[:c]), v[c+1:]
	}
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
	// find end, honouring quotes, and the first '='
	var end, eq int
	if len(params) <= shortParams {
		end, eq = len(params), -1
		for i, c := range params {
			if c == ';' {
				end = i
				break
			}
			if c == '=' && eq < 0 {
				eq = i
			} else if c == '"' {
				end = endParam(params, i)
				if eq < 0 {
					eq = indexByte(params[:end], '=')
				}
				break
			}
		}
	} else {
		// without a quote before the first ';' that ';' is the end,
		// else walk from the quote
		end = indexByte(params, ';')
		if end < 0 {
			end = len(params)
		}
		if q := indexByte(params[:end], '"'); q >= 0 {
			end = endParam(params, q)
		}
		eq = indexByte(params[:end], '=')
	}
	p := params[:end]
	if eq < 0 {
		return siplex.TrimLWS(p), p[len(p):], params[end:], true
	}
	return siplex.TrimLWS(p[:eq]), siplex.TrimLWS(p[eq+1:]), params[end:], true
}

// shortParams is the length of parameter list up to which NextParam
// looks at each byte itself: for a tag or an rport one walk costs less
// than the three bytes.IndexByte calls that serve a longer list.
const shortParams = 16

// endParam returns the index of the first ';' outside quotes in params,
// or len(params), starting at the opening quote q.
func endParam(params []byte, q int) int {
	end := len(params)
	inQuote := false
	for i := q; i < len(params); i++ {
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
	return end
}

// unquote strips one pair of surrounding double quotes without unescaping.
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}
