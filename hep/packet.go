package hep

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"
)

// Wire constants (HEP3 spec section "HEP3 header" and "chunk header").
const (
	hep3HeaderLen  = 6     // "HEP3" + u16 total length
	chunkHeaderLen = 6     // u16 vendor + u16 type + u16 length
	maxPacketLen   = 65535 // the HEP3 total length field is a u16
	usecPerSec     = 1_000_000

	familyIPv4 = 2  // AF_INET, as carried in chunk 0x0001 and the HEPv1/v2 header
	familyIPv6 = 10 // AF_INET6 on Linux, which is what every HEP sender uses
)

var magic3 = [4]byte{'H', 'E', 'P', '3'}

// Packet is one HEP packet of any version, used for both decoding and
// encoding.
//
// Aliasing: after Unmarshal, every []byte field (Payload, AuthKey,
// CorrelationID, the string chunks and Extra[i].Value) points into the
// buffer given to Unmarshal. Copy what you keep beyond the next read into
// that buffer.
//
// Absent versus zero: Unmarshal records which chunks were on the wire, so a
// chunk carrying 0 (or an empty string) is written back by Marshal, and an
// absent one is not. A field set to a non-zero value is always written. Use
// Has to ask whether a chunk would be encoded and MarkPresent to force a
// zero-valued chunk out.
type Packet struct {
	// Version is 1, 2 or 3 after Unmarshal. Marshal writes HEP3 for 0 or 3
	// and the fixed HEPv1/v2 header for 1 or 2.
	Version uint8

	Family   uint8 // 0x0001: 2 (IPv4) or 10 (IPv6)
	Protocol uint8 // 0x0002: IANA number of the captured transport (17 UDP)

	// Src and Dst hold 0x0003/0x0005 + 0x0007 and 0x0004/0x0006 + 0x0008.
	// The address is invalid when no address chunk was present; the port
	// is still kept.
	Src, Dst netip.AddrPort

	// Time is 0x0009 + 0x000a (seconds + microseconds) in UTC; the zero
	// time.Time when neither chunk was present.
	Time time.Time

	ProtoType ProtoType // 0x000b
	CaptureID uint32    // 0x000c (u16 on the wire in HEPv2)
	KeepAlive uint16    // 0x000d
	AuthKey   []byte    // 0x000e

	// Payload is 0x000f, or 0x0010 when Compressed is set; compressed
	// bytes are kept as they are, see Decompress.
	Payload    []byte
	Compressed bool

	CorrelationID   []byte // 0x0011
	VLAN            uint16 // 0x0012
	GroupID         []byte // 0x0013 (heplify-server: node name)
	SrcMAC, DstMAC  uint64 // 0x0014, 0x0015: MAC in the low 48 bits
	EtherType       uint16 // 0x0016
	TCPFlags        uint8  // 0x0017
	TOS             uint8  // 0x0018
	MOS             uint16 // 0x0020
	RFactor         uint16 // 0x0021
	GeoLocation     []byte // 0x0022
	Jitter          uint32 // 0x0023
	TransactionType []byte // 0x0024
	PayloadJSONKeys []byte // 0x0025
	TagsValues      []byte // 0x0026
	TagType         uint16 // 0x0027
	EventType       uint16 // 0x0028
	GroupIDString   []byte // 0x0029

	// Extra holds, in wire order, the chunks this package does not
	// interpret (see Chunk). Unmarshal reuses its capacity. Marshal writes
	// them after the generic chunks and before the payload.
	Extra []Chunk

	// V2LittleEndian applies to HEPv2 only: the time and capture id fields
	// are little-endian. Unmarshal sets it from the byte order it detected;
	// Marshal honours it. The default (false) writes big-endian, the network
	// order heplify-server reads; Kamailio/OpenSIPS/sngrep copy these fields
	// in host order, which on x86 senders and collectors is little-endian.
	V2LittleEndian bool

	// present has bit t set when chunk type t was decoded or MarkPresent(t)
	// was called (t <= maxKnownChunk).
	present uint64
}

