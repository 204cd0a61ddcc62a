package filter

import (
	"golang.org/x/net/bpf"
)

// EtherTypes and IP protocol numbers used by the primitives.
const (
	etherIPv4     = 0x0800
	etherARP      = 0x0806
	etherRARP     = 0x8035
	etherIPv6     = 0x86dd
	ether8021Q    = 0x8100
	ether8021AD   = 0x88a8
	ether8021QinQ = 0x9100

	protoICMP   = 1
	protoIGMP   = 2
	protoTCP    = 6
	protoUDP    = 17
	protoFrag6  = 44 // IPv6 Fragment extension header
	protoICMPv6 = 58
	protoSCTP   = 132
)

func ld(size int, off uint32) bpf.Instruction { return bpf.LoadAbsolute{Off: off, Size: size} }

// linkProto tests the network-layer protocol (libpcap's gen_linktype).
func (c *compiler) linkProto(ethertype uint32) *node {
	switch c.l.kind {
	case kindEther:
		return test([]bpf.Instruction{ld(2, c.l.offType)}, bpf.JumpEqual, ethertype)
	case kindRaw:
		var v uint32
		switch ethertype {
		case etherIPv4:
			v = 0x40
		case etherIPv6:
			v = 0x60
		default:
			return nodeFalse
		}
		return test([]bpf.Instruction{ld(1, 0), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0}}, bpf.JumpEqual, v)
	case kindIPv4:
		if ethertype == etherIPv4 {
			return nodeTrue
		}
	case kindIPv6:
		if ethertype == etherIPv6 {
			return nodeTrue
		}
	}
	return nodeFalse
}

// cmpNet tests a byte, half-word or word of the network header.
func (c *compiler) cmpNet(size int, off, v uint32) *node {
	return test([]bpf.Instruction{ld(size, c.l.offNet+off)}, bpf.JumpEqual, v)
}

// masked compares the word at off under mask; a zero mask is always true
// (libpcap's optimiser drops that load too).
func (c *compiler) masked(off, v, mask uint32) *node {
	switch mask {
	case 0:
		return nodeTrue
	case 0xffffffff:
		return test([]bpf.Instruction{ld(4, off)}, bpf.JumpEqual, v)
	}
	return test([]bpf.Instruction{ld(4, off), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask}}, bpf.JumpEqual, v&mask)
}

// direction qualifiers
type dir uint8

const (
	dirDefault dir = iota // src or dst
	dirSrc
	dirDst
	dirAnd // src and dst
)

func byDir(d dir, src, dst func() *node) *node {
	switch d {
	case dirSrc:
		return src()
	case dirDst:
		return dst()
	case dirAnd:
		return and(src(), dst())
	}
	return or(src(), dst())
}

// host4 is libpcap's gen_hostop for IPv4 in a protocol whose source and
// destination addresses are at srcOff/dstOff of the network header.
func (c *compiler) host4(ethertype uint32, srcOff, dstOff, addr, mask uint32, d dir) *node {
	base := c.l.offNet
	return and(c.linkProto(ethertype), byDir(d,
		func() *node { return c.masked(base+srcOff, addr, mask) },
		func() *node { return c.masked(base+dstOff, addr, mask) }))
}

// hostIPv4 covers "host", "net", "ip host", "arp host", "rarp host".
func (c *compiler) hostIPv4(proto pqual, addr, mask uint32, d dir) *node {
	ip := func() *node { return c.host4(etherIPv4, 12, 16, addr, mask, d) }
	arp := func() *node { return c.host4(etherARP, 14, 24, addr, mask, d) }
	rarp := func() *node { return c.host4(etherRARP, 14, 24, addr, mask, d) }
	switch proto {
	case pIP:
		return ip()
	case pARP:
		return arp()
	case pRARP:
		return rarp()
	}
	return or(or(ip(), arp()), rarp())
}

// hostIPv6 is libpcap's gen_hostop6: the four words in order.
func (c *compiler) hostIPv6(addr, mask [4]uint32, d dir) *node {
	side := func(off uint32) func() *node {
		return func() *node {
			n := nodeTrue
			for i := 3; i >= 0; i-- {
				n = and(c.masked(c.l.offNet+off+uint32(4*i), addr[i], mask[i]), n)
			}
			return n
		}
	}
	return and(c.linkProto(etherIPv6), byDir(d, side(8), side(24)))
}

// ipProtoIs tests the IPv4 protocol byte against any of protos.
func (c *compiler) ipProtoIs(off uint32, protos []uint32) *node {
	n := nodeFalse
	for _, p := range protos {
		t := test([]bpf.Instruction{ld(1, c.l.offNet+off)}, bpf.JumpEqual, p)
		if n.op == opFalse {
			n = t
		} else {
			n = or(n, t)
		}
	}
	return n
}

// firstFragment is libpcap's gen_ipfrag: fragment offset zero.
func (c *compiler) firstFragment() *node {
	return not(test([]bpf.Instruction{ld(2, c.l.offNet+6)}, bpf.JumpBitsSet, 0x1fff))
}

