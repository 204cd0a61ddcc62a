package fixup

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/voiptool/voiptool/capture"
)

// Header sizes and field offsets (RFC 791, 8200, 768, 9293, 2784, 2516,
// 9260).
const (
	ipv4MinHeader  = 20
	ipv4LenOff     = 2
	ipv4SumOff     = 10
	ipv6Header     = 40
	ipv6LenOff     = 4
	udpHeader      = 8
	udpLenOff      = 4
	udpSumOff      = 6
	tcpMinHeader   = 20
	tcpSumOff      = 16
	greBase        = 4
	greFlagC       = 0x80
	greSumOff      = 4
	pppoeHeader    = 6
	pppoeLenOff    = 4
	sctpHeader     = 12
	sctpSumOff     = 8
	ipProtoTCP     = 6
	ipProtoUDP     = 17
	maxLengthField = 0xffff
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Replace returns, appended to dst, the record rec with the n payload
// bytes at l.Payload replaced by p, and every length and checksum of l's
// chain fixed (see Fix). Bytes after the payload (an Ethernet trailer)
// are kept. rec is not modified. The record's capture and original
// lengths change by len(p)-n; setting them is the caller's.
func Replace(dst, rec []byte, l *capture.Layers, n int, p []byte) ([]byte, error) {
	if l.Payload < 0 {
		return dst, fmt.Errorf("%w: payload (reassembled %b)", ErrNotInRecord, l.Reassembled)
	}
	start := int(l.Payload)
	if n < 0 || start+n > len(rec) {
		return dst, fmt.Errorf("%w: payload of %d bytes at offset %d in %d", ErrTruncated, n, start, len(rec))
	}
	base := len(dst)
	dst = append(dst, rec[:start]...)
	dst = append(dst, p...)
	dst = append(dst, rec[start+n:]...)
	if err := Fix(dst[base:], l, len(p)-n); err != nil {
		return dst[:base], err
	}
	return dst, nil
}

// Fix repairs rec in place after bytes after the last header of l's
// chain changed and the record grew by delta bytes (negative: shrank;
// 0: content only). Every length field of the chain grows by delta and
// every checksum is recomputed, innermost first, so an outer checksum
// covers the inner ones' final values. On an error rec is unchanged.
// Fixing a valid record with delta 0 leaves it as it was.
func Fix(rec []byte, l *capture.Layers, delta int) error {
	if l.ChainFull() {
		return fmt.Errorf("%w: more than %d headers", ErrNotInRecord, capture.MaxChain)
	}
	var chain [capture.MaxChain]capture.Header
	hs := chain[:l.Len()]
	for i := range hs {
		hs[i] = l.Header(i)
	}
	// Check everything before writing anything.
	for i, h := range hs {
		if h.Off < 0 {
			return fmt.Errorf("%w: %v header (reassembled)", ErrNotInRecord, h.Proto)
		}
		if err := check(rec, hs, i, delta); err != nil {
			return err
		}
	}
	for _, h := range hs {
		o := int(h.Off)
		switch h.Proto {
		case capture.ProtoIPv4:
			addLen(rec[o+ipv4LenOff:], delta)
		case capture.ProtoIPv6:
			addLen(rec[o+ipv6LenOff:], delta)
		case capture.ProtoUDP:
			addLen(rec[o+udpLenOff:], delta)
		case capture.ProtoPPPoE:
			addLen(rec[o+pppoeLenOff:], delta)
		}
	}
	for i := len(hs) - 1; i >= 0; i-- {
		o := int(hs[i].Off)
		switch hs[i].Proto {
		case capture.ProtoIPv4:
			ihl := int(rec[o]&0x0f) * 4
			rec[o+ipv4SumOff], rec[o+ipv4SumOff+1] = 0, 0
			binary.BigEndian.PutUint16(rec[o+ipv4SumOff:], ^fold(sum(0, rec[o:o+ihl])))
		case capture.ProtoUDP:
			if binary.BigEndian.Uint16(rec[o+udpSumOff:]) == 0 {
				continue // not computed by the sender (RFC 768; RFC 6935 for IPv6 tunnels)
			}
			end := o + int(binary.BigEndian.Uint16(rec[o+udpLenOff:]))
			l4Checksum(rec, hs, i, end, ipProtoUDP, udpSumOff)
		case capture.ProtoTCP:
			_, end := ipExtent(rec, hs, i)
			l4Checksum(rec, hs, i, end, ipProtoTCP, tcpSumOff)
		case capture.ProtoGRE:
			if rec[o]&greFlagC == 0 {
				continue
			}
			_, end := ipExtent(rec, hs, i)
			rec[o+greSumOff], rec[o+greSumOff+1] = 0, 0
			binary.BigEndian.PutUint16(rec[o+greSumOff:], ^fold(sum(0, rec[o:end])))
		case capture.ProtoSCTP:
			_, end := ipExtent(rec, hs, i)
			clear(rec[o+sctpSumOff : o+sctpSumOff+4])
			// RFC 9260 appendix A: CRC32c, stored in little-endian order.
			binary.LittleEndian.PutUint32(rec[o+sctpSumOff:], crc32.Checksum(rec[o:end], castagnoli))
		}
	}
	return nil
}

// check validates header i of hs against rec before Fix writes.
func check(rec []byte, hs []capture.Header, i, delta int) error {
	h := hs[i]
	o := int(h.Off)
	need := 0
	lenOff := -1
	minLen := 0
	switch h.Proto {
	case capture.ProtoIPv4:
		need, lenOff = ipv4MinHeader, ipv4LenOff
		if o+need <= len(rec) {
			minLen = int(rec[o]&0x0f) * 4
			if minLen < ipv4MinHeader || o+minLen > len(rec) {
				return fmt.Errorf("%w: IPv4 header length %d at offset %d", ErrTruncated, minLen, o)
			}
		}
	case capture.ProtoIPv6:
		need, lenOff = ipv6Header, ipv6LenOff
		if o+need <= len(rec) && binary.BigEndian.Uint16(rec[o+ipv6LenOff:]) == 0 {
			return fmt.Errorf("%w: IPv6 jumbogram at offset %d", ErrLength, o)
		}
	case capture.ProtoUDP:
		need, lenOff, minLen = udpHeader, udpLenOff, udpHeader
	case capture.ProtoPPPoE:
		need, lenOff = pppoeHeader, pppoeLenOff
	case capture.ProtoTCP:
		need = tcpMinHeader
	case capture.ProtoGRE:
		need = greBase
		if o < len(rec) && rec[o]&greFlagC != 0 {
			need += 4
		}
	case capture.ProtoSCTP:
		need = sctpHeader
		if delta != 0 {
			return fmt.Errorf("%w: resizing SCTP DATA by %d bytes", ErrUnsupported, delta)
		}
	default:
		return nil
	}
	if o+need > len(rec) {
		return fmt.Errorf("%w: %v header at offset %d", ErrTruncated, h.Proto, o)
	}
	if lenOff >= 0 {
		n := int(binary.BigEndian.Uint16(rec[o+lenOff:])) + delta
		if n < minLen || n > maxLengthField {
			return fmt.Errorf("%w: %v length %d at offset %d", ErrLength, h.Proto, n, o)
		}
	}
	// The extent a checksum covers must be in the record, with its new
	// lengths.
	switch h.Proto {
	case capture.ProtoUDP:
		if binary.BigEndian.Uint16(rec[o+udpSumOff:]) == 0 {
			return nil
		}
		if end := o + int(binary.BigEndian.Uint16(rec[o+udpLenOff:])) + delta; end > len(rec) {
			return fmt.Errorf("%w: UDP datagram at offset %d ends at %d of %d", ErrTruncated, o, end, len(rec))
		}
		return checkIP(rec, hs, i, delta)
	case capture.ProtoTCP, capture.ProtoSCTP, capture.ProtoGRE:
		if h.Proto == capture.ProtoGRE && rec[o]&greFlagC == 0 {
			return nil
		}
		return checkIP(rec, hs, i, delta)
	}
	return nil
}

// checkIP checks that header i has an enclosing IP header whose payload,
// grown by delta, ends inside rec and after header i.
func checkIP(rec []byte, hs []capture.Header, i, delta int) error {
	j := enclosingIP(hs, i)
	if j < 0 {
		return fmt.Errorf("%w: %v header without an IP header", ErrNotInRecord, hs[i].Proto)
	}
	o := int(hs[j].Off)
	var end int
	if hs[j].Proto == capture.ProtoIPv4 {
		if o+ipv4MinHeader > len(rec) {
			return fmt.Errorf("%w: IPv4 header at offset %d", ErrTruncated, o)
		}
		end = o + int(binary.BigEndian.Uint16(rec[o+ipv4LenOff:])) + delta
	} else {
		if o+ipv6Header > len(rec) {
			return fmt.Errorf("%w: IPv6 header at offset %d", ErrTruncated, o)
		}
		end = o + ipv6Header + int(binary.BigEndian.Uint16(rec[o+ipv6LenOff:])) + delta
	}
	if end > len(rec) {
		return fmt.Errorf("%w: %v packet at offset %d ends at %d of %d", ErrTruncated, hs[j].Proto, o, end, len(rec))
	}
	if end < int(hs[i].Off) {
		return fmt.Errorf("%w: %v packet at offset %d ends before its %v header", ErrLength, hs[j].Proto, o, hs[i].Proto)
	}
	return nil
}

// enclosingIP is the index of the IP header nearest before i, or -1.
func enclosingIP(hs []capture.Header, i int) int {
	for j := i - 1; j >= 0; j-- {
		if p := hs[j].Proto; p == capture.ProtoIPv4 || p == capture.ProtoIPv6 {
			return j
		}
	}
	return -1
}

// ipExtent is the enclosing IP header of header i and the end of its
// payload, from the (already fixed) length field.
func ipExtent(rec []byte, hs []capture.Header, i int) (ip capture.Header, end int) {
	ip = hs[enclosingIP(hs, i)]
	o := int(ip.Off)
	if ip.Proto == capture.ProtoIPv4 {
		return ip, o + int(binary.BigEndian.Uint16(rec[o+ipv4LenOff:]))
	}
	return ip, o + ipv6Header + int(binary.BigEndian.Uint16(rec[o+ipv6LenOff:]))
}

// l4Checksum writes the UDP or TCP checksum of the segment from header i
// to end, with the pseudo-header of its IP header (RFC 768; RFC 9293
// 3.1; RFC 8200 8.1).
func l4Checksum(rec []byte, hs []capture.Header, i, end int, proto uint8, sumOff int) {
	o := int(hs[i].Off)
	ip := hs[enclosingIP(hs, i)]
	ipo := int(ip.Off)
	n := end - o
	var s uint32
	if ip.Proto == capture.ProtoIPv4 {
		s = sum(0, rec[ipo+12:ipo+20])
	} else {
		s = sum(0, rec[ipo+8:ipo+40])
	}
	s += uint32(proto) + uint32(n>>16) + uint32(n&0xffff)
	rec[o+sumOff], rec[o+sumOff+1] = 0, 0
	c := ^fold(sum(s, rec[o:end]))
	if c == 0 && proto == ipProtoUDP {
		c = 0xffff // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(rec[o+sumOff:], c)
}

// addLen adds delta to the big-endian 16-bit length at b (range checked
// by check).
func addLen(b []byte, delta int) {
	binary.BigEndian.PutUint16(b, uint16(int(binary.BigEndian.Uint16(b))+delta))
}

// sum adds b as big-endian 16-bit words to s (RFC 1071), an odd last
// byte padded with zero.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
		if s >= 1<<31 {
			s = s&0xffff + s>>16
		}
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold reduces a 32-bit one's-complement sum to 16 bits.
func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