// MarkPresent makes Marshal write chunk t even when its field is zero or
// empty. It has no effect on address chunks (0x0003-0x0006), which are
// written exactly when Src/Dst hold an address of that family.
func (p *Packet) MarkPresent(t ChunkType) {
	if t <= maxKnownChunk {
		p.present |= 1 << t
	}
}

func (p *Packet) bit(t ChunkType) bool { return p.present&(1<<t) != 0 }

// Has reports whether Marshal (HEP3) would write generic chunk t: it was
// decoded, marked present, or its field is non-zero.
func (p *Packet) Has(t ChunkType) bool {
	if t > maxKnownChunk {
		return false
	}
	b := p.bit(t)
	switch t {
	case ChunkIPFamily:
		return b || p.Family != 0
	case ChunkIPProtocol:
		return b || p.Protocol != 0
	case ChunkIPv4Src:
		return p.Src.Addr().Is4()
	case ChunkIPv4Dst:
		return p.Dst.Addr().Is4()
	case ChunkIPv6Src:
		return p.Src.Addr().Is6()
	case ChunkIPv6Dst:
		return p.Dst.Addr().Is6()
	case ChunkSrcPort:
		return b || p.Src.Port() != 0
	case ChunkDstPort:
		return b || p.Dst.Port() != 0
	case ChunkTimeSec, ChunkTimeUsec:
		sec, usec, _ := p.wireTime()
		if t == ChunkTimeSec {
			return b || sec != 0
		}
		return b || usec != 0
	case ChunkProtoType:
		return b || p.ProtoType != 0
	case ChunkCaptureID:
		return b || p.CaptureID != 0
	case ChunkKeepAlive:
		return b || p.KeepAlive != 0
	case ChunkAuthKey:
		return b || len(p.AuthKey) != 0
	case ChunkPayload, ChunkCompressedPayload:
		if p.Compressed != (t == ChunkCompressedPayload) {
			return false
		}
		return p.bit(ChunkPayload) || p.bit(ChunkCompressedPayload) || len(p.Payload) != 0
	case ChunkCorrelationID:
		return b || len(p.CorrelationID) != 0
	case ChunkVLAN:
		return b || p.VLAN != 0
	case ChunkGroupID:
		return b || len(p.GroupID) != 0
	case ChunkSrcMAC:
		return b || p.SrcMAC != 0
	case ChunkDstMAC:
		return b || p.DstMAC != 0
	case ChunkEtherType:
		return b || p.EtherType != 0
	case ChunkTCPFlags:
		return b || p.TCPFlags != 0
	case ChunkIPTOS:
		return b || p.TOS != 0
	case ChunkMOS:
		return b || p.MOS != 0
	case ChunkRFactor:
		return b || p.RFactor != 0
	case ChunkGeoLocation:
		return b || len(p.GeoLocation) != 0
	case ChunkJitter:
		return b || p.Jitter != 0
	case ChunkTransactionType:
		return b || len(p.TransactionType) != 0
	case ChunkPayloadJSONKeys:
		return b || len(p.PayloadJSONKeys) != 0
	case ChunkTagsValues:
		return b || len(p.TagsValues) != 0
	case ChunkTagType:
		return b || p.TagType != 0
	case ChunkEventType:
		return b || p.EventType != 0
	case ChunkGroupIDString:
		return b || len(p.GroupIDString) != 0
	}
	return false
}

// reset clears p for Unmarshal, keeping Extra's capacity.
func (p *Packet) reset() {
	extra := p.Extra[:0]
	*p = Packet{Extra: extra}
}

