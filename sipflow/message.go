package sipflow

import "github.com/voiptool/voiptool/internal/siplex"

// Warnings is a bitset of problems found while decoding a message. A message
// with warnings is still kept: whatever could be decoded is in the fields.
type Warnings uint32

// Parse warnings.
const (
	WarnBadStartLine     Warnings = 1 << iota // extra white space, or a status code outside 100-699 (then StatusCode is 0)
	WarnBadVersion                            // SIP-Version is not SIP/2.0 (RFC 3261 7.1)
	WarnBadHeaderLine                         // a header line without ':' or with an empty name (skipped)
	WarnNoHeaderEnd                           // no empty line after the headers
	WarnNoCallID                              // mandatory Call-ID missing (RFC 3261 8.1.1)
	WarnNoFrom                                // From missing or unparsable
	WarnNoTo                                  // To missing or unparsable
	WarnNoCSeq                                // CSeq missing or unparsable
	WarnNoVia                                 // Via missing or unparsable
	WarnDuplicateHeader                       // a single-valued header repeated
	WarnBadContentLength                      // Content-Length not a number
	WarnTruncatedBody                         // Content-Length larger than the bytes present
	WarnExtraBytes                            // bytes after Content-Length (ignored, RFC 3261 18.3)
	WarnBadURI                                // Request-URI or a header URI does not parse
	WarnBadSDP                                // SDP body with malformed lines
	WarnBadMultipart                          // multipart body without usable boundary
)

var warnNames = [...]string{
	"bad start line", "bad version", "bad header line", "no header end",
	"no Call-ID", "no From", "no To", "no CSeq", "no Via", "duplicate header",
	"bad Content-Length", "truncated body", "extra bytes", "bad URI", "bad SDP",
	"bad multipart",
}

// String lists the warnings, comma separated.
func (w Warnings) String() string {
	s := ""
	for i, n := range warnNames {
		if w&(1<<i) != 0 {
			if s != "" {
				s += ", "
			}
			s += n
		}
	}
	return s
}

// Message is one decoded SIP message. Every []byte field aliases the slice
// given to Unmarshal; the caller copies what it keeps. Slices (Headers, Via,
// Contact, XCallID, SDP.Media) keep their capacity across Unmarshal calls,
// so decoding into a reused Message does not allocate.
type Message struct {
	Raw []byte

	Request    bool
	Method     []byte // request method, any token (known or not)
	RequestURI URI
	Version    []byte
	StatusCode int    // responses only
	Phrase     []byte // reason phrase of a response

	Headers []Header

	CallID        []byte
	From, To      NameAddr
	CSeq          uint32
	CSeqMethod    []byte
	Via           []Via
	Contact       []NameAddr
	PAI           NameAddr // first P-Asserted-Identity value
	HasPAI        bool
	Diversion     NameAddr // first Diversion value
	DiversionN    int      // number of Diversion values
	HistoryInfoN  int      // number of History-Info entries
	XCallID       [][]byte // every X-Call-ID / X-CID value
	UserAgent     []byte
	Server        []byte
	ContentType   []byte
	ContentLength int // -1 when absent
	MaxForwards   int // -1 when absent
	Reason        Reason
	HasReason     bool

	Body    []byte
	SDP     SDP
	HasSDP  bool
	Skipped int // header lines skipped as malformed

	Warnings Warnings
}

// Lengths from RFC 3261 21: status codes are three digits.
const (
	minStatus = 100
	maxStatus = 699
	sipVer    = "SIP/2.0"
)

