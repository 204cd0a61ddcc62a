package pcapgen

import (
	"time"

	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// buildRTPLossTruth: streams whose dropped sequence numbers are known
// exactly, shaped so that tshark's lost (expected − received) differs
// from the real loss: RFC 4733 end-of-event packets sent three times with
// one sequence number, duplicated ordinary packets, reordering (once
// before the first packet), drops at the very start and end, and a drop
// across the sequence wrap. StreamExpect.Missing is the ground truth
// from the drop lists; StreamExpect.Lost must equal it.
func buildRTPLossTruth() Scenario {
	var tl timeline
	var w Expect
	ep := func(host byte, port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 3, 0, host}), port)
	}
	dst := func(port uint16) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 4, 0, 1}), port)
	}
	set := func(ix ...int) map[int]bool {
		m := map[int]bool{}
		for _, i := range ix {
			m[i] = true
		}
		return m
	}
	start := func(k int) time.Time { return at(150 * k) }

	// Two telephone events, each 4 packets then one end packet sent
	// three times with the same sequence number (RFC 4733 2.5.1.4).
	dtmf := rtpStream{src: ep(1, 16100), dst: dst(30100), ssrc: 0xa1a1a1a1, pt: PTPCMU, seq0: 20000, ts0: 160000, start: start(0), n: 150,
		lost:   set(10, 11, 12, 20, 27, 30, 31, 45, 60, 61, 62, 63, 90, 110, 120, 130, 140),
		marker: set(0, 55, 105), ptAt: map[int]uint8{}, payloadAt: map[int][]byte{}, tsAt: map[int]uint32{}, repeat: map[int]int{54: 2, 104: 2},
		notes: "17 drops; RFC 4733 events 1 (indices 50-54) and 9 (100-104), end packet (54, 104) sent 3 times with one seq: tshark's lost is 17 - 4 = 13"}
	for _, ev := range []struct {
		at    int
		digit uint8
	}{{50, 1}, {100, 9}} {
		for i := ev.at; i < ev.at+5; i++ {
			dtmf.ptAt[i] = PTDTMF
			dtmf.tsAt[i] = dtmf.ts0 + uint32(ev.at)*G711Samples
			dtmf.payloadAt[i] = DTMFEvent(ev.digit, i == ev.at+4, 10, uint16(min(i-ev.at+1, 5)*G711Samples))
		}
	}
	defs := []rtpStream{
		dtmf,
		{src: ep(2, 16102), dst: dst(30102), ssrc: 0xb2b2b2b2, pt: PTPCMU, seq0: 30000, ts0: 301000, start: start(1), n: 60,
			lost: set(20, 50), dup: set(10, 30, 31), marker: set(0),
			notes: "2 drops and 3 duplicated ordinary packets: tshark's lost is -1"},
		{src: ep(3, 16104), dst: dst(30104), ssrc: 0xc3c3c3c3, pt: PTPCMU, seq0: 40000, ts0: 480000, start: start(2), n: 60,
			lost: set(20, 50, 51), swapNext: set(5, 40), marker: set(0),
			notes: "3 drops; index 6 captured before 5 and 41 before 40"},
		{src: ep(4, 16106), dst: dst(30106), ssrc: 0xd4d4d4d4, pt: PTPCMU, seq0: 50000, ts0: 640000, start: start(3), n: 60,
			lost: set(0, 1, 2, 30, 57, 58, 59), marker: set(0),
			notes: "7 drops: 3 at the very start, 3 at the very end (invisible to any receiver), 1 inside"},
		{src: ep(5, 16108), dst: dst(30108), ssrc: 0xe5e5e5e5, pt: PTPCMU, seq0: 65500, ts0: 800000, start: start(4), n: 60,
			lost: set(35, 36, 50), dup: set(37), marker: set(0),
			notes: "seq wrap: 65500..65535 then 0..23; 65535, 0 and 14 dropped, seq 1 duplicated"},
	}
	for _, d := range defs {
		w.Streams = append(w.Streams, d.build(&tl))
	}
	ev := tl.sorted()
	recs := encodeUDP(ev, netip.Addr{}, ethLink, &w)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "no SIP/SDP: RTP on even ports 16100-16108 -> 30100-30108, found by heuristics; Missing is the ground truth for Lost"
	return Scenario{Name: "rtp-loss-truth", File: "rtp-loss-truth.pcap",
		Description: "RTP streams with known drops that tshark's lost miscounts: DTMF end packets sent 3 times with one seq, duplicates, reordering, drops at the edges, drop across the seq wrap",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: 0}
}
