package filter

import (
	"fmt"
	"net/netip"
	"strings"
)

// value generates the primitive for one ID under its qualifiers
// (libpcap's gen_ncode, gen_mcode, gen_mcode6 and gen_scode).
func (c *compiler) value(q qual, t token) (*node, error) {
	w := t.text
	// "ADDR/LEN" and "ADDR mask MASK" follow the address as separate tokens.
	if n := c.peek(); n.text == "/" || n.text == "mask" {
		return c.prefix(q, t)
	}
	if mac, ok := parseMAC(w); ok {
		return c.etherHost(q, t, mac)
	}
	if strings.IndexByte(w, ':') >= 0 {
		a, err := netip.ParseAddr(w)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return nil, errAt(t, ErrBadAddress, "")
		}
		return c.host6(q, t, a, 128)
	}
	if v, ok := parseNum(w); ok {
		return c.number(q, t, v, 32, true)
	}
	if strings.IndexByte(w, '.') >= 0 && isNumberish(w) {
		v, bits, ok := parseDotted(w)
		if !ok {
			return nil, errAt(t, ErrBadAddress, "")
		}
		return c.number(q, t, v, bits, false)
	}
	switch q.addr {
	case aPort, aPortRange:
		if p, ok := services[w]; ok {
			return c.number(q, t, p, 32, true)
		}
		if q.addr == aPortRange {
			if lo, hi, ok := strings.Cut(w, "-"); ok {
				return c.portRange(q, t, lo, hi)
			}
		}
		if isNumberish(w) {
			return nil, errAt(t, ErrBadNumber, "")
		}
		return nil, errAt(t, ErrUnsupported, "service names other than sip, sip-tls and domain")
	case aProto:
		return nil, errAt(t, ErrUnsupported, "protocol names; use a number")
	}
	if isNumberish(w) {
		return nil, errAt(t, ErrBadAddress, "")
	}
	return nil, errAt(t, ErrUnsupported, "host names are not resolved; use an address")
}

// number is an IPv4 address (possibly abbreviated: bits < 32), or a
// plain number, under host/net/port/portrange/proto.
func (c *compiler) number(q qual, t token, v uint32, bits int, plain bool) (*node, error) {
	switch q.addr {
	case aDefault, aHost, aNet:
		mask := uint32(0xffffffff)
		if plain && q.addr == aNet {
			// "net 10" is 10.0.0.0/8: promote a short net number.
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		} else {
			v <<= 32 - bits
			mask <<= 32 - bits
		}
		return c.hostV4(q, t, v, mask)
	case aPort, aPortRange:
		if !plain {
			return nil, errAt(t, ErrQualifier, "port of an IPv4 address")
		}
		if v > 65535 {
			return nil, errAt(t, ErrBadNumber, "port above 65535")
		}
		return c.port(q, t, v, v)
	case aProto:
		if !plain || (v > 255 && q.proto != pLink) {
			return nil, errAt(t, ErrBadNumber, "protocol number")
		}
		switch q.proto {
		case pLink:
			// "ether proto": only EtherTypes proper; lengths (<= 1500)
			// would mean 802.2 LLC, which we do not decode.
			if v <= 1500 || v > 0xffff {
				return nil, errAt(t, ErrUnsupported, "ether proto of an 802.3 length or LLC SAP")
			}
			return c.linkProto(v), nil
		case pDefault:
			if v > 255 {
				return nil, errAt(t, ErrBadNumber, "protocol number")
			}
			return or(c.proto4(v), c.proto6(v)), nil
		case pIP:
			return c.proto4(v), nil
		case pIP6:
			return c.proto6(v), nil
		}
		return nil, errAt(t, ErrQualifier, "proto after a protocol other than ip or ip6")
	}
	return nil, errAt(t, ErrQualifier, "")
}

func (c *compiler) hostV4(q qual, t token, v, mask uint32) (*node, error) {
	switch q.proto {
	case pDefault, pIP, pARP, pRARP:
		return c.hostIPv4(q.proto, v, mask, q.dir), nil
	}
	return nil, errAt(t, ErrQualifier, "IPv4 host or net with this protocol")
}

