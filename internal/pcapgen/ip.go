package pcapgen

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	ProtoHopByHop = 0
	ProtoIPIP     = 4
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoIPv6     = 41
	ProtoRouting  = 43
	ProtoFragment = 44
	ProtoGRE      = 47
	ProtoNoNext   = 59
	ProtoDestOpts = 60
	ProtoSCTP     = 132
)

const (
	ipv4HeaderLen  = 20 // RFC 791 3.1, no options
	ipv6HeaderLen  = 40 // RFC 8200 3
	defaultTTL     = 64
	fragUnit       = 8 // RFC 791 3.1 fragment offset unit
	ipv4FlagMF     = 0x2000
	ipv4OffsetMask = 0x1fff
)

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

// checksum is the RFC 1071 one's-complement sum, folded and inverted.
func checksum(sum uint32, b []byte) uint16 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// pseudoSum is the partial sum of the TCP/UDP pseudo-header (RFC 768,
// RFC 8200 section 8.1).
func pseudoSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	s, d := src.AsSlice(), dst.AsSlice()
	add(s)
	add(d)
	sum += uint32(proto)
	sum += uint32(length>>16) + uint32(length&0xffff)
	return sum
}

func ipLayer(src, dst netip.Addr, proto layers.IPProtocol, id uint16) gopacket.NetworkLayer {
	if src.Is4() {
		return &layers.IPv4{Version: 4, TTL: defaultTTL, Id: id, Protocol: proto,
			SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
	}
	return &layers.IPv6{Version: 6, HopLimit: defaultTTL, NextHeader: proto,
		SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serializeOpts, ls...); err != nil {
		// Only reachable with a programming error in this package: every
		// layer here has fixed, valid fields.
		panic(fmt.Sprintf("pcapgen: serialize: %v", err))
	}
	return append([]byte(nil), buf.Bytes()...)
}

// UDP returns an IPv4 or IPv6 datagram (chosen by src's family) carrying a
// UDP datagram with a correct checksum. id is the IPv4 identification.
func UDP(src, dst netip.AddrPort, id uint16, payload []byte) []byte {
	ip := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolUDP, id)
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	_ = u.SetNetworkLayerForChecksum(ip)
	return serialize(ip.(gopacket.SerializableLayer), u, gopacket.Payload(payload))
}

// TCPFlags are the TCP control bits (RFC 9293 3.1).
type TCPFlags uint8

// TCP control bits.
const (
	FlagFIN TCPFlags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
)

// Segment is one TCP segment with explicit sequence numbers.
type Segment struct {
	Seq, Ack uint32
	Flags    TCPFlags
	Payload  []byte
}

// TCP returns an IP datagram carrying one TCP segment (window 65535, no
// options) with a correct checksum.
func TCP(src, dst netip.AddrPort, id uint16, s Segment) []byte {
	ip := ipLayer(src.Addr(), dst.Addr(), layers.IPProtocolTCP, id)
	t := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: s.Seq, Ack: s.Ack, Window: 65535,
		FIN: s.Flags&FlagFIN != 0, SYN: s.Flags&FlagSYN != 0, RST: s.Flags&FlagRST != 0,
		PSH: s.Flags&FlagPSH != 0, ACK: s.Flags&FlagACK != 0}
	_ = t.SetNetworkLayerForChecksum(ip)
	return serialize(ip.(gopacket.SerializableLayer), t, gopacket.Payload(s.Payload))
}

// IPv4 returns a hand-built IPv4 datagram (no options) with a correct
// header checksum. It is used where gopacket would recompute fields we
// need to control (fragments, tunnels).
func IPv4(src, dst netip.Addr, proto uint8, id uint16, flagsFrag uint16, payload []byte) []byte {
	b := make([]byte, ipv4HeaderLen+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], flagsFrag)
	b[8] = defaultTTL
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], checksum(0, b[:ipv4HeaderLen]))
	copy(b[ipv4HeaderLen:], payload)
	return b
}

// ExtHeader is one IPv6 extension header (RFC 8200 section 4). Its next
// header field is filled in by IPv6.
type ExtHeader struct {
	Type uint8  // ProtoHopByHop, ProtoRouting, ProtoDestOpts, ProtoFragment
	Body []byte // everything after the 2-byte (next, len) prefix; see PadExt
}

