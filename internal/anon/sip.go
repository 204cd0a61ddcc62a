package anon

import (
	"strconv"
	"strings"

	"github.com/voiptool/voiptool/sipflow"
)

// maxDepth bounds recursion through URI headers, multipart bodies and
// messages following each other in one buffer.
const maxDepth = 4

// BodyRemovedHeader is added to a message whose body was removed.
const BodyRemovedHeader = "X-Voiptool-Anon"

// RewriteSIP returns a pseudonymised copy of one SIP message (or of several
// framed back to back, as a TCP segment can hold). Every field that names a
// person, a host or a dialog is rewritten through the mapper; bodies are
// rewritten (SDP, multipart) or removed (see Options.KeepBodies), and
// Content-Length is corrected. b is not modified. ErrNotSIP means b has no
// SIP start line; the caller decides (ScrubText, drop).
func (m *Mapper) RewriteSIP(b []byte) ([]byte, error) {
	return m.rewriteSIP(b, 0)
}

func (m *Mapper) rewriteSIP(b []byte, depth int) ([]byte, error) {
	// one decoded message per nesting level, reused across calls
	for len(m.msgs) <= depth {
		m.msgs = append(m.msgs, new(sipflow.Message))
	}
	msg := m.msgs[depth]
	if err := msg.Unmarshal(b); err != nil {
		return nil, ErrNotSIP
	}
	ed := sipflow.NewEditor(b)
	if msg.Request {
		m.uri(ed, msg.RequestURI, depth)
	}
	var free []sipflow.Header
	for _, h := range msg.Headers {
		if !m.header(ed, h, depth) {
			free = append(free, h)
		}
	}
	// free text last, so that words already seen as identifiers in
	// structured headers are known
	for _, h := range free {
		m.freeHeader(ed, h)
	}
	m.unparsedLines(ed, msg)

	bodyOff := bodyOffset(b)
	if bodyOff >= 0 && bodyOff+len(msg.Body) <= len(b) {
		nb, removed := m.body(msg.ContentType, msg.Body, depth)
		if string(nb) != string(msg.Body) {
			ed.SetRange(bodyOff, bodyOff+len(msg.Body), string(nb))
			m.fixContentLength(ed, msg, len(nb))
		}
		if removed {
			at := bodyOff - 1
			eol := "\n"
			if at > 0 && b[at-1] == '\r' {
				at--
				eol = "\r\n"
			}
			ed.Insert(at, eol[:0]+BodyRemovedHeader+": body removed ("+strconv.Itoa(len(msg.Body))+" bytes)"+eol)
		}
		// bytes after the body: the next message of a stream, or junk
		if end := bodyOff + len(msg.Body); end < len(b) {
			m.tail(ed, b[end:], depth)
		}
	}
	out := ed.Apply()
	return out, nil
}

// bodyOffset returns where the body of message b starts: after the first
// empty line that follows the start line, or -1 without one.
func bodyOffset(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	_, pos := sipflow.NextLine(b, i)
	for pos < len(b) {
		line, n := sipflow.NextLine(b, pos)
		if len(line) == 0 {
			return n
		}
		pos = n
	}
	return -1
}

// tail rewrites what follows a message's body in the same buffer.
func (m *Mapper) tail(ed *editor, t []byte, depth int) {
	k := 0
	for k < len(t) && (t[k] == '\r' || t[k] == '\n' || t[k] == ' ' || t[k] == '\t') {
		k++
	}
	if k == len(t) {
		return
	}
	if depth < maxDepth {
		if nb, err := m.rewriteSIP(t[k:], depth+1); err == nil {
			ed.Set(t[k:], string(nb))
			return
		}
	}
	m.scrub(ed, t[k:], scrubFull)
}

// ScrubText pseudonymises identifiers in text that is not a SIP message
// (URIs, user@host, addresses, MACs, domain names, digit runs of 5 or more).
func (m *Mapper) ScrubText(b []byte) []byte {
	m.Stats.Unparsed++
	ed := sipflow.NewEditor(b)
	m.scrub(ed, b, scrubFull)
	return ed.Apply()
}

// fixContentLength sets the Content-Length header (if any) to n.
func (m *Mapper) fixContentLength(ed *editor, msg *sipflow.Message, n int) {
	ed.SetContentLength(msg, n)
}

