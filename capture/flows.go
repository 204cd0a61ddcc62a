package capture

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// Heuristic RTP: an SSRC on a UDP 5-tuple is taken as RTP once it has
// been seen in heurConfirm packets with sequence numbers advancing by
// small steps. Each 5-tuple tracks up to heurSSRCs SSRCs, confirmed
// independently, because one 5-tuple often carries several: a
// telephone-event (RFC 4733) sender with its own SSRC beside the voice,
// an SSRC change after a re-INVITE or transfer, RTP multiplexed by SSRC
// (RFC 3550 8.1 allows several sources on one transport address). With
// one SSRC per 5-tuple, two interleaved SSRCs restarted each other's
// check on every packet: one was never confirmed and the other lost
// packets and showed invented loss.
//
// The packets before an SSRC is confirmed are held (copied, at most
// heurConfirm-1 per SSRC and maxHeldBytes in all) and delivered, with
// their own record and time, just before the packet that confirms it.
// What is held and never delivered (sequence broken, SSRC evicted by
// others on the 5-tuple, expired, end of input), and candidates that
// could not be held (budget or flow table full), are counted in
// Stats.RTPHeuristicDropped. Streams announced in SDP never wait.
const (
	heurConfirm  = 3
	heurMaxStep  = 100     // largest sequence advance still counted as continuity
	heurSSRCs    = 4       // SSRCs tracked per 5-tuple; the least recently seen is evicted
	maxHeldBytes = 4 << 20 // bytes held across all unconfirmed SSRCs
)

type flowKey struct{ src, dst epKey }

// heldPacket is a copy of a candidate RTP packet waiting for its SSRC to
// be confirmed.
type heldPacket struct {
	data     []byte
	pkt      pcap.Packet
	src, dst netip.AddrPort
	vlan     uint16
	tunnel   bool
	lay      Layers // its own record's offsets
}

// ssrcState is the heuristic's view of one SSRC on a 5-tuple.
type ssrcState struct {
	ssrc      uint32
	seq       uint16
	count     uint8
	confirmed bool
	nheld     uint8
	used      uint32 // the flow's tick at this SSRC's last packet, for LRU eviction
	seen      int64  // packet time (Unix ns) of the last packet, for expiry
	// held is allocated at the slot's first hold and kept, with its
	// buffers, when the slot is cleared or reused: slots recycle, so a
	// flow allocates at most heurSSRCs of them in its life, and a flow
	// that is confirmed at once (SDP-less but well-behaved RTP) costs one.
	held *[heurConfirm - 1]heldPacket
}

type flowState struct {
	tick uint32 // counts the flow's candidate packets; orders its SSRCs by recency
	n    int    // SSRC slots in use, c[:n]
	c    [heurSSRCs]ssrcState
}

type flowTable struct {
	m         map[flowKey]*flowState
	max       int
	heldBytes int
	dropped   int // Stats.RTPHeuristicDropped
}

func (t *flowTable) init(max int) {
	t.m = make(map[flowKey]*flowState)
	t.max = max
}

// observe records one candidate RTP packet at packet time now (Unix ns).
// It returns the packet's SSRC state and whether that SSRC is confirmed
// as RTP; s is nil when the flow table is full (the packet is counted
// as dropped).
func (t *flowTable) observe(src, dst netip.AddrPort, ssrc uint32, seq uint16, now int64) (s *ssrcState, confirmed bool) {
	k := flowKey{keyOf(src), keyOf(dst)}
	f := t.m[k]
	if f == nil {
		if len(t.m) >= t.max {
			t.dropped++
			return nil, false
		}
		f = &flowState{}
		t.m[k] = f
	}
	f.tick++
	for i := range f.n {
		if f.c[i].ssrc == ssrc {
			s = &f.c[i]
			break
		}
	}
	if s == nil {
		s = t.slot(f)
		t.restart(s, ssrc, seq)
		s.used, s.seen = f.tick, now
		return s, false
	}
	s.used, s.seen = f.tick, now
	step := seq - s.seq
	switch {
	case s.confirmed:
		// Once confirmed, reordering, duplicates (RFC 4733 end packets) and
		// loss bursts stay RTP; only expiry or eviction restarts the check.
		if step != 0 && step < 0x8000 {
			s.seq = seq
		}
	case step >= 1 && step <= heurMaxStep:
		s.seq = seq
		s.count++
		if s.count >= heurConfirm {
			s.confirmed = true
		}
	case step == 0:
	default:
		t.restart(s, ssrc, seq)
	}
	return s, s.confirmed
}

