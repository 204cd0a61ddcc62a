package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/pcap"
)

// Frame builders for the tests. Standard headers are serialized by
// gopacket; headers it cannot write (SLL2, ERSPAN III, fragments built
// by hand) are written byte by byte.

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	ip4A = netip.MustParseAddr("192.0.2.10")
	ip4B = netip.MustParseAddr("192.0.2.20")
	ip6A = netip.MustParseAddr("2001:db8::10")
	ip6B = netip.MustParseAddr("2001:db8::20")
	t0   = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// udp4 is an IPv4/UDP packet (no link header).
func udp4(t testing.TB, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, u, gopacket.Payload(payload))
}

// udp6 is an IPv6/UDP packet (no link header).
func udp6(t testing.TB, src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = u.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, u, gopacket.Payload(payload))
}

// ipPacket4 wraps any payload in an IPv4 header by hand.
func ipPacket4(src, dst netip.Addr, proto uint8, id uint16, fragOff int, more bool, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(h[4:], id)
	fo := uint16(fragOff / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], fo)
	h[8] = 64
	h[9] = proto
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	return append(h, payload...)
}

// ipPacket6 wraps payload (starting with extension headers if any) in
// an IPv6 header whose next header is nh.
func ipPacket6(src, dst netip.Addr, nh uint8, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

// udpHeader builds a UDP header + payload (checksum 0: never checked).
func udpHeader(sport, dport uint16, payload []byte) []byte {
	h := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+len(payload)))
	return append(h, payload...)
}

func ethHdr(et uint16) []byte {
	h := append(append([]byte{}, macB...), macA...)
	return binary.BigEndian.AppendUint16(h, et)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func eth(et uint16, payload []byte) []byte { return cat(ethHdr(et), payload) }

func vlanTag(id uint16, et uint16) []byte {
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, id), et)
}

func pkt(lt pcap.LinkType, n int, data []byte) pcap.Packet {
	return pcap.Packet{Timestamp: t0.Add(time.Duration(n) * 20 * time.Millisecond), CaptureLength: len(data), Length: len(data), LinkType: lt, Number: n}
}

// collect decodes frames in order and returns copies of the events.
type gotEvent struct {
	Event
	payload []byte
}

func decodeAll(t testing.TB, d *Decoder, lt pcap.LinkType, frames ...[]byte) ([]gotEvent, []error) {
	t.Helper()
	var evs []gotEvent
	var errs []error
	emit := func(ev *Event) {
		evs = append(evs, gotEvent{Event: *ev, payload: append([]byte(nil), ev.Payload...)})
	}
	for i, f := range frames {
		if err := d.Decode(f, pkt(lt, i+1, f), emit); err != nil {
			errs = append(errs, err)
		}
	}
	d.Flush(emit)
	return evs, errs
}

const sdpOffer = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=-\r\n" +
	"c=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

var sipInvite = "INVITE sip:bob@example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n" +
	"From: <sip:alice@example.com>;tag=1928301774\r\n" +
	"To: <sip:bob@example.com>\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: " + strconv.Itoa(len(sdpOffer)) + "\r\n\r\n" + sdpOffer

const sip200 = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds\r\n" +
	"Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\nContent-Length: 0\r\n\r\n"

// rtpPacket is an RTP packet (RFC 3550 5.1) with a 160-byte payload.
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32) []byte {
	b := make([]byte, 12, 172)
	b[0] = 0x80
	b[1] = pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, make([]byte, 160)...)
}

// rtcpRRSDES is a compound RR + SDES (RFC 3550 6.1).
func rtcpRRSDES(ssrc uint32) []byte {
	rr := []byte{0x80, 201, 0, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(rr[4:], ssrc)
	sdes := []byte{0x81, 202, 0, 3, 0, 0, 0, 0, 1, 3, 'a', 'b', 'c', 0, 0, 0}
	binary.BigEndian.PutUint32(sdes[4:], ssrc)
	return cat(rr, sdes)
}
