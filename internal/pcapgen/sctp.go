package pcapgen

import (
	"encoding/binary"
	"hash/crc32"
	"net/netip"
)

// SCTP chunk types and flags (RFC 9260 section 3.2, 3.3.1).
const (
	sctpChunkData  = 0
	sctpDataEnd    = 0x01 // E: last fragment
	sctpDataBegin  = 0x02 // B: first fragment
	sctpHeaderLen  = 12
	sctpDataHdrLen = 16
)

// PPIDSIP is the payload protocol identifier value used for SIP here.
// RFC 4168 registers none; 0 ("unspecified") is what SIP stacks send.
const PPIDSIP = 0

// SCTPData returns one unfragmented DATA chunk (B and E set), padded to a
// 4-byte boundary (RFC 9260 3.3.1).
func SCTPData(tsn uint32, stream, ssn uint16, ppid uint32, payload []byte) []byte {
	n := sctpDataHdrLen + len(payload)
	b := make([]byte, (n+3)&^3)
	b[0] = sctpChunkData
	b[1] = sctpDataBegin | sctpDataEnd
	binary.BigEndian.PutUint16(b[2:], uint16(n)) // length excludes padding
	binary.BigEndian.PutUint32(b[4:], tsn)
	binary.BigEndian.PutUint16(b[8:], stream)
	binary.BigEndian.PutUint16(b[10:], ssn)
	binary.BigEndian.PutUint32(b[12:], ppid)
	copy(b[16:], payload)
	return b
}

// SCTP returns an IP datagram carrying an SCTP packet with the given
// chunks and a CRC32c checksum (RFC 9260 appendix A; stored the way
// Linux and gopacket store it).
func SCTP(src, dst netip.AddrPort, id uint16, vtag uint32, chunks ...[]byte) []byte {
	b := make([]byte, sctpHeaderLen)
	binary.BigEndian.PutUint16(b[0:], src.Port())
	binary.BigEndian.PutUint16(b[2:], dst.Port())
	binary.BigEndian.PutUint32(b[4:], vtag)
	for _, c := range chunks {
		b = append(b, c...)
	}
	binary.LittleEndian.PutUint32(b[8:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	if src.Addr().Is4() {
		return IPv4(src.Addr(), dst.Addr(), ProtoSCTP, id, 0, b)
	}
	return IPv6(src.Addr(), dst.Addr(), ProtoSCTP, b)
}
