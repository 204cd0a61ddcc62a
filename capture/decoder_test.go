package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

func sll(proto uint16) []byte {
	h := []byte{0, 0 /*pkttype*/, 0, 1 /*ARPHRD_ETHER*/, 0, 6 /*halen*/, 2, 0, 0, 0, 0, 1, 0, 0}
	return binary.BigEndian.AppendUint16(h, proto)
}

func sll2(proto uint16) []byte {
	h := binary.BigEndian.AppendUint16(nil, proto)
	h = append(h, 0, 0 /*reserved*/, 0, 0, 0, 2 /*ifindex*/, 0, 1 /*ARPHRD_ETHER*/, 0 /*pkttype*/, 6)
	return append(h, 2, 0, 0, 0, 0, 1, 0, 0)
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func TestLinkTypes(t *testing.T) {
	sip := []byte(sipInvite)
	u4 := udp4(t, ip4A, ip4B, 5060, 5060, sip)
	u6 := udp6(t, ip6A, ip6B, 5060, 5060, sip)
	pppoe := func(inner []byte) []byte {
		ppp := cat([]byte{0x00, 0x21}, inner)
		h := []byte{0x11, 0x00, 0x12, 0x34}
		return cat(binary.BigEndian.AppendUint16(h, uint16(len(ppp))), ppp)
	}
	tests := []struct {
		name  string
		lt    pcap.LinkType
		frame []byte
		v6    bool
		vlan  uint16
	}{
		{"ethernet", pcap.LinkTypeEthernet, eth(0x0800, u4), false, 0},
		{"ethernet ipv6", pcap.LinkTypeEthernet, eth(0x86dd, u6), true, 0},
		{"802.1Q", pcap.LinkTypeEthernet, eth(0x8100, cat(vlanTag(100, 0x0800), u4)), false, 100},
		{"QinQ 88a8", pcap.LinkTypeEthernet, eth(0x88a8, cat(vlanTag(10, 0x8100), vlanTag(200, 0x0800), u4)), false, 200},
		{"QinQ 9100", pcap.LinkTypeEthernet, eth(0x9100, cat(vlanTag(11, 0x8100), vlanTag(201, 0x86dd), u6)), true, 201},
		{"PPPoE", pcap.LinkTypeEthernet, eth(0x8864, pppoe(u4)), false, 0},
		{"VLAN PPPoE", pcap.LinkTypeEthernet, eth(0x8100, cat(vlanTag(7, 0x8864), pppoe(u4))), false, 7},
		{"SLL", pcap.LinkTypeLinuxSLL, cat(sll(0x0800), u4), false, 0},
		{"SLL ipv6", pcap.LinkTypeLinuxSLL, cat(sll(0x86dd), u6), true, 0},
		{"SLL2", pcap.LinkTypeSLL2, cat(sll2(0x0800), u4), false, 0},
		{"raw 12", pcap.LinkTypeRawOld12, u4, false, 0},
		{"raw 14", pcap.LinkTypeRawOld14, u4, false, 0},
		{"raw 101 v4", pcap.LinkTypeRaw, u4, false, 0},
		{"raw 101 v6", pcap.LinkTypeRaw, u6, true, 0},
		{"ipv4 228", pcap.LinkTypeIPv4, u4, false, 0},
		{"ipv6 229", pcap.LinkTypeIPv6, u6, true, 0},
		{"null LE AF_INET", pcap.LinkTypeNull, cat(le32(2), u4), false, 0},
		{"null BE AF_INET", pcap.LinkTypeNull, cat(be32(2), u4), false, 0},
		{"null LE AF_INET6 24", pcap.LinkTypeNull, cat(le32(24), u6), true, 0},
		{"null LE AF_INET6 28", pcap.LinkTypeNull, cat(le32(28), u6), true, 0},
		{"null BE AF_INET6 30", pcap.LinkTypeNull, cat(be32(30), u6), true, 0},
		{"loop AF_INET", pcap.LinkTypeLoop, cat(be32(2), u4), false, 0},
		{"loop AF_INET6", pcap.LinkTypeLoop, cat(be32(24), u6), true, 0},
		{"PPP ff03", pcap.LinkTypePPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, u4), false, 0},
		{"PPP compressed", pcap.LinkTypePPP, cat([]byte{0x21}, u4), false, 0},
		{"PPP ipv6", pcap.LinkTypePPP, cat([]byte{0x00, 0x57}, u6), true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			evs, errs := decodeAll(t, d, tc.lt, tc.frame)
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(evs) != 1 || evs[0].Kind != KindSIP {
				t.Fatalf("events = %+v, want one SIP", evs)
			}
			ev := evs[0]
			src, dst := ip4A, ip4B
			if tc.v6 {
				src, dst = ip6A, ip6B
			}
			if ev.Src.Addr() != src || ev.Dst.Addr() != dst || ev.Src.Port() != 5060 || ev.Transport != TransportUDP {
				t.Errorf("src %v dst %v transport %v", ev.Src, ev.Dst, ev.Transport)
			}
			if ev.VLAN != tc.vlan {
				t.Errorf("VLAN = %d, want %d", ev.VLAN, tc.vlan)
			}
			if !bytes.Equal(ev.payload, sip) {
				t.Errorf("payload differs")
			}
			if ev.Tunnel {
				t.Errorf("Tunnel set")
			}
			if ev.Packet.Number != 1 {
				t.Errorf("Packet.Number = %d", ev.Packet.Number)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	u4 := udp4(t, ip4A, ip4B, 5060, 5060, []byte(sipInvite))
	badVersion := append([]byte(nil), u4...)
	badVersion[0] = 0x55
	badIHL := append([]byte(nil), u4...)
	badIHL[0] = 0x42
	tests := []struct {
		name    string
		lt      pcap.LinkType
		frame   []byte
		wantErr error
		wantMsg string
	}{
		{"unsupported link type", pcap.LinkType(105), u4, ErrUnsupportedLinkType, "capture: packet 1: unsupported link type LINKTYPE_105"},
		{"short ethernet", pcap.LinkTypeEthernet, []byte{1, 2, 3}, ErrTruncated, "Ethernet"},
		{"short sll", pcap.LinkTypeLinuxSLL, []byte{1, 2, 3}, ErrTruncated, "SLL"},
		{"raw bad version", pcap.LinkTypeRaw, badVersion, ErrMalformed, "version"},
		{"ipv4 bad ihl", pcap.LinkTypeRaw, badIHL, ErrMalformed, "IPv4"},
		{"ipv4 short", pcap.LinkTypeIPv4, u4[:10], ErrTruncated, "IPv4"},
		{"udp short", pcap.LinkTypeIPv4, ipPacket4(ip4A, ip4B, 17, 1, 0, false, []byte{1, 2, 3}), ErrTruncated, "UDP"},
		{"sctp chunk length", pcap.LinkTypeIPv4, ipPacket4(ip4A, ip4B, 132, 1, 0, false, cat(make([]byte, 12), []byte{0, 3, 0, 2})), ErrMalformed, "SCTP"},
		{"null empty", pcap.LinkTypeNull, []byte{2}, ErrTruncated, "loopback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			_, errs := decodeAll(t, d, tc.lt, tc.frame)
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want 1", errs)
			}
			if !errors.Is(errs[0], tc.wantErr) {
				t.Errorf("error %v is not %v", errs[0], tc.wantErr)
			}
			if !strings.Contains(errs[0].Error(), tc.wantMsg) || !strings.Contains(errs[0].Error(), "packet 1") {
				t.Errorf("error %q lacks %q / packet number", errs[0], tc.wantMsg)
			}
			var de *DecodeError
			if !errors.As(errs[0], &de) || de.Packet != 1 {
				t.Errorf("not a *DecodeError naming packet 1: %#v", errs[0])
			}
			if st := d.Stats(); st.DecodeErrors != 1 {
				t.Errorf("DecodeErrors = %d", st.DecodeErrors)
			}
		})
	}
}

// A record cut by the snaplen is counted, decoded as far as possible,
// and not an error.
func TestSnaplenTruncation(t *testing.T) {
	f := eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(sipInvite)))
	d := NewDecoder(Options{})
	p := pkt(pcap.LinkTypeEthernet, 1, f)
	cut := f[:30] // inside the IPv4 header
	p.CaptureLength = len(cut)
	if err := d.Decode(cut, p, func(*Event) { t.Error("event from a truncated header") }); err != nil {
		t.Fatalf("snaplen-truncated record gave error %v", err)
	}
	// Cut inside the SIP payload: still delivered, shortened.
	cut = f[:200]
	p.CaptureLength = len(cut)
	n := 0
	if err := d.Decode(cut, p, func(ev *Event) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("events = %d, want the partial SIP message", n)
	}
	// caplen > len and time going backwards: kept, counted.
	p = pkt(pcap.LinkTypeEthernet, 3, f)
	p.Length = len(f) - 4
	p.Timestamp = t0.Add(-time.Second)
	if err := d.Decode(f, p, func(*Event) {}); err != nil {
		t.Fatal(err)
	}
	st := d.Stats()
	if st.Truncated != 2 || st.CaptureOverLength != 1 || st.NonMonotonic != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	sip := []byte(sip200)
	udp := udpHeader(5060, 5060, sip)
	// hop-by-hop (8 bytes, PadN) -> routing (type 0 seg 0, 8 bytes + 16 addr) -> dest opts -> UDP
	hbh := []byte{43, 0, 1, 4, 0, 0, 0, 0}
	rt := cat([]byte{60, 2, 0, 0, 0, 0, 0, 0}, make([]byte, 16))
	dst := []byte{17, 0, 1, 4, 0, 0, 0, 0}
	f := ipPacket6(ip6A, ip6B, 0, cat(hbh, rt, dst, udp))
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, pcap.LinkTypeIPv6, f)
	if len(errs) != 0 || len(evs) != 1 || !bytes.Equal(evs[0].payload, sip) {
		t.Fatalf("events %d errs %v", len(evs), errs)
	}
	// AH (RFC 4302) before UDP.
	ah := cat([]byte{17, 4, 0, 0}, make([]byte, 20))
	f = ipPacket6(ip6A, ip6B, 51, cat(ah, udp))
	evs, errs = decodeAll(t, NewDecoder(Options{}), pcap.LinkTypeIPv6, f)
	if len(errs) != 0 || len(evs) != 1 {
		t.Fatalf("AH: events %d errs %v", len(evs), errs)
	}
	// An extension header claiming more than the packet holds.
	f = ipPacket6(ip6A, ip6B, 60, []byte{17, 9, 0, 0, 0, 0, 0, 0})
	_, errs = decodeAll(t, NewDecoder(Options{}), pcap.LinkTypeIPv6, f)
	if len(errs) != 1 || !errors.Is(errs[0], ErrTruncated) {
		t.Fatalf("errs %v", errs)
	}
}