// Unmarshal decodes a HEP3, HEPv2 or HEPv1 packet from b, replacing all of
// p's fields. p aliases b afterwards (see Packet). It does not allocate for
// packets without Extra chunks, nor for later packets once Extra has grown.
//
// HEP3 layout (all integers big-endian):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      'H'      |      'E'      |      'P'      |      '3'      |
//	+---------------+---------------+-------------------------------+
//	|   total length (whole packet) |  chunk vendor id (0=generic)  |
//	+-------------------------------+-------------------------------+
//	|          chunk type           | chunk length (incl. 6 header) |
//	+-------------------------------+-------------------------------+
//	|  chunk value ...              |  next chunk ...               |
//	+-------------------------------+-------------------------------+
//
// Bytes after the announced total length are ignored (they belong to the
// next packet on a stream; see FrameLen). When several chunks of one known
// type appear, the last one wins.
//
// On a structural error (truncation, bad lengths) p keeps the chunks decoded
// before the offset named in the error. A known chunk with a wrong-sized
// value yields an error wrapping ErrBadChunkValue, but decoding continues and
// the chunk is kept in Extra, so p is complete and re-encodes losslessly.
func (p *Packet) Unmarshal(b []byte) error {
	p.reset()
	switch {
	case len(b) >= 4 && [4]byte(b[:4]) == magic3:
		return p.unmarshal3(b)
	case len(b) >= 1 && (b[0] == 1 || b[0] == 2):
		return p.unmarshal12(b)
	case len(b) < 4:
		return fmt.Errorf("%w: %d bytes", ErrTruncatedPacket, len(b))
	}
	return fmt.Errorf("%w: % x", ErrBadMagic, b[:4])
}

func (p *Packet) unmarshal3(b []byte) error {
	if len(b) < hep3HeaderLen {
		return fmt.Errorf("%w: %d bytes, HEP3 header is %d", ErrTruncatedPacket, len(b), hep3HeaderLen)
	}
	p.Version = 3
	total := int(binary.BigEndian.Uint16(b[4:]))
	if total < hep3HeaderLen {
		return fmt.Errorf("%w: total length %d < %d", ErrBadLength, total, hep3HeaderLen)
	}
	if total > len(b) {
		return fmt.Errorf("%w: total length %d, have %d bytes", ErrTruncatedPacket, total, len(b))
	}
	b = b[:total]
	var sec, usec uint32
	err := p.chunks(b, &sec, &usec)
	if p.bit(ChunkTimeSec) || p.bit(ChunkTimeUsec) {
		p.Time = time.Unix(int64(sec), int64(usec)*1000).UTC()
	}
	return err
}

// chunks decodes the chunk list of a HEP3 packet b (already cut to its total
// length), storing the raw time fields in sec and usec.
func (p *Packet) chunks(b []byte, sec, usec *uint32) error {
	var badValue error
	for off := hep3HeaderLen; off < len(b); {
		if len(b)-off < chunkHeaderLen {
			return fmt.Errorf("%w: %d bytes left at offset %d, chunk header is %d", ErrTruncated, len(b)-off, off, chunkHeaderLen)
		}
		vendor := binary.BigEndian.Uint16(b[off:])
		typ := ChunkType(binary.BigEndian.Uint16(b[off+2:]))
		n := int(binary.BigEndian.Uint16(b[off+4:]))
		if n < chunkHeaderLen {
			return fmt.Errorf("%w: %d at offset %d (type %v)", ErrBadChunkLen, n, off, typ)
		}
		if n > len(b)-off {
			return fmt.Errorf("%w: type %v at offset %d needs %d bytes, %d left", ErrTruncated, typ, off, n, len(b)-off)
		}
		v := b[off+chunkHeaderLen : off+n : off+n]
		known, ok := false, false
		if vendor == 0 {
			known, ok = p.generic(typ, v, sec, usec)
		}
		if !ok {
			if known && badValue == nil {
				badValue = fmt.Errorf("%w: type %v at offset %d has %d value bytes", ErrBadChunkValue, typ, off, len(v))
			}
			p.Extra = append(p.Extra, Chunk{Vendor: vendor, Type: typ, Value: v})
		}
		off += n
	}
	return badValue
}

