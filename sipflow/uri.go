package sipflow

import (
	"bytes"
	"encoding/binary"
	"math/bits"

	"github.com/voiptool/voiptool/internal/siplex"
)

// URI is a parsed SIP/SIPS/TEL URI (RFC 3261 19.1, RFC 3966). All fields
// alias the decoded message.
//
//	sip:user:password@host:port;uri-parameters?headers
type URI struct {
	Raw    []byte
	Scheme []byte
	User   []byte // user part, or the number of a tel: URI
	Host   []byte // without brackets for IPv6 references
	Port   uint16 // 0 when absent
	Params []byte // ";a=b;c" after the host, without headers
}

// zero reports whether u is the zero URI (Message.reset clears it only
// when not).
func (u *URI) zero() bool {
	return u.Raw == nil && u.Scheme == nil && u.User == nil && u.Host == nil && u.Port == 0 && u.Params == nil
}

func (u *URI) parse(b []byte) (ok bool) {
	*u = URI{Raw: b}
	colon := -1
	for i, c := range b {
		if c == ':' {
			colon = i
			break
		}
		if !siplex.IsToken(c) {
			break
		}
	}
	if colon <= 0 {
		return false
	}
	u.Scheme = b[:colon]
	rest := b[colon+1:]
	// One walk over user@host:port finds what a bytes.IndexByte apiece
	// found before (seven calls for "sip:user@host:port;params", a fixed
	// cost each on a few dozen bytes): the first '?' (headers, dropped),
	// the last '@' before it, the first ':' (a password's end), and
	// after the last '@' the first ';' and the ':'s before that ';'.
	q, at, c0, semi, hc1, hc2 := len(rest), -1, -1, -1, -1, -1
	walkParams := false
walk:
	for i := 0; i < len(rest); i++ {
		// Eight bytes at a time: to the first that may be one of
		// : ; < = > ? @ (0x3a-0x40); the bytes of a long host name are
		// skipped in a few steps.
		if i = nextDelim(rest, i); i == len(rest) {
			break
		}
		c := rest[i]
		if c-':' > '@'-':' { // not one of : ; < = > ? @
			continue
		}
		switch c {
		case '?':
			q = i
			break walk
		case '@':
			at, semi, hc1, hc2 = i, -1, -1, -1
		case ';':
			if semi < 0 {
				semi = i
				// The parameters (long, often) rarely hold an '@': when
				// none does before a '?', no byte after this ';'
				// changes the cut, and bytes.IndexByte finds the '?'
				// faster than the walk.
				if !walkParams {
					r := rest[i:]
					qr := indexByte(r, '?')
					if qr >= 0 {
						r = r[:qr]
					}
					if indexByte(r, '@') < 0 {
						if qr >= 0 {
							q = i + qr
						}
						break walk
					}
					walkParams = true
				}
			}
		case ':':
			if c0 < 0 {
				c0 = i
			}
			if semi < 0 {
				if hc1 < 0 {
					hc1 = i
				} else if hc2 < 0 {
					hc2 = i
				}
			}
		}
	}
	rest = rest[:q]
	if len(u.Scheme) == 3 && u.Scheme[0]|0x20 == 't' && siplex.EqualFold(u.Scheme, "tel") { // not for every "sip"
		end := len(rest)
		if i := indexByte(rest, ';'); i >= 0 {
			end = i
		}
		u.User, u.Params = rest[:end], rest[end:]
		return len(u.User) > 0
	}
	hp := 0 // where host[:port] starts in rest
	if at >= 0 {
		user := rest[:at]
		if c0 >= 0 && c0 < at {
			user = user[:c0] // drop password
		}
		u.User = user
		hp = at + 1
	}
	end := len(rest)
	if semi >= 0 {
		end = semi
	}
	hostport := rest[hp:end]
	u.Params = rest[end:]
	host, port, ok := splitHostPortAt(hostport, hc1-hp, hc2-hp)
	u.Host, u.Port = host, port
	return ok && len(host) > 0
}

