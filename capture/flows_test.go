package capture

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// heurFrame is one RTP packet on the heuristic's test 5-tuple
// (ip4B:30000 -> ip4A:40000, no SDP).
func heurFrame(t testing.TB, pt uint8, seq uint16, ssrc uint32) []byte {
	return eth(0x0800, udp4(t, ip4B, ip4A, 30000, 40000, rtpPacket(pt, seq, uint32(seq)*160, ssrc)))
}

// rtpBySSRC groups delivered RTP events by SSRC, keeping their order.
func rtpBySSRC(evs []gotEvent) map[uint32][]gotEvent {
	m := make(map[uint32][]gotEvent)
	for _, ev := range evs {
		if ev.Kind == KindRTP {
			m[ev.RTP.SSRC] = append(m[ev.RTP.SSRC], ev)
		}
	}
	return m
}

// Two SSRCs interleaved on one 5-tuple, as in the corpus file
// rtp-vlan-mixed-pt-rtpevent-comments.pcapng (telephone-event SSRC
// 0x001A759F and PT 120 SSRC 0x001A757D from 192.113.193.227:50003):
// each is confirmed on its own, every packet is delivered once, and each
// SSRC's packets come out in their own order with their own records.
// With one SSRC per 5-tuple the two restarted each other's check: the
// corpus file lost 3 of 12 telephone-event packets and the whole PT 120
// stream.
func TestHeuristicInterleavedSSRCs(t *testing.T) {
	const dtmf, voice = 0x001A759F, 0x001A757D
	// The frame order of the corpus file's 50003 -> 54234 direction.
	order := []uint32{dtmf, dtmf, dtmf, voice, dtmf, voice, voice, dtmf, dtmf, dtmf,
		voice, dtmf, dtmf, dtmf, voice, dtmf, dtmf, voice}
	next := map[uint32]uint16{dtmf: 44814, voice: 52486}
	pt := map[uint32]uint8{dtmf: 101, voice: 120}
	var frames [][]byte
	for _, s := range order {
		frames = append(frames, heurFrame(t, pt[s], next[s], s))
		next[s]++
	}
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, frames...)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(evs) != len(frames) {
		t.Fatalf("%d events for %d RTP packets", len(evs), len(frames))
	}
	by := rtpBySSRC(evs)
	for s, want := range map[uint32]struct {
		n   int
		seq uint16
	}{dtmf: {12, 44814}, voice: {6, 52486}} {
		got := by[s]
		if len(got) != want.n {
			t.Errorf("SSRC %#x: %d packets, want %d", s, len(got), want.n)
			continue
		}
		for i, ev := range got {
			seq := want.seq + uint16(i)
			if ev.RTP.SequenceNumber != seq || ev.RTP.PayloadType != pt[s] {
				t.Errorf("SSRC %#x event %d: seq %d PT %d, want seq %d PT %d", s, i, ev.RTP.SequenceNumber, ev.RTP.PayloadType, seq, pt[s])
			}
			// The record is the packet's own, even when it was held.
			if n := ev.Packet.Number; order[n-1] != s || !ev.Time.Equal(pkt(pcap.LinkTypeEthernet, n, nil).Timestamp) {
				t.Errorf("SSRC %#x seq %d: record %d time %v", s, seq, n, ev.Time)
			}
			if want := rtpPacket(pt[s], seq, uint32(seq)*160, s); string(ev.payload) != string(want) {
				t.Errorf("SSRC %#x seq %d: payload differs", s, seq)
			}
		}
	}
	st := d.Stats()
	if st.RTP != len(frames) || st.RTPByHeuristic != len(frames) || st.Other != 0 || st.RTPHeuristicDropped != 0 || d.flows.heldBytes != 0 {
		t.Errorf("stats %+v held %d", st, d.flows.heldBytes)
	}
}