// slot returns a slot for a new SSRC on f: a free one, or else the least
// recently seen, whose held packets are dropped. Ages are tick
// differences, so the comparison survives the tick wrapping.
func (t *flowTable) slot(f *flowState) *ssrcState {
	if f.n < len(f.c) {
		f.n++
		return &f.c[f.n-1]
	}
	old := 0
	for i := 1; i < len(f.c); i++ {
		if f.tick-f.c[i].used > f.tick-f.c[old].used {
			old = i
		}
	}
	return &f.c[old]
}

// restart begins a new unconfirmed run for ssrc in s, dropping what s held.
func (t *flowTable) restart(s *ssrcState, ssrc uint32, seq uint16) {
	t.drop(s)
	s.ssrc, s.seq, s.count, s.confirmed = ssrc, seq, 1, false
}

// drop discards the held packets, counting them.
func (t *flowTable) drop(s *ssrcState) {
	t.dropped += int(s.nheld)
	t.clear(s)
}

// clear forgets the held packets, keeping their buffers for reuse.
func (t *flowTable) clear(s *ssrcState) {
	for i := range s.nheld {
		t.heldBytes -= len(s.held[i].data)
		s.held[i].data = s.held[i].data[:0]
	}
	s.nheld = 0
}

// hold copies a candidate packet into its SSRC state, within the byte
// budget; a packet that does not fit is counted as dropped.
func (t *flowTable) hold(s *ssrcState, b []byte, d *Decoder, src, dst netip.AddrPort) bool {
	if int(s.nheld) == len(s.held) || t.heldBytes+len(b) > maxHeldBytes {
		t.dropped++
		return false
	}
	if s.held == nil {
		s.held = new([heurConfirm - 1]heldPacket)
	}
	h := &s.held[s.nheld]
	h.data = append(h.data[:0], b...) // the one copy: the packet outlives its record
	h.pkt = d.ev.Packet
	h.src, h.dst = src, dst
	h.vlan, h.tunnel = d.vlanID, d.tunnel
	h.lay = d.ev.Layers
	h.lay.Payload = d.offset(b)
	s.nheld++
	t.heldBytes += len(b)
	return true
}

// expire forgets SSRCs without a packet since before, dropping what they
// held, and flows left without SSRCs.
func (t *flowTable) expire(before time.Time) {
	b := unixNano(before)
	for k, f := range t.m {
		for i := 0; i < f.n; {
			if f.c[i].seen >= b {
				i++
				continue
			}
			t.drop(&f.c[i])
			// Swap, not overwrite: the freed slot keeps its held buffers.
			f.n--
			f.c[i], f.c[f.n] = f.c[f.n], f.c[i]
		}
		if f.n == 0 {
			delete(t.m, k)
		}
	}
}

// flush drops every held packet: at the end of input their SSRCs can no
// longer be confirmed.
func (t *flowTable) flush() {
	for _, f := range t.m {
		for i := range f.n {
			t.drop(&f.c[i])
		}
	}
}

// releaseHeld delivers a newly confirmed SSRC's held packets in arrival
// order, each with its own record, and restores the current record's
// event fields.
func (d *Decoder) releaseHeld(s *ssrcState) {
	cur, src, dst := d.ev.Packet, d.ev.Src, d.ev.Dst
	vlan, tunnel, rtp, lay := d.vlanID, d.tunnel, d.ev.RTP, d.ev.Layers
	for i := range s.nheld {
		h := &s.held[i]
		d.ev.Packet, d.vlanID, d.tunnel, d.ev.Layers = h.pkt, h.vlan, h.tunnel, h.lay
		d.ev.RTP.Parse(h.data) // decoded again rather than held: cheaper than keeping it per packet
		d.stats.Other--        // it was counted as other while held
		d.stats.RTPByHeuristic++
		d.deliverAt(KindRTP, TransportUDP, h.data, h.src, h.dst)
	}
	d.flows.clear(s)
	d.ev.Packet, d.vlanID, d.tunnel, d.ev.RTP, d.ev.Layers = cur, vlan, tunnel, rtp, lay
	d.ev.Src, d.ev.Dst = src, dst
}
