package pcapgen

import (
	"encoding/binary"
	"net/netip"
)

// IPIP wraps an inner IPv4 datagram in an outer IPv4 header, protocol 4
// (RFC 2003).
func IPIP(outerSrc, outerDst netip.Addr, id uint16, inner []byte) []byte {
	return IPv4(outerSrc, outerDst, ProtoIPIP, id, 0, inner)
}

// GRE wraps inner in a basic GRE header (RFC 2784: no checksum, key or
// sequence) inside IPv4; proto is the inner EtherType.
func GRE(outerSrc, outerDst netip.Addr, id uint16, proto uint16, inner []byte) []byte {
	b := make([]byte, 4, 4+len(inner))
	binary.BigEndian.PutUint16(b[2:], proto)
	return IPv4(outerSrc, outerDst, ProtoGRE, id, 0, append(b, inner...))
}

// greSeq is a GRE header with the S bit set (RFC 2890), which ERSPAN
// requires.
func greSeq(proto uint16, seq uint32) []byte {
	b := make([]byte, 8)
	b[0] = 0x10 // S
	binary.BigEndian.PutUint16(b[2:], proto)
	binary.BigEndian.PutUint32(b[4:], seq)
	return b
}

// ERSPAN2 wraps a whole inner Ethernet frame in GRE(seq) + an 8-byte
// ERSPAN type II header (draft-foschiano-erspan section 4.1): version 1,
// VLAN 0, session id.
func ERSPAN2(outerSrc, outerDst netip.Addr, id uint16, seq uint32, session uint16, frame []byte) []byte {
	h := make([]byte, 8)
	binary.BigEndian.PutUint16(h[0:], 1<<12) // Ver=1, VLAN=0
	binary.BigEndian.PutUint16(h[2:], session&0x03ff)
	binary.BigEndian.PutUint32(h[4:], 0) // reserved + index
	p := append(greSeq(EtherTypeERSPAN2, seq), h...)
	return IPv4(outerSrc, outerDst, ProtoGRE, id, 0, append(p, frame...))
}

// ERSPAN3 wraps frame in GRE(seq) + a 12-byte ERSPAN type III header
// (draft-foschiano-erspan section 4.2) with a microsecond timestamp and no
// platform-specific subheader (O bit clear).
func ERSPAN3(outerSrc, outerDst netip.Addr, id uint16, seq uint32, session uint16, usec uint32, frame []byte) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h[0:], 2<<12) // Ver=2, VLAN=0
	binary.BigEndian.PutUint16(h[2:], session&0x03ff)
	binary.BigEndian.PutUint32(h[4:], usec)
	// h[8:10] SGT = 0; h[10:12] P/FT/HW ID/D/Gra/O = 0: Ethernet frame,
	// 100 µs granularity field 0 means 100 µs in spec; O=0 no subheader.
	p := append(greSeq(EtherTypeERSPAN3, seq), h...)
	return IPv4(outerSrc, outerDst, ProtoGRE, id, 0, append(p, frame...))
}

// VXLANPort is the IANA port for VXLAN (RFC 7348 section 5).
const VXLANPort = 4789

// VXLAN wraps an inner Ethernet frame in UDP to port 4789 with the
// 8-byte VXLAN header, I flag set (RFC 7348 section 5).
func VXLAN(outerSrc, outerDst netip.AddrPort, id uint16, vni uint32, frame []byte) []byte {
	h := make([]byte, 8, 8+len(frame))
	h[0] = 0x08
	binary.BigEndian.PutUint32(h[4:], vni<<8)
	return UDP(outerSrc, outerDst, id, append(h, frame...))
}