// More SSRCs than slots: the least recently seen is evicted, and what it
// held is counted as dropped, not lost silently; the others confirm.
func TestHeuristicSSRCEviction(t *testing.T) {
	if heurSSRCs != 4 {
		t.Skip("the sequence below is written for 4 SSRC slots")
	}
	seq := map[uint32]uint16{}
	f := func(s uint32) []byte { seq[s]++; return heurFrame(t, 0, 100+seq[s], s) }
	frames := [][]byte{
		f(1), f(2), f(3), f(4), // four slots, one packet held in each
		f(1),       // 1 is now the most recent; 2 the least
		f(5),       // evicts 2, dropping its held packet
		f(1),       // 1 confirmed: 3 packets
		f(3), f(3), // 3 confirmed
		f(4), f(4), // 4 confirmed
		f(5), f(5), // 5 confirmed
	}
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, frames...)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	by := rtpBySSRC(evs)
	for _, s := range []uint32{1, 3, 4, 5} {
		if len(by[s]) != 3 {
			t.Errorf("SSRC %d: %d packets, want 3", s, len(by[s]))
		}
		for i, ev := range by[s] {
			if ev.RTP.SequenceNumber != uint16(101+i) {
				t.Errorf("SSRC %d event %d: seq %d", s, i, ev.RTP.SequenceNumber)
			}
		}
	}
	if len(by[2]) != 0 {
		t.Errorf("evicted SSRC 2 delivered %d packets", len(by[2]))
	}
	st := d.Stats()
	if st.RTP != 12 || st.Other != 1 || st.RTPHeuristicDropped != 1 || d.flows.heldBytes != 0 {
		t.Errorf("stats %+v held %d", st, d.flows.heldBytes)
	}
}

// Every way a candidate packet can fail to be delivered is counted in
// RTPHeuristicDropped (and in Other).
func TestHeuristicDropCounts(t *testing.T) {
	other := func(src uint16, seq uint16, ssrc uint32) []byte {
		return eth(0x0800, udp4(t, ip4B, ip4A, src, 40000, rtpPacket(0, seq, 0, ssrc)))
	}
	tests := []struct {
		name   string
		o      Options
		frames [][]byte
		rtp    int
		drop   int
	}{
		{"confirmed: nothing dropped", Options{}, [][]byte{heurFrame(t, 0, 1, 7), heurFrame(t, 0, 2, 7), heurFrame(t, 0, 3, 7)}, 3, 0},
		{"end of input: held dropped", Options{}, [][]byte{heurFrame(t, 0, 1, 7), heurFrame(t, 0, 2, 7)}, 0, 2},
		{"sequence jumps: each restart drops", Options{}, [][]byte{heurFrame(t, 0, 1, 7), heurFrame(t, 0, 5000, 7), heurFrame(t, 0, 12000, 7)}, 0, 3},
		{"duplicate beyond the hold slots", Options{}, [][]byte{heurFrame(t, 0, 1, 7), heurFrame(t, 0, 2, 7), heurFrame(t, 0, 2, 7), heurFrame(t, 0, 3, 7)}, 3, 1},
		{"flow table full", Options{MaxFlows: 1}, [][]byte{heurFrame(t, 0, 1, 7), other(30002, 1, 8), other(30002, 2, 8), heurFrame(t, 0, 2, 7), heurFrame(t, 0, 3, 7)}, 3, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.o)
			if _, errs := decodeAll(t, d, pcap.LinkTypeEthernet, tc.frames...); len(errs) != 0 {
				t.Fatal(errs)
			}
			st := d.Stats()
			if st.RTP != tc.rtp || st.RTPHeuristicDropped != tc.drop || st.Other != len(tc.frames)-tc.rtp {
				t.Errorf("RTP %d dropped %d other %d, want %d %d %d", st.RTP, st.RTPHeuristicDropped, st.Other, tc.rtp, tc.drop, len(tc.frames)-tc.rtp)
			}
			if d.flows.heldBytes != 0 {
				t.Errorf("%d bytes still held after Flush", d.flows.heldBytes)
			}
		})
	}
}

// An SSRC that goes quiet expires on its own while another keeps the
// 5-tuple busy: its held packet is dropped then, not delivered minutes
// late when the SSRC resumes.
func TestHeuristicSSRCExpiry(t *testing.T) {
	d := NewDecoder(Options{FlowTimeout: 2 * time.Second})
	var evs []gotEvent
	emit := func(ev *Event) { evs = append(evs, gotEvent{Event: *ev}) }
	n := 0
	at := func(ms int, seq uint16, ssrc uint32) {
		t.Helper()
		n++
		f := heurFrame(t, 0, seq, ssrc)
		p := pcap.Packet{Timestamp: t0.Add(time.Duration(ms) * time.Millisecond), CaptureLength: len(f), Length: len(f), LinkType: pcap.LinkTypeEthernet, Number: n}
		if err := d.Decode(f, p, emit); err != nil {
			t.Fatal(err)
		}
	}
	at(0, 10, 1) // SSRC 2's lone packet sits between SSRC 1's
	at(10, 1, 2)
	for i := range 200 { // SSRC 1 for 4 s
		at(20*(i+1), uint16(11+i), 1)
	}
	if st := d.Stats(); st.RTPHeuristicDropped != 1 || d.flows.heldBytes != 0 {
		t.Fatalf("after SSRC 2 went quiet: dropped %d, held %d bytes", st.RTPHeuristicDropped, d.flows.heldBytes)
	}
	for i := range 3 { // SSRC 2 resumes: confirmed afresh
		at(4100+20*i, uint16(2+i), 2)
	}
	d.Flush(emit)
	by := rtpBySSRC(evs)
	if len(by[1]) != 201 {
		t.Errorf("SSRC 1: %d packets, want 201", len(by[1]))
	}
	if len(by[2]) != 3 || by[2][0].RTP.SequenceNumber != 2 {
		t.Errorf("SSRC 2: %d packets, first %+v; want seq 2, 3, 4", len(by[2]), by[2])
	}
	if st := d.Stats(); st.RTPHeuristicDropped != 1 {
		t.Errorf("dropped %d, want 1", st.RTPHeuristicDropped)
	}
}