func TestIPv4Fragments(t *testing.T) {
	dgram := udpHeader(5060, 5060, []byte(sipInvite))
	// three fragments, offsets multiple of 8, delivered out of order
	a, b, c := dgram[:200], dgram[200:400], dgram[400:]
	f1 := eth(0x0800, ipPacket4(ip4A, ip4B, 17, 77, 0, true, a))
	f2 := eth(0x0800, ipPacket4(ip4A, ip4B, 17, 77, 200, true, b))
	f3 := eth(0x0800, ipPacket4(ip4A, ip4B, 17, 77, 400, false, c))
	for _, order := range [][][]byte{{f1, f2, f3}, {f3, f1, f2}, {f2, f3, f1}} {
		d := NewDecoder(Options{})
		evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, order...)
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if len(evs) != 1 || evs[0].Kind != KindSIP || string(evs[0].payload) != sipInvite {
			t.Fatalf("events %+v", evs)
		}
		if evs[0].Packet.Number != 3 {
			t.Errorf("event names packet %d, want the completing record 3", evs[0].Packet.Number)
		}
		st := d.Stats()
		if st.Fragments != 3 || st.Reassembled != 1 {
			t.Errorf("stats %+v", st)
		}
		// SDP of the reassembled INVITE was learned: RTP to 192.0.2.10:49170.
		evs, _ = decodeAll(t, d, pcap.LinkTypeEthernet, eth(0x0800, udp4(t, ip4B, ip4A, 30000, 49170, rtpPacket(0, 1, 160, 9))))
		if len(evs) != 1 || evs[0].Kind != KindRTP {
			t.Errorf("RTP after fragmented INVITE: %+v", evs)
		}
	}
	// A missing fragment: nothing delivered, expired by packet time.
	d := NewDecoder(Options{})
	evs, _ := decodeAll(t, d, pcap.LinkTypeEthernet, f1, f3)
	if len(evs) != 0 {
		t.Fatalf("incomplete datagram delivered")
	}
	if st := d.Stats(); st.FragmentsExpired != 1 {
		t.Errorf("FragmentsExpired = %d (Flush drops incomplete datagrams)", st.FragmentsExpired)
	}
}