func (c *compiler) host6(q qual, t token, a netip.Addr, bits int) (*node, error) {
	switch q.addr {
	case aDefault, aHost:
		if bits != 128 {
			return nil, errAt(t, ErrQualifier, "a prefix needs net, not host")
		}
	case aNet:
	default:
		return nil, errAt(t, ErrQualifier, "IPv6 address after port or proto")
	}
	if q.proto != pDefault && q.proto != pIP6 {
		return nil, errAt(t, ErrQualifier, "IPv6 address with a protocol other than ip6")
	}
	b := a.As16()
	pfx := netip.PrefixFrom(a, bits).Masked().Addr().As16()
	if pfx != b {
		return nil, errAt(t, ErrBadAddress, fmt.Sprintf("non-network bits set in %s/%d", a, bits))
	}
	var addr, mask [4]uint32
	for i := range 4 {
		addr[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
		for j := range 32 {
			if 32*i+j < bits {
				mask[i] |= 1 << (31 - j)
			}
		}
	}
	return c.hostIPv6(addr, mask, q.dir), nil
}

// prefix is "ADDR/LEN" or "ADDR mask MASK": networks only.
func (c *compiler) prefix(q qual, t token) (*node, error) {
	sep := c.next()
	arg := c.next()
	if q.addr != aNet {
		return nil, errAt(t, ErrQualifier, "a prefix or mask needs net")
	}
	if strings.IndexByte(t.text, ':') >= 0 {
		if sep.text != "/" {
			return nil, errAt(sep, ErrSyntax, "IPv6 networks take /LEN")
		}
		a, err := netip.ParseAddr(t.text)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return nil, errAt(t, ErrBadAddress, "")
		}
		bits, ok := parseNum(arg.text)
		if arg.kind != tWord || !ok || bits > 128 {
			return nil, errAt(arg, ErrBadNumber, "prefix length")
		}
		return c.host6(q, t, a, int(bits))
	}
	if _, plain := parseNum(t.text); plain || !isNumberish(t.text) {
		return nil, errAt(t, ErrBadAddress, "expected a dotted IPv4 network")
	}
	v, vbits, ok := parseDotted(t.text)
	if !ok {
		return nil, errAt(t, ErrBadAddress, "")
	}
	v <<= 32 - vbits
	var mask uint32
	if sep.text == "/" {
		bits, ok := parseNum(arg.text)
		if arg.kind != tWord || !ok || bits > 32 {
			return nil, errAt(arg, ErrBadNumber, "prefix length")
		}
		if bits > 0 {
			mask = 0xffffffff << (32 - bits)
		}
	} else {
		m, mbits, ok := parseDotted(arg.text)
		if arg.kind != tWord || !ok {
			return nil, errAt(arg, ErrBadAddress, "mask")
		}
		mask = m << (32 - mbits)
	}
	if v&^mask != 0 {
		return nil, errAt(t, ErrBadAddress, "non-network bits set")
	}
	return c.hostV4(q, t, v, mask)
}

func (c *compiler) portRange(q qual, t token, los, his string) (*node, error) {
	lo, ok1 := parseNum(los)
	if p, ok := services[los]; ok {
		lo, ok1 = p, true
	}
	hi, ok2 := parseNum(his)
	if p, ok := services[his]; ok {
		hi, ok2 = p, true
	}
	if !ok1 || !ok2 || lo > 65535 || hi > 65535 {
		return nil, errAt(t, ErrBadNumber, "port range")
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return c.port(q, t, lo, hi)
}

func (c *compiler) port(q qual, t token, lo, hi uint32) (*node, error) {
	var protos []uint32
	switch q.proto {
	case pDefault:
		protos = []uint32{protoSCTP, protoTCP, protoUDP}
	case pTCP:
		protos = []uint32{protoTCP}
	case pUDP:
		protos = []uint32{protoUDP}
	case pSCTP:
		protos = []uint32{protoSCTP}
	default:
		return nil, errAt(t, ErrQualifier, "port needs tcp, udp, sctp or no protocol")
	}
	if q.dir == dirAnd || q.dir == dirDefault || q.dir == dirSrc || q.dir == dirDst {
		return c.ports(protos, lo, hi, q.dir), nil
	}
	return nil, errAt(t, ErrQualifier, "")
}

// protoAbbrev is a protocol name standing alone ("udp", "ip6").
func (c *compiler) protoAbbrev(p pqual, t token) (*node, error) {
	switch p {
	case pIP:
		return c.linkProto(etherIPv4), nil
	case pIP6:
		return c.linkProto(etherIPv6), nil
	case pARP:
		return c.linkProto(etherARP), nil
	case pRARP:
		return c.linkProto(etherRARP), nil
	case pTCP:
		return or(c.proto4(protoTCP), c.proto6(protoTCP)), nil
	case pUDP:
		return or(c.proto4(protoUDP), c.proto6(protoUDP)), nil
	case pSCTP:
		return or(c.proto4(protoSCTP), c.proto6(protoSCTP)), nil
	case pICMP:
		return c.proto4(protoICMP), nil
	case pIGMP:
		return c.proto4(protoIGMP), nil
	case pICMP6:
		return c.proto6(protoICMPv6), nil
	}
	return nil, errAt(t, ErrSyntax, "\""+t.text+"\" needs a qualifier or [offset]")
}

func (c *compiler) parseVLAN(t token) (*node, error) {
	if !c.l.vlan {
		return nil, errAt(t, ErrLinkType, "no VLAN support for "+c.l.name)
	}
	if n := c.peek(); n.kind == tWord && isNumberish(n.text) {
		c.next()
		id, ok := parseNum(n.text)
		if !ok || id > 4095 {
			return nil, errAt(n, ErrBadNumber, "VLAN ID above 4095")
		}
		return c.vlan(id, true), nil
	}
	return c.vlan(0, false), nil
}

// etherHost is "ether host|src|dst MAC", on Ethernet only (as in libpcap,
// which refuses it on Linux cooked captures and raw IP).
func (c *compiler) etherHost(q qual, t token, mac [6]byte) (*node, error) {
	if q.proto != pLink {
		return nil, errAt(t, ErrQualifier, "ethernet address used in non-ether expression")
	}
	if q.addr != aDefault && q.addr != aHost {
		return nil, errAt(t, ErrQualifier, "ethernet address after net, port or proto")
	}
	if !c.l.vlan {
		return nil, errAt(t, ErrLinkType, "ethernet addresses on "+c.l.name)
	}
	return byDir(q.dir, func() *node { return macIs(6, mac) }, func() *node { return macIs(0, mac) }), nil
}
