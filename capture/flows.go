package capture

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// Heuristic RTP: a UDP 5-tuple is taken as RTP once the same SSRC has
// been seen in heurConfirm packets with sequence numbers advancing by
// small steps. The packets before confirmation are held (copied, at most
// heurConfirm-1 per flow and maxHeldBytes in all) and delivered, with
// their own record and time, just before the packet that confirms the
// flow; when the budget is exhausted they are lost to the consumer.
// Streams announced in SDP never wait.
const (
	heurConfirm  = 3
	heurMaxStep  = 100     // largest sequence advance still counted as continuity
	maxHeldBytes = 4 << 20 // bytes held across all unconfirmed flows
)

type flowKey struct{ src, dst epKey }

// heldPacket is a copy of a candidate RTP packet waiting for its flow to
// be confirmed.
type heldPacket struct {
	data     []byte
	pkt      pcap.Packet
	src, dst netip.AddrPort
	vlan     uint16
	tunnel   bool
	rtp      RTPHeader
}

type flowState struct {
	ssrc      uint32
	seq       uint16
	count     uint8
	confirmed bool
	seen      time.Time
	held      [heurConfirm - 1]heldPacket
	nheld     int
}

type flowTable struct {
	m         map[flowKey]*flowState
	max       int
	heldBytes int
}

func (t *flowTable) init(max int) {
	t.m = make(map[flowKey]*flowState)
	t.max = max
}

// observe records one candidate RTP packet. It returns the flow and
// whether the flow is confirmed as RTP; fresh is true when this packet
// started or continued an unconfirmed run (so it may be held).
func (t *flowTable) observe(src, dst netip.AddrPort, ssrc uint32, seq uint16, now time.Time) (f *flowState, confirmed bool) {
	k := flowKey{keyOf(src), keyOf(dst)}
	f = t.m[k]
	if f == nil {
		if len(t.m) >= t.max {
			return nil, false
		}
		f = &flowState{}
		t.m[k] = f
		t.restart(f, ssrc, seq, now)
		return f, false
	}
	f.seen = now
	step := seq - f.seq
	switch {
	case f.ssrc != ssrc:
		t.restart(f, ssrc, seq, now)
	case f.confirmed:
		// Once confirmed, reordering, duplicates (RFC 4733 end packets) and
		// loss bursts stay RTP; only a new SSRC restarts the check.
		if step != 0 && step < 0x8000 {
			f.seq = seq
		}
	case step >= 1 && step <= heurMaxStep:
		f.seq = seq
		f.count++
		if f.count >= heurConfirm {
			f.confirmed = true
		}
	case step == 0:
	default:
		t.restart(f, ssrc, seq, now)
	}
	return f, f.confirmed
}

func (t *flowTable) restart(f *flowState, ssrc uint32, seq uint16, now time.Time) {
	t.drop(f)
	f.ssrc, f.seq, f.count, f.confirmed, f.seen = ssrc, seq, 1, false, now
}

// drop forgets the held packets, keeping their buffers for reuse.
func (t *flowTable) drop(f *flowState) {
	for i := range f.nheld {
		t.heldBytes -= len(f.held[i].data)
		f.held[i].data = f.held[i].data[:0]
	}
	f.nheld = 0
}

// hold copies a candidate packet into the flow, within the byte budget.
func (t *flowTable) hold(f *flowState, b []byte, d *Decoder, src, dst netip.AddrPort) bool {
	if f.nheld == len(f.held) || t.heldBytes+len(b) > maxHeldBytes {
		return false
	}
	h := &f.held[f.nheld]
	h.data = append(h.data[:0], b...) // the one copy: the packet outlives its record
	h.pkt = d.ev.Packet
	h.src, h.dst = src, dst
	h.vlan, h.tunnel = d.vlanID, d.tunnel
	h.rtp = d.ev.RTP
	f.nheld++
	t.heldBytes += len(b)
	return true
}

func (t *flowTable) expire(before time.Time) {
	for k, f := range t.m {
		if f.seen.Before(before) {
			t.drop(f)
			delete(t.m, k)
		}
	}
}

// releaseHeld delivers a newly confirmed flow's held packets, each with
// its own record, and restores the current record's event fields.
func (d *Decoder) releaseHeld(f *flowState) {
	cur, src, dst := d.ev.Packet, d.ev.Src, d.ev.Dst
	vlan, tunnel, rtp := d.vlanID, d.tunnel, d.ev.RTP
	for i := range f.nheld {
		h := &f.held[i]
		d.ev.Packet, d.vlanID, d.tunnel, d.ev.RTP = h.pkt, h.vlan, h.tunnel, h.rtp
		d.stats.Other-- // it was counted as other while held
		d.stats.RTPByHeuristic++
		d.deliverAt(KindRTP, TransportUDP, h.data, h.src, h.dst, h.pkt.Timestamp)
	}
	d.flows.drop(f)
	d.ev.Packet, d.vlanID, d.tunnel, d.ev.RTP = cur, vlan, tunnel, rtp
	d.ev.Src, d.ev.Dst = src, dst
}
