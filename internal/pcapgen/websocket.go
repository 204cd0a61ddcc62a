package pcapgen

import "github.com/voiptool/voiptool/internal/wsframe"

// WebSocket opcodes (RFC 6455 section 5.2), wsframe's.
const (
	WSContinuation = wsframe.OpContinue
	WSText         = wsframe.OpText
	WSBinary       = wsframe.OpBinary
	WSClose        = wsframe.OpClose
	WSPing         = wsframe.OpPing
	WSPong         = wsframe.OpPong
)

// WSFrame returns one WebSocket frame (RFC 6455 5.2), written by
// internal/wsframe. A non-nil mask masks the payload as a client must
// (5.3); servers send mask == nil.
func WSFrame(fin bool, opcode byte, mask *[4]byte, payload []byte) []byte {
	b0 := opcode & 0x0f
	if fin {
		b0 |= wsframe.FIN
	}
	if mask == nil {
		return wsframe.Append(nil, b0, false, [4]byte{}, payload)
	}
	return wsframe.Append(nil, b0, true, *mask, payload)
}