func TestIPv6Fragments(t *testing.T) {
	dgram := udpHeader(25060, 5060, []byte(sipInvite))
	frag := func(off int, more bool, data []byte) []byte {
		h := []byte{17, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef}
		v := uint16(off)
		if more {
			v |= 1
		}
		binary.BigEndian.PutUint16(h[2:], v)
		return eth(0x86dd, ipPacket6(ip6A, ip6B, 44, cat(h, data)))
	}
	f1 := frag(0, true, dgram[:256])
	f2 := frag(256, false, dgram[256:])
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, f2, f1)
	if len(errs) != 0 || len(evs) != 1 || string(evs[0].payload) != sipInvite {
		t.Fatalf("events %d errs %v", len(evs), errs)
	}
	if evs[0].Src.Port() != 25060 || evs[0].Src.Addr() != ip6A {
		t.Errorf("src %v", evs[0].Src)
	}
	// Atomic fragment (offset 0, M=0: RFC 6946) is just a header.
	evs, errs = decodeAll(t, NewDecoder(Options{}), pcap.LinkTypeEthernet, frag(0, false, dgram))
	if len(errs) != 0 || len(evs) != 1 {
		t.Fatalf("atomic: events %d errs %v", len(evs), errs)
	}
}

func TestTunnels(t *testing.T) {
	sip := []byte(sip200)
	inner4 := udp4(t, ip4A, ip4B, 5060, 5060, sip)
	inner6 := udp6(t, ip6A, ip6B, 5060, 5060, sip)
	outerA, outerB := ip4B, ip4A
	gre := func(proto uint16, seq bool, payload []byte) []byte {
		h := []byte{0, 0}
		if seq {
			h[0] = 0x10
		}
		h = binary.BigEndian.AppendUint16(h, proto)
		if seq {
			h = append(h, 0, 0, 0, 1)
		}
		return eth(0x0800, ipPacket4(outerA, outerB, 47, 1, 0, false, cat(h, payload)))
	}
	erspan3 := func(sub bool) []byte {
		h := make([]byte, 12)
		h[0] = 0x20 // version 2 = type III
		if sub {
			h[11] = 0x01
			h = append(h, make([]byte, 8)...)
		}
		return gre(0x22eb, true, cat(h, eth(0x0800, inner4)))
	}
	tests := []struct {
		name  string
		frame []byte
		stat  func(Stats) int
		v6    bool
	}{
		{"IPIP", eth(0x0800, ipPacket4(outerA, outerB, 4, 1, 0, false, inner4)), func(s Stats) int { return s.TunnelIPIP }, false},
		{"IPv6 in IPv4", eth(0x0800, ipPacket4(outerA, outerB, 41, 1, 0, false, inner6)), func(s Stats) int { return s.TunnelIPIP }, true},
		{"IPv4 in IPv6", eth(0x86dd, ipPacket6(ip6B, ip6A, 4, inner4)), func(s Stats) int { return s.TunnelIPIP }, false},
		{"GRE IPv4", gre(0x0800, false, inner4), func(s Stats) int { return s.TunnelGRE }, false},
		{"GRE TEB", gre(0x6558, false, eth(0x0800, inner4)), func(s Stats) int { return s.TunnelGRE }, false},
		{"GRE VLAN TEB", gre(0x6558, false, eth(0x8100, cat(vlanTag(5, 0x0800), inner4))), func(s Stats) int { return s.TunnelGRE }, false},
		{"GRE PPP", gre(0x880b, false, cat([]byte{0xff, 0x03, 0x00, 0x21}, inner4)), func(s Stats) int { return s.TunnelGRE }, false},
		{"ERSPAN II", gre(0x88be, true, cat(make([]byte, 8), eth(0x0800, inner4))), func(s Stats) int { return s.TunnelERSPAN }, false},
		{"ERSPAN III", erspan3(false), func(s Stats) int { return s.TunnelERSPAN }, false},
		{"ERSPAN III subheader", erspan3(true), func(s Stats) int { return s.TunnelERSPAN }, false},
		{"VXLAN", eth(0x0800, udp4(t, outerA, outerB, 40000, 4789, cat([]byte{0x08, 0, 0, 0, 0, 0, 1, 0}, eth(0x0800, inner4)))), func(s Stats) int { return s.TunnelVXLAN }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, tc.frame)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if len(evs) != 1 || evs[0].Kind != KindSIP || !evs[0].Tunnel {
				t.Fatalf("events %+v", evs)
			}
			want := ip4A
			if tc.v6 {
				want = ip6A
			}
			if evs[0].Src.Addr() != want {
				t.Errorf("src %v, want inner %v", evs[0].Src, want)
			}
			if n := tc.stat(d.Stats()); n != 1 {
				t.Errorf("tunnel counter = %d", n)
			}
		})
	}
	// Nesting beyond MaxDepth is an error, not a stack overflow.
	f := inner4
	for range 50 {
		f = ipPacket4(outerA, outerB, 4, 1, 0, false, f)
	}
	_, errs := decodeAll(t, NewDecoder(Options{}), pcap.LinkTypeRaw, f)
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooDeep) {
		t.Fatalf("deep nesting: %v", errs)
	}
}