// unparsedLines scrubs header lines sipflow skipped as malformed: they are
// still in the bytes.
func (m *Mapper) unparsedLines(ed *editor, msg *sipflow.Message) {
	if msg.Skipped == 0 {
		return
	}
	b := msg.Raw
	type span struct{ off, end int }
	spans := make([]span, 0, len(msg.Headers))
	for _, h := range msg.Headers {
		off := sipflow.Offset(b, h.Name)
		end := off + len(h.Name)
		if v := sipflow.Offset(b, h.Value); v >= 0 {
			end = v + len(h.Value)
		}
		if off >= 0 {
			spans = append(spans, span{off, end})
		}
	}
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	_, pos := sipflow.NextLine(b, i) // start line
	for pos < len(b) {
		line, n := sipflow.NextLine(b, pos)
		if len(line) == 0 {
			return
		}
		covered := false
		for _, s := range spans {
			if pos >= s.off && pos < s.end || pos+len(line) <= s.end && pos >= s.off {
				covered = true
				break
			}
		}
		if !covered {
			m.scrub(ed, line, scrubFull)
		}
		pos = n
	}
}

// header rewrites one structured header and reports whether it handled it;
// false leaves it to freeHeader.
func (m *Mapper) header(ed *editor, h sipflow.Header, depth int) bool {
	switch h.Kind {
	case sipflow.HeaderVia:
		m.viaList(ed, h.Value)
		return true
	case sipflow.HeaderFrom, sipflow.HeaderTo, sipflow.HeaderContact, sipflow.HeaderReferTo,
		sipflow.HeaderReferredBy, sipflow.HeaderRecordRoute, sipflow.HeaderRoute,
		sipflow.HeaderPAssertedIdentity, sipflow.HeaderDiversion, sipflow.HeaderHistoryInfo:
		m.nameAddrList(ed, h.Value, depth)
		return true
	case sipflow.HeaderCallID, sipflow.HeaderXCallID:
		ed.Set(h.Value, m.CallID(string(h.Value)))
		return true
	case sipflow.HeaderCSeq, sipflow.HeaderContentLength, sipflow.HeaderContentType,
		sipflow.HeaderContentEncoding, sipflow.HeaderSupported, sipflow.HeaderAllowEvents,
		sipflow.HeaderSessionExpires, sipflow.HeaderMaxForwards, sipflow.HeaderRequestDisposition:
		return true
	case sipflow.HeaderEvent:
		return true
	case sipflow.HeaderAcceptContact, sipflow.HeaderRejectContact:
		m.nameAddrList(ed, h.Value, depth) // "*;+sip.instance=..." parses as params
		return true
	case sipflow.HeaderIdentity:
		ed.Set(h.Value, m.Secret(string(h.Value)))
		return true
	}
	name := strings.ToLower(string(h.Name))
	switch name {
	case "reply-to", "p-preferred-identity", "remote-party-id", "path", "service-route",
		"p-called-party-id", "p-associated-uri", "p-served-user", "alert-info", "call-info",
		"error-info", "p-refused-uri-list", "permission-missing", "trigger-consent", "p-asserted-service":
		m.nameAddrList(ed, h.Value, depth)
	case "replaces", "target-dialog", "join":
		m.dialogID(ed, h.Value)
	case "in-reply-to":
		for rest := h.Value; len(rest) > 0; {
			var e []byte
			e, rest = sipflow.NextElem(rest)
			ed.Set(e, m.CallID(string(e)))
		}
	case "session-id":
		v, params := splitSemi(h.Value)
		ed.Set(v, m.Token(string(v)))
		m.params(ed, params, depth)
	case "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
		"authentication-info", "proxy-authentication-info":
		m.auth(ed, h.Value)
	case "warning":
		m.warning(ed, h.Value)
	case "p-charging-vector", "p-charging-function-addresses":
		m.params(ed, h.Value, depth)
	case "p-access-network-info":
		for rest := h.Value; len(rest) > 0; {
			var e []byte
			e, rest = sipflow.NextElem(rest)
			_, params := splitSemi(e)
			m.params(ed, params, depth)
		}
	case "p-visited-network-id":
		for rest := h.Value; len(rest) > 0; {
			var e []byte
			e, rest = sipflow.NextElem(rest)
			v, params := splitSemi(e)
			m.quotedHost(ed, v)
			m.params(ed, params, depth)
		}
	case "require", "proxy-require", "unsupported", "allow", "expires", "min-expires", "min-se",
		"accept", "accept-encoding", "accept-language", "content-disposition", "content-language",
		"mime-version", "timestamp", "rack", "rseq", "priority", "privacy", "subscription-state",
		"date", "retry-after", "p-early-media", "security-client", "security-server",
		"security-verify", "refer-sub", "sip-etag", "sip-if-match", "recv-info", "info-package",
		"geolocation-routing", "p-media-authorization", "rtp-rxstat", "rtp-txstat":
	default:
		return false
	}
	return true
}

