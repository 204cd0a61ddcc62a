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
	Marker         bool
	PayloadType    uint8
	SequenceNumber uint16
	Timestamp      uint32
	SSRC           uint32
	// CSRCCount entries of CSRC are valid; a fixed array keeps decoding
	// allocation-free.
	CSRCCount uint8
	CSRC      [maxCSRC]uint32
	// Extension is the X bit; ExtensionPayload excludes the 4-octet
	// extension header and aliases the decoded buffer.
	Extension        bool
	ExtensionProfile uint16
	ExtensionPayload []byte
	// PaddingSize is the RFC 3550 padding count (last octet), 0 when P=0.
	PaddingSize uint8
	// Payload excludes header and padding; aliases the decoded buffer.
	Payload []byte
}

// Unmarshal decodes b in place. On error the fields decoded so far are kept
// and the error names the offset.
func (h *Header) Unmarshal(b []byte) error {
	f, off, n := h.decode(b)
	switch f {
	case faultNone:
		return nil
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

// Parse decodes b as Unmarshal does and reports whether it is a valid RTP
// packet, without building an error: for a classifier that tries every
// datagram (package capture), where failing is common and must not
// allocate. It is the same decoder as Unmarshal.
func (h *Header) Parse(b []byte) bool {
	f, _, _ := h.decode(b)
	return f == faultNone
}

// Decode faults; decode reports one with the offset and a count that
// Unmarshal puts in its error.
const (
	faultNone = iota
	faultShort
	faultVersion
	faultCSRC
	faultExtHeader
	faultExt
	faultPadding
)

// decode is the one RTP header decoder (RFC 3550 5.1, 5.3.1).
func (h *Header) decode(b []byte) (fault, off, n int) {
	if len(b) < fixedHeaderLen {
		return faultShort, 0, 0
	}
	if b[0]>>versionShift != rtpVersion {
		return faultVersion, 0, 0
	}
	b0 := b[0]
	h.Extension = b0&extensionBit != 0
	h.CSRCCount = b0 & ccMask
	h.Marker = b[1]&markerBit != 0
	h.PayloadType = b[1] & payloadTypeMask
	h.SequenceNumber = binary.BigEndian.Uint16(b[2:])
	h.Timestamp = binary.BigEndian.Uint32(b[4:])
	h.SSRC = binary.BigEndian.Uint32(b[8:])
	h.ExtensionProfile, h.ExtensionPayload, h.PaddingSize = 0, nil, 0
	if b0&(paddingBit|extensionBit|ccMask) == 0 {
		// The common packet: no CSRC, extension or padding. Every packet
		// of a capture comes through here (capture classifies with it),
		// so it skips the walk below.
		h.Payload = b[fixedHeaderLen:len(b):len(b)]
		return faultNone, fixedHeaderLen, 0
	}
	h.Payload = nil
	padded := b0&paddingBit != 0
	off = fixedHeaderLen
	if need := off + 4*int(h.CSRCCount); len(b) < need {
		return faultCSRC, off, need
	}
	for i := 0; i < int(h.CSRCCount); i++ {
		h.CSRC[i] = binary.BigEndian.Uint32(b[off:])
		off += 4
	}
	if h.Extension {
		if len(b) < off+extHeaderLen {
			return faultExtHeader, off, 0
		}
		h.ExtensionProfile = binary.BigEndian.Uint16(b[off:])
		n := 4 * int(binary.BigEndian.Uint16(b[off+2:]))
		off += extHeaderLen
		if len(b) < off+n {
			return faultExt, off, n
		}
		h.ExtensionPayload = b[off : off+n : off+n]
		off += n
	}
	end := len(b)
	if padded {
		p := int(b[len(b)-1])
		if p == 0 || p > end-off {
			return faultPadding, off, p
		}
		h.PaddingSize = uint8(p)
		end -= p
	}
	h.Payload = b[off:end:end]
	return faultNone, off, 0
}

// HeaderLength is the length of the header Unmarshal or Parse decoded:
// the bytes before Payload (fixed header, CSRCs, extension).
func (h *Header) HeaderLength() int {
	n := fixedHeaderLen + 4*int(h.CSRCCount)
	if h.Extension {
		n += extHeaderLen + len(h.ExtensionPayload)
	}
	return n
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
