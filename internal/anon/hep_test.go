package anon

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/anon/leak"
)

func TestRewriteHEP(t *testing.T) {
	sip := buildMsg("", []string{"Reply-To: <sip:hepuser@hep.example.com>"}, "application/sdp", sdpBody)
	p := hep.Packet{
		Family: 2, Protocol: 17, ProtoType: hep.ProtoSIP,
		Src:           netip.MustParseAddrPort("192.0.2.50:5060"),
		Dst:           netip.MustParseAddrPort("198.51.100.60:5080"),
		Time:          time.Unix(1700000000, 0),
		CaptureID:     2001,
		AuthKey:       []byte("myHepSecret"),
		Payload:       sip,
		CorrelationID: []byte("basecallid0001@atlanta.example.com"),
		GroupID:       []byte("node-berlin-01"),
		SrcMAC:        0x001565123456,
	}
	in, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m := NewMapper(testKey(t, "hep"), Options{})
	out, err := m.RewriteHEP(in, RTPSilence)
	if err != nil {
		t.Fatal(err)
	}
	var q hep.Packet
	if err := q.Unmarshal(out); err != nil {
		t.Fatal(err)
	}
	if q.Src.Port() != 5060 || q.Dst.Port() != 5080 || q.Src.Addr() == p.Src.Addr() || !q.Src.Addr().Is4() {
		t.Errorf("addresses %v %v", q.Src, q.Dst)
	}
	if q.CaptureID != 2001 || !q.Time.Equal(p.Time) || q.ProtoType != hep.ProtoSIP {
		t.Error("capture id, time or type changed")
	}
	// the correlation id is the Call-ID, mapped like it
	rewritten, _ := NewMapper(testKey(t, "hep"), Options{}).RewriteSIP(sip)
	if !bytes.Equal(q.Payload, rewritten) {
		t.Error("payload is not the rewritten SIP")
	}
	if !bytes.Contains(q.Payload, append([]byte("Call-ID: "), q.CorrelationID...)) {
		t.Errorf("correlation id %q is not the payload's Call-ID", q.CorrelationID)
	}
	c := leak.NewChecker(m.Identifiers())
	for _, s := range []string{"myHepSecret", "node-berlin-01", "hepuser"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q left", s)
		}
	}
	if hits := c.Scan(0, out, nil); len(hits) > 0 {
		t.Fatalf("leaks %v", hits)
	}
}
