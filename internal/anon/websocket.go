package anon

import (
	"encoding/binary"

	"github.com/voiptool/voiptool/capture"
)

// wsFrame is where a WebSocket frame carrying a SIP message (RFC 7118)
// lies in a record, and what its header said, so that the rewritten
// message is framed again the same way.
type wsFrame struct {
	b0     byte    // FIN, RSV and opcode, kept
	masked bool    // client to server frames are masked (RFC 6455 5.3)
	key    [4]byte // the masking key, kept
}

// wsWhole reports whether ev is a SIP message unwrapped from one
// WebSocket frame that lies whole in ev's own TCP segment: the only case
// whose frame can be rewritten in place (a frame spanning segments would
// need every segment rewritten).
func wsWhole(ev *capture.Event) bool {
	l := &ev.Layers
	return ev.Kind == capture.KindSIP && l.Payload < 0 &&
		l.Reassembled == capture.ReasmTCP|capture.ReasmWebSocket &&
		l.FirstRecord == ev.Packet.Number && l.LastRecord == ev.Packet.Number
}

// wsLocate finds the frame of evs[i] (its unwrapped message in
// evs[i].ws) by walking the frames of the record's TCP payload from its
// start, and points the event's Payload and n at the whole frame, so
// that the record path replaces the frame (header and payload) and
// shifts the TCP sequence numbers by its growth. used holds frame
// offsets already taken by other events of the record (a segment may
// carry two identical messages). It reports false when the segment does
// not start on a frame boundary or no frame holds the message.
func (d *capDriver) wsLocate(evs []pendingEvent, i int, used map[int]bool) bool {
	e := &evs[i]
	l := &e.layers
	l3, l4 := int(l.InnerL3()), int(l.InnerL4())
	if l.ChainFull() || l.L4Proto() != 6 || l3 < 0 || l4 < 0 || l4+20 > len(d.rec) {
		return false
	}
	p := l4 + 4*int(d.rec[l4+12]>>4)
	var end int
	switch l.L3Proto() {
	case 4:
		end = l3 + int(binary.BigEndian.Uint16(d.rec[l3+2:]))
	case 6:
		end = l3 + 40 + int(binary.BigEndian.Uint16(d.rec[l3+4:]))
	default:
		return false
	}
	end = min(end, len(d.rec))
	for p < end {
		start := p
		if p+2 > end {
			return false
		}
		f := wsFrame{b0: d.rec[p], masked: d.rec[p+1]&0x80 != 0}
		n := int(d.rec[p+1] & 0x7f)
		p += 2
		switch n {
		case 126:
			if p+2 > end {
				return false
			}
			n = int(binary.BigEndian.Uint16(d.rec[p:]))
			p += 2
		case 127:
			if p+8 > end {
				return false
			}
			v := binary.BigEndian.Uint64(d.rec[p:])
			if v > uint64(end) {
				return false
			}
			n = int(v)
			p += 8
		}
		if f.masked {
			if p+4 > end {
				return false
			}
			copy(f.key[:], d.rec[p:p+4])
			p += 4
		}
		if p+n > end {
			return false
		}
		op := f.b0 & 0x0f
		if !used[start] && f.b0&0x80 != 0 && (op == 1 || op == 2) && n == len(e.ws) && wsEqual(d.rec[p:p+n], e.ws, f) {
			used[start] = true
			l.Payload = int32(start)
			e.n = p + n - start
			e.frame = f
			return true
		}
		p += n
	}
	return false
}

// wsEqual compares a frame's payload, unmasked, with msg.
func wsEqual(payload, msg []byte, f wsFrame) bool {
	for j := range payload {
		c := payload[j]
		if f.masked {
			c ^= f.key[j&3]
		}
		if c != msg[j] {
			return false
		}
	}
	return true
}

// wsEncode frames msg as f was framed: same first byte and masking key,
// the shortest length encoding (RFC 6455 5.2 requires the minimal one).
func wsEncode(f wsFrame, msg []byte) []byte {
	out := make([]byte, 0, len(msg)+14)
	out = append(out, f.b0)
	var mask byte
	if f.masked {
		mask = 0x80
	}
	switch n := len(msg); {
	case n < 126:
		out = append(out, mask|byte(n))
	case n <= 0xffff:
		out = append(out, mask|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mask|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if f.masked {
		out = append(out, f.key[:]...)
	}
	for j, c := range msg {
		if f.masked {
			c ^= f.key[j&3]
		}
		out = append(out, c)
	}
	return out
}