func (m *Message) reset(b []byte) {
	// Not *m = Message{}: while the GC marks, clearing the ~1.8 KB
	// struct pays its write barrier on each of ~70 pointer words (~7k
	// instructions a message), and most of them (PAI, Diversion, Reason,
	// a response's Request-URI, the SDP of a message without one) are
	// nil already. So the URI, name-addr, Reason and SDP groups are
	// cleared only when not zero, and the other fields one by one.
	// TestResetClearsEveryField fails when a field is left out here.
	if !m.RequestURI.zero() {
		m.RequestURI = URI{}
	}
	// From and To, in nearly every message, only by Raw, which the
	// header loop reads to tell a repeated header: NameAddr.parse
	// writes every field, and clearNames clears the others of one not
	// parsed.
	m.From.Raw, m.To.Raw = nil, nil
	if !m.PAI.zero() {
		m.PAI = NameAddr{}
	}
	if !m.Diversion.zero() {
		m.Diversion = NameAddr{}
	}
	if !m.Reason.zero() {
		m.Reason = Reason{}
	}
	if !m.SDP.zero() {
		m.SDP = SDP{Media: m.SDP.Media}
	}
	m.Raw = b
	m.Request, m.Method, m.Version, m.StatusCode, m.Phrase = false, nil, nil, 0, nil
	m.Headers = m.Headers[:0]
	m.CallID, m.CSeq, m.CSeqMethod = nil, 0, nil
	m.Via, m.Contact = m.Via[:0], m.Contact[:0]
	m.HasPAI, m.DiversionN, m.HistoryInfoN = false, 0, 0
	m.XCallID = m.XCallID[:0]
	m.UserAgent, m.Server, m.ContentType = nil, nil, nil
	m.ContentLength, m.MaxForwards = -1, -1
	m.HasReason = false
	m.Body = nil
	m.SDP.Media = m.SDP.Media[:0]
	m.HasSDP, m.Skipped, m.Warnings = false, 0, 0
}

// Unmarshal decodes a SIP message (RFC 3261 7) from b, in place: the result
// aliases b.
//
//	Request-Line / Status-Line  CRLF
//	*( message-header CRLF )          ; folded lines start with SP/HTAB
//	CRLF
//	[ message-body ]                  ; Content-Length bytes
//
// Unmarshal returns ErrNotSIP only when b has no start line; every other
// problem is recorded in m.Warnings and decoding continues.
func (m *Message) Unmarshal(b []byte) error { return m.unmarshal(b, false) }

// UnmarshalBody decodes only the start line, the headers that frame and
// type the body (Content-Type, Content-Length) and the body with its SDP
// (HasSDP, SDP), at a fraction of Unmarshal's cost: for a classifier
// that learns media endpoints from every message (package capture). The
// other header fields stay empty and no warnings about them are raised.
func (m *Message) UnmarshalBody(b []byte) error { return m.unmarshal(b, true) }

func (m *Message) unmarshal(b []byte, bodyOnly bool) error {
	m.reset(b)
	i := 0
	// RFC 3261 7.5: ignore CRLFs before the start line (keep-alives).
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	if i == len(b) {
		m.clearNames()
		return ErrNotSIP
	}
	line, pos, _ := siplex.NextLine(b, i)
	if !m.parseStartLine(line) {
		m.clearNames()
		return ErrNotSIP
	}
	headerEnd := false
	for pos < len(b) {
		// the line at pos, without its CRLF (or bare LF, RFC 3261 7.5)
		end, n := len(b), len(b)
		if j := indexByte(b[pos:], '\n'); j >= 0 {
			end, n = pos+j, pos+j+1
		}
		if end > pos && b[end-1] == '\r' {
			end--
		}
		if end == pos {
			pos = n
			headerEnd = true
			break
		}
		// RFC 3261 7.3.1: a line starting with white space continues the
		// previous header.
		for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
			l2, n2, _ := siplex.NextLine(b, n)
			end = n + len(l2)
			n = n2
		}
		line := b[pos:end]
		pos = n
		// siplex.CutHeader, inline: a call per line cost a tenth of
		// the line. SplitHeader's check that the name is a token is
		// needed only for names LookupHeader does not know: the known
		// ones are.
		colon := indexByte(line, ':')
		if colon < 1 {
			if !bodyOnly {
				m.Warnings |= WarnBadHeaderLine
				m.Skipped++
			}
			continue
		}
		name, value := line[:colon], line[colon+1:]
		if siplex.IsLWS(name[0]) || siplex.IsLWS(name[colon-1]) {
			if name = siplex.TrimLWS(name); len(name) == 0 {
				if !bodyOnly {
					m.Warnings |= WarnBadHeaderLine
					m.Skipped++
				}
				continue
			}
		}
		value = siplex.TrimLWS(value)
		if bodyOnly {
			// Only the headers that frame and type the body (or their
			// compact forms); most names are ruled out by length.
			if n := len(name); n == 1 || n == len("Content-Type") || n == len("Content-Length") {
				if k := LookupHeader(name); k == HeaderContentType || k == HeaderContentLength {
					m.addHeader(name, value, k)
				}
			}
			continue
		}
		if kind := LookupHeader(name); kind != HeaderOther || siplex.IsTokens(name) {
			m.addHeader(name, value, kind)
		} else {
			m.Warnings |= WarnBadHeaderLine
			m.Skipped++
		}
	}
	if !headerEnd {
		m.Warnings |= WarnNoHeaderEnd
		pos = len(b)
	}
	m.clearNames()
	m.setBody(b[pos:])
	if !bodyOnly {
		m.checkMandatory()
	}
	return nil
}

