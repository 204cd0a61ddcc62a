package wsframe

import (
	"encoding/binary"
	"errors"
)

// Opcodes (RFC 6455 11.8).
const (
	OpContinue = 0x0
	OpText     = 0x1
	OpBinary   = 0x2
	OpClose    = 0x8
	OpPing     = 0x9
	OpPong     = 0xa
)

// Bits of the first two header bytes, and sizes.
const (
	FIN       = 0x80
	RSV       = 0x70
	opcode    = 0x0f
	maskBit   = 0x80
	len7      = 0x7f
	len16     = 126 // 7-bit length value announcing a 16-bit length
	len64     = 127 // 7-bit length value announcing a 64-bit length
	MaxHeader = 14  // 2 + 8 bytes of length + 4 of masking key
	maxCtl    = 125 // control frames carry at most 125 bytes (RFC 6455 5.5)
)

// Sentinel errors of Parse. Neither allocates: the per-packet path
// parses every frame header.
var (
	// ErrShort: the header is consistent so far but b ends inside it.
	ErrShort = errors.New("wsframe: header cut short")
	// ErrInvalid: not a frame header RFC 6455 allows (an unknown opcode,
	// a 64-bit length with its top bit set, a fragmented or oversized
	// control frame).
	ErrInvalid = errors.New("wsframe: invalid frame header")
)

// Header is a decoded frame header.
type Header struct {
	B0        byte // the first byte as sent: FIN, RSV and opcode
	Masked    bool
	Key       [4]byte // the masking key when Masked
	Len       uint64  // payload length
	HeaderLen int     // bytes of header before the payload
}

// Fin reports the FIN bit: the last frame of a message.
func (h *Header) Fin() bool { return h.B0&FIN != 0 }

// RSV is the three reserved bits (an extension's, RFC 6455 5.2).
func (h *Header) RSV() byte { return h.B0 & RSV }

// Opcode is the frame's opcode.
func (h *Header) Opcode() byte { return h.B0 & opcode }

// Parse decodes the frame header at the start of b, checking the rules
// of RFC 6455 5.2 and 5.5. It accepts any length encoding, as a receiver
// must; Append writes the shortest.
func Parse(b []byte) (Header, error) {
	var h Header
	if len(b) < 2 {
		return h, ErrShort
	}
	h.B0 = b[0]
	h.Masked = b[1]&maskBit != 0
	switch h.Opcode() {
	case OpContinue, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return h, ErrInvalid
	}
	h.HeaderLen = 2
	switch l7 := b[1] & len7; l7 {
	case len16:
		if len(b) < 4 {
			return h, ErrShort
		}
		h.Len = uint64(binary.BigEndian.Uint16(b[2:4]))
		h.HeaderLen = 4
	case len64:
		if len(b) < 10 {
			return h, ErrShort
		}
		h.Len = binary.BigEndian.Uint64(b[2:10])
		if h.Len>>63 != 0 {
			return h, ErrInvalid // the most significant bit MUST be 0
		}
		h.HeaderLen = 10
	default:
		h.Len = uint64(l7)
	}
	if h.Opcode() >= OpClose && (!h.Fin() || h.Len > maxCtl) {
		return h, ErrInvalid
	}
	if h.Masked {
		if len(b) < h.HeaderLen+4 {
			return h, ErrShort
		}
		copy(h.Key[:], b[h.HeaderLen:h.HeaderLen+4])
		h.HeaderLen += 4
	}
	return h, nil
}

// Append appends a frame with first byte b0 carrying payload: the
// shortest length encoding (RFC 6455 5.2 requires it), and, when masked,
// key and the payload masked with it (5.3).
func Append(dst []byte, b0 byte, masked bool, key [4]byte, payload []byte) []byte {
	var m byte
	if masked {
		m = maskBit
	}
	dst = append(dst, b0)
	switch n := len(payload); {
	case n < len16:
		dst = append(dst, m|byte(n))
	case n <= 0xffff:
		dst = append(dst, m|len16)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, m|len64)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if !masked {
		return append(dst, payload...)
	}
	dst = append(dst, key[:]...)
	n := len(dst)
	dst = append(dst, payload...)
	Mask(dst[n:], key)
	return dst
}

// Mask applies the masking key (RFC 6455 5.3) to p in place; masking
// twice unmasks.
func Mask(p []byte, key [4]byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}
