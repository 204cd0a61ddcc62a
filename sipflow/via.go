package sipflow

import "github.com/voiptool/voiptool/internal/siplex"

// Via is one via-parm (RFC 3261 20.42). Fields alias the decoded message.
//
//	Via: SIP / 2.0 / UDP host:port ;branch=z9hG4bK...;received=1.2.3.4;rport=5060
type Via struct {
	Raw       []byte
	Transport []byte // UDP, TCP, TLS, SCTP, WS, WSS ...
	Host      []byte
	Port      uint16
	Branch    []byte
	Received  []byte
	RPort     int // -1 absent, 0 present without value, else the port
	Params    []byte
}

// viaProto is the sent-protocol's name and version as nearly every
// stack sends them.
const viaProto = "SIP/2.0/"

func (v *Via) parse(b []byte) (ok bool) {
	b = siplex.TrimLWS(b)
	*v = Via{Raw: b, RPort: -1}
	// sent-protocol: name LWS? "/" LWS? version LWS? "/" LWS? transport
	// (RFC 3261 25.1 SLASH = SWS "/" SWS)
	var parts [3][]byte
	rest := b
	sep := false
	k0 := 0
	if len(b) > len(viaProto) && string(b[:len(viaProto)]) == viaProto {
		// as the loop below would split it, without its walk
		parts[0], parts[1], rest, k0 = b[:3], b[4:7], b[len(viaProto):], 2
	}
	for k := k0; k < 3; k++ {
		rest = siplex.TrimLWS(rest)
		i := 0
		for i < len(rest) && siplex.IsToken(rest[i]) {
			i++
		}
		parts[k] = rest[:i]
		if k == 2 {
			// sent-protocol LWS sent-by: without the separator the host
			// runs into the transport ("UDP10.0.0.1"), and a rewrite of
			// that host could turn it into part of the transport token
			sep = i < len(rest) && (rest[i] == ' ' || rest[i] == '\t' || rest[i] == '\r' || rest[i] == '\n')
		}
		rest = siplex.TrimLWS(rest[i:])
		if k < 2 {
			if len(rest) == 0 || rest[0] != '/' {
				return false
			}
			rest = rest[1:]
		}
	}
	v.Transport = parts[2]
	rest = siplex.TrimLWS(rest)
	// sent-by ends at the first ';'; the walk that finds it finds the
	// ':'s splitHostPortAt needs (three bytes.IndexByte calls before)
	end, c1, c2 := len(rest), -1, -1
	for i := 0; i < len(rest); i++ {
		// to the next byte that may be ':' or ';', as URI.parse walks
		if i = nextDelim(rest, i); i == len(rest) {
			break
		}
		if c := rest[i]; c == ';' {
			end = i
			break
		} else if c == ':' {
			if c1 < 0 {
				c1 = i
			} else if c2 < 0 {
				c2 = i
			}
		}
	}
	host, port, hok := splitHostPortAt(rest[:end], c1, c2)
	v.Host, v.Port = host, port
	v.Params = rest[end:]
	// One walk over the parameters; the first of each name counts, as
	// Param would return it.
	var branch, received, rport bool
	for p := v.Params; ; {
		k, x, rest, ok := NextParam(p)
		if !ok {
			break
		}
		p = rest
		switch len(k) {
		case len("branch"):
			if !branch && siplex.EqualFold(k, "branch") {
				v.Branch, branch = x, true
			}
		case len("received"):
			if !received && siplex.EqualFold(k, "received") {
				v.Received, received = x, true
			}
		case len("rport"):
			if !rport && siplex.EqualFold(k, "rport") {
				rport = true
				if len(x) == 0 {
					v.RPort = 0
				} else if n, pok := atoi(x, 65535); pok {
					v.RPort = n
				}
			}
		}
	}
	return hok && sep && len(parts[0]) > 0 && len(parts[2]) > 0 && len(host) > 0
}
