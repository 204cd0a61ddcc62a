package capture

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/pcap"
)

// benchCapture builds an in-memory Ethernet/IPv4/UDP capture: calls
// calls, each INVITE (SDP) / 200 (SDP) / rtp RTP packets alternating
// direction with an RTCP compound every 250 / BYE / 200.
func benchCapture(calls, rtp int) ([][]byte, []pcap.Packet) {
	var frames [][]byte
	var pkts []pcap.Packet
	ts := t0
	add := func(f []byte) {
		frames = append(frames, f)
		pkts = append(pkts, pcap.Packet{Timestamp: ts, CaptureLength: len(f), Length: len(f), LinkType: pcap.LinkTypeEthernet, Number: len(frames)})
		ts = ts.Add(100 * time.Microsecond)
	}
	for c := range calls {
		a := netip.AddrFrom4([4]byte{10, 1, byte(c >> 8), byte(c)})
		b := netip.AddrFrom4([4]byte{10, 2, byte(c >> 8), byte(c)})
		pa, pb := uint16(20000+2*c), uint16(40000+2*c)
		sdp := func(ip netip.Addr, port uint16) string {
			return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %v\r\ns=-\r\nc=IN IP4 %v\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n", ip, ip, port)
		}
		msg := func(start string, body string) []byte {
			return []byte(fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP %v:5060;branch=z9hG4bK%d\r\nCall-ID: call-%d@bench\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", start, a, c, c, len(body), body))
		}
		add(ethRaw(0x0800, ipPacket4(a, b, 17, 1, 0, false, udpHeader(5060, 5060, msg("INVITE sip:b@bench SIP/2.0", sdp(a, pa))))))
		add(ethRaw(0x0800, ipPacket4(b, a, 17, 1, 0, false, udpHeader(5060, 5060, msg("SIP/2.0 200 OK", sdp(b, pb))))))
		for i := range rtp {
			if i%250 == 249 {
				add(ethRaw(0x0800, ipPacket4(a, b, 17, 1, 0, false, udpHeader(pa+1, pb+1, rtcpRRSDES(uint32(c))))))
			}
			if i%2 == 0 {
				add(ethRaw(0x0800, ipPacket4(a, b, 17, 1, 0, false, udpHeader(pa, pb, rtpPacket(0, uint16(i/2), uint32(80*i), uint32(c))))))
			} else {
				add(ethRaw(0x0800, ipPacket4(b, a, 17, 1, 0, false, udpHeader(pb, pa, rtpPacket(0, uint16(i/2), uint32(80*i), uint32(c)|1<<31)))))
			}
		}
		add(ethRaw(0x0800, ipPacket4(a, b, 17, 1, 0, false, udpHeader(5060, 5060, msg("BYE sip:b@bench SIP/2.0", "")))))
		add(ethRaw(0x0800, ipPacket4(b, a, 17, 1, 0, false, udpHeader(5060, 5060, msg("SIP/2.0 200 OK", "")))))
	}
	return frames, pkts
}

func ethRaw(et uint16, payload []byte) []byte { return eth(et, payload) }

var benchFrames struct {
	frames [][]byte
	pkts   []pcap.Packet
}

func loadBench() ([][]byte, []pcap.Packet) {
	if benchFrames.frames == nil {
		benchFrames.frames, benchFrames.pkts = benchCapture(200, 1000)
	}
	return benchFrames.frames, benchFrames.pkts
}

// BenchmarkDecode: the whole pipeline per packet (200 calls x 1000 RTP).
func BenchmarkDecode(b *testing.B) {
	frames, pkts := loadBench()
	d := NewDecoder(Options{})
	var n int
	emit := func(ev *Event) { n++ }
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		j := i % len(frames)
		_ = d.Decode(frames[j], pkts[j], emit)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "packets/s")
	if st := d.Stats(); b.N >= len(frames) && (st.SIP == 0 || st.RTP == 0 || st.RTCP == 0) {
		b.Fatalf("bench capture misclassified: %+v", st)
	}
}

// BenchmarkBareParser is the floor: a bare gopacket DecodingLayerParser
// (Ethernet/IPv4/IPv6/UDP/TCP) over the same frames, no classification.
func BenchmarkBareParser(b *testing.B) {
	frames, _ := loadBench()
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		udp     layers.UDP
		tcp     layers.TCP
		decoded = make([]gopacket.LayerType, 0, 8)
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &udp, &tcp)
	p.IgnoreUnsupported = true
	var n int
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_ = p.DecodeLayers(frames[i%len(frames)], &decoded)
		n += len(udp.Payload)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "packets/s")
}

// BenchmarkDecodeVsFloor interleaves Decode and the bare parser in small
// blocks over the same frames and reports their time ratio ("x-floor"),
// which stays meaningful on a loaded machine where absolute ns/op do not.
func BenchmarkDecodeVsFloor(b *testing.B) {
	frames, pkts := loadBench()
	d := NewDecoder(Options{})
	emit := func(*Event) {}
	var (
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		udp     layers.UDP
		tcp     layers.TCP
		decoded = make([]gopacket.LayerType, 0, 8)
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &udp, &tcp)
	p.IgnoreUnsupported = true
	const block = 512
	var tDecode, tBare time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += block {
		n := min(block, b.N-i)
		s := time.Now()
		for j := i; j < i+n; j++ {
			k := j % len(frames)
			_ = d.Decode(frames[k], pkts[k], emit)
		}
		tDecode += time.Since(s)
		s = time.Now()
		for j := i; j < i+n; j++ {
			_ = p.DecodeLayers(frames[j%len(frames)], &decoded)
		}
		tBare += time.Since(s)
	}
	b.ReportMetric(float64(tDecode)/float64(tBare), "x-floor")
	b.ReportMetric(float64(b.N)/tDecode.Seconds(), "packets/s")
}
