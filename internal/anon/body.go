package anon

import (
	"strconv"
	"strings"

	"github.com/voiptool/voiptool/sipflow"
)

// body returns the rewritten body for content type ct, and whether it was
// removed.
func (m *Mapper) body(ct, b []byte, depth int) (out []byte, removed bool) {
	if len(b) == 0 {
		return b, false
	}
	mt, params := splitSemi(ct)
	switch {
	case hasPrefixFold(mt, "application/sdp") && len(mt) == len("application/sdp"),
		len(ct) == 0 && hasPrefixFold(trimSpace(b), "v="):
		return m.RewriteSDP(b), false
	case hasPrefixFold(mt, "multipart/") && depth < maxDepth:
		if out, ok := m.multipart(params, b, depth+1); ok {
			return out, false
		}
	case hasPrefixFold(mt, "message/sipfrag") && depth < maxDepth:
		// a SIP message fragment (RFC 3420): a start line and headers
		if out, err := m.rewriteSIP(b, depth+1); err == nil {
			return out, false
		}
	}
	if m.opt.KeepBodies {
		return b, false
	}
	m.Stats.Bodies++
	return b[:0], true
}

// multipart rewrites each part of a multipart body (RFC 2046 5.1) and its
// Content-Length, if it has one.
func (m *Mapper) multipart(params, b []byte, depth int) ([]byte, bool) {
	boundary, ok := sipflow.Param(params, "boundary")
	boundary = unquote(boundary)
	if !ok || len(boundary) == 0 {
		return nil, false
	}
	ed := sipflow.NewEditor(b)
	found := sipflow.Parts(b, boundary, func(p sipflow.Part) bool {
		nc, _ := m.body(p.ContentType, p.Content, depth)
		if string(nc) != string(p.Content) {
			if len(p.Content) > 0 {
				ed.Set(p.Content, string(nc))
			}
		}
		// part headers: Content-Length fixed, Content-ID and others scrubbed
		for pos := 0; pos < len(p.Headers); {
			line, n := sipflow.NextLine(p.Headers, pos)
			pos = n
			c := indexByte(line, ':')
			if c <= 0 {
				continue
			}
			name := strings.ToLower(string(trimSpace(line[:c])))
			val := trimSpace(line[c+1:])
			switch name {
			case "content-length", "l":
				if string(nc) != string(p.Content) {
					ed.Set(val, strconv.Itoa(len(nc)))
				}
			case "content-type", "c", "content-disposition", "content-transfer-encoding", "mime-version":
			default:
				m.scrub(ed, val, scrubFull)
			}
		}
		return true
	})
	if !found {
		return nil, false
	}
	// The preamble and epilogue (RFC 2046 5.1.1) are free text no
	// receiver shows, but a sender may put anything there: scrubbed like
	// any free text.
	pre, epi := preambleEpilogue(b, boundary)
	if len(pre) > 0 {
		m.scrub(ed, pre, scrubFull)
	}
	if len(epi) > 0 {
		m.scrub(ed, epi, scrubFull)
	}
	return ed.Apply(), true
}

// preambleEpilogue returns the bytes of b before its first boundary
// delimiter line and after its close delimiter line (subslices of b;
// empty when absent).
func preambleEpilogue(b, boundary []byte) (pre, epi []byte) {
	delim := "--" + string(boundary)
	s := string(b)
	first := -1
	if strings.HasPrefix(s, delim) {
		first = 0
	} else if i := strings.Index(s, "\n"+delim); i >= 0 {
		first = i + 1
	}
	if first < 0 {
		return nil, nil
	}
	pre = b[:first]
	if i := strings.LastIndex(s, delim+"--"); i >= first {
		end := i + len(delim) + 2
		if j := strings.IndexByte(s[end:], '\n'); j >= 0 {
			epi = b[end+j+1:]
		}
	}
	return pre, epi
}

// RewriteSDP returns a pseudonymised copy of an SDP body (RFC 8866): origin
// user and address, connection and RTCP addresses, ICE candidates (address
// and raddr), SDES keys, ICE credentials, fingerprints, CNAMEs and the free
// text lines. Everything else (ports, codecs, directions) is kept.
func (m *Mapper) RewriteSDP(b []byte) []byte {
	ed := sipflow.NewEditor(b)
	for pos := 0; pos < len(b); {
		line, n := sipflow.NextLine(b, pos)
		pos = n
		line = trimSpace(line)
		if len(line) < 2 || line[1] != '=' {
			if len(line) > 0 {
				m.scrub(ed, line, scrubNoDigits)
			}
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'o':
			// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>
			user, r := sipflow.Field(v)
			_, r = sipflow.Field(r)
			_, r = sipflow.Field(r)
			_, r = sipflow.Field(r)
			_, r = sipflow.Field(r)
			addr, _ := sipflow.Field(r)
			if string(user) != "-" {
				ed.Set(user, m.User(string(user)))
			}
			m.sdpAddr(ed, addr)
		case 'c':
			_, r := sipflow.Field(v)
			_, r = sipflow.Field(r)
			addr, _ := sipflow.Field(r)
			m.sdpAddr(ed, addr)
		case 'p':
			if IsNumber(string(v)) {
				ed.Set(v, m.Number(string(v)))
			} else {
				m.scrub(ed, v, scrubFull)
			}
		case 's', 'i':
			// session name and information: mostly a product ("Asterisk
			// PBX 11.13.0", "CounterPath X-Lite 4.0"), sometimes a
			// person: known identifiers, URIs and addresses go
			m.scrub(ed, v, scrubProduct)
		case 'u', 'e':
			m.scrub(ed, v, scrubFull)
		case 'k':
			ed.Set(v, m.Secret(string(v)))
		case 'a':
			m.sdpAttr(ed, v)
		}
	}
	return ed.Apply()
}

