package sipflow

import (
	"net/netip"

	"github.com/voiptool/voiptool/internal/siplex"
)

// Direction is an SDP media direction attribute (RFC 3264 5.1, 8.4).
type Direction uint8

// Directions. DirUnset means no attribute; RFC 3264 then implies sendrecv.
const (
	DirUnset Direction = iota
	DirSendRecv
	DirSendOnly
	DirRecvOnly
	DirInactive
)

func (d Direction) String() string {
	switch d {
	case DirSendRecv:
		return "sendrecv"
	case DirSendOnly:
		return "sendonly"
	case DirRecvOnly:
		return "recvonly"
	case DirInactive:
		return "inactive"
	}
	return ""
}

// Conn is a c= line (RFC 8866 5.7). Addr aliases the body; IP is invalid
// when the address is an FQDN or malformed.
type Conn struct {
	Addr []byte
	IP   netip.Addr
}

// RTPMap is one a=rtpmap (RFC 8866 6.6): "<pt> <encoding>/<clock>[/<ch>]".
type RTPMap struct {
	PT       uint8
	Encoding []byte
	Clock    uint32
	Channels int
}

// Fmtp is one a=fmtp (RFC 8866 6.15).
type Fmtp struct {
	PT     uint8
	Params []byte
}

// MaxCryptoAttrs bounds the a=crypto values kept per media (an offer
// rarely lists more than two suites).
const MaxCryptoAttrs = 4

// Media is one m= section (RFC 8866 5.14) with the attributes that matter
// for call analysis. Byte slices alias the body.
type Media struct {
	Type     []byte // audio, video, image, application
	Port     uint16
	NumPorts int
	Proto    []byte // RTP/AVP, RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVPF, udptl ...
	Formats  []byte // the raw format list
	Payloads []uint8
	Conn     Conn // media-level c=, IP invalid when absent
	RTCPPort uint16
	RTCPAddr netip.Addr
	RTCPMux  bool
	Dir      Direction
	Crypto   bool // a=crypto (RFC 4568) or a=fingerprint (RFC 8122)
	// CryptoAttrs are the values of the first MaxCryptoAttrs a=crypto
	// attributes (SDES keys, RFC 4568), aliasing the body; NCrypto counts
	// them all.
	CryptoAttrs [MaxCryptoAttrs][]byte
	NCrypto     int
	Ptime       int // ms, 0 when absent
	RTPMaps     []RTPMap
	Fmtps       []Fmtp
}

// SDP is a decoded session description (RFC 8866). It aliases the body it
// was decoded from and reuses its slices across Unmarshal calls.
type SDP struct {
	Raw         []byte
	Version     int
	OriginUser  []byte
	SessionID   []byte
	SessVersion []byte
	Origin      Conn // o= address
	SessionName []byte
	Conn        Conn // session-level c=
	Dir         Direction
	Media       []Media
	Bad         int // lines that did not parse (skipped)
}

// zero reports whether every field of s but Media (whose capacity
// Message.reset keeps) is zero.
func (s *SDP) zero() bool {
	return s.Raw == nil && s.Version == 0 && s.OriginUser == nil && s.SessionID == nil && s.SessVersion == nil &&
		s.Origin.Addr == nil && s.Origin.IP == (netip.Addr{}) && s.SessionName == nil &&
		s.Conn.Addr == nil && s.Conn.IP == (netip.Addr{}) && s.Dir == 0 && s.Bad == 0
}

func (s *SDP) reset(b []byte) {
	media := s.Media[:0]
	*s = SDP{Raw: b, Media: media}
}

