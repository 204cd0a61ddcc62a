package sipstream

import (
	"encoding/binary"

	"github.com/voiptool/voiptool/internal/siplex"
)

// WebSocket framing (RFC 6455 5.2):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +
const (
	wsFIN      = 0x80
	wsRSV      = 0x70
	wsOpcode   = 0x0f
	wsMask     = 0x80
	wsLen7     = 0x7f
	wsLen16    = 126 // 7-bit length value announcing a 16-bit length
	wsLen64    = 127 // 7-bit length value announcing a 64-bit length
	wsMaxCtl   = 125 // control frames carry at most 125 bytes (RFC 6455 5.5)
	wsMaxHdr   = 14
	opContinue = 0x0 // RFC 6455 11.8
	opText     = 0x1
	opBinary   = 0x2
	opClose    = 0x8
	opPing     = 0x9
	opPong     = 0xa
)

// wsHeader is a decoded frame header.
type wsHeader struct {
	fin    bool
	rsv    byte
	op     byte
	masked bool
	key    [4]byte
	hdrLen int
	plen   uint64
}

// parseWSHeader decodes a frame header, checking RFC 6455 5.2/5.5 rules.
func parseWSHeader(b []byte) (wsHeader, status) {
	var h wsHeader
	if len(b) < 2 {
		return h, stMore
	}
	h.fin = b[0]&wsFIN != 0
	h.rsv = b[0] & wsRSV
	h.op = b[0] & wsOpcode
	h.masked = b[1]&wsMask != 0
	switch h.op {
	case opContinue, opText, opBinary, opClose, opPing, opPong:
	default:
		return h, stNo
	}
	l7 := b[1] & wsLen7
	h.hdrLen = 2
	switch l7 {
	case wsLen16:
		if len(b) < 4 {
			return h, stMore
		}
		h.plen = uint64(binary.BigEndian.Uint16(b[2:4]))
		h.hdrLen = 4
	case wsLen64:
		if len(b) < 10 {
			return h, stMore
		}
		h.plen = binary.BigEndian.Uint64(b[2:10])
		if h.plen>>63 != 0 {
			return h, stNo // the most significant bit MUST be 0
		}
		h.hdrLen = 10
	default:
		h.plen = uint64(l7)
	}
	if h.op >= opClose && (!h.fin || h.plen > wsMaxCtl) {
		return h, stNo
	}
	if h.masked {
		if len(b) < h.hdrLen+4 {
			return h, stMore
		}
		copy(h.key[:], b[h.hdrLen:h.hdrLen+4])
		h.hdrLen += 4
	}
	return h, stYes
}