// clearNames finishes reset's clearing of From and To: a field is
// cleared when the message had no such header (Raw still nil).
func (m *Message) clearNames() {
	if m.From.Raw == nil && !m.From.zero() {
		m.From = NameAddr{}
	}
	if m.To.Raw == nil && !m.To.zero() {
		m.To = NameAddr{}
	}
}

func (m *Message) parseStartLine(line []byte) bool {
	// Split into whitespace-separated fields; only the first two separators
	// matter (the reason phrase may contain spaces).
	f0, r0 := field(line)
	if len(f0) == 0 {
		return false
	}
	if siplex.HasPrefixFold(f0, "SIP/") {
		m.Version = f0
		code, r1 := field(r0)
		n, ok := atoi(code, maxStatus)
		if !ok || len(code) != 3 || n < minStatus {
			// Recognisably a status line, but the code is not three
			// digits in 100-699 (RFC 3261 7.2): keep it with code 0.
			n = 0
			m.Warnings |= WarnBadStartLine
		}
		m.StatusCode = n
		m.Phrase = siplex.TrimLWS(r1)
		if len(r0) > 0 && r0[0] != ' ' || (len(line) > 0 && (line[0] == ' ' || line[0] == '\t')) {
			m.Warnings |= WarnBadStartLine
		}
		if !siplex.EqualFold(f0, sipVer) {
			m.Warnings |= WarnBadVersion
		}
		return true
	}
	for _, c := range f0 {
		if !siplex.IsToken(c) {
			return false
		}
	}
	rest := siplex.TrimLWS(r0)
	// version is the last field
	k := len(rest)
	for k > 0 && !siplex.IsLWS(rest[k-1]) {
		k--
	}
	ver := rest[k:]
	if !siplex.HasPrefixFold(ver, "SIP/") || k == 0 {
		return false
	}
	m.Request = true
	m.Method = f0
	m.Version = ver
	uri := siplex.TrimLWS(rest[:k])
	if len(uri) == 0 {
		return false
	}
	for _, c := range uri {
		if siplex.IsLWS(c) {
			m.Warnings |= WarnBadStartLine
			break
		}
	}
	if len(line) > 0 && line[0] == ' ' || len(r0) > 1 && r0[1] == ' ' {
		m.Warnings |= WarnBadStartLine
	}
	if !siplex.EqualFold(ver, sipVer) {
		m.Warnings |= WarnBadVersion
	}
	if !m.RequestURI.parse(uri) {
		m.Warnings |= WarnBadURI
	}
	return true
}

// field returns the first run of non-LWS bytes and what follows it; CRLF
// counts as white space because folded values keep it.
func field(b []byte) (f, rest []byte) {
	i := 0
	for i < len(b) && siplex.IsLWS(b[i]) {
		i++
	}
	b = b[i:]
	for j, c := range b { // range: no bounds checks
		if siplex.IsLWS(c) {
			return b[:j], b[j:]
		}
	}
	return b, b[len(b):]
}

