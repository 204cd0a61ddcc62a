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

func (v *Via) parse(b []byte) (ok bool) {
	b = siplex.TrimLWS(b)
	*v = Via{Raw: b, RPort: -1}
	// sent-protocol: name LWS? "/" LWS? version LWS? "/" LWS? transport
	// (RFC 3261 25.1 SLASH = SWS "/" SWS)
	var parts [3][]byte
	rest := b
	sep := false
	for k := 0; k < 3; k++ {
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
	end := len(rest)
	if i := indexByte(rest, ';'); i >= 0 {
		end = i
	}
	host, port, hok := splitHostPort(rest[:end])
	v.Host, v.Port = host, port
	v.Params = rest[end:]
	if x, f := Param(v.Params, "branch"); f {
		v.Branch = x
	}
	if x, f := Param(v.Params, "received"); f {
		v.Received = x
	}
	if x, f := Param(v.Params, "rport"); f {
		if len(x) == 0 {
			v.RPort = 0
		} else if p, pok := atoi(x, 65535); pok {
			v.RPort = p
		}
	}
	return hok && sep && len(parts[0]) > 0 && len(parts[2]) > 0 && len(host) > 0
}