// unmask applies the masking key (RFC 6455 5.3) in place.
func unmask(p []byte, key [4]byte) {
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

// sipHead reports whether p starts like a SIP message: a Status-Line or
// an upper-case method followed by SP and a letter.
func sipHead(p []byte) bool {
	if siplex.HasPrefixFold(p, sipVersionSP) {
		return true
	}
	i := 0
	for i < len(p) && 'A' <= p[i] && p[i] <= 'Z' {
		i++
	}
	return i >= 2 && i+1 < len(p) && p[i] == ' ' && ('a' <= siplex.Lower(p[i+1]) && siplex.Lower(p[i+1]) <= 'z')
}

// wsProbe recognises a data frame whose payload starts with SIP, without
// modifying b: used to find frames mid-stream and after a lost segment.
func wsProbe(b []byte, maxBuf int) status {
	const probe = 16
	if len(b) > 0 && (b[0]&wsRSV != 0 || (b[0]&wsOpcode != opText && b[0]&wsOpcode != opBinary)) {
		return stNo
	}
	h, st := parseWSHeader(b)
	if st != stYes {
		return st
	}
	if h.plen < 10 || h.plen > uint64(maxBuf) {
		return stNo
	}
	k := min(int(h.plen), probe)
	if len(b) < h.hdrLen+k {
		return stMore
	}
	var tmp [probe]byte
	copy(tmp[:k], b[h.hdrLen:h.hdrLen+k])
	if h.masked {
		unmask(tmp[:k], h.key)
	}
	if sipHead(tmp[:k]) {
		return stYes
	}
	return stNo
}

// upgrade reads the HTTP request or response that opens a WebSocket
// connection (RFC 6455 4.1, 4.2.2): GET with "Upgrade: websocket", or
// "HTTP/1.1 101" with the same. Anything else is not SIP.
func (a *Assembler) upgrade(s *stream, b []byte) (int, bool) {
	first, i, ok := siplex.NextLine(b, 0)
	if !ok {
		if len(b) >= maxHTTPHeader {
			a.markNonSIP(s, len(b))
			return len(b), false
		}
		return 0, false
	}
	response := siplex.HasPrefixFold(first, "HTTP/1.")
	if response {
		// HTTP-version SP status-code: "HTTP/1.1 101"
		if len(first) < 12 || first[8] != ' ' || string(first[9:12]) != "101" {
			a.markNonSIP(s, len(b))
			return len(b), false
		}
	}
	isWS := false
	for {
		line, next, ok := siplex.NextLine(b, i)
		if !ok {
			if len(b) >= maxHTTPHeader {
				a.markNonSIP(s, len(b))
				return len(b), false
			}
			return 0, false
		}
		i = next
		if len(line) == 0 {
			break
		}
		name, value, ok := siplex.SplitHeader(line)
		if ok && siplex.EqualFold(name, "Upgrade") && siplex.ContainsFold(value, "websocket") {
			isWS = true
		}
	}
	if !isWS {
		a.markNonSIP(s, len(b))
		return len(b), false
	}
	s.mode = modeWS
	s.synced = true
	a.stats.WebSocketStreams++
	return i, true
}

// frameWS consumes one frame from b, which starts at a frame boundary at
// absolute offset abs. Masked payloads are unmasked in place: s.buf is
// the Assembler's own copy.
func (a *Assembler) frameWS(s *stream, b []byte, abs uint64) (int, bool) {
	h, st := parseWSHeader(b)
	switch st {
	case stMore:
		return 0, false
	case stNo:
		a.stats.WebSocketProtocolErrors++
		a.dropFragment(s)
		a.lostSync(s)
		return 0, true
	}
	if h.plen > uint64(a.maxBuf) {
		a.stats.WebSocketFrames++
		a.stats.BufferOverflows++
		a.dropFragment(s)
		s.fragDrop = !h.fin
		total := uint64(h.hdrLen) + h.plen
		if total > 1<<31 {
			// No SIP peer sends this; treat as lost framing rather than
			// skip gigabytes of sequence space.
			a.stats.WebSocketProtocolErrors++
			a.lostSync(s)
			return 0, true
		}
		n := min(int(total), len(b))
		a.stats.DiscardedBytes += uint64(n)
		s.skip = int(total) - n
		return n, false
	}
	total := h.hdrLen + int(h.plen)
	if len(b) < total {
		return 0, false
	}
	a.stats.WebSocketFrames++
	p := b[h.hdrLen:total]
	if h.masked {
		unmask(p, h.key)
	}
	end := abs + uint64(total)
	switch {
	case h.op >= opClose:
		a.stats.WebSocketControlFrames++
		a.stats.DiscardedBytes += uint64(total)
	case h.rsv != 0:
		// permessage-deflate (RFC 7692) or another extension: not decoded.
		a.stats.WebSocketCompressed++
		a.stats.DiscardedBytes += uint64(total)
		if h.op != opContinue {
			a.dropFragment(s)
		}
		s.fragDrop = !h.fin
		s.fragging = false
		s.frag = s.frag[:0]
	case h.op == opText || h.op == opBinary:
		if s.fragging || s.fragDrop {
			// A new message before the previous one finished (RFC 6455 5.4).
			a.stats.WebSocketProtocolErrors++
			a.dropFragment(s)
		}
		if h.fin {
			a.deliverWS(s, p, s.refAt(abs), end)
			break
		}
		s.frag = append(s.frag[:0], p...)
		s.fragging = true
		s.fragFirstRef = s.refAt(abs)
	default: // continuation
		switch {
		case s.fragDrop:
			a.stats.DiscardedBytes += uint64(total)
			s.fragDrop = !h.fin
		case !s.fragging:
			a.stats.WebSocketProtocolErrors++
			a.stats.DiscardedBytes += uint64(total)
		case len(s.frag)+len(p) > a.maxBuf:
			a.stats.BufferOverflows++
			a.dropFragment(s)
			s.fragDrop = !h.fin
		default:
			s.frag = append(s.frag, p...)
			if h.fin {
				a.deliverWS(s, s.frag, s.fragFirstRef, end)
				s.frag = s.frag[:0]
				s.fragging = false
			}
		}
	}
	return total, false
}

// dropFragment abandons a partially reassembled message.
func (a *Assembler) dropFragment(s *stream) {
	if s.fragging {
		a.stats.DiscardedBytes += uint64(len(s.frag))
	}
	s.frag = s.frag[:0]
	s.fragging = false
	s.fragDrop = false
}

// deliverWS emits one WebSocket message: one SIP message (RFC 7118 5).
func (a *Assembler) deliverWS(s *stream, p []byte, firstRef, end uint64) {
	ka := len(p) > 0
	for _, c := range p {
		if c != '\r' && c != '\n' {
			ka = false
			break
		}
	}
	switch {
	case ka:
		a.stats.KeepAlives++
	case startLine(p) == stYes:
		a.emitMessage(s, p, firstRef, end, true)
	default:
		a.stats.WebSocketNonSIP++
		a.stats.DiscardedBytes += uint64(len(p))
	}
}

// resyncWS searches for the next data frame that carries SIP after a
// protocol error or a lost segment.
func (a *Assembler) resyncWS(s *stream, b []byte) (int, bool) {
	for c := 0; c < len(b); c++ {
		switch wsProbe(b[c:], a.maxBuf) {
		case stYes:
			s.synced = true
			return a.resyncDrop(s, c, len(b)), true
		case stMore:
			return a.resyncDrop(s, c, len(b)), false
		}
	}
	return a.resyncDrop(s, len(b), len(b)), false
}