// Unmarshal decodes an SDP body in place. It returns ErrNotSDP when the
// first line is not v=; malformed later lines are counted in Bad and
// skipped.
//
//	v=0
//	o=<user> <sess-id> <sess-version> IN IP4 <addr>
//	s=<name>
//	c=IN IP4 <addr>               ; session or media level
//	t=0 0
//	m=<media> <port>[/<n>] <proto> <fmt> ...
//	a=<attribute>[:<value>]
func (s *SDP) Unmarshal(b []byte) error {
	s.reset(b)
	pos := 0
	for pos < len(b) && siplex.IsLWS(b[pos]) {
		pos++
	}
	if !siplex.HasPrefixFold(b[pos:], "v=") {
		return ErrNotSDP
	}
	var cur *Media
	for pos < len(b) {
		// the line at pos; TrimLWS takes its CR with the other LWS
		end, n := len(b), len(b)
		if j := indexByte(b[pos:], '\n'); j >= 0 {
			end, n = pos+j, pos+j+1
		}
		line := siplex.TrimLWS(b[pos:end])
		pos = n
		if len(line) == 0 {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			s.Bad++
			continue
		}
		v := line[2:]
		switch line[0] {
		case 'v':
			n, ok := atoi(v, 1<<16)
			if !ok {
				s.Bad++
			}
			s.Version = n
		case 'o':
			// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <addr>
			var f [6][]byte
			rest := v
			for k := range f {
				f[k], rest = field(rest)
			}
			s.OriginUser, s.SessionID, s.SessVersion = f[0], f[1], f[2]
			s.Origin = Conn{Addr: f[5], IP: parseIP(f[5])}
			if len(f[5]) == 0 {
				s.Bad++
			}
		case 's':
			s.SessionName = v
		case 'c':
			c, ok := parseConn(v)
			if !ok {
				s.Bad++
			}
			if cur != nil {
				cur.Conn = c
			} else {
				s.Conn = c
			}
		case 'm':
			cur = s.addMedia()
			if !cur.parse(v) {
				s.Bad++
			}
		case 'a':
			if !s.attr(cur, v) {
				s.Bad++
			}
		}
	}
	return nil
}

func (s *SDP) addMedia() *Media {
	n := len(s.Media)
	if n < cap(s.Media) {
		s.Media = s.Media[:n+1]
		m := &s.Media[n]
		p, r, f := m.Payloads[:0], m.RTPMaps[:0], m.Fmtps[:0]
		*m = Media{Payloads: p, RTPMaps: r, Fmtps: f}
		return m
	}
	s.Media = append(s.Media, Media{})
	return &s.Media[n]
}

func (m *Media) parse(v []byte) bool {
	typ, rest := field(v)
	port, rest := field(rest)
	proto, rest := field(rest)
	m.Type, m.Proto = typ, proto
	m.Formats = siplex.TrimLWS(rest)
	m.NumPorts = 1
	if i := indexByte(port, '/'); i >= 0 {
		if n, ok := atoi(port[i+1:], 1<<16); ok {
			m.NumPorts = n
		}
		port = port[:i]
	}
	p, ok := atoi(port, 65535)
	m.Port = uint16(p)
	// The payload types: every format field atoi(f, 127) would accept,
	// its value taken in the walk that cuts it.
	for f, i := m.Formats, 0; i < len(f); {
		if siplex.IsLWS(f[i]) {
			i++
			continue
		}
		pt, ok := 0, true
		for ; i < len(f) && !siplex.IsLWS(f[i]); i++ {
			if d := f[i] - '0'; d > 9 || pt > 127 {
				ok = false
			} else {
				pt = pt*10 + int(d)
			}
		}
		if ok && pt <= 127 {
			m.Payloads = append(m.Payloads, uint8(pt))
		}
	}
	return ok && len(typ) > 0 && len(proto) > 0
}

func parseConn(v []byte) (Conn, bool) {
	// c=<nettype> <addrtype> <connection-address>[/ttl][/n]
	nt, rest := field(v)
	at, rest := field(rest)
	addr, _ := field(rest)
	if i := indexByte(addr, '/'); i >= 0 {
		addr = addr[:i]
	}
	c := Conn{Addr: addr, IP: parseIP(addr)}
	return c, len(nt) > 0 && len(at) > 0 && len(addr) > 0
}