// generic stores generic chunk t. known reports whether t is in the table;
// ok whether v had the right size and was stored.
func (p *Packet) generic(t ChunkType, v []byte, sec, usec *uint32) (known, ok bool) {
	size := -1 // -1: octet-string of any length
	switch t {
	case ChunkIPFamily, ChunkIPProtocol, ChunkProtoType, ChunkTCPFlags, ChunkIPTOS:
		size = 1
	case ChunkSrcPort, ChunkDstPort, ChunkKeepAlive, ChunkVLAN, ChunkEtherType,
		ChunkMOS, ChunkRFactor, ChunkTagType, ChunkEventType:
		size = 2
	case ChunkIPv4Src, ChunkIPv4Dst, ChunkTimeSec, ChunkTimeUsec, ChunkCaptureID, ChunkJitter:
		size = 4
	case ChunkIPv6Src, ChunkIPv6Dst:
		size = 16
	case ChunkSrcMAC, ChunkDstMAC:
		if len(v) == 6 { // a bare MAC: interoperate, widen to the u64 the spec names
			size = 6
		} else {
			size = 8
		}
	case ChunkAuthKey, ChunkPayload, ChunkCompressedPayload, ChunkCorrelationID,
		ChunkGroupID, ChunkGeoLocation, ChunkTransactionType, ChunkPayloadJSONKeys,
		ChunkTagsValues, ChunkGroupIDString:
	default:
		return false, false
	}
	if size >= 0 && len(v) != size {
		return true, false
	}
	p.present |= 1 << t
	switch t {
	case ChunkIPFamily:
		p.Family = v[0]
	case ChunkIPProtocol:
		p.Protocol = v[0]
	case ChunkIPv4Src:
		p.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(v)), p.Src.Port())
	case ChunkIPv4Dst:
		p.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(v)), p.Dst.Port())
	case ChunkIPv6Src:
		p.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(v)), p.Src.Port())
	case ChunkIPv6Dst:
		p.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(v)), p.Dst.Port())
	case ChunkSrcPort:
		p.Src = netip.AddrPortFrom(p.Src.Addr(), binary.BigEndian.Uint16(v))
	case ChunkDstPort:
		p.Dst = netip.AddrPortFrom(p.Dst.Addr(), binary.BigEndian.Uint16(v))
	case ChunkTimeSec:
		*sec = binary.BigEndian.Uint32(v)
	case ChunkTimeUsec:
		*usec = binary.BigEndian.Uint32(v)
	case ChunkProtoType:
		p.ProtoType = ProtoType(v[0])
	case ChunkCaptureID:
		p.CaptureID = binary.BigEndian.Uint32(v)
	case ChunkKeepAlive:
		p.KeepAlive = binary.BigEndian.Uint16(v)
	case ChunkAuthKey:
		p.AuthKey = v
	case ChunkPayload, ChunkCompressedPayload:
		p.present &^= 1<<ChunkPayload | 1<<ChunkCompressedPayload // last one wins
		p.present |= 1 << t
		p.Payload = v
		p.Compressed = t == ChunkCompressedPayload
	case ChunkCorrelationID:
		p.CorrelationID = v
	case ChunkVLAN:
		p.VLAN = binary.BigEndian.Uint16(v)
	case ChunkGroupID:
		p.GroupID = v
	case ChunkSrcMAC:
		p.SrcMAC = beUint(v)
	case ChunkDstMAC:
		p.DstMAC = beUint(v)
	case ChunkEtherType:
		p.EtherType = binary.BigEndian.Uint16(v)
	case ChunkTCPFlags:
		p.TCPFlags = v[0]
	case ChunkIPTOS:
		p.TOS = v[0]
	case ChunkMOS:
		p.MOS = binary.BigEndian.Uint16(v)
	case ChunkRFactor:
		p.RFactor = binary.BigEndian.Uint16(v)
	case ChunkGeoLocation:
		p.GeoLocation = v
	case ChunkJitter:
		p.Jitter = binary.BigEndian.Uint32(v)
	case ChunkTransactionType:
		p.TransactionType = v
	case ChunkPayloadJSONKeys:
		p.PayloadJSONKeys = v
	case ChunkTagsValues:
		p.TagsValues = v
	case ChunkTagType:
		p.TagType = binary.BigEndian.Uint16(v)
	case ChunkEventType:
		p.EventType = binary.BigEndian.Uint16(v)
	case ChunkGroupIDString:
		p.GroupIDString = v
	}
	return true, true
}