// freeHeader scrubs a header whose grammar is not known (X- headers,
// Subject, Organization, Reason text ...).
func (m *Mapper) freeHeader(ed *editor, h sipflow.Header) {
	mode := scrubFull
	if h.Kind == sipflow.HeaderUserAgent || h.Kind == sipflow.HeaderServer {
		mode = scrubProduct // product versions (1.0.11.23) are no addresses
	}
	m.scrub(ed, h.Value, mode)
}

func splitSemi(b []byte) (v, params []byte) {
	inQ := false
	for i, c := range b {
		switch {
		case c == '"':
			inQ = !inQ
		case c == ';' && !inQ:
			return trimSpace(b[:i]), b[i:]
		}
	}
	return trimSpace(b), b[len(b):]
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}

func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

func (m *Mapper) viaList(ed *editor, v []byte) {
	for rest := v; len(rest) > 0; {
		var e []byte
		e, rest = sipflow.NextElem(rest)
		if len(e) == 0 {
			continue
		}
		via, ok := sipflow.ParseVia(e)
		if len(via.Host) == 0 {
			m.scrub(ed, e, scrubFull)
			continue
		}
		_ = ok
		m.hostBytes(ed, via.Host)
		m.params(ed, via.Params, maxDepth)
	}
}

func (m *Mapper) hostBytes(ed *editor, h []byte) {
	ed.Set(h, m.Host(string(h)))
}

// quotedHost maps a host or token that may be quoted.
func (m *Mapper) quotedHost(ed *editor, v []byte) {
	in := unquote(v)
	if len(in) > 0 {
		ed.Set(in, m.Host(string(in)))
	}
}

func (m *Mapper) nameAddrList(ed *editor, v []byte, depth int) {
	for rest := v; len(rest) > 0; {
		var e []byte
		e, rest = sipflow.NextElem(rest)
		if len(e) == 0 {
			continue
		}
		if len(e) == 1 && e[0] == '*' {
			continue
		}
		if e[0] == '*' { // Accept-Contact: *;params
			m.params(ed, e[1:], depth)
			continue
		}
		na, _ := sipflow.ParseNameAddr(e)
		if len(na.URI.Raw) == 0 && len(na.Params) == 0 && len(na.Display) == 0 {
			m.scrub(ed, e, scrubFull)
			continue
		}
		if len(na.Display) > 0 {
			ed.Set(na.Display, m.Name(string(na.Display)))
		}
		if len(na.URI.Scheme) > 0 {
			m.uri(ed, na.URI, depth)
		} else if len(na.URI.Raw) > 0 {
			m.scrub(ed, na.URI.Raw, scrubFull)
		}
		m.params(ed, na.Params, depth)
	}
}

// uri rewrites one parsed URI in place.
func (m *Mapper) uri(ed *editor, u sipflow.URI, depth int) {
	scheme := strings.ToLower(string(u.Scheme))
	switch scheme {
	case "sip", "sips":
	case "tel":
		if IsNumber(string(u.User)) {
			ed.Set(u.User, m.Number(string(u.User)))
		} else {
			ed.Set(u.User, m.Token(string(u.User)))
		}
		m.params(ed, u.Params, depth)
		m.uriHeaders(ed, u, depth)
		return
	case "urn":
		// urn:uuid:... is an instance id; urn:service:sos names no one
		if r := u.Raw[len(u.Scheme)+1:]; hasPrefixFold(r, "uuid:") {
			ed.Set(r[5:], m.Token(string(r[5:])))
		}
		return
	default:
		if len(u.Raw) > 0 {
			m.scrub(ed, u.Raw, scrubFull)
		}
		return
	}
	if len(u.User) > 0 {
		user, uparams := splitSemi(u.User)
		ed.Set(user, m.User(string(user)))
		m.params(ed, uparams, depth)
		// password: "user:password@"
		if off := sipflow.Offset(u.Raw, u.User); off >= 0 {
			p := off + len(u.User)
			if p < len(u.Raw) && u.Raw[p] == ':' {
				if at := indexByte(u.Raw[p:], '@'); at > 1 {
					pw := u.Raw[p+1 : p+at]
					ed.Set(pw, m.Secret(string(pw)))
				}
			}
		}
	}
	if len(u.Host) > 0 {
		m.hostBytes(ed, u.Host)
	}
	m.params(ed, u.Params, depth)
	m.uriHeaders(ed, u, depth)
}