// ipHeaderLen loads X with the IPv4 header length (ldxb 4*([k]&0xf)).
func (c *compiler) ipHeaderLen() bpf.Instruction { return bpf.LoadMemShift{Off: c.l.offNet} }

// ports compares the source and/or destination port of the transport
// header of IPv4 (after its variable header) and IPv6 (right after the
// fixed header: tcpdump does not walk extension headers) against lo..hi,
// only for the transport protocols listed. IPv4 fragments other than the
// first never match, as in tcpdump.
func (c *compiler) ports(protos []uint32, lo, hi uint32, d dir) *node {
	cmp := func(load []bpf.Instruction) *node {
		var n *node
		if lo == hi {
			n = test(load, bpf.JumpEqual, lo)
		} else {
			n = and(test(load, bpf.JumpGreaterOrEqual, lo), not(test(load, bpf.JumpGreaterThan, hi)))
		}
		n = markPort(n)
		return n
	}
	v4 := func(off uint32) func() *node {
		return func() *node {
			return cmp([]bpf.Instruction{c.ipHeaderLen(), bpf.LoadIndirect{Off: c.l.offNet + off, Size: 2}})
		}
	}
	v6 := func(off uint32) func() *node {
		return func() *node { return cmp([]bpf.Instruction{ld(2, c.l.offNet+40+off)}) }
	}
	ip4 := and(and(and(c.linkProto(etherIPv4), c.ipProtoIs(9, protos)), c.firstFragment()), byDir(d, v4(0), v4(2)))
	ip6 := and(and(c.linkProto(etherIPv6), c.ipProtoIs(6, protos)), byDir(d, v6(0), v6(2)))
	return or(ip4, ip6)
}

// markPort flags a transport-port test for FragmentWarning.
func markPort(n *node) *node {
	if n.op == opAnd || n.op == opTest {
		n.port = true
	}
	return n
}

// proto4 is "ip proto N"; proto6 is "ip6 proto N", which also accepts N
// behind one IPv6 fragment header, as libpcap's gen_proto does.
func (c *compiler) proto4(p uint32) *node {
	return and(c.linkProto(etherIPv4), c.cmpNet(1, 9, p))
}

func (c *compiler) proto6(p uint32) *node {
	nh := c.cmpNet(1, 6, p)
	frag := and(c.cmpNet(1, 6, protoFrag6), c.cmpNet(1, 40, p))
	return and(c.linkProto(etherIPv6), or(nh, frag))
}

// vlan is libpcap's gen_vlan without the kernel's VLAN extensions: the
// tag is in the packet, and every primitive after it (in the order of the
// expression, as in tcpdump) sees the network layer 4 bytes further on.
func (c *compiler) vlan(id uint32, hasID bool) *node {
	load := []bpf.Instruction{ld(2, c.l.offType)}
	n := or(or(test(load, bpf.JumpEqual, ether8021Q), test(load, bpf.JumpEqual, ether8021AD)), test(load, bpf.JumpEqual, ether8021QinQ))
	if hasID {
		n = and(n, test([]bpf.Instruction{ld(2, c.l.offNet), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0fff}}, bpf.JumpEqual, id))
	}
	c.l.offType += 4
	c.l.offNet += 4
	return n
}

// macIs compares the 6-byte address at off of the link header, last four
// bytes first, as libpcap's gen_bcmp does.
func macIs(off uint32, mac [6]byte) *node {
	lo := uint32(mac[2])<<24 | uint32(mac[3])<<16 | uint32(mac[4])<<8 | uint32(mac[5])
	hi := uint32(mac[0])<<8 | uint32(mac[1])
	return and(test([]bpf.Instruction{ld(4, off+2)}, bpf.JumpEqual, lo), test([]bpf.Instruction{ld(2, off)}, bpf.JumpEqual, hi))
}

// castTest is "[proto] broadcast|multicast": link-layer on Ethernet, or
// the IPv4/IPv6 destination (IPv4 broadcast needs the netmask libpcap
// gets from the interface: not supported).
func (c *compiler) castTest(p pqual, multicast bool, t token) (*node, error) {
	switch p {
	case pDefault, pLink:
		if !c.l.vlan {
			return nil, errAt(t, ErrLinkType, "link-layer broadcast/multicast on "+c.l.name)
		}
		if multicast {
			return test([]bpf.Instruction{ld(1, 0)}, bpf.JumpBitsSet, 1), nil
		}
		return macIs(0, [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), nil
	case pIP:
		if multicast {
			return and(c.linkProto(etherIPv4), test([]bpf.Instruction{ld(1, c.l.offNet+16)}, bpf.JumpGreaterOrEqual, 224)), nil
		}
		return nil, errAt(t, ErrUnsupported, "ip broadcast needs the interface's netmask")
	case pIP6:
		if multicast {
			return and(c.linkProto(etherIPv6), c.cmpNet(1, 24, 0xff)), nil
		}
	}
	return nil, errAt(t, ErrQualifier, "")
}