// nextDelim returns the index of the first byte of b from i on that
// may be one of : ; < = > ? @ (see delimMask), or len(b): a word at a
// time, the last eight bytes for the tail (those before i shifted out)
// instead of a step per byte.
func nextDelim(b []byte, i int) int {
	n := len(b)
	for ; i+8 <= n; i += 8 {
		if m := delimMask(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	if i < n && n >= 8 {
		if m := delimMask(binary.LittleEndian.Uint64(b[n-8:])) >> (8 * (i - (n - 8))); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		return n
	}
	for ; i < n; i++ {
		if b[i]-':' <= '@'-':' {
			return i
		}
	}
	return n
}

// delimMask sets the high bit of each byte of the word w that is in
// ':'..'@' (0x3a to 0x40): with the high bit of each byte set,
// subtracting 0x3a leaves it set where the byte is 0x3a or more,
// subtracting 0x41 where it is 0x41 or more, and no byte borrows from
// the next. Bytes of 0xba-0xc0 (not ASCII) are marked too: the walk
// looks at a marked byte itself.
func delimMask(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := w | hi
	return (x - ':'*lo) &^ (x - ('@'+1)*lo) & hi
}

// splitHostPortAt is splitHostPort for a caller whose walk over b
// already found its first two ':' (c1, c2; negative when absent): the
// common case is cut at c1 without a search, the others are left to
// splitHostPort.
func splitHostPortAt(b []byte, c1, c2 int) (host []byte, port uint16, ok bool) {
	if n := len(b); n == 0 || b[0] == '[' || siplex.IsLWS(b[0]) || siplex.IsLWS(b[n-1]) || c2 >= 0 {
		return splitHostPort(b)
	}
	if c1 < 0 {
		return b, 0, true
	}
	p, ok := atoi(siplex.TrimLWS(b[c1+1:]), 65535)
	return siplex.TrimLWS(b[:c1]), uint16(p), ok
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port".
func splitHostPort(b []byte) (host []byte, port uint16, ok bool) {
	b = siplex.TrimLWS(b)
	if len(b) > 0 && b[0] == '[' {
		rb := indexByte(b, ']')
		if rb < 0 {
			return b[1:], 0, false
		}
		host = b[1:rb]
		b = b[rb+1:]
		if len(b) == 0 {
			return host, 0, true
		}
		if b[0] != ':' {
			return host, 0, false
		}
		p, ok := atoi(siplex.TrimLWS(b[1:]), 65535)
		return host, uint16(p), ok
	}
	c := indexByte(b, ':')
	if c < 0 {
		return b, 0, true
	}
	if indexByte(b[c+1:], ':') >= 0 {
		// An IPv6 address without brackets: invalid (RFC 3261 25.1
		// IPv6reference) but sent by real phones. Recover host and port and
		// report !ok so the caller warns.
		if parseIP(b).Is6() {
			return b, 0, false
		}
		l := lastIndexByte(b, ':')
		if parseIP(b[:l]).Is6() {
			p, _ := atoi(b[l+1:], 65535)
			return b[:l], uint16(p), false
		}
		return b[:c], 0, false
	}
	p, ok := atoi(siplex.TrimLWS(b[c+1:]), 65535)
	return siplex.TrimLWS(b[:c]), uint16(p), ok
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }

// lastIndexByte is bytes.LastIndexByte by bytes.IndexByte: the latter
// is vectorised, the former a byte loop, and the c looked for (the '@'
// of a URI, a port's ':') occurs once or not at all in nearly every
// input.
func lastIndexByte(b []byte, c byte) int {
	i := bytes.IndexByte(b, c)
	if i < 0 {
		return -1
	}
	for {
		j := bytes.IndexByte(b[i+1:], c)
		if j < 0 {
			return i
		}
		i += j + 1
	}
}