// addHeader adds the header field name: value (cut as siplex.CutHeader cuts,
// the name known to be a token) of kind kind.
func (m *Message) addHeader(name, value []byte, kind HeaderKind) {
	// Grown in place: append of a composite literal builds it aside
	// and copies it, a cost paid on every header line.
	if n := len(m.Headers); n < cap(m.Headers) {
		m.Headers = m.Headers[:n+1]
		h := &m.Headers[n]
		h.Name, h.Value, h.Kind = name, value, kind
	} else {
		m.Headers = append(m.Headers, Header{Name: name, Value: value, Kind: kind})
	}
	switch kind {
	case HeaderVia:
		for rest := value; len(rest) > 0; {
			var e []byte
			e, rest = nextElem(rest)
			if len(e) == 0 {
				continue
			}
			m.Via = grow(m.Via) // parse sets every field
			if !m.Via[len(m.Via)-1].parse(e) {
				m.Warnings |= WarnNoVia
			}
		}
	case HeaderFrom:
		m.single(len(m.From.Raw) > 0)
		if !m.From.parse(value) {
			m.Warnings |= WarnNoFrom
		}
	case HeaderTo:
		m.single(len(m.To.Raw) > 0)
		if !m.To.parse(value) {
			m.Warnings |= WarnNoTo
		}
	case HeaderCallID:
		m.single(len(m.CallID) > 0)
		m.CallID = value
	case HeaderCSeq:
		m.single(len(m.CSeqMethod) > 0)
		num, rest := field(value)
		meth, _ := field(rest)
		n, ok := atoi(num, 1<<32-1)
		m.CSeq, m.CSeqMethod = uint32(n), meth
		if !ok || len(meth) == 0 {
			m.Warnings |= WarnNoCSeq
		}
	case HeaderContact:
		for rest := value; len(rest) > 0; {
			var e []byte
			e, rest = nextElem(rest)
			if len(e) == 0 {
				continue
			}
			m.Contact = grow(m.Contact) // both branches set every field
			c := &m.Contact[len(m.Contact)-1]
			if len(e) == 1 && e[0] == '*' { // RFC 3261 10.2.2 wildcard
				*c = NameAddr{Raw: e}
				continue
			}
			if !c.parse(e) {
				m.Warnings |= WarnBadURI
			}
		}
	case HeaderPAssertedIdentity:
		if !m.HasPAI {
			e, _ := nextElem(value)
			m.HasPAI = true
			if !m.PAI.parse(e) {
				m.Warnings |= WarnBadURI
			}
		}
	case HeaderDiversion:
		for rest := value; len(rest) > 0; {
			var e []byte
			e, rest = nextElem(rest)
			if len(e) == 0 {
				continue
			}
			if m.DiversionN == 0 {
				m.Diversion.parse(e)
			}
			m.DiversionN++
		}
	case HeaderHistoryInfo:
		for rest := value; len(rest) > 0; {
			var e []byte
			e, rest = nextElem(rest)
			if len(e) > 0 {
				m.HistoryInfoN++
			}
		}
	case HeaderXCallID:
		if len(value) > 0 {
			m.XCallID = append(m.XCallID, value)
		}
	case HeaderUserAgent:
		m.UserAgent = value
	case HeaderServer:
		m.Server = value
	case HeaderContentType:
		m.single(len(m.ContentType) > 0)
		m.ContentType = value
	case HeaderContentLength:
		m.single(m.ContentLength >= 0)
		n, ok := atoi(value, 1<<30)
		if !ok {
			m.Warnings |= WarnBadContentLength
			m.ContentLength = -1
		} else {
			m.ContentLength = n
		}
	case HeaderMaxForwards:
		if n, ok := atoi(value, 1<<20); ok {
			m.MaxForwards = n
		}
	case HeaderReason:
		if !m.HasReason {
			e, _ := nextElem(value)
			m.Reason.parse(e)
			m.HasReason = true
		}
	}
}

