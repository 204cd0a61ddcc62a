package hep

import (
	"encoding/binary"
	"fmt"
)

// Detect is the one rule that says whether a datagram (a UDP or SCTP
// payload, or one framed message) is HEP; package capture classifies with
// it. Version 3 needs the "HEP3" magic and a total length that is at least
// the header and fits in b; 1 or 2 a plausible HEPv1/v2 header (version
// byte, AF_INET/AF_INET6 family, TCP/UDP/SCTP protocol, and room for the
// header plus a payload). The v1/v2 length byte is not checked: our own
// encoder writes 16/40 for v2 as Kamailio wants, sngrep the low byte of
// the total length, others 28/52. For a TCP stream use FrameLen.
func Detect(b []byte) (version int, ok bool) {
	if len(b) >= hep3HeaderLen && [4]byte(b[:4]) == magic3 {
		n := int(binary.BigEndian.Uint16(b[4:]))
		return 3, n >= hep3HeaderLen && n <= len(b)
	}
	if len(b) < hep12FixedLen || (b[0] != 1 && b[0] != 2) {
		return 0, false
	}
	alen := 0
	switch b[2] {
	case familyIPv4:
		alen = 4
	case familyIPv6:
		alen = 16
	default:
		return 0, false
	}
	switch b[3] {
	case 6, 17, 132: // TCP, UDP, SCTP
	default:
		return 0, false
	}
	hdr := hep12FixedLen + 2*alen
	if b[0] == 2 {
		hdr += hep2TimeLen
	}
	if len(b) <= hdr {
		return 0, false
	}
	return int(b[0]), true
}

// FrameLen returns the length of the HEP3 packet at the start of b, for
// splitting a TCP stream of back-to-back packets. It needs the 6-byte header:
// with fewer bytes it returns ErrTruncatedPacket (read more and retry).
func FrameLen(b []byte) (int, error) {
	if len(b) < hep3HeaderLen {
		return 0, fmt.Errorf("%w: %d bytes, HEP3 header is %d", ErrTruncatedPacket, len(b), hep3HeaderLen)
	}
	if [4]byte(b[:4]) != magic3 {
		return 0, fmt.Errorf("%w: % x", ErrBadMagic, b[:4])
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if n < hep3HeaderLen {
		return 0, fmt.Errorf("%w: total length %d < %d", ErrBadLength, n, hep3HeaderLen)
	}
	return n, nil
}