// PadExt returns an options extension header (Hop-by-Hop or Destination,
// RFC 8200 4.3/4.6) holding only a PadN option so its length is a
// multiple of 8 octets; extra adds 8-octet units.
func PadExt(typ uint8, extra int) ExtHeader {
	n := 6 + 8*extra
	body := make([]byte, n)
	body[0] = 1 // PadN (RFC 8200 4.2)
	body[1] = byte(n - 2)
	return ExtHeader{Type: typ, Body: body}
}

// RoutingExt returns a type-4-style routing header with Segments Left 0,
// which a receiver must skip without acting on it (RFC 8200 4.4).
func RoutingExt(routingType uint8) ExtHeader {
	body := make([]byte, 6+16)
	body[0] = routingType
	body[1] = 0 // segments left
	return ExtHeader{Type: ProtoRouting, Body: body}
}

// IPv6 returns an IPv6 datagram with the given extension headers in order
// before the upper-layer payload whose protocol is next.
func IPv6(src, dst netip.Addr, next uint8, payload []byte, ext ...ExtHeader) []byte {
	n := ipv6HeaderLen
	for _, e := range ext {
		n += 2 + len(e.Body)
	}
	b := make([]byte, n+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-ipv6HeaderLen))
	b[7] = defaultTTL
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	nextField := 6
	off := ipv6HeaderLen
	for _, e := range ext {
		b[nextField] = e.Type
		nextField = off
		b[off+1] = byte((2+len(e.Body))/8 - 1)
		if e.Type == ProtoFragment {
			b[off+1] = 0 // reserved in the fragment header (RFC 8200 4.5)
		}
		copy(b[off+2:], e.Body)
		off += 2 + len(e.Body)
	}
	b[nextField] = next
	copy(b[off:], payload)
	return b
}

// UDPHeader returns a UDP header+payload whose checksum covers the
// pseudo-header of src/dst: used when the IP layer is built by hand.
func UDPHeader(src, dst netip.AddrPort, payload []byte) []byte {
	b := make([]byte, 8+len(payload))
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	copy(b[8:], payload)
	c := checksum(pseudoSum(src.Addr(), dst.Addr(), ProtoUDP, len(b)), b)
	if c == 0 {
		c = 0xffff // RFC 768: zero means "no checksum"
	}
	binary.BigEndian.PutUint16(b[6:], c)
	return b
}

// FragmentIPv4 splits an IPv4 datagram (no options) into fragments whose
// payloads are size bytes (the last may be shorter), RFC 791 3.2.
func FragmentIPv4(datagram []byte, size int) ([][]byte, error) {
	if size <= 0 || size%fragUnit != 0 {
		return nil, fmt.Errorf("%w: %d", ErrFragmentSize, size)
	}
	if len(datagram) < ipv4HeaderLen || datagram[0] != 0x45 {
		return nil, fmt.Errorf("%w: want IPv4 without options", ErrNotIP)
	}
	src, _ := netip.AddrFromSlice(datagram[12:16])
	dst, _ := netip.AddrFromSlice(datagram[16:20])
	id := binary.BigEndian.Uint16(datagram[4:])
	proto := datagram[9]
	payload := datagram[ipv4HeaderLen:]
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		ff := uint16(off / fragUnit)
		if end < len(payload) {
			ff |= ipv4FlagMF
		}
		out = append(out, IPv4(src, dst, proto, id, ff, payload[off:end]))
	}
	return out, nil
}

// FragmentIPv6 splits an IPv6 datagram without extension headers into
// fragments carrying a Fragment header with identification id (RFC 8200
// 4.5); size is each fragment's fragmentable-part length.
func FragmentIPv6(datagram []byte, size int, id uint32) ([][]byte, error) {
	if size <= 0 || size%fragUnit != 0 {
		return nil, fmt.Errorf("%w: %d", ErrFragmentSize, size)
	}
	if len(datagram) < ipv6HeaderLen || datagram[0]>>4 != 6 {
		return nil, fmt.Errorf("%w: want IPv6", ErrNotIP)
	}
	src, _ := netip.AddrFromSlice(datagram[8:24])
	dst, _ := netip.AddrFromSlice(datagram[24:40])
	next := datagram[6]
	payload := datagram[ipv6HeaderLen:]
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		body := make([]byte, 6)
		ff := uint16(off) // offset in 8-octet units sits in the top 13 bits
		if end < len(payload) {
			ff |= 1 // M flag
		}
		binary.BigEndian.PutUint16(body[0:], ff)
		binary.BigEndian.PutUint32(body[2:], id)
		out = append(out, IPv6(src, dst, next, payload[off:end], ExtHeader{Type: ProtoFragment, Body: body}))
	}
	return out, nil
}
