package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// chainString spells a chain as "Ethernet@0 IPv4@14 UDP@34".
func chainString(l *Layers) string {
	var b strings.Builder
	for i := range l.Len() {
		h := l.Header(i)
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v@%d", h.Proto, h.Off)
	}
	return b.String()
}

// checkLayers holds an event's Layers to the invariants every consumer
// relies on, against the record it was decoded from.
func checkLayers(t testing.TB, data []byte, ev *Event) {
	t.Helper()
	l := &ev.Layers
	if l.Payload >= 0 {
		if int(l.Payload)+len(ev.Payload) > len(data) || !bytes.Equal(data[l.Payload:int(l.Payload)+len(ev.Payload)], ev.Payload) {
			t.Fatalf("Payload offset %d does not locate the payload in the record", l.Payload)
		}
	} else if l.Reassembled == 0 && len(ev.Payload) > 0 {
		t.Fatalf("payload of one record without an offset (%s)", chainString(l))
	}
	prev, ips := int32(-1), 0
	var firstIP, lastIP, lastL4 int32 = -1, -1, -1
	for i := range l.Len() {
		h := l.Header(i)
		if h.Off < 0 {
			continue // inside reassembled bytes
		}
		if h.Off <= prev || int(h.Off) >= len(data) {
			t.Fatalf("chain %s not increasing inside %d bytes", chainString(l), len(data))
		}
		prev = h.Off
		switch h.Proto {
		case ProtoIPv4, ProtoIPv6:
			if firstIP < 0 {
				firstIP = h.Off
			}
			lastIP = h.Off
		case ProtoUDP, ProtoTCP, ProtoSCTP:
			lastL4 = h.Off
		}
	}
	for i := range l.Len() {
		if h := l.Header(i); h.Proto == ProtoIPv4 || h.Proto == ProtoIPv6 {
			ips++
		}
	}
	if l.ChainFull() {
		return
	}
	if l.L3() != firstIP || (l.InnerL3() >= 0 && l.InnerL3() != lastIP) {
		t.Fatalf("L3 %d / InnerL3 %d disagree with chain %s", l.L3(), l.InnerL3(), chainString(l))
	}
	if l.InnerL4() >= 0 && l.InnerL4() != lastL4 {
		t.Fatalf("InnerL4 %d disagrees with chain %s", l.InnerL4(), chainString(l))
	}
	if ips > 0 && l.Depth() != ips-1 {
		t.Fatalf("Depth %d with %d IP headers", l.Depth(), ips)
	}
	if (l.Reassembled == 0) != (l.FirstRecord == 0 && l.LastRecord == 0) {
		t.Fatalf("records %d-%d with reassembly %b", l.FirstRecord, l.LastRecord, l.Reassembled)
	}
	if l.Payload >= 0 && (l.Payload <= l.InnerL4() || l.InnerL4() < l.InnerL3() || l.L4() < l.L3()) {
		t.Fatalf("offsets out of order: %+v", l)
	}
}