// uriHeaders rewrites the "?name=value&..." part of a URI: each value is
// percent-decoded, rewritten as the header it names would be, and encoded
// again (History-Info ?Reason=, Refer-To ?Replaces=).
func (m *Mapper) uriHeaders(ed *editor, u sipflow.URI, depth int) {
	q := indexByte(u.Raw, '?')
	if q < 0 || q+1 >= len(u.Raw) {
		return
	}
	hs := u.Raw[q+1:]
	for len(hs) > 0 {
		end := indexByte(hs, '&')
		var h []byte
		if end < 0 {
			h, hs = hs, nil
		} else {
			h, hs = hs[:end], hs[end+1:]
		}
		eq := indexByte(h, '=')
		if eq < 0 || eq+1 >= len(h) {
			continue
		}
		name, val := string(h[:eq]), h[eq+1:]
		dec := unescape(val)
		out := m.rewriteHeaderValue(name, dec, depth+1)
		if out != string(dec) {
			ed.Set(val, escapeURIHeader(out))
		}
	}
}

// rewriteHeaderValue rewrites the value of a header found outside a
// message (in a URI); it builds a one-header message around it so the same
// code handles it.
func (m *Mapper) rewriteHeaderValue(name string, v []byte, depth int) string {
	if depth > maxDepth {
		ed := sipflow.NewEditor(v)
		m.scrub(ed, v, scrubFull)
		return string(ed.Apply())
	}
	msg := "OPTIONS sip:x SIP/2.0\r\n" + name + ": "
	buf := []byte(msg + string(v) + "\r\n\r\n")
	var pm sipflow.Message
	if pm.Unmarshal(buf) != nil || len(pm.Headers) == 0 {
		ed := sipflow.NewEditor(v)
		m.scrub(ed, v, scrubFull)
		return string(ed.Apply())
	}
	ed := sipflow.NewEditor(buf)
	h := pm.Headers[0]
	if !m.header(ed, h, depth) {
		m.freeHeader(ed, h)
	}
	out := ed.Apply()
	// cut the value back out: the prefix is unchanged, the suffix is "\r\n\r\n"
	return string(out[len(msg) : len(out)-4])
}

