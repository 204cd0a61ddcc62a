package rtpstats

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// RTP fixed-header layout constants (RFC 3550 5.1).
const (
	rtpVersion      = 2
	fixedHeaderLen  = 12
	maxCSRC         = 15 // CC is a 4-bit field
	extHeaderLen    = 4  // defined-by-profile (16) + length in words (16), RFC 3550 5.3.1
	versionShift    = 6
	paddingBit      = 0x20
	extensionBit    = 0x10
	ccMask          = 0x0f
	markerBit       = 0x80
	payloadTypeMask = 0x7f
)

// Header is an RTP packet header plus the payload it frames. One type both
// decodes and encodes (Unmarshal / MarshalTo are symmetric).
//
// Aliasing: after Unmarshal, ExtensionPayload and Payload point into the
// slice given to Unmarshal; copy them before that buffer is reused. The
// padding bytes themselves are not kept, only their count.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|V=2|P|X|  CC   |M|     PT      |       sequence number         |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                           timestamp                           |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|           synchronization source (SSRC) identifier            |
//	+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//	|            contributing source (CSRC) identifiers             |
//	|                             ....                              |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      defined by profile       |           length              |  (if X)
//	|                        header extension                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Header struct {
	// Fixed holds the fixed fields, CSRCCount, the X bit (Extension),
	// PaddingSize (the RFC 3550 padding count, 0 when P=0) and, after
	// Unmarshal, HeaderLength; MarshalTo derives the lengths from the
	// fields below instead.
	Fixed
	// CSRCCount entries of CSRC are valid; a fixed array keeps decoding
	// allocation-free.
	CSRC [maxCSRC]uint32
	// ExtensionPayload excludes the 4-octet extension header and aliases
	// the decoded buffer.
	ExtensionProfile uint16
	ExtensionPayload []byte
	// Payload excludes header and padding; aliases the decoded buffer.
	Payload []byte
}

// Unmarshal decodes b in place. On error the fields decoded so far are kept
// and the error names the offset.
func (h *Header) Unmarshal(b []byte) error {
	fault, off, n := h.Fixed.decode(b)
	h.ExtensionProfile, h.ExtensionPayload, h.Payload = 0, nil, nil
	if fault != faultNone {
		return faultError(b, fault, off, n)
	}
	// Fixed has checked every length; take the lists and slices it located.
	off = fixedHeaderLen
	for i := 0; i < int(h.CSRCCount); i++ {
		h.CSRC[i] = binary.BigEndian.Uint32(b[off:])
		off += 4
	}
	if h.Extension {
		h.ExtensionProfile = binary.BigEndian.Uint16(b[off:])
		h.ExtensionPayload = b[off+extHeaderLen : h.HeaderLength : h.HeaderLength]
	}
	h.Payload = h.Fixed.Payload(b)
	return nil
}

// Fixed is what every RTP packet's classification and statistics need:
// the fixed header fields and the lengths that locate the payload, with
// no slices. Decoding into it is a handful of plain stores, no pointer
// (and so no GC write barrier), which matters on the per-packet path:
// package capture classifies every datagram with Fixed.Parse and hands
// the result to Tracker.AddFixed, so each packet is decoded once. Header
// embeds it, is decoded by the same code (Fixed.decode), and adds the
// CSRC list and the extension and payload slices.
type Fixed struct {
	Marker         bool
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	CSRCCount      uint8
	Extension      bool
	PaddingSize    uint8  // RFC 3550 padding count, 0 when P=0
	HeaderLength   uint32 // bytes before the payload: fixed header, CSRCs, extension
}

// Unmarshal decodes and checks the header of the RTP packet b; the error
// names the offset, as Header.Unmarshal's does.
func (f *Fixed) Unmarshal(b []byte) error {
	if fault, off, n := f.decode(b); fault != faultNone {
		return faultError(b, fault, off, n)
	}
	return nil
}

// Parse is Unmarshal without building an error: for a classifier that
// tries every datagram, where failing is common and must not allocate.
func (f *Fixed) Parse(b []byte) bool {
	fault, _, _ := f.decode(b)
	return fault == faultNone
}

// Payload is the payload of the packet b that f was decoded from, without
// header and padding; it aliases b.
func (f *Fixed) Payload(b []byte) []byte {
	end := len(b) - int(f.PaddingSize)
	return b[f.HeaderLength:end:end]
}

// Decode faults; decode reports one with the offset and a count that
// faultError puts in the error.
const (
	faultNone = iota
	faultShort
	faultVersion
	faultCSRC
	faultExtHeader
	faultExt
	faultPadding
)

func faultError(b []byte, fault, off, n int) error {
	switch fault {
	case faultShort:
		return fmt.Errorf("%w: %d bytes, fixed header needs %d", ErrTruncated, len(b), fixedHeaderLen)
	case faultVersion:
		return fmt.Errorf("%w: %d at offset 0", ErrBadVersion, b[0]>>versionShift)
	case faultCSRC:
		return fmt.Errorf("%w: CSRC list at offset %d needs %d bytes, have %d", ErrTruncated, off, n, len(b))
	case faultExtHeader:
		return fmt.Errorf("%w: extension header at offset %d", ErrTruncated, off)
	case faultExt:
		return fmt.Errorf("%w: extension at offset %d needs %d bytes, have %d", ErrTruncated, off, n, len(b)-off)
	default: // faultPadding
		return fmt.Errorf("%w: count %d at offset %d, %d bytes after header", ErrBadPadding, n, len(b)-1, len(b)-off)
	}
}

