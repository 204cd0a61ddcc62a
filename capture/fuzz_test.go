package capture

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// fuzzLinkTypes are the link types FuzzDecode picks from (by index).
var fuzzLinkTypes = []pcap.LinkType{
	pcap.LinkTypeEthernet, pcap.LinkTypeNull, pcap.LinkTypeLoop, pcap.LinkTypeRaw,
	pcap.LinkTypeRawOld12, pcap.LinkTypeRawOld14, pcap.LinkTypeIPv4, pcap.LinkTypeIPv6,
	pcap.LinkTypePPP, pcap.LinkTypeLinuxSLL, pcap.LinkTypeSLL2, pcap.LinkType(147),
}

func fuzzSeeds(t testing.TB) [][]byte {
	u4 := udp4(t, ip4A, ip4B, 5060, 5060, []byte(sipInvite))
	u6 := udp6(t, ip6A, ip6B, 30000, 40000, rtpPacket(0, 1, 0, 1))
	return [][]byte{
		eth(0x0800, u4),
		eth(0x8100, cat(vlanTag(1, 0x86dd), u6)),
		eth(0x0800, ipPacket4(ip4A, ip4B, 17, 9, 0, true, udpHeader(5060, 5060, []byte(sipInvite))[:64])),
		eth(0x0800, ipPacket4(ip4A, ip4B, 47, 1, 0, false, cat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, make([]byte, 11), []byte{1}, make([]byte, 8), eth(0x0800, u4)))),
		eth(0x0800, udp4(t, ip4A, ip4B, 1, 4789, cat([]byte{8, 0, 0, 0, 0, 0, 1, 0}, eth(0x0800, u4)))),
		sctpPacket(dataChunk(0x02, 1, 0, []byte(sipInvite)[:100])),
		cat(sll(0x0800), u4),
	}
}

// FuzzDecode: arbitrary bytes under every link type never panic, errors
// are *DecodeError, and events stay inside sane bounds.
func FuzzDecode(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(s, uint8(i%len(fuzzLinkTypes)))
	}
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, lt uint8) {
		d := NewDecoder(Options{})
		p := pcap.Packet{Timestamp: t0, CaptureLength: len(data), Length: len(data), LinkType: fuzzLinkTypes[int(lt)%len(fuzzLinkTypes)], Number: 1}
		emit := func(ev *Event) {
			if ev.Kind < KindSIP || ev.Kind > KindHEP {
				t.Fatalf("bad kind %d", ev.Kind)
			}
			if ev.Kind == KindRTP && int(ev.RTP.HeaderLength)+len(ev.RTP.Payload(ev.Payload))+int(ev.RTP.PaddingSize) != len(ev.Payload) {
				t.Fatalf("RTP header %d + padding %d do not fit %d", ev.RTP.HeaderLength, ev.RTP.PaddingSize, len(ev.Payload))
			}
			if ev.Packet.Number == p.Number { // not a flushed stream message
				checkLayers(t, data, ev)
			}
		}
		// Twice: the second pass exercises state (fragments, SCTP, flows).
		for range 2 {
			if err := d.Decode(data, p, emit); err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.Err == nil {
					t.Fatalf("error %v is not a *DecodeError with a sentinel", err)
				}
				_ = err.Error()
			}
		}
		d.Flush(emit)
	})
}

// FuzzClassify: the content classifiers and the SDP scanner on
// arbitrary payloads.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{sipInvite, sip200, "OPTIONS sip:x SIP/2.0\r\n\r\n", "HEP3\x00\x06", string(rtpPacket(8, 1, 2, 3)), string(rtcpRRSDES(1)),
		"SIP/2.0 200 OK\r\n\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\na=rtcp:9\r\na=rtcp-mux\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if IsSIP(b) && (len(b) < 12) {
			t.Fatalf("SIP start line in %d bytes", len(b))
		}
		_ = IsRTCPCompound(b)
		d := NewDecoder(Options{})
		src := netip.MustParseAddrPort("192.0.2.1:30000")
		dst := netip.MustParseAddrPort("192.0.2.2:40000")
		d.emit = func(*Event) {}
		for range 4 {
			d.classifyDatagram(b, src, dst, TransportUDP)
		}
		d.classifyDatagram(b, src, dst, TransportSCTP)
		d.learnSDP(b)
		st := d.Stats()
		if st.SIP+st.RTP+st.RTCP+st.HEP+st.Other != 5 {
			t.Fatalf("each payload counted once: %+v", st)
		}
	})
}