func TestLayers(t *testing.T) {
	sip := []byte(sip200)
	inner4 := udp4(t, ip4A, ip4B, 5060, 5060, sip)
	inner6 := udp6(t, ip6A, ip6B, 5060, 5060, sip)
	vxlan := eth(0x0800, udp4(t, ip4B, ip4A, 40000, 4789, cat([]byte{0x08, 0, 0, 0, 0, 0, 1, 0}, eth(0x0800, inner4))))
	erspan2 := eth(0x0800, ipPacket4(ip4B, ip4A, 47, 1, 0, false, cat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1}, make([]byte, 8), eth(0x0800, inner4))))
	pppoe := eth(0x8864, cat([]byte{0x11, 0, 0, 1}, binary.BigEndian.AppendUint16(nil, uint16(2+len(inner4))), []byte{0x00, 0x21}, inner4))
	tests := []struct {
		name          string
		lt            pcap.LinkType
		frame         []byte
		chain         string
		l2, l3, l4    int32
		il3, il4, pay int32
		v, proto      uint8
		depth         uint8
	}{
		{"Ethernet IPv4 UDP", pcap.LinkTypeEthernet, eth(0x0800, inner4), "Ethernet@0 IPv4@14 UDP@34", 0, 14, 34, 14, 34, 42, 4, 17, 0},
		{"VLAN IPv6 UDP", pcap.LinkTypeEthernet, eth(0x8100, cat(vlanTag(7, 0x86dd), inner6)), "Ethernet@0 802.1Q@14 IPv6@18 UDP@58", 0, 18, 58, 18, 58, 66, 6, 17, 0},
		{"raw IPv6", pcap.LinkTypeRaw, inner6, "IPv6@0 UDP@40", -1, 0, 40, 0, 40, 48, 6, 17, 0},
		{"SLL2", pcap.LinkTypeSLL2, cat(sll2(0x0800), inner4), "SLL2@0 IPv4@20 UDP@40", 0, 20, 40, 20, 40, 48, 4, 17, 0},
		{"PPPoE", pcap.LinkTypeEthernet, pppoe, "Ethernet@0 PPPoE@14 PPP@20 IPv4@22 UDP@42", 0, 22, 42, 22, 42, 50, 4, 17, 0},
		{"VXLAN", pcap.LinkTypeEthernet, vxlan, "Ethernet@0 IPv4@14 UDP@34 VXLAN@42 Ethernet@50 IPv4@64 UDP@84", 0, 14, 34, 64, 84, 92, 4, 17, 1},
		{"ERSPAN II", pcap.LinkTypeEthernet, erspan2, "Ethernet@0 IPv4@14 GRE@34 ERSPAN@42 Ethernet@50 IPv4@64 UDP@84", 0, 14, 34, 64, 84, 92, 4, 17, 1},
		{"IPv6 in IPv4", pcap.LinkTypeEthernet, eth(0x0800, ipPacket4(ip4B, ip4A, 41, 1, 0, false, inner6)), "Ethernet@0 IPv4@14 IPv6@34 UDP@74", 0, 14, 34, 34, 74, 82, 6, 17, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Options{})
			var got []Event
			if err := d.Decode(tc.frame, pkt(tc.lt, 1, tc.frame), func(ev *Event) {
				checkLayers(t, tc.frame, ev)
				got = append(got, *ev)
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d events", len(got))
			}
			l := &got[0].Layers
			if s := chainString(l); s != tc.chain {
				t.Errorf("chain %q, want %q", s, tc.chain)
			}
			if l.L2() != tc.l2 || l.L3() != tc.l3 || l.L4() != tc.l4 || l.InnerL3() != tc.il3 || l.InnerL4() != tc.il4 || l.Payload != tc.pay {
				t.Errorf("L2 %d L3 %d L4 %d InnerL3 %d InnerL4 %d Payload %d, want %d %d %d %d %d %d",
					l.L2(), l.L3(), l.L4(), l.InnerL3(), l.InnerL4(), l.Payload, tc.l2, tc.l3, tc.l4, tc.il3, tc.il4, tc.pay)
			}
			if l.L3Proto() != tc.v || l.L4Proto() != tc.proto || l.Depth() != int(tc.depth) || l.Reassembled != 0 || l.FirstRecord != 0 || l.LastRecord != 0 {
				t.Errorf("L3Proto %d L4Proto %d Depth %d Reassembled %b records %d-%d", l.L3Proto(), l.L4Proto(), l.Depth(), l.Reassembled, l.FirstRecord, l.LastRecord)
			}
		})
	}
}

