package sipstream

import (
	"errors"

	"github.com/voiptool/voiptool/internal/siplex"
	"github.com/voiptool/voiptool/internal/wsframe"
)

// WebSocket frame headers are read by internal/wsframe, the one codec of
// them; these are its opcodes under shorter names.
const (
	opContinue = wsframe.OpContinue
	opText     = wsframe.OpText
	opBinary   = wsframe.OpBinary
	opClose    = wsframe.OpClose
	opPing     = wsframe.OpPing
	opPong     = wsframe.OpPong
)

// parseWSHeader is wsframe.Parse as a recogniser's status.
func parseWSHeader(b []byte) (wsframe.Header, status) {
	h, err := wsframe.Parse(b)
	switch {
	case errors.Is(err, wsframe.ErrShort):
		return h, stMore
	case err != nil:
		return h, stNo
	}
	return h, stYes
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
	if len(b) > 0 {
		if h := (wsframe.Header{B0: b[0]}); h.RSV() != 0 || (h.Opcode() != opText && h.Opcode() != opBinary) {
			return stNo
		}
	}
	h, st := parseWSHeader(b)
	if st != stYes {
		return st
	}
	if h.Len < 10 || h.Len > uint64(maxBuf) {
		return stNo
	}
	k := min(int(h.Len), probe)
	if len(b) < h.HeaderLen+k {
		return stMore
	}
	var tmp [probe]byte
	copy(tmp[:k], b[h.HeaderLen:h.HeaderLen+k])
	if h.Masked {
		wsframe.Mask(tmp[:k], h.Key)
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
	if h.Len > uint64(a.maxBuf) {
		a.stats.WebSocketFrames++
		a.stats.BufferOverflows++
		a.dropFragment(s)
		s.fragDrop = !h.Fin()
		total := uint64(h.HeaderLen) + h.Len
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
	total := h.HeaderLen + int(h.Len)
	if len(b) < total {
		return 0, false
	}
	a.stats.WebSocketFrames++
	p := b[h.HeaderLen:total]
	if h.Masked {
		wsframe.Mask(p, h.Key)
	}
	end := abs + uint64(total)
	switch {
	case h.Opcode() >= opClose:
		a.stats.WebSocketControlFrames++
		a.stats.DiscardedBytes += uint64(total)
	case h.RSV() != 0:
		// permessage-deflate (RFC 7692) or another extension: not decoded.
		a.stats.WebSocketCompressed++
		a.stats.DiscardedBytes += uint64(total)
		if h.Opcode() != opContinue {
			a.dropFragment(s)
		}
		s.fragDrop = !h.Fin()
		s.fragging = false
		s.frag = s.frag[:0]
	case h.Opcode() == opText || h.Opcode() == opBinary:
		if s.fragging || s.fragDrop {
			// A new message before the previous one finished (RFC 6455 5.4).
			a.stats.WebSocketProtocolErrors++
			a.dropFragment(s)
		}
		if h.Fin() {
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
			s.fragDrop = !h.Fin()
		case !s.fragging:
			a.stats.WebSocketProtocolErrors++
			a.stats.DiscardedBytes += uint64(total)
		case len(s.frag)+len(p) > a.maxBuf:
			a.stats.BufferOverflows++
			a.dropFragment(s)
			s.fragDrop = !h.Fin()
		default:
			s.frag = append(s.frag, p...)
			if h.Fin() {
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
