package anon

import (
	"bytes"
	"testing"

	"github.com/pion/rtcp"
)

func rtpPacket(pt byte, payload []byte, ext, pad bool) []byte {
	p := []byte{0x80, pt, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef}
	if ext {
		p[0] |= 0x10
		p = append(p, 0xbe, 0xde, 0, 1, 1, 2, 3, 4)
	}
	p = append(p, payload...)
	if pad {
		p[0] |= 0x20
		p = append(p, 0, 0, 3)
	}
	return p
}

func TestRewriteRTP(t *testing.T) {
	voice := bytes.Repeat([]byte{0x12, 0x34}, 80)
	cases := []struct {
		name  string
		pt    byte
		codec string
		mode  RTPMode
		ext   bool
		pad   bool
		want  RTPResult
		fill  int // expected payload byte, -1: unchanged
	}{
		{"PCMU silence", 0, "", RTPSilence, false, false, RTPSilent, 0xFF},
		{"PCMA silence with extension and padding", 8, "", RTPSilence, true, true, RTPSilent, 0xD5},
		{"dynamic PCMA by SDP name", 96, "PCMA", RTPSilence, false, false, RTPSilent, 0xD5},
		{"unknown codec zeroed", 18, "G729", RTPSilence, false, false, RTPZero, 0},
		{"drop", 0, "", RTPDrop, false, false, RTPRemove, -1},
		{"keep", 0, "", RTPKeep, false, false, RTPKept, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMapper(testKey(t, "rtp"), Options{})
			p := rtpPacket(c.pt, voice, c.ext, c.pad)
			hdr := append([]byte(nil), p[:12]...)
			n := len(p)
			got, err := m.RewriteRTP(p, c.mode, c.codec)
			if err != nil || got != c.want {
				t.Fatalf("result %v err %v, want %v", got, err, c.want)
			}
			if len(p) != n || !bytes.Equal(p[:12], hdr) {
				t.Fatal("header or length changed")
			}
			_, off, end, _ := rtpPayload(p)
			if end-off != len(voice) {
				t.Fatalf("payload bounds %d..%d", off, end)
			}
			for _, b := range p[off:end] {
				if c.fill < 0 && b != 0x12 && b != 0x34 || c.fill >= 0 && int(b) != c.fill {
					t.Fatalf("payload byte %#x", b)
				}
			}
			if c.pad && p[len(p)-1] != 3 {
				t.Fatal("padding count changed")
			}
		})
	}
	m := NewMapper(testKey(t, "rtp"), Options{})
	// RFC 4733: digit 7, end bit, volume 10, duration 800
	ev := rtpPacket(101, []byte{7, 0x8a, 0x03, 0x20}, false, false)
	if r, _ := m.RewriteRTP(ev, RTPSilence, "telephone-event"); r != RTPDTMF || ev[12] != 0 || ev[13] != 0x8a || ev[15] != 0x20 {
		t.Fatalf("event %v % x", r, ev[12:])
	}
	if _, err := m.RewriteRTP([]byte{0x40, 0}, RTPSilence, ""); err != ErrNotRTP {
		t.Fatalf("short packet: %v", err)
	}
	bad := rtpPacket(0, voice, false, false)
	bad[0] |= 0x20
	bad[len(bad)-1] = 255
	if _, err := m.RewriteRTP(bad, RTPSilence, ""); err != ErrNotRTP {
		t.Fatalf("bad padding: %v", err)
	}
}

func TestRewriteRTCP(t *testing.T) {
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: 0xdeadbeef,
		Items: []rtcp.SourceDescriptionItem{
			{Type: rtcp.SDESCNAME, Text: "alice@192.168.1.20"},
			{Type: rtcp.SDESName, Text: "Alice Smith"},
			{Type: rtcp.SDESEmail, Text: "alice@example.com"},
			{Type: rtcp.SDESPhone, Text: "+4930123456"},
			{Type: rtcp.SDESLocation, Text: "Berlin office"},
			{Type: rtcp.SDESTool, Text: "softphone 1.0"},
		},
	}}}
	rr := &rtcp.ReceiverReport{SSRC: 0xdeadbeef}
	bye := &rtcp.Goodbye{Sources: []uint32{0xdeadbeef}, Reason: "alice hung up"}
	raw, err := rtcp.Marshal([]rtcp.Packet{rr, sdes, bye})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMapper(testKey(t, "rtcp"), Options{})
	n := len(raw)
	if err := m.RewriteRTCP(raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != n {
		t.Fatal("length changed")
	}
	for _, s := range []string{"alice", "Alice", "192.168.1.20", "4930123456", "Berlin", "softphone"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("%q left", s)
		}
	}
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil || len(pkts) != 3 {
		t.Fatalf("re-parse: %v %d", err, len(pkts))
	}
	got := pkts[1].(*rtcp.SourceDescription).Chunks[0].Items[0].Text
	if got != m.CNAME("alice@192.168.1.20") {
		t.Fatalf("CNAME %q is not the SDP mapping", got)
	}
	if m.Stats.RTCPItems != 7 {
		t.Fatalf("RTCPItems %d", m.Stats.RTCPItems)
	}
	if err := m.RewriteRTCP([]byte{0x81, 202, 0, 9}); err != ErrNotRTCP {
		t.Fatalf("truncated: %v", err)
	}
}

func rtcpUnmarshal(b []byte) (int, error) {
	pkts, err := rtcp.Unmarshal(b)
	return len(pkts), err
}

func TestRewriteRTPAllocs(t *testing.T) {
	m := NewMapper(testKey(t, "rtp"), Options{})
	p := rtpPacket(0, make([]byte, 160), false, false)
	if n := testing.AllocsPerRun(200, func() { m.RewriteRTP(p, RTPSilence, "PCMU") }); n != 0 {
		t.Fatalf("RewriteRTP allocates %v times per packet", n)
	}
}