func sctpPacket(chunks ...[]byte) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h[0:], 5060)
	binary.BigEndian.PutUint16(h[2:], 5060)
	for _, c := range chunks {
		h = append(h, c...)
		for len(h)%4 != 0 {
			h = append(h, 0)
		}
	}
	return cat(sll(0x0800), ipPacket4(ip4A, ip4B, 132, 1, 0, false, h))
}

func dataChunk(flags byte, tsn uint32, sid uint16, user []byte) []byte {
	c := []byte{0, flags, 0, 0}
	binary.BigEndian.PutUint16(c[2:], uint16(16+len(user)))
	c = binary.BigEndian.AppendUint32(c, tsn)
	c = binary.BigEndian.AppendUint16(c, sid)
	c = append(c, 0, 0, 0, 0, 0, 0)
	return append(c, user...)
}

func TestSCTP(t *testing.T) {
	inv, ok := []byte(sipInvite), []byte(sip200)
	sack := []byte{3, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0}
	frames := [][]byte{
		sctpPacket(dataChunk(0x03, 1, 0, ok)),                                  // one whole message
		sctpPacket(sack, dataChunk(0x03, 2, 0, ok), dataChunk(0x03, 3, 1, ok)), // bundle: SACK + two messages
		sctpPacket(dataChunk(0x02, 4, 2, inv[:300])),                           // B
		sctpPacket(dataChunk(0x00, 5, 2, inv[300:400])),                        // middle
		sctpPacket(dataChunk(0x01, 6, 2, inv[400:])),                           // E
		sctpPacket(dataChunk(0x03, 7, 0, []byte("not sip at all"))),            // other payload protocol
	}
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, pcap.LinkTypeLinuxSLL, frames...)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if len(evs) != 4 {
		t.Fatalf("events = %d, want 4", len(evs))
	}
	for _, ev := range evs {
		if ev.Kind != KindSIP || ev.Transport != TransportSCTP {
			t.Errorf("event %v/%v", ev.Kind, ev.Transport)
		}
	}
	if string(evs[3].payload) != sipInvite {
		t.Errorf("reassembled INVITE differs")
	}
	st := d.Stats()
	if st.SCTP != 6 || st.SCTPChunks != 7 || st.SCTPReassembled != 1 || st.Other != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestTCPViaSipstream(t *testing.T) {
	seg := func(seq uint32, flags string, payload []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], 40000)
		binary.BigEndian.PutUint16(h[2:], 5060)
		binary.BigEndian.PutUint32(h[4:], seq)
		h[12] = 5 << 4
		for _, f := range flags {
			switch f {
			case 'S':
				h[13] |= 0x02
			case 'A':
				h[13] |= 0x10
			case 'F':
				h[13] |= 0x01
			case 'P':
				h[13] |= 0x08
			}
		}
		return eth(0x0800, ipPacket4(ip4A, ip4B, 6, 1, 0, false, cat(h, payload)))
	}
	msg := []byte(sipInvite)
	frames := [][]byte{seg(100, "S", nil), seg(101, "PA", msg[:100]), seg(201, "PA", msg[100:]), seg(101+uint32(len(msg)), "FA", nil)}
	d := NewDecoder(Options{})
	// Segments 1.5 s apart: expiry sweeps run between them and must not
	// cut the stream (idle timeout applies, not the sweep interval).
	var evs []gotEvent
	emit := func(ev *Event) { evs = append(evs, gotEvent{Event: *ev, payload: append([]byte(nil), ev.Payload...)}) }
	for i, f := range frames {
		p := pkt(pcap.LinkTypeEthernet, i+1, f)
		p.Timestamp = t0.Add(time.Duration(i) * 1500 * time.Millisecond)
		if err := d.Decode(f, p, emit); err != nil {
			t.Fatal(err)
		}
	}
	d.Flush(emit)
	if len(evs) != 1 || evs[0].Transport != TransportTCP || string(evs[0].payload) != sipInvite {
		t.Fatalf("events %+v", evs)
	}
	if evs[0].Packet.Number != 3 {
		t.Errorf("Packet.Number = %d, want 3 (the segment that completed the message)", evs[0].Packet.Number)
	}
	if st := d.Stats(); st.TCP != 4 || st.SIP != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A flood of first fragments that never complete fills the fragment
