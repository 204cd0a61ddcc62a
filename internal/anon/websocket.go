package anon

import (
	"encoding/binary"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/wsframe"
)

// wsFrame is what the header of the WebSocket frame carrying a SIP
// message (RFC 7118) said (first byte, masking key), so that the
// rewritten message is framed again the same way.
type wsFrame = wsframe.Header

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
		f, err := wsframe.Parse(d.rec[p:end])
		if err != nil || f.Len > uint64(end-p-f.HeaderLen) {
			return false
		}
		p += f.HeaderLen
		n := int(f.Len)
		if op := f.Opcode(); !used[start] && f.Fin() && (op == wsframe.OpText || op == wsframe.OpBinary) && n == len(e.ws) && wsEqual(d.rec[p:p+n], e.ws, f) {
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
		if f.Masked {
			c ^= f.Key[j&3]
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
	return wsframe.Append(make([]byte, 0, len(msg)+wsframe.MaxHeader), f.B0, f.Masked, f.Key, msg)
}
