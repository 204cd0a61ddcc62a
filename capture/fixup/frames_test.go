package fixup

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// Frames for the tests, serialized by gopacket with lengths and
// checksums computed: an implementation independent of this package.

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	v4A  = netip.MustParseAddr("192.0.2.10").AsSlice()
	v4B  = netip.MustParseAddr("192.0.2.20").AsSlice()
	v4C  = netip.MustParseAddr("198.51.100.1").AsSlice()
	v4D  = netip.MustParseAddr("198.51.100.2").AsSlice()
	v6A  = netip.MustParseAddr("2001:db8::10").AsSlice()
	v6B  = netip.MustParseAddr("2001:db8::20").AsSlice()
	t0   = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// sipMsg is a SIP response with extra header lines, so that variants
// of several sizes stay valid SIP.
func sipMsg(extra int) []byte {
	var b strings.Builder
	b.WriteString("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1\r\nCall-ID: fixup-test\r\nCSeq: 1 INVITE\r\n")
	for i := range extra {
		b.WriteString("X-Pad-" + strconv.Itoa(i) + ": abcdefghijklmnopqrstuvwxyz\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return []byte(b.String())
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func ether(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ip4(src, dst []byte, p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, Protocol: p, SrcIP: src, DstIP: dst}
}

func ip6(src, dst []byte, p layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: p, SrcIP: src, DstIP: dst}
}

func udp(sport, dport uint16, nl gopacket.NetworkLayer) *layers.UDP {
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(nl)
	return u
}

func tcp(nl gopacket.NetworkLayer) *layers.TCP {
	c := &layers.TCP{SrcPort: 40000, DstPort: 5060, Seq: 1000, Ack: 1, ACK: true, PSH: true, Window: 65535}
	_ = c.SetNetworkLayerForChecksum(nl)
	return c
}

type frame struct {
	name string
	data []byte
}

// testFrames covers every header Fix writes: IPv4, IPv6, UDP (with and
// without checksum), TCP, VLAN, PPPoE, IPIP, GRE with checksum, VXLAN.
func testFrames(t testing.TB) []frame {
	p := gopacket.Payload(sipMsg(2))
	var fs []frame
	add := func(name string, ls ...gopacket.SerializableLayer) {
		fs = append(fs, frame{name, serialize(t, ls...)})
	}
	{
		i := ip4(v4A, v4B, layers.IPProtocolUDP)
		add("IPv4 UDP", ether(layers.EthernetTypeIPv4), i, udp(5060, 5060, i), p)
	}
	{
		i := ip6(v6A, v6B, layers.IPProtocolUDP)
		add("VLAN IPv6 UDP", ether(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 9, Type: layers.EthernetTypeIPv6}, i, udp(5060, 5060, i), p)
	}
	{
		i := ip4(v4A, v4B, layers.IPProtocolTCP)
		add("IPv4 TCP", ether(layers.EthernetTypeIPv4), i, tcp(i), p)
	}
	{
		i := ip6(v6A, v6B, layers.IPProtocolTCP)
		add("IPv6 TCP", ether(layers.EthernetTypeIPv6), i, tcp(i), p)
	}
	{
		o := ip4(v4C, v4D, layers.IPProtocolIPv4)
		i := ip4(v4A, v4B, layers.IPProtocolUDP)
		add("IPIP UDP", ether(layers.EthernetTypeIPv4), o, i, udp(5060, 5060, i), p)
	}
	{
		o := ip4(v4C, v4D, layers.IPProtocolGRE)
		i := ip6(v6A, v6B, layers.IPProtocolUDP)
		add("GRE checksum IPv6 UDP", ether(layers.EthernetTypeIPv4), o,
			&layers.GRE{ChecksumPresent: true, Protocol: layers.EthernetTypeIPv6}, i, udp(5060, 5060, i), p)
	}
	{
		o := ip6(v6B, v6A, layers.IPProtocolUDP)
		i := ip4(v4A, v4B, layers.IPProtocolTCP)
		add("VXLAN over IPv6, TCP inside", ether(layers.EthernetTypeIPv6), o, udp(40000, 4789, o),
			&layers.VXLAN{ValidIDFlag: true, VNI: 5}, ether(layers.EthernetTypeIPv4), i, tcp(i), p)
	}
	{
		i := ip4(v4A, v4B, layers.IPProtocolUDP)
		add("PPPoE IPv4 UDP", ether(layers.EthernetTypePPPoESession),
			&layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 3},
			&layers.PPP{PPPType: layers.PPPTypeIPv4}, i, udp(5060, 5060, i), p)
	}
	{
		// A zero UDP checksum ("not computed", RFC 768) stays zero.
		i := ip4(v4A, v4B, layers.IPProtocolUDP)
		b := serialize(t, ether(layers.EthernetTypeIPv4), i, udp(5060, 5060, i), p)
		b[14+20+6], b[14+20+7] = 0, 0
		fs = append(fs, frame{"IPv4 UDP zero checksum", b})
	}
	return fs
}

// decodeOne decodes a frame and returns its one event's Layers and
// payload.
func decodeOne(t testing.TB, data []byte) (capture.Layers, []byte) {
	t.Helper()
	d := capture.NewDecoder(capture.Options{})
	var (
		l   capture.Layers
		pl  []byte
		got int
	)
	p := pcap.Packet{Timestamp: t0, CaptureLength: len(data), Length: len(data), LinkType: pcap.LinkTypeEthernet, Number: 1}
	if err := d.Decode(data, p, func(ev *capture.Event) {
		l, pl = ev.Layers, append([]byte(nil), ev.Payload...)
		got++
	}); err != nil {
		t.Fatal(err)
	}
	if got != 1 {
		t.Fatalf("%d events", got)
	}
	return l, pl
}