// table; a real fragmented INVITE after it is still reassembled, the
// oldest incomplete datagrams evicted and counted.
func TestFragmentFloodEvictsOldest(t *testing.T) {
	const flood = 100_000
	d := NewDecoder(Options{})
	junk := udpHeader(40000, 5060, make([]byte, 64))
	frames := make([][]byte, 0, flood)
	for i := range flood {
		frames = append(frames, eth(0x0800, ipPacket4(ip4B, ip4A, 17, uint16(i), 0, true, junk)))
	}
	dgram := udpHeader(5060, 5060, []byte(sipInvite))
	frames = append(frames,
		eth(0x0800, ipPacket4(ip4A, ip4B, 17, 7777, 0, true, dgram[:200])),
		eth(0x0800, ipPacket4(ip4A, ip4B, 17, 7777, 200, false, dgram[200:])))
	evs, _ := decodeAll(t, d, pcap.LinkTypeEthernet, frames...)
	if len(evs) != 1 || evs[0].Kind != KindSIP {
		t.Fatalf("the INVITE after the flood was lost: %d events", len(evs))
	}
	st := d.Stats()
	// Every incomplete datagram left the table: evicted to make room (the
	// INVITE's first fragment evicted one), or expired (by packet time,
	// and by the flush at the end of input).
	if st.FragmentsEvicted+st.FragmentsExpired != flood || st.FragmentsEvicted < flood-DefaultMaxFragDatagram {
		t.Errorf("FragmentsEvicted %d + FragmentsExpired %d, want %d in all", st.FragmentsEvicted, st.FragmentsExpired, flood)
	}
}