// grow returns s one element longer, reusing its capacity without
// clearing the new element: for callers that then set all of it.
func grow[T any](s []T) []T {
	if n := len(s); n < cap(s) {
		return s[:n+1]
	}
	var zero T
	return append(s, zero)
}

func (m *Message) single(dup bool) {
	if dup {
		m.Warnings |= WarnDuplicateHeader
	}
}

func (m *Message) setBody(rest []byte) {
	switch {
	case m.ContentLength < 0:
		// No (valid) Content-Length: on datagram transports the body is
		// the rest of the datagram (RFC 3261 18.3).
		m.Body = rest
	case m.ContentLength > len(rest):
		m.Body = rest
		m.Warnings |= WarnTruncatedBody
	default:
		m.Body = rest[:m.ContentLength]
		if len(siplex.TrimLWS(rest[m.ContentLength:])) > 0 {
			m.Warnings |= WarnExtraBytes
		}
	}
	if len(m.Body) == 0 {
		return
	}
	ct := m.ContentType
	mt := ct
	if i := indexByte(ct, ';'); i >= 0 {
		mt = siplex.TrimLWS(ct[:i])
	}
	switch {
	case siplex.EqualFold(mt, "application/sdp"):
		m.decodeSDP(m.Body)
	case siplex.HasPrefixFold(mt, "multipart/"):
		m.decodeMultipart(ct[len(mt):])
	case len(ct) == 0 && siplex.HasPrefixFold(m.Body, "v="):
		m.decodeSDP(m.Body)
	}
}

func (m *Message) decodeSDP(b []byte) {
	if err := m.SDP.Unmarshal(b); err != nil {
		m.Warnings |= WarnBadSDP
		return
	}
	m.HasSDP = true
	if m.SDP.Bad > 0 {
		m.Warnings |= WarnBadSDP
	}
}

// decodeMultipart finds the first application/sdp part of a multipart body
// (RFC 2046 5.1) and decodes it as the message's SDP.
func (m *Message) decodeMultipart(params []byte) {
	boundary, ok := Param(params, "boundary")
	boundary = unquote(boundary)
	if !ok || len(boundary) == 0 {
		m.Warnings |= WarnBadMultipart
		return
	}
	found := Parts(m.Body, boundary, func(p Part) bool {
		if siplex.HasPrefixFold(p.ContentType, "application/sdp") && !m.HasSDP {
			m.decodeSDP(p.Content)
		}
		return true
	})
	if !found {
		m.Warnings |= WarnBadMultipart
	}
}

// indexDelim finds "--boundary" at the start of b or of a line.
func indexDelim(b, boundary []byte) int {
	for i := 0; i+2+len(boundary) <= len(b); i++ {
		if b[i] == '-' && b[i+1] == '-' && (i == 0 || b[i-1] == '\n') && string(b[i+2:i+2+len(boundary)]) == string(boundary) {
			return i
		}
	}
	return -1
}

func (m *Message) checkMandatory() {
	if len(m.CallID) == 0 {
		m.Warnings |= WarnNoCallID
	}
	if len(m.From.Raw) == 0 {
		m.Warnings |= WarnNoFrom
	}
	if len(m.To.Raw) == 0 {
		m.Warnings |= WarnNoTo
	}
	if len(m.CSeqMethod) == 0 {
		m.Warnings |= WarnNoCSeq
	}
	if len(m.Via) == 0 {
		m.Warnings |= WarnNoVia
	}
}

// UA returns User-Agent for requests and Server (falling back to
// User-Agent) for responses.
func (m *Message) UA() []byte {
	if !m.Request && len(m.Server) > 0 {
		return m.Server
	}
	return m.UserAgent
}

// IsMethod reports whether the request method (or the CSeq method of a
// response) equals name, case-sensitively as RFC 3261 7.1 requires.
func (m *Message) IsMethod(name string) bool {
	if m.Request {
		return string(m.Method) == name
	}
	return string(m.CSeqMethod) == name
}