func beUint(v []byte) uint64 {
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x
}

// wireTime splits Time into the HEP3 seconds and microseconds fields. A zero
// Time is (0, 0). Times past 2106 (u32 seconds) are expressed by carrying
// the excess into the microseconds field, which is how Unmarshal built them
// from a usec field >= 1e6; ErrNotRepresentable when even that overflows.
func (p *Packet) wireTime() (sec, usec uint32, err error) {
	if p.Time.IsZero() {
		return 0, 0, nil
	}
	s, us := p.Time.Unix(), int64(p.Time.Nanosecond()/1000)
	if s < 0 {
		return 0, 0, fmt.Errorf("%w: time %v before 1970", ErrNotRepresentable, p.Time)
	}
	if s > math.MaxUint32 {
		us += (s - math.MaxUint32) * usecPerSec
		s = math.MaxUint32
	}
	if us > math.MaxUint32 {
		return 0, 0, fmt.Errorf("%w: time %v after 2106", ErrNotRepresentable, p.Time)
	}
	return uint32(s), uint32(us), nil
}

// MarshalSize returns the encoded length of p. It may exceed 65535, in
// which case MarshalTo fails with ErrTooLarge.
func (p *Packet) MarshalSize() int {
	switch p.Version {
	case 1, 2:
		return p.size12()
	}
	e := encoder{}
	p.encode3(&e)
	return e.n
}

