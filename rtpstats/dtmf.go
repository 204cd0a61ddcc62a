package rtpstats

import (
	"encoding/binary"
	"time"
)

// RFC 4733 2.3 telephone-event payload layout.
const (
	eventPayloadLen = 4
	eventEndBit     = 0x80
	// dtmfEvents maps event codes 0..16 (RFC 4733 3.2 Table 7) to digits.
	dtmfEvents = "0123456789*#ABCD!"
)

// DTMFEvent is one RFC 4733 event collapsed from its packets.
type DTMFEvent struct {
	Digit      string    `json:"digit"`
	Event      uint8     `json:"event"`
	Start      time.Time `json:"start"`
	DurationMs float64   `json:"duration_ms"`
	Volume     uint8     `json:"volume"` // dBm0 below 0, RFC 4733 2.3.4
	Ended      bool      `json:"ended"`  // an E-bit packet was seen
	Packets    int       `json:"packets"`
}

// dtmfState tracks the event in progress. An event is identified by its RTP
// timestamp (RFC 4733 2.3.1: all packets of an event share the event's
// start timestamp); retransmitted end packets (2.5.1.3) update nothing.
type dtmfState struct {
	cur    DTMFEvent
	curTS  uint32
	active bool
}

func digitFor(ev uint8) string {
	if int(ev) < len(dtmfEvents) {
		return dtmfEvents[ev : ev+1]
	}
	return "?"
}

// add consumes a telephone-event payload and appends a finished event to
// out. Payloads shorter than 4 bytes are reported as false.
func (d *dtmfState) add(p []byte, ts uint32, now time.Time, clock uint32, out *[]DTMFEvent) bool {
	if len(p) < eventPayloadLen {
		return false
	}
	ev := p[0]
	end := p[1]&eventEndBit != 0
	vol := p[1] & 0x3f
	dur := binary.BigEndian.Uint16(p[2:])
	if clock == 0 {
		clock = 8000
	}
	if d.active && (ts != d.curTS || ev != d.cur.Event) {
		// A new event started before the previous one's end packet arrived.
		*out = append(*out, d.cur)
		d.active = false
	}
	if !d.active {
		if end && d.cur.Ended && d.curTS == ts && d.cur.Event == ev {
			return true // retransmitted end packet of an event already closed
		}
		d.cur = DTMFEvent{Digit: digitFor(ev), Event: ev, Start: now, Volume: vol}
		d.curTS = ts
		d.active = true
	}
	d.cur.Packets++
	d.cur.DurationMs = float64(dur) * 1000 / float64(clock)
	if end {
		d.cur.Ended = true
		*out = append(*out, d.cur)
		d.active = false
	}
	return true
}