// sdpAddr maps a connection address, "addr[/ttl[/n]]".
func (m *Mapper) sdpAddr(ed *editor, a []byte) {
	if i := indexByte(a, '/'); i >= 0 {
		a = a[:i]
	}
	if len(a) == 0 {
		return
	}
	ed.Set(a, m.Host(string(a)))
}

func (m *Mapper) sdpAttr(ed *editor, v []byte) {
	name, val := v, []byte(nil)
	if i := indexByte(v, ':'); i >= 0 {
		name, val = v[:i], trimSpace(v[i+1:])
	}
	switch strings.ToLower(string(name)) {
	case "rtcp":
		// a=rtcp:<port> [IN IP4 <addr>] (RFC 3605)
		_, r := sipflow.Field(val)
		_, r = sipflow.Field(r)
		_, r = sipflow.Field(r)
		addr, _ := sipflow.Field(r)
		m.sdpAddr(ed, addr)
	case "candidate", "remote-candidates":
		// foundation component transport priority address port typ type
		// [raddr <a> rport <p>] ... (RFC 8839 5.1)
		f := val
		var fields [][]byte
		for len(f) > 0 {
			var x []byte
			x, f = sipflow.Field(f)
			if len(x) == 0 {
				break
			}
			fields = append(fields, x)
		}
		if strings.EqualFold(string(name), "candidate") {
			if len(fields) > 4 {
				m.sdpAddr(ed, fields[4])
			}
			for k := 6; k+1 < len(fields); k++ {
				if strings.EqualFold(string(fields[k]), "raddr") {
					m.sdpAddr(ed, fields[k+1])
				}
			}
		} else {
			// component address port, repeated
			for k := 1; k < len(fields); k += 3 {
				m.sdpAddr(ed, fields[k])
			}
		}
	case "crypto":
		// tag suite inline:<key||salt>[|lifetime][|mki:len] ... (RFC 4568)
		for r := val; len(r) > 0; {
			i := indexByte(r, ':')
			if i < 0 {
				break
			}
			if hasPrefixFold(r[max(0, i-6):], "inline") {
				k := r[i+1:]
				e := 0
				for e < len(k) && k[e] != '|' && k[e] != ' ' && k[e] != ';' {
					e++
				}
				ed.Set(k[:e], m.Secret(string(k[:e])))
				r = k[e:]
				continue
			}
			r = r[i+1:]
		}
	case "ice-ufrag", "ice-pwd", "fingerprint", "key-mgmt", "identity", "tls-id":
		target := val
		if strings.EqualFold(string(name), "fingerprint") {
			_, target = sipflow.Field(val)
			target = trimSpace(target)
		}
		ed.Set(target, m.Secret(string(target)))
	case "ssrc":
		// a=ssrc:<ssrc> cname:<cname> (RFC 5576)
		_, r := sipflow.Field(val)
		r = trimSpace(r)
		if hasPrefixFold(r, "cname:") {
			c := trimSpace(r[6:])
			ed.Set(c, m.CNAME(string(c)))
		} else if hasPrefixFold(r, "msid:") || hasPrefixFold(r, "mslabel:") || hasPrefixFold(r, "label:") {
			// random stream ids
		} else {
			m.scrub(ed, r, scrubNoDigits)
		}
	case "rtpmap", "fmtp", "ptime", "maxptime", "sendrecv", "sendonly", "recvonly", "inactive",
		"rtcp-mux", "rtcp-rsize", "rtcp-fb", "extmap", "mid", "group", "msid-semantic", "msid",
		"setup", "connection", "silencesupp", "framerate", "quality", "orient", "type", "charset",
		"sdplang", "lang", "ice-options", "ice-lite", "end-of-candidates", "sctp-port",
		"max-message-size", "sctpmap", "t38faxversion", "t38maxbitrate", "t38faxfillbitremoval",
		"t38faxtranscodingmmr", "t38faxtranscodingjbig", "t38faxratemanagement",
		"t38faxmaxbuffer", "t38faxmaxdatagram", "t38faxudpec", "ssrc-group", "rid", "simulcast",
		"bundle-only", "label", "content", "floorctrl", "confid", "userid", "floorid":
		if n := strings.ToLower(string(name)); n == "userid" || n == "confid" {
			ed.Set(val, m.Token(string(val)))
		}
	default:
		if len(val) > 0 {
			m.scrub(ed, val, scrubNoDigits)
		}
	}
}

// CNAME maps an RTCP canonical name (SDES CNAME, a=ssrc cname:) to text
// of the same length, the same in SDP and in RTCP.
func (m *Mapper) CNAME(s string) string {
	return m.Token(s)
}
