package capture

import (
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// The UDP path allocates nothing per packet once the tables are warm:
// SIP (with SDP scanning), RTP by SDP and by heuristic, RTCP, over
// Ethernet/IPv4, Ethernet/VLAN/IPv4 and Ethernet/IPv6.
func TestDecodeZeroAllocs(t *testing.T) {
	rtp := rtpPacket(0, 1, 0, 7)
	tests := []struct {
		name  string
		frame []byte
		kind  Kind
		warm  [][]byte
	}{
		{"SIP INVITE with SDP", eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(sipInvite))), KindSIP, nil},
		{"SIP 200", eth(0x0800, udp4(t, ip4B, ip4A, 5060, 5060, []byte(sip200))), KindSIP, nil},
		{"RTP by SDP", eth(0x0800, udp4(t, ip4B, ip4A, 30000, 49170, rtp)), KindRTP, nil},
		{"RTP by heuristic", eth(0x0800, udp4(t, ip4B, ip4A, 30000, 40000, rtp)), KindRTP, [][]byte{
			eth(0x0800, udp4(t, ip4B, ip4A, 30000, 40000, rtpPacket(0, 65535, 0, 7))),
			eth(0x0800, udp4(t, ip4B, ip4A, 30000, 40000, rtpPacket(0, 0, 0, 7)))}},
		{"RTP VLAN", eth(0x8100, cat(vlanTag(9, 0x0800), udp4(t, ip4B, ip4A, 30000, 49170, rtp))), KindRTP, nil},
		{"RTP IPv6", eth(0x86dd, udp6(t, ip6B, ip6A, 30000, 40000, rtp)), KindRTP, [][]byte{
			eth(0x86dd, udp6(t, ip6B, ip6A, 30000, 40000, rtpPacket(0, 65535, 0, 7))),
			eth(0x86dd, udp6(t, ip6B, ip6A, 30000, 40000, rtpPacket(0, 0, 0, 7)))}},
		{"SIP IPv6", eth(0x86dd, udp6(t, ip6B, ip6A, 5060, 5060, []byte(sip200))), KindSIP, nil},
		{"RTCP", eth(0x0800, udp4(t, ip4B, ip4A, 30001, 49171, rtcpRRSDES(7))), KindRTCP, nil},
	}
	d := NewDecoder(Options{})
	if _, errs := decodeAll(t, d, pcap.LinkTypeEthernet, tests[0].frame); errs != nil {
		t.Fatal(errs)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pkt(pcap.LinkTypeEthernet, 1, tc.frame)
			var got Kind
			emit := func(ev *Event) { got = ev.Kind }
			for _, w := range tc.warm { // the heuristic needs advancing sequence numbers
				if err := d.Decode(w, p, emit); err != nil {
					t.Fatal(err)
				}
			}
			for range 5 {
				if err := d.Decode(tc.frame, p, emit); err != nil {
					t.Fatal(err)
				}
			}
			if got != tc.kind {
				t.Fatalf("kind %v, want %v", got, tc.kind)
			}
			if n := testing.AllocsPerRun(200, func() { _ = d.Decode(tc.frame, p, emit) }); n != 0 {
				t.Errorf("Decode allocs = %v, want 0", n)
			}
		})
	}
}