// MarshalTo writes p into b and returns the number of bytes written. It
// fails with io.ErrShortBuffer when b is smaller than MarshalSize, with
// ErrTooLarge when the packet would exceed 65535 bytes, and with
// ErrBadVersion for a Version other than 0-3. It does not allocate.
//
// HEP3 chunks are written in ascending type order (0x0001 first), then the
// Extra chunks in their order, then the payload chunk last, because simple
// dissectors (hep-wireshark) need the protocol type before the payload.
func (p *Packet) MarshalTo(b []byte) (int, error) {
	switch p.Version {
	case 0, 3:
	case 1, 2:
		return p.marshal12(b)
	default:
		return 0, fmt.Errorf("%w: %d", ErrBadVersion, p.Version)
	}
	if _, _, err := p.wireTime(); err != nil {
		return 0, err
	}
	n := p.MarshalSize()
	if n > maxPacketLen {
		return 0, fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	e := encoder{b: b[:n]}
	p.encode3(&e)
	return n, nil
}

// Marshal returns p encoded in a new buffer.
func (p *Packet) Marshal() ([]byte, error) {
	b := make([]byte, p.MarshalSize())
	n, err := p.MarshalTo(b)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// encoder counts (b == nil) or writes the HEP3 encoding, so that
// MarshalSize and MarshalTo cannot disagree.
type encoder struct {
	b []byte
	n int
}

func (e *encoder) chunk(vendor uint16, t ChunkType, v []byte) {
	if e.b != nil {
		binary.BigEndian.PutUint16(e.b[e.n:], vendor)
		binary.BigEndian.PutUint16(e.b[e.n+2:], uint16(t))
		binary.BigEndian.PutUint16(e.b[e.n+4:], uint16(chunkHeaderLen+len(v)))
		copy(e.b[e.n+chunkHeaderLen:], v)
	}
	e.n += chunkHeaderLen + len(v)
}

func (e *encoder) uint(t ChunkType, size int, x uint64) {
	if e.b != nil {
		binary.BigEndian.PutUint16(e.b[e.n:], 0)
		binary.BigEndian.PutUint16(e.b[e.n+2:], uint16(t))
		binary.BigEndian.PutUint16(e.b[e.n+4:], uint16(chunkHeaderLen+size))
		for i := size - 1; i >= 0; i-- {
			e.b[e.n+chunkHeaderLen+i] = byte(x)
			x >>= 8
		}
	}
	e.n += chunkHeaderLen + size
}

func (e *encoder) addr(t ChunkType, a netip.Addr) {
	if a.Is4() {
		v := a.As4()
		e.chunk(0, t, v[:])
		return
	}
	v := a.As16()
	e.chunk(0, t, v[:])
}

func (p *Packet) encode3(e *encoder) {
	if e.b != nil {
		copy(e.b, magic3[:])
		binary.BigEndian.PutUint16(e.b[4:], uint16(len(e.b))) // MarshalTo cut b to the exact size
	}
	e.n = hep3HeaderLen
	if p.Has(ChunkIPFamily) {
		e.uint(ChunkIPFamily, 1, uint64(p.Family))
	}
	if p.Has(ChunkIPProtocol) {
		e.uint(ChunkIPProtocol, 1, uint64(p.Protocol))
	}
	if p.Src.Addr().Is4() {
		e.addr(ChunkIPv4Src, p.Src.Addr())
	}
	if p.Dst.Addr().Is4() {
		e.addr(ChunkIPv4Dst, p.Dst.Addr())
	}
	if p.Src.Addr().Is6() {
		e.addr(ChunkIPv6Src, p.Src.Addr())
	}
	if p.Dst.Addr().Is6() {
		e.addr(ChunkIPv6Dst, p.Dst.Addr())
	}
	if p.Has(ChunkSrcPort) {
		e.uint(ChunkSrcPort, 2, uint64(p.Src.Port()))
	}
	if p.Has(ChunkDstPort) {
		e.uint(ChunkDstPort, 2, uint64(p.Dst.Port()))
	}
	sec, usec, _ := p.wireTime() // MarshalTo checked the error
	if p.bit(ChunkTimeSec) || sec != 0 {
		e.uint(ChunkTimeSec, 4, uint64(sec))
	}
	if p.bit(ChunkTimeUsec) || usec != 0 {
		e.uint(ChunkTimeUsec, 4, uint64(usec))
	}
	if p.Has(ChunkProtoType) {
		e.uint(ChunkProtoType, 1, uint64(p.ProtoType))
	}
	if p.Has(ChunkCaptureID) {
		e.uint(ChunkCaptureID, 4, uint64(p.CaptureID))
	}
	if p.Has(ChunkKeepAlive) {
		e.uint(ChunkKeepAlive, 2, uint64(p.KeepAlive))
	}
	if p.Has(ChunkAuthKey) {
		e.chunk(0, ChunkAuthKey, p.AuthKey)
	}
	if p.Has(ChunkCorrelationID) {
		e.chunk(0, ChunkCorrelationID, p.CorrelationID)
	}
	if p.Has(ChunkVLAN) {
		e.uint(ChunkVLAN, 2, uint64(p.VLAN))
	}
	if p.Has(ChunkGroupID) {
		e.chunk(0, ChunkGroupID, p.GroupID)
	}
	if p.Has(ChunkSrcMAC) {
		e.uint(ChunkSrcMAC, 8, p.SrcMAC)
	}
	if p.Has(ChunkDstMAC) {
		e.uint(ChunkDstMAC, 8, p.DstMAC)
	}
	if p.Has(ChunkEtherType) {
		e.uint(ChunkEtherType, 2, uint64(p.EtherType))
	}
	if p.Has(ChunkTCPFlags) {
		e.uint(ChunkTCPFlags, 1, uint64(p.TCPFlags))
	}
	if p.Has(ChunkIPTOS) {
		e.uint(ChunkIPTOS, 1, uint64(p.TOS))
	}
	if p.Has(ChunkMOS) {
		e.uint(ChunkMOS, 2, uint64(p.MOS))
	}
	if p.Has(ChunkRFactor) {
		e.uint(ChunkRFactor, 2, uint64(p.RFactor))
	}
	if p.Has(ChunkGeoLocation) {
		e.chunk(0, ChunkGeoLocation, p.GeoLocation)
	}
	if p.Has(ChunkJitter) {
		e.uint(ChunkJitter, 4, uint64(p.Jitter))
	}
	if p.Has(ChunkTransactionType) {
		e.chunk(0, ChunkTransactionType, p.TransactionType)
	}
	if p.Has(ChunkPayloadJSONKeys) {
		e.chunk(0, ChunkPayloadJSONKeys, p.PayloadJSONKeys)
	}
	if p.Has(ChunkTagsValues) {
		e.chunk(0, ChunkTagsValues, p.TagsValues)
	}
	if p.Has(ChunkTagType) {
		e.uint(ChunkTagType, 2, uint64(p.TagType))
	}
	if p.Has(ChunkEventType) {
		e.uint(ChunkEventType, 2, uint64(p.EventType))
	}
	if p.Has(ChunkGroupIDString) {
		e.chunk(0, ChunkGroupIDString, p.GroupIDString)
	}
	for i := range p.Extra {
		c := &p.Extra[i]
		e.chunk(c.Vendor, c.Type, c.Value)
	}
	switch {
	case p.Has(ChunkCompressedPayload):
		e.chunk(0, ChunkCompressedPayload, p.Payload)
	case p.Has(ChunkPayload):
		e.chunk(0, ChunkPayload, p.Payload)
	}
}

// Equal reports whether p and q carry the same information: the same
// version, field values, chunk presence (see Has) and Extra chunks in the
// same order. Byte slices compare by content. V2LittleEndian, a wire detail,
// is ignored.
func (p *Packet) Equal(q *Packet) bool {
	if p.Version != q.Version || p.Family != q.Family || p.Protocol != q.Protocol ||
		p.Src != q.Src || p.Dst != q.Dst || !p.Time.Equal(q.Time) ||
		p.ProtoType != q.ProtoType || p.CaptureID != q.CaptureID ||
		p.KeepAlive != q.KeepAlive || p.Compressed != q.Compressed ||
		p.VLAN != q.VLAN || p.SrcMAC != q.SrcMAC || p.DstMAC != q.DstMAC ||
		p.EtherType != q.EtherType || p.TCPFlags != q.TCPFlags || p.TOS != q.TOS ||
		p.MOS != q.MOS || p.RFactor != q.RFactor || p.Jitter != q.Jitter ||
		p.TagType != q.TagType || p.EventType != q.EventType {
		return false
	}
	if !bytes.Equal(p.AuthKey, q.AuthKey) || !bytes.Equal(p.Payload, q.Payload) ||
		!bytes.Equal(p.CorrelationID, q.CorrelationID) || !bytes.Equal(p.GroupID, q.GroupID) ||
		!bytes.Equal(p.GeoLocation, q.GeoLocation) || !bytes.Equal(p.TransactionType, q.TransactionType) ||
		!bytes.Equal(p.PayloadJSONKeys, q.PayloadJSONKeys) || !bytes.Equal(p.TagsValues, q.TagsValues) ||
		!bytes.Equal(p.GroupIDString, q.GroupIDString) {
		return false
	}
	for t := ChunkIPFamily; t <= maxKnownChunk; t++ {
		if p.Has(t) != q.Has(t) {
			return false
		}
	}
	if len(p.Extra) != len(q.Extra) {
		return false
	}
	for i := range p.Extra {
		a, b := &p.Extra[i], &q.Extra[i]
		if a.Vendor != b.Vendor || a.Type != b.Type || !bytes.Equal(a.Value, b.Value) {
			return false
		}
	}
	return true
}
