package pcapgen

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// buildRTPImpaired: one RTP stream per impairment, each on its own
// 5-tuple (except the SSRC change), no signalling. Every value in
// Want.Streams follows from the definitions below.
func buildRTPImpaired() Scenario {
	var tl timeline
	var w Expect
	ep := func(host byte, port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, host}), port)
	}
	dst := func(port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, 0, 1}), port)
	}
	rng := rand.New(rand.NewPCG(3550, 8))
	set := func(ix ...int) map[int]bool {
		m := map[int]bool{}
		for _, i := range ix {
			m[i] = true
		}
		return m
	}
	// Streams start 100 ms apart so they interleave in the file.
	start := func(k int) time.Time { return at(100 * k) }

	defs := []rtpStream{
		{src: ep(1, 16000), dst: dst(30000), ssrc: 0x11111111, pt: PTPCMU, seq0: 1000, ts0: 16000, start: start(0), n: 40,
			lost: set(10, 20, 21, 22, 35), marker: set(0), notes: "loss: indices 10, 20-22 (burst of 3), 35 never sent; 35 received"},
		{src: ep(2, 16002), dst: dst(30002), ssrc: 0x22222222, pt: PTPCMU, seq0: 2000, ts0: 32000, start: start(1), n: 40,
			jitter: rng, jitterMax: 15 * time.Millisecond, marker: set(0),
			notes: "jitter: arrival = send time + uniform [0,15) ms from PCG(3550,8); never reorders"},
		{src: ep(3, 16004), dst: dst(30004), ssrc: 0x33333333, pt: PTPCMU, seq0: 3000, ts0: 48000, start: start(2), n: 40,
			swapNext: set(10, 30), marker: set(0), notes: "reorder: seq 3011 captured before 3010 and 3031 before 3030"},
		{src: ep(4, 16006), dst: dst(30006), ssrc: 0x44444444, pt: PTPCMU, seq0: 4000, ts0: 64000, start: start(3), n: 40,
			dup: set(5, 25), marker: set(0), notes: "duplicates: seq 4005 and 4025 captured twice, 1 ms apart, identical bytes"},
		{src: ep(5, 16008), dst: dst(30008), ssrc: 0x55555555, pt: PTPCMU, seq0: 5000, ts0: 80000, start: start(4), n: 20,
			marker: set(0), notes: "SSRC change: first SSRC on this 5-tuple for 20 packets"},
		{src: ep(5, 16008), dst: dst(30008), ssrc: 0x55aa55aa, pt: PTPCMU, seq0: 100, ts0: 777000, start: start(4).Add(20 * G711Interval), n: 20,
			marker: set(0), notes: "SSRC change: second SSRC on the same 5-tuple, new seq/ts bases, continues right after"},
		{src: ep(6, 16010), dst: dst(30010), ssrc: 0x66666666, pt: PTPCMU, seq0: 65520, ts0: 96000, start: start(5), n: 40,
			lost: set(16), marker: set(0), notes: "seq wrap: 65520..65535 then 0..23; seq 0 (index 16) lost"},
		{src: ep(7, 16012), dst: dst(30012), ssrc: 0x77777777, pt: PTPCMU, seq0: 7000, ts0: 112000, start: start(6), n: 40,
			tsJumpAt: 20, tsJump: 8000, marker: set(0, 20), notes: "timestamp jump: from seq 7020 on ts += 8000 (1 s) with marker, seq continuous"},
	}
	// Marker, comfort noise and RFC 4733 DTMF on one stream.
	mixed := rtpStream{src: ep(8, 16014), dst: dst(30014), ssrc: 0x88888888, pt: PTPCMU, seq0: 8000, ts0: 128000, start: start(7), n: 60,
		marker: set(0, 20, 40), ptAt: map[int]uint8{}, payloadAt: map[int][]byte{}, tsAt: map[int]uint32{},
		notes: "PCMU; indices 15-19 CN (PT 13, RFC 3389, noise level 64); 20 marker (talkspurt); 40-45 RFC 4733 event 5 (PT 101, start ts of index 40, durations 160..640, end bit on 43-45 sent 3 times with new seqs); audio again from 46"}
	for i := 15; i < 20; i++ {
		mixed.ptAt[i] = PTCN
		mixed.payloadAt[i] = []byte{64}
	}
	for i := 40; i < 46; i++ {
		mixed.ptAt[i] = PTDTMF
		mixed.tsAt[i] = mixed.ts0 + 40*G711Samples
		d := uint16(min(i-40+1, 4) * G711Samples)
		mixed.payloadAt[i] = DTMFEvent(5, i >= 43, 10, d)
	}
	defs = append(defs, mixed)
	for _, d := range defs {
		w.Streams = append(w.Streams, d.build(&tl))
	}
	ev := tl.sorted()
	recs := encodeUDP(ev, netip.Addr{}, ethLink, &w)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "no SIP/SDP: RTP on even ports 16000-16014 -> 30000-30014, found by heuristics; Streams has one entry per SSRC"
	return Scenario{Name: "rtp-impaired", File: "rtp-impaired.pcap",
		Description: "RTP streams with exact impairments: loss, jitter, reorder, duplicates, SSRC change, seq wrap, timestamp jump, marker/CN/DTMF",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: 0}
}