// decodeLayers decodes frames and returns copies of the events' Layers,
// checking the invariants on each.
func decodeLayers(t *testing.T, frames ...[]byte) []Event {
	t.Helper()
	d := NewDecoder(Options{})
	var got []Event
	for i, f := range frames {
		if err := d.Decode(f, pkt(pcap.LinkTypeEthernet, i+1, f), func(ev *Event) {
			checkLayers(t, frames[ev.Packet.Number-1], ev) // a held packet names its own record
			got = append(got, *ev)
		}); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func TestLayersReassembled(t *testing.T) {
	t.Run("IP fragments", func(t *testing.T) {
		dgram := udpHeader(5060, 5060, []byte(sipInvite))
		f1 := eth(0x0800, ipPacket4(ip4A, ip4B, 17, 77, 0, true, dgram[:200]))
		f2 := eth(0x0800, ipPacket4(ip4A, ip4B, 17, 77, 200, true, dgram[200:400]))
		f3 := eth(0x0800, ipPacket4(ip4A, ip4B, 17, 77, 400, false, dgram[400:]))
		evs := decodeLayers(t, f2, f1, f3)
		if len(evs) != 1 {
			t.Fatalf("%d events", len(evs))
		}
		l := evs[0].Layers
		if l.Reassembled != ReasmIP || l.Payload >= 0 || l.InnerL4() >= 0 || l.L3() != 14 || l.FirstRecord != 1 || l.LastRecord != 3 {
			t.Errorf("layers %+v", l)
		}
		if l.Len() != 3 || l.Protos[2] != ProtoUDP || l.Offs[2] >= 0 {
			t.Errorf("chain %s, want the UDP header outside the record", chainString(&l))
		}
	})
	t.Run("TCP", func(t *testing.T) {
		seg := func(seq uint32, payload []byte) []byte {
			h := make([]byte, 20)
			binary.BigEndian.PutUint16(h[0:], 40000)
			binary.BigEndian.PutUint16(h[2:], 5060)
			binary.BigEndian.PutUint32(h[4:], seq)
			h[12], h[13] = 5<<4, 0x18
			return eth(0x0800, ipPacket4(ip4A, ip4B, 6, 1, 0, false, cat(h, payload)))
		}
		msg := []byte(sipInvite)
		one := []byte(sip200)
		evs := decodeLayers(t, seg(100, msg[:100]), seg(200, msg[100:]), seg(100+uint32(len(msg)), one))
		if len(evs) != 2 {
			t.Fatalf("%d events", len(evs))
		}
		if l := evs[0].Layers; l.Reassembled != ReasmTCP || l.Payload >= 0 || l.FirstRecord != 1 || l.LastRecord != 2 || l.InnerL4() != 34 || l.L4Proto() != 6 {
			t.Errorf("two segments: %+v", l)
		}
		if f, la := evs[1].Records(); evs[1].Layers.Reassembled != 0 || evs[1].Layers.Payload != 54 || f != 3 || la != 3 {
			t.Errorf("one segment: %+v", evs[1].Layers)
		}
	})
	t.Run("held RTP", func(t *testing.T) {
		var frames [][]byte
		for i := range 3 {
			frames = append(frames, eth(0x8100, cat(vlanTag(1, 0x0800), udp4(t, ip4A, ip4B, 30000, 40000, rtpPacket(0, uint16(i), 0, 9)))))
		}
		frames[2] = eth(0x0800, udp4(t, ip4A, ip4B, 30000, 40000, rtpPacket(0, 2, 0, 9)))
		evs := decodeLayers(t, frames...)
		if len(evs) != 3 {
			t.Fatalf("%d events", len(evs))
		}
		for i, ev := range evs {
			want := int32(46)
			if ev.Packet.Number == 3 {
				want = 42
			}
			if f, la := ev.Records(); ev.Layers.Payload != want || f != ev.Packet.Number || la != ev.Packet.Number {
				t.Errorf("event %d (record %d): %+v", i, ev.Packet.Number, ev.Layers)
			}
		}
	})
}

// TestLayersAfterExpiry: a TCP message flushed by expiry at the start of
// a record leaves nothing of its reassembly in that record's own events.
func TestLayersAfterExpiry(t *testing.T) {
	seg := func(seq uint32, flags byte, payload []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], 40000)
		binary.BigEndian.PutUint16(h[2:], 5060)
		binary.BigEndian.PutUint32(h[4:], seq)
		h[12], h[13] = 5<<4, flags
		return eth(0x0800, ipPacket4(ip4A, ip4B, 6, 1, 0, false, cat(h, payload)))
	}
	// A whole message after a hole: it waits for the missing bytes until
	// the expiry gives up on them and delivers it.
	syn := seg(99, 0x02, nil)
	partial := seg(200, 0x18, []byte(sip200))
	dgram := eth(0x0800, udp4(t, ip4B, ip4A, 5060, 5060, []byte(sip200)))
	d := NewDecoder(Options{})
	var evs []Event
	emit := func(ev *Event) { evs = append(evs, *ev) }
	for i, f := range [][]byte{syn, partial} {
		if err := d.Decode(f, pkt(pcap.LinkTypeEthernet, i+1, f), emit); err != nil {
			t.Fatal(err)
		}
	}
	p := pkt(pcap.LinkTypeEthernet, 3, dgram)
	p.Timestamp = p.Timestamp.Add(time.Hour) // past every idle timeout
	if err := d.Decode(dgram, p, func(ev *Event) {
		checkLayers(t, dgram, ev)
		emit(ev)
	}); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Transport != TransportTCP || evs[0].Layers.Reassembled == 0 {
		t.Fatalf("want the expired TCP message, then the datagram: %d events", len(evs))
	}
	last := evs[len(evs)-1]
	if last.Transport != TransportUDP || last.Layers.Reassembled != 0 || last.Layers.FirstRecord != 0 || last.Layers.Payload != 42 {
		t.Fatalf("datagram after an expiry: %+v", last.Layers)
	}
}