// attr applies one a= line; cur is nil at session level.
func (s *SDP) attr(cur *Media, v []byte) bool {
	name, val := v, []byte(nil)
	if i := indexByte(v, ':'); i >= 0 {
		name, val = v[:i], siplex.TrimLWS(v[i+1:])
	}
	// Names are told apart by length first: most a= lines are rtpmap,
	// fmtp and ptime, and a chain of comparisons cost more than the line.
	dir := DirUnset
	if len(name) == len("sendrecv") {
		switch {
		case siplex.EqualFold(name, "sendrecv"):
			dir = DirSendRecv
		case siplex.EqualFold(name, "sendonly"):
			dir = DirSendOnly
		case siplex.EqualFold(name, "recvonly"):
			dir = DirRecvOnly
		case siplex.EqualFold(name, "inactive"):
			dir = DirInactive
		}
	}
	if dir != DirUnset {
		if cur != nil {
			cur.Dir = dir
		} else {
			s.Dir = dir
		}
		return true
	}
	if cur == nil {
		return true // other session-level attributes are not needed
	}
	switch len(name) {
	case len("rtpmap"): // and crypto
		if siplex.EqualFold(name, "rtpmap") {
			return cur.rtpmap(val)
		}
		if siplex.EqualFold(name, "crypto") {
			cur.Crypto = true
			if cur.NCrypto < MaxCryptoAttrs {
				cur.CryptoAttrs[cur.NCrypto] = val
			}
			cur.NCrypto++
		}
	case len("fmtp"): // and rtcp
		if siplex.EqualFold(name, "fmtp") {
			ptb, rest := field(val)
			pt, ok := atoi(ptb, 127)
			cur.Fmtps = append(cur.Fmtps, Fmtp{PT: uint8(pt), Params: siplex.TrimLWS(rest)})
			return ok
		}
		if siplex.EqualFold(name, "rtcp") {
			// a=rtcp:<port> [IN IP4 <addr>] (RFC 3605 2.1)
			pb, rest := field(val)
			p, ok := atoi(pb, 65535)
			cur.RTCPPort = uint16(p)
			if c, cok := parseConn(rest); cok {
				cur.RTCPAddr = c.IP
			}
			return ok
		}
	case len("rtcp-mux"):
		if siplex.EqualFold(name, "rtcp-mux") {
			cur.RTCPMux = true // RFC 5761 5.1.1
		}
	case len("fingerprint"):
		if siplex.EqualFold(name, "fingerprint") {
			cur.Crypto = true
		}
	case len("ptime"):
		if siplex.EqualFold(name, "ptime") {
			p, ok := atoi(val, 10000)
			cur.Ptime = p
			return ok
		}
	}
	return true
}

// rtpmap applies a=rtpmap:<payload type> <encoding name>/<clock
// rate>[/<encoding parameters>].
func (m *Media) rtpmap(val []byte) bool {
	ptb, rest := field(val)
	pt, ok := atoi(ptb, 127)
	enc, _ := field(rest)
	r := RTPMap{PT: uint8(pt), Channels: 1}
	i := indexByte(enc, '/')
	if i < 0 {
		r.Encoding = enc
		m.RTPMaps = append(m.RTPMaps, r)
		return false
	}
	r.Encoding = enc[:i]
	clk := enc[i+1:]
	if j := indexByte(clk, '/'); j >= 0 {
		if ch, ok := atoi(clk[j+1:], 255); ok {
			r.Channels = ch
		}
		clk = clk[:j]
	}
	c, cok := atoi(clk, 1<<31)
	r.Clock = uint32(c)
	m.RTPMaps = append(m.RTPMaps, r)
	return ok && cok
}

// parseIP parses an IPv4 or IPv6 literal. IPv4 is parsed by hand so the
// common case does not allocate.
func parseIP(b []byte) netip.Addr {
	if len(b) == 0 {
		return netip.Addr{}
	}
	// IPv4 unless there is a ':' (looked for only when the dotted quad
	// does not parse, the rare case).
	// An octet over 255 is caught where it ends: three digits cannot
	// overflow, and either way the quad is not one.
	var a [4]byte
	k, n, digits := 0, 0, 0
	for _, c := range b {
		if d := c - '0'; d <= 9 {
			n = n*10 + int(d)
			if digits++; digits > 3 {
				return parseIP6(b)
			}
		} else if c == '.' && digits > 0 && k < 3 && n <= 255 {
			a[k] = byte(n)
			k++
			n, digits = 0, 0
		} else {
			return parseIP6(b)
		}
	}
	if k != 3 || digits == 0 || n > 255 {
		return parseIP6(b)
	}
	a[3] = byte(n)
	return netip.AddrFrom4(a)
}

// parseIP6 is parseIP for what is not a dotted quad: an IPv6 literal
// when b holds a ':', else invalid.
func parseIP6(b []byte) netip.Addr {
	if indexByte(b, ':') < 0 {
		return netip.Addr{}
	}
	var buf [64]byte
	if len(b) > len(buf) {
		return netip.Addr{}
	}
	n := copy(buf[:], b)
	ip, err := netip.ParseAddr(string(buf[:n]))
	if err != nil {
		return netip.Addr{}
	}
	return ip
}