func unescape(b []byte) []byte {
	if indexByte(b, '%') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && unhex(b[i+1]) >= 0 && unhex(b[i+2]) >= 0 {
			out = append(out, byte(unhex(b[i+1])<<4|unhex(b[i+2])))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// escapeURIHeader escapes what RFC 3261 25.1 hvalue does not allow
// unescaped (hnv-unreserved / unreserved).
func escapeURIHeader(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || isDigit(c) || strings.IndexByte("-_.!~*'()[]/?:+$", c) >= 0 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte("0123456789ABCDEF"[c>>4])
		sb.WriteByte("0123456789ABCDEF"[c&15])
	}
	return sb.String()
}

// params rewrites a ";name=value" list by parameter name.
func (m *Mapper) params(ed *editor, p []byte, depth int) {
	for {
		name, val, rest, ok := sipflow.NextParam(p)
		if !ok {
			return
		}
		p = rest
		if len(val) == 0 {
			continue
		}
		m.param(ed, strings.ToLower(string(name)), val, depth)
	}
}

func (m *Mapper) param(ed *editor, name string, val []byte, depth int) {
	in := unquote(val)
	if len(in) == 0 {
		return
	}
	s := string(in)
	switch name {
	case "tag", "to-tag", "from-tag", "local-tag", "remote-tag", "ftag", "ttag":
		ed.Set(in, m.Tag(s))
	case "branch":
		ed.Set(in, m.Branch(s))
	case "received", "maddr", "icid-generated-at", "orig-ioi", "term-ioi", "ccf", "ecf", "sent-by":
		m.hostOrPort(ed, in)
	case "phone-context":
		if IsNumber(s) {
			ed.Set(in, m.Number(s))
		} else {
			ed.Set(in, m.Host(s))
		}
	case "rn", "cic", "isub", "tgrp", "trunk-context", "rn-context":
		if IsNumber(s) {
			ed.Set(in, m.Number(s))
		} else {
			ed.Set(in, m.Token(s))
		}
	case "+sip.instance", "gr", "reg-id-uuid", "icid-value", "utran-cell-id-3gpp",
		"cgi-3gpp", "utran-sai-3gpp", "i-wlan-node-id", "dsl-location", "ci-3gpp2", "eth-location",
		"fiber-location", "np", "epid", "username", "cnonce", "nonce", "sip.instance", "sid":
		inner := in
		if len(inner) >= 2 && inner[0] == '<' && inner[len(inner)-1] == '>' {
			inner = inner[1 : len(inner)-1]
		}
		if hasPrefixFold(inner, "urn:uuid:") {
			inner = inner[9:]
		}
		ed.Set(inner, m.Token(string(inner)))
	case "pub-gruu", "temp-gruu", "target", "pres-rules":
		if u, ok := sipflow.ParseURI(in); ok {
			m.uri(ed, u, depth)
		} else {
			m.scrub(ed, in, scrubFull)
		}
	case "transport", "lr", "ttl", "method", "user", "q", "expires", "reg-id", "ob", "index",
		"rc", "mp", "cause", "purpose", "duration", "handling", "reason", "privacy", "counter",
		"limit", "screen", "party", "id-type", "rport", "alias", "keep", "comp", "sigcomp-id",
		"ext", "npdi", "events", "audio", "video", "text", "mobility", "description", "methods",
		"schemes", "automata", "class", "duplex", "actor", "isfocus", "protocol", "refresher",
		"algorithm", "qop", "nc", "stale", "charset", "boundary", "version", "early-only",
		"retry-after", "id", "pkg", "sos":
		if name == "text" || name == "description" {
			m.scrub(ed, in, scrubFull)
		}
	default:
		if depth <= maxDepth {
			m.scrub(ed, in, scrubFull)
		}
	}
}

// hostOrPort maps a host that may carry a port or brackets.
func (m *Mapper) hostOrPort(ed *editor, v []byte) {
	h := v
	if len(h) > 0 && h[0] == '[' {
		if e := indexByte(h, ']'); e > 0 {
			h = h[1:e]
		}
	} else if c := indexByte(h, ':'); c >= 0 && strings.Count(string(h), ":") == 1 {
		h = h[:c]
	}
	if len(h) > 0 {
		ed.Set(h, m.Host(string(h)))
	}
}

// dialogID rewrites Replaces / Target-Dialog / Join: callid *(;param).
func (m *Mapper) dialogID(ed *editor, v []byte) {
	id, params := splitSemi(v)
	ed.Set(id, m.CallID(string(id)))
	m.params(ed, params, maxDepth)
}

// auth rewrites a credentials or challenge header (RFC 3261 25.1):
// scheme then comma-separated name=value pairs.
func (m *Mapper) auth(ed *editor, v []byte) {
	_, rest := sipflow.Field(v)
	for len(rest) > 0 {
		var e []byte
		e, rest = sipflow.NextElem(rest)
		eq := indexByte(e, '=')
		if eq < 0 {
			continue
		}
		name := strings.ToLower(string(trimSpace(e[:eq])))
		val := unquote(trimSpace(e[eq+1:]))
		if len(val) == 0 {
			continue
		}
		s := string(val)
		switch name {
		case "username":
			ed.Set(val, m.User(s))
		case "realm":
			// a domain realm maps like the domain; a one-word realm
			// ("asterisk", a company name) keeps its shape
			if strings.IndexByte(s, '.') >= 0 {
				ed.Set(val, m.Host(s))
			} else {
				ed.Set(val, m.Token(s))
			}
		case "uri", "digest-uri":
			if u, ok := sipflow.ParseURI(val); ok {
				m.uri(ed, u, maxDepth)
			} else {
				m.scrub(ed, val, scrubFull)
			}
		case "nonce", "cnonce", "response", "opaque", "nextnonce", "rspauth", "auts":
			ed.Set(val, m.Secret(s))
		case "algorithm", "qop", "nc", "stale", "domain", "userhash", "charset":
			if name == "domain" {
				m.scrub(ed, val, scrubFull)
			}
		default:
			m.scrub(ed, val, scrubFull)
		}
	}
}

// warning rewrites Warning: code SP agent SP "text" (RFC 3261 20.43).
func (m *Mapper) warning(ed *editor, v []byte) {
	for rest := v; len(rest) > 0; {
		var e []byte
		e, rest = sipflow.NextElem(rest)
		_, r := sipflow.Field(e)
		agent, r := sipflow.Field(r)
		if len(agent) > 0 && agent[0] != '"' {
			m.hostOrPort(ed, agent)
		}
		m.scrub(ed, r, scrubFull)
	}
}