// decode is the one RTP header decoder (RFC 3550 5.1, 5.3.1, 5.1 padding):
// it checks every length and locates the payload.
func (f *Fixed) decode(b []byte) (fault, off, n int) {
	if len(b) < fixedHeaderLen {
		return faultShort, 0, 0
	}
	b0 := b[0]
	if b0>>versionShift != rtpVersion {
		return faultVersion, 0, 0
	}
	f.Extension = b0&extensionBit != 0
	f.CSRCCount = b0 & ccMask
	f.Marker = b[1]&markerBit != 0
	f.PayloadType = b[1] & payloadTypeMask
	f.SequenceNumber = binary.BigEndian.Uint16(b[2:])
	f.Timestamp = binary.BigEndian.Uint32(b[4:])
	f.SSRC = binary.BigEndian.Uint32(b[8:])
	f.PaddingSize, f.HeaderLength = 0, fixedHeaderLen
	if b0&(paddingBit|extensionBit|ccMask) == 0 {
		return faultNone, fixedHeaderLen, 0 // the common packet: nothing more to walk
	}
	off = fixedHeaderLen + 4*int(f.CSRCCount)
	if len(b) < off {
		return faultCSRC, fixedHeaderLen, off
	}
	if f.Extension {
		if len(b) < off+extHeaderLen {
			return faultExtHeader, off, 0
		}
		n := 4 * int(binary.BigEndian.Uint16(b[off+2:]))
		off += extHeaderLen
		if len(b) < off+n {
			return faultExt, off, n
		}
		off += n
	}
	f.HeaderLength = uint32(off)
	if b0&paddingBit != 0 {
		p := int(b[len(b)-1])
		if p == 0 || p > len(b)-off {
			return faultPadding, off, p
		}
		f.PaddingSize = uint8(p)
	}
	return faultNone, off, 0
}

// MarshalSize is the encoded length of h.
func (h *Header) MarshalSize() int {
	n := fixedHeaderLen + 4*int(h.CSRCCount) + len(h.Payload) + int(h.PaddingSize)
	if h.Extension {
		n += extHeaderLen + len(h.ExtensionPayload)
	}
	return n
}

// MarshalTo encodes h into b and returns the number of bytes written, or
// io.ErrShortBuffer. Padding is written as zeros followed by the count.
func (h *Header) MarshalTo(b []byte) (int, error) {
	if h.CSRCCount > maxCSRC {
		return 0, fmt.Errorf("%w: %d", ErrTooManyCSRC, h.CSRCCount)
	}
	if h.Extension && (len(h.ExtensionPayload)%4 != 0 || len(h.ExtensionPayload) > 4*0xffff) {
		return 0, fmt.Errorf("%w: %d bytes", ErrBadExtension, len(h.ExtensionPayload))
	}
	n := h.MarshalSize()
	if len(b) < n {
		return 0, io.ErrShortBuffer
	}
	b[0] = rtpVersion<<versionShift | h.CSRCCount
	if h.PaddingSize > 0 {
		b[0] |= paddingBit
	}
	if h.Extension {
		b[0] |= extensionBit
	}
	b[1] = h.PayloadType & payloadTypeMask
	if h.Marker {
		b[1] |= markerBit
	}
	binary.BigEndian.PutUint16(b[2:], h.SequenceNumber)
	binary.BigEndian.PutUint32(b[4:], h.Timestamp)
	binary.BigEndian.PutUint32(b[8:], h.SSRC)
	off := fixedHeaderLen
	for i := 0; i < int(h.CSRCCount); i++ {
		binary.BigEndian.PutUint32(b[off:], h.CSRC[i])
		off += 4
	}
	if h.Extension {
		binary.BigEndian.PutUint16(b[off:], h.ExtensionProfile)
		binary.BigEndian.PutUint16(b[off+2:], uint16(len(h.ExtensionPayload)/4))
		off += extHeaderLen
		off += copy(b[off:], h.ExtensionPayload)
	}
	off += copy(b[off:], h.Payload)
	if h.PaddingSize > 0 {
		clear(b[off : off+int(h.PaddingSize)-1])
		off += int(h.PaddingSize)
		b[off-1] = h.PaddingSize
	}
	return off, nil
}

// Marshal allocates and encodes h.
func (h *Header) Marshal() ([]byte, error) {
	b := make([]byte, h.MarshalSize())
	n, err := h.MarshalTo(b)
	return b[:n], err
}

// Equal reports whether h and o describe the same packet (valid CSRCs,
// extension and payload bytes compared; padding by count only).
func (h *Header) Equal(o *Header) bool {
	if h.Marker != o.Marker || h.PayloadType != o.PayloadType || h.SequenceNumber != o.SequenceNumber ||
		h.Timestamp != o.Timestamp || h.SSRC != o.SSRC || h.CSRCCount != o.CSRCCount ||
		h.Extension != o.Extension || h.PaddingSize != o.PaddingSize {
		return false
	}
	if h.CSRCCount > maxCSRC || !equalU32(h.CSRC[:h.CSRCCount], o.CSRC[:h.CSRCCount]) {
		return false
	}
	if h.Extension && (h.ExtensionProfile != o.ExtensionProfile || !bytes.Equal(h.ExtensionPayload, o.ExtensionPayload)) {
		return false
	}
	return bytes.Equal(h.Payload, o.Payload)
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