// Addr returns the effective connection address of media i: its own c=
// line, else the session c= line.
func (s *SDP) Addr(i int) netip.Addr {
	if i < 0 || i >= len(s.Media) {
		return netip.Addr{}
	}
	if s.Media[i].Conn.IP.IsValid() {
		return s.Media[i].Conn.IP
	}
	return s.Conn.IP
}

// Endpoint returns the RTP endpoint of media i; ok is false when the address
// is unknown or the port is 0 (stream disabled, RFC 3264 6).
func (s *SDP) Endpoint(i int) (ap netip.AddrPort, ok bool) {
	a := s.Addr(i)
	if !a.IsValid() || s.Media[i].Port == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, s.Media[i].Port), true
}

// RTCPEndpoint returns the RTCP endpoint of media i: a=rtcp when present,
// the RTP port with a=rtcp-mux, else RTP port + 1 (RFC 3550 11).
func (s *SDP) RTCPEndpoint(i int) (netip.AddrPort, bool) {
	rtp, ok := s.Endpoint(i)
	if !ok {
		return rtp, false
	}
	m := &s.Media[i]
	switch {
	case m.RTCPPort != 0:
		a := rtp.Addr()
		if m.RTCPAddr.IsValid() {
			a = m.RTCPAddr
		}
		return netip.AddrPortFrom(a, m.RTCPPort), true
	case m.RTCPMux:
		return rtp, true
	}
	return netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1), true
}

// Direction returns the effective direction of media i (media attribute,
// else session attribute, else sendrecv).
func (s *SDP) Direction(i int) Direction {
	if i >= 0 && i < len(s.Media) && s.Media[i].Dir != DirUnset {
		return s.Media[i].Dir
	}
	if s.Dir != DirUnset {
		return s.Dir
	}
	return DirSendRecv
}

// Secure reports whether media i uses SRTP: an RTP/SAVP(F) profile
// (RFC 3711, 5124) or a crypto/fingerprint attribute.
func (s *SDP) Secure(i int) bool {
	m := &s.Media[i]
	return m.Crypto || siplex.ContainsFold(m.Proto, "SAVP")
}

// OnHold reports whether the offer puts the session on hold: every active
// media stream is sendonly or inactive, or its address is 0.0.0.0
// (RFC 3264 8.4, and the RFC 2543 style still seen in the field).
func (s *SDP) OnHold() bool {
	active := 0
	for i := range s.Media {
		if s.Media[i].Port == 0 {
			continue
		}
		active++
		a := s.Addr(i)
		d := s.Direction(i)
		if d == DirSendRecv || d == DirRecvOnly {
			if !(a.IsValid() && a.Is4() && a.IsUnspecified()) {
				return false
			}
		}
	}
	return active > 0
}

// Codec returns the encoding name for payload type pt of media i: from
// a=rtpmap, else the static table of RFC 3551 6.
func (s *SDP) Codec(i int, pt uint8) []byte {
	if enc, ok := s.RTPMap(i, pt); ok {
		return enc
	}
	if name := StaticPayloadName(pt); name != "" {
		return []byte(name)
	}
	return nil
}

// RTPMap returns the encoding name a=rtpmap gives payload type pt of
// media i, and whether there is one. Codec adds the static names; a
// caller that wants those as strings (the store) reads them from
// StaticPayloadName without Codec's copy.
func (s *SDP) RTPMap(i int, pt uint8) ([]byte, bool) {
	for _, r := range s.Media[i].RTPMaps {
		if r.PT == pt {
			return r.Encoding, true
		}
	}
	return nil, false
}

// StaticPayloadName names the static RTP payload types of RFC 3551 6,
// Table 4; "" when pt is dynamic or unassigned.
func StaticPayloadName(pt uint8) string {
	switch pt {
	case 0:
		return "PCMU"
	case 3:
		return "GSM"
	case 4:
		return "G723"
	case 5, 6:
		return "DVI4"
	case 7:
		return "LPC"
	case 8:
		return "PCMA"
	case 9:
		return "G722"
	case 10, 11:
		return "L16"
	case 12:
		return "QCELP"
	case 13:
		return "CN"
	case 14:
		return "MPA"
	case 15:
		return "G728"
	case 18:
		return "G729"
	case 26:
		return "JPEG"
	case 31:
		return "H261"
	case 32:
		return "MPV"
	case 34:
		return "H263"
	}
	return ""
}