// The tick-based LRU survives the tick wrapping around: ages are tick
// differences, so an SSRC last seen just before the wrap is the oldest
// even though its tick is the largest.
func TestHeuristicSlotTickWrap(t *testing.T) {
	if heurSSRCs != 4 {
		t.Skip("written for 4 SSRC slots")
	}
	var ft flowTable
	ft.init(4)
	f := &flowState{tick: 2, n: heurSSRCs}
	for i, used := range []uint32{1, 0, ^uint32(0) - 5, 2} {
		f.c[i].ssrc, f.c[i].used = uint32(i), used
	}
	if s := ft.slot(f); s.ssrc != 2 {
		t.Errorf("evicted SSRC %d, want 2", s.ssrc)
	}
}

// Several SSRCs on one 5-tuple, once confirmed, and their churn through
// the slots (eviction, holding) cost no allocation per packet.
func TestHeuristicSSRCsZeroAllocs(t *testing.T) {
	d := NewDecoder(Options{})
	p := pkt(pcap.LinkTypeEthernet, 1, nil)
	emit := func(*Event) {}
	decode := func(f []byte) {
		if err := d.Decode(f, p, emit); err != nil {
			t.Fatal(err)
		}
	}
	// Four confirmed SSRCs interleaved.
	var four [][]byte
	for s := range uint32(heurSSRCs) {
		for seq := range uint16(3) {
			decode(heurFrame(t, 0, seq, s))
		}
		four = append(four, heurFrame(t, 0, 3, s))
	}
	// Six SSRCs cycling through four slots: every packet evicts one, is
	// held, and its packet is later dropped.
	churn := make([][]byte, 6)
	for i := range churn {
		churn[i] = eth(0x0800, udp4(t, ip4B, ip4A, 30002, 40000, rtpPacket(0, 1, 0, uint32(100+i))))
	}
	for _, f := range churn { // warm the slots' hold buffers
		decode(f)
	}
	for name, frames := range map[string][][]byte{"confirmed": four, "eviction": churn} {
		if n := testing.AllocsPerRun(100, func() {
			for _, f := range frames {
				_ = d.Decode(f, p, emit)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocs per round", name, n)
		}
	}
	if st := d.Stats(); st.RTPHeuristicDropped == 0 {
		t.Error("the churn dropped nothing: the test does not exercise eviction")
	}
}

// benchHeuristic is an RTP-only capture (no SIP, so every packet goes
// through the heuristic): flows 5-tuples each carrying ssrcs interleaved
// SSRCs, as a voice SSRC beside a telephone-event one does.
func benchHeuristic(flows, ssrcs, perSSRC int) ([][]byte, []pcap.Packet) {
	var frames [][]byte
	var pkts []pcap.Packet
	ts := t0
	for i := range perSSRC {
		for fl := range flows {
			a := netip.AddrFrom4([4]byte{10, 1, byte(fl >> 8), byte(fl)})
			b := netip.AddrFrom4([4]byte{10, 2, byte(fl >> 8), byte(fl)})
			for s := range ssrcs {
				f := ethRaw(0x0800, ipPacket4(a, b, 17, 1, 0, false, udpHeader(20000, 40000, rtpPacket(0, uint16(i), uint32(160*i), uint32(fl<<4|s)))))
				frames = append(frames, f)
				pkts = append(pkts, pcap.Packet{Timestamp: ts, CaptureLength: len(f), Length: len(f), LinkType: pcap.LinkTypeEthernet, Number: len(frames)})
				ts = ts.Add(50 * time.Microsecond)
			}
		}
	}
	return frames, pkts
}

// BenchmarkDecodeHeuristic: the RTP heuristic's per-packet cost, one and
// two SSRCs per 5-tuple (200 flows x 1000 packets). The first pass
// through the frames holds and confirms; later passes are the confirmed
// path, which is what a long capture costs.
func BenchmarkDecodeHeuristic(b *testing.B) {
	for _, ssrcs := range []int{1, 2} {
		b.Run(fmt.Sprintf("ssrcs=%d", ssrcs), func(b *testing.B) {
			frames, pkts := benchHeuristic(200, ssrcs, 1000/ssrcs)
			d := NewDecoder(Options{})
			emit := func(*Event) {}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				j := i % len(frames)
				_ = d.Decode(frames[j], pkts[j], emit)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "packets/s")
			if st := d.Stats(); b.N >= len(frames) && st.RTPByHeuristic < len(frames) {
				b.Fatalf("heuristic missed packets: %+v", st)
			}
		})
	}
}

// FuzzHeuristic drives the SSRC state machine with a script: each byte
// pair is one RTP packet, on one of 4 5-tuples and 8 SSRCs, with a
// sequence step (int8: duplicates, reordering, jumps) and now and then a
// 30 s pause that lets SSRCs and flows expire. Whatever the script,
// every packet comes out once as RTP or is counted dropped, each SSRC's
// packets come out in the order they arrived with their own bytes, and
// nothing stays held after Flush.
func FuzzHeuristic(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 1})                                                    // one SSRC confirmed
	f.Add([]byte{0, 1, 4, 1, 0, 1, 4, 1, 0, 1, 4, 1})                                  // two interleaved
	f.Add([]byte{0, 1, 4, 1, 8, 1, 12, 1, 16, 1, 20, 1, 0, 1, 4, 1, 0, 1})             // eviction
	f.Add([]byte{0, 1, 0, 0, 0, 0x80, 0, 1, 0x80, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0x81, 1}) // dup, jump, pause
	f.Fuzz(func(t *testing.T, script []byte) {
		const maxOps = 512
		if len(script) > 2*maxOps {
			script = script[:2*maxOps]
		}
		d := NewDecoder(Options{FlowTimeout: 10 * time.Second})
		type key struct {
			port uint16
			ssrc uint32
		}
		var (
			payloads [][]byte // by packet number - 1
			seq      = map[key]uint16{}
			last     = map[key]int{} // packet number last delivered
			rtp      int
		)
		emit := func(ev *Event) {
			if ev.Kind != KindRTP {
				t.Fatalf("%v event", ev.Kind)
			}
			n := ev.Packet.Number
			k := key{ev.Src.Port(), ev.RTP.SSRC}
			if n < 1 || n > len(payloads) || string(ev.Payload) != string(payloads[n-1]) {
				t.Fatalf("event for packet %d does not carry its payload", n)
			}
			if n <= last[k] {
				t.Fatalf("SSRC %d on port %d: packet %d after %d", k.ssrc, k.port, n, last[k])
			}
			last[k] = n
			rtp++
		}
		ts := t0
		for i := 0; i+1 < len(script); i += 2 {
			op, step := script[i], int8(script[i+1])
			if op&0x80 != 0 {
				ts = ts.Add(30 * time.Second)
			}
			ts = ts.Add(20 * time.Millisecond)
			k := key{uint16(30000 + 2*int(op&3)), uint32(op>>2) & 7}
			seq[k] += uint16(step)
			payload := rtpPacket(0, seq[k], 0, k.ssrc)
			payloads = append(payloads, payload)
			frame := eth(0x0800, ipPacket4(ip4B, ip4A, 17, 1, 0, false, udpHeader(k.port, 40000, payload)))
			p := pcap.Packet{Timestamp: ts, CaptureLength: len(frame), Length: len(frame), LinkType: pcap.LinkTypeEthernet, Number: len(payloads)}
			if err := d.Decode(frame, p, emit); err != nil {
				t.Fatal(err)
			}
		}
		d.Flush(emit)
		st := d.Stats()
		if rtp != st.RTP || st.RTP+st.RTPHeuristicDropped != len(payloads) || st.RTP+st.Other != len(payloads) {
			t.Fatalf("%d packets: %d delivered, stats RTP %d dropped %d other %d", len(payloads), rtp, st.RTP, st.RTPHeuristicDropped, st.Other)
		}
		if d.flows.heldBytes != 0 {
			t.Fatalf("%d bytes held after Flush", d.flows.heldBytes)
		}
	})
}
