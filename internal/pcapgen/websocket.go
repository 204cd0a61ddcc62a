package pcapgen

import "encoding/binary"

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	WSContinuation = 0x0
	WSText         = 0x1
	WSBinary       = 0x2
	WSClose        = 0x8
	WSPing         = 0x9
	WSPong         = 0xa
)

// WSFrame returns one WebSocket frame (RFC 6455 5.2). A non-nil mask
// masks the payload as a client must (5.3); servers send mask == nil.
func WSFrame(fin bool, opcode byte, mask *[4]byte, payload []byte) []byte {
	b := make([]byte, 0, 14+len(payload))
	b0 := opcode & 0x0f
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	var m byte
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if mask == nil {
		return append(b, payload...)
	}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}
