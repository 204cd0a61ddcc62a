package capture

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/pcapgen"
	"github.com/voiptool/voiptool/pcap"
)

// hepV2Datagram is a HEPv2 packet as our encoder writes it for Kamailio
// (length byte 16, not the 28 of the header with its time block).
func hepV2Datagram(t testing.TB, v6 bool) []byte {
	t.Helper()
	p := hep.Packet{Version: 2, Family: 2, Protocol: 17,
		Src: netip.MustParseAddrPort("192.0.2.1:5060"), Dst: netip.MustParseAddrPort("192.0.2.2:5060"),
		Time: t0, CaptureID: 7, Payload: []byte(sip200)}
	if v6 {
		p.Family = 10
		p.Src = netip.MustParseAddrPort("[2001:db8::1]:5060")
		p.Dst = netip.MustParseAddrPort("[2001:db8::2]:5060")
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHEPv2OwnEncoder: a capture of `hep-forward --hep-version 2` (our
// encoder's HEPv2, length byte 16/40) is classified as HEP, through a
// pcap file written and read back.
func TestHEPv2OwnEncoder(t *testing.T) {
	var frames [][]byte
	for _, v6 := range []bool{false, true} {
		b := hepV2Datagram(t, v6)
		if want := map[bool]byte{false: 16, true: 40}[v6]; b[1] != want {
			t.Fatalf("encoder length byte = %d, want %d (the premise of this test)", b[1], want)
		}
		frames = append(frames, eth(0x0800, udp4(t, ip4A, ip4B, 40000, 9060, b)))
	}
	// Written by pcapgen (gopacket's pcapgo), read back by our reader.
	var recs []pcapgen.Record
	for i, fr := range frames {
		recs = append(recs, pcapgen.Record{Time: pkt(pcap.LinkTypeEthernet, i+1, fr).Timestamp, Data: fr})
	}
	var file bytes.Buffer
	if err := pcapgen.WritePcap(&file, layers.LinkTypeEthernet, false, recs); err != nil {
		t.Fatal(err)
	}
	r, err := pcap.NewReader(&file, "hepv2.pcap")
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(Options{})
	var got int
	for {
		data, p, err := r.Next()
		if err != nil {
			break
		}
		if err := d.Decode(data, p, func(ev *Event) {
			var q hep.Packet
			if ev.Kind != KindHEP {
				t.Errorf("record %d: kind %v, want HEP", p.Number, ev.Kind)
			} else if err := q.Unmarshal(ev.Payload); err != nil || q.Version != 2 || !bytes.Equal(q.Payload, []byte(sip200)) {
				t.Errorf("record %d: HEP payload does not decode: %v", p.Number, err)
			}
			got++
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got != len(frames) {
		t.Fatalf("%d HEP events, want %d", got, len(frames))
	}
}

// FuzzHEPClassify is differential: the decoder classifies a UDP payload
// as HEP exactly when hep.Detect says it is HEP, except that a valid SIP
// start line wins (an extension method may be named "HEP3").
func FuzzHEPClassify(f *testing.F) {
	for _, s := range [][]byte{hepV2Datagram(f, false), hepV2Datagram(f, true),
		{'H', 'E', 'P', '3', 0, 10, 0, 0, 0, 1}, {'H', 'E', 'P', '3', 0, 200},
		cat([]byte{2, 28, 2, 17, 0x13, 0xc4, 0x13, 0xc4}, make([]byte, 20), []byte("x")),
		cat([]byte{1, 16, 10, 6, 0x13, 0xc4, 0x13, 0xc4}, make([]byte, 32), []byte("x")),
		[]byte("HEP3 sip:x SIP/2.0\r\n\r\n"), rtpPacket(0, 1, 2, 3)} {
		f.Add(s)
	}
	src := netip.MustParseAddrPort("192.0.2.1:30000")
	dst := netip.MustParseAddrPort("192.0.2.2:40000")
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(Options{NoRTPHeuristic: true})
		var got Kind
		d.emit = func(ev *Event) { got = ev.Kind }
		d.classifyDatagram(b, src, dst, TransportUDP)
		_, isHEP := hep.Detect(b)
		want := isHEP && !IsSIP(b)
		if (got == KindHEP) != want {
			t.Fatalf("classifier says %v, hep.Detect says %v (SIP %v) for % x", got, isHEP, IsSIP(b), b)
		}
	})
}
