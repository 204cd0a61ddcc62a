package hep

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"
)

// HEPv1/v2 fixed header (captagent 4, Kamailio/OpenSIPS sipcapture
// "struct hep_hdr", sngrep src/capture_eep.c):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+---------------+---------------+---------------+---------------+
//	|  version 1|2  | header length |    family     |   protocol    |
//	+---------------+---------------+-------------------------------+
//	|      source port (BE)         |    destination port (BE)      |
//	+-------------------------------+-------------------------------+
//	|  source address (4 or 16 octets)                              |
//	|  destination address (4 or 16 octets)                         |
//	+---------------------------------------------------------------+
//	|  v2 only: tv_sec u32 | tv_usec u32 | captid u16 | 2 pad bytes |
//	+---------------------------------------------------------------+
//	|  payload (SIP) ...                                            |
//
// The v2 time block is "struct hep_timehdr", 12 bytes with the compiler's
// trailing padding, copied in host byte order by every C sender.
const (
	hep12FixedLen = 8  // version, length, family, protocol, two ports
	hep2TimeLen   = 12 // tv_sec + tv_usec + captid + 2 bytes of struct padding

	// Kamailio/OpenSIPS unpack_hepv12 rejects a packet unless the length
	// byte equals hep_hdr + address block: 16 (IPv4) or 40 (IPv6), for v2
	// as well as v1 (the time block is not counted). Marshal writes that.
	// On decode the byte is ignored: sngrep stores the low byte of
	// htons(total length) there.

	// A v2 timestamp is read in the byte order that makes it plausible:
	// seconds within [2000, 2100) and microseconds < 1e6.
	plausibleMinSec = 946684800  // 2000-01-01T00:00:00Z
	plausibleMaxSec = 4102444800 // 2100-01-01T00:00:00Z
)

func (p *Packet) unmarshal12(b []byte) error {
	if len(b) < hep12FixedLen {
		return fmt.Errorf("%w: %d bytes, HEPv%d header is at least %d", ErrTruncatedPacket, len(b), b[0], hep12FixedLen)
	}
	p.Version = b[0]
	alen := 0
	switch b[2] {
	case familyIPv4:
		alen = 4
	case familyIPv6:
		alen = 16
	default:
		return fmt.Errorf("%w: %d at offset 2", ErrBadFamily, b[2])
	}
	hdr := hep12FixedLen + 2*alen
	if p.Version == 2 {
		hdr += hep2TimeLen
	}
	if len(b) < hdr {
		return fmt.Errorf("%w: %d bytes, HEPv%d header is %d", ErrTruncatedPacket, len(b), p.Version, hdr)
	}
	p.Family, p.Protocol = b[2], b[3]
	sport, dport := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	off := hep12FixedLen
	if alen == 4 {
		p.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[off:])), sport)
		p.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[off+4:])), dport)
	} else {
		p.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[off:])), sport)
		p.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[off+16:])), dport)
	}
	off += 2 * alen
	p.present |= 1<<ChunkIPFamily | 1<<ChunkIPProtocol | 1<<ChunkSrcPort | 1<<ChunkDstPort | 1<<ChunkProtoType | 1<<ChunkPayload
	// v1/v2 predate the protocol type: they carried SIP only.
	p.ProtoType = ProtoSIP
	p.Payload = b[hdr:len(b):len(b)]
	if p.Version == 1 {
		return nil
	}
	p.present |= 1<<ChunkTimeSec | 1<<ChunkTimeUsec | 1<<ChunkCaptureID
	t := b[off : off+hep2TimeLen]
	bs, bu := binary.BigEndian.Uint32(t), binary.BigEndian.Uint32(t[4:])
	ls, lu := binary.LittleEndian.Uint32(t), binary.LittleEndian.Uint32(t[4:])
	le, err := pickOrder(bs, bu, ls, lu)
	p.V2LittleEndian = le
	if le {
		p.Time = time.Unix(int64(ls), int64(lu)*1000).UTC()
		p.CaptureID = uint32(binary.LittleEndian.Uint16(t[8:]))
	} else {
		p.Time = time.Unix(int64(bs), int64(bu)*1000).UTC()
		p.CaptureID = uint32(binary.BigEndian.Uint16(t[8:]))
	}
	if err != nil {
		return fmt.Errorf("%w at offset %d", err, off)
	}
	return nil
}

// pickOrder decides whether a HEPv2 time block is little-endian. Senders copy
// it in host order (little-endian on x86) while some readers assume network
// order, and nothing on the wire says which, so the plausible reading wins:
// microseconds < 1e6 and seconds in 2000-2100. If both readings are
// plausible, big-endian (network order) wins; if neither has plausible
// seconds, the one with valid microseconds wins (big-endian first). Marshal
// writes the order recorded in V2LittleEndian, so a decoded packet encodes
// back to the same bytes and decodes to the same choice.
func pickOrder(bs, bu, ls, lu uint32) (le bool, err error) {
	plausible := func(s, u uint32) bool {
		return u < usecPerSec && s >= plausibleMinSec && s < plausibleMaxSec
	}
	switch bp, lp := plausible(bs, bu), plausible(ls, lu); {
	case bp:
		return false, nil
	case lp:
		return true, nil
	case bu < usecPerSec:
		return false, nil
	case lu < usecPerSec:
		return true, nil
	}
	return false, fmt.Errorf("%w: usec %d (BE) / %d (LE) >= 1e6", ErrBadTimestamp, bu, lu)
}

func (p *Packet) addrLen12() int {
	if p.Src.Addr().Is4() {
		return 4
	}
	return 16
}

func (p *Packet) size12() int {
	n := hep12FixedLen + 2*p.addrLen12() + len(p.Payload)
	if p.Version == 2 {
		n += hep2TimeLen
	}
	return n
}

// marshal12 writes the HEPv1/v2 header and payload. Only Family (taken from
// the addresses), Protocol, Src, Dst, and for v2 Time and CaptureID are
// carried; every other field is dropped by the format.
func (p *Packet) marshal12(b []byte) (int, error) {
	src, dst := p.Src.Addr(), p.Dst.Addr()
	if !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4() {
		return 0, fmt.Errorf("%w: HEPv%d needs source and destination addresses of one family, have %v and %v",
			ErrNotRepresentable, p.Version, src, dst)
	}
	if p.Compressed {
		return 0, fmt.Errorf("%w: HEPv%d cannot carry a compressed payload", ErrNotRepresentable, p.Version)
	}
	var sec, usec int64
	if p.Version == 2 {
		if p.CaptureID > math.MaxUint16 {
			return 0, fmt.Errorf("%w: capture id %d exceeds HEPv2's u16", ErrNotRepresentable, p.CaptureID)
		}
		if !p.Time.IsZero() {
			sec, usec = p.Time.Unix(), int64(p.Time.Nanosecond()/1000)
		}
		if sec < 0 || sec > math.MaxUint32 {
			return 0, fmt.Errorf("%w: time %v outside HEPv2's u32 seconds", ErrNotRepresentable, p.Time)
		}
	}
	n := p.size12()
	if n > maxPacketLen {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	alen := p.addrLen12()
	b[0] = p.Version
	b[1] = byte(hep12FixedLen + 2*alen)
	b[2] = familyIPv4
	if alen == 16 {
		b[2] = familyIPv6
	}
	b[3] = p.Protocol
	binary.BigEndian.PutUint16(b[4:], p.Src.Port())
	binary.BigEndian.PutUint16(b[6:], p.Dst.Port())
	off := hep12FixedLen
	if alen == 4 {
		s, d := src.As4(), dst.As4()
		copy(b[off:], s[:])
		copy(b[off+4:], d[:])
	} else {
		s, d := src.As16(), dst.As16()
		copy(b[off:], s[:])
		copy(b[off+16:], d[:])
	}
	off += 2 * alen
	if p.Version == 2 {
		var order binary.ByteOrder = binary.BigEndian
		if p.V2LittleEndian {
			order = binary.LittleEndian
		}
		order.PutUint32(b[off:], uint32(sec))
		order.PutUint32(b[off+4:], uint32(usec))
		order.PutUint16(b[off+8:], uint16(p.CaptureID))
		b[off+10], b[off+11] = 0, 0
		off += hep2TimeLen
	}
	copy(b[off:], p.Payload)
	return n, nil
}
