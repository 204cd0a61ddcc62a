package extract

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/pcapgen"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// TestPcapRTCPFromSDP: the RTCP saved with a call is the one between the
// RTCP endpoints its SDP announced with a=rtcp (RFC 3605), here far from
// the RTP ports, and not RTCP that merely sits on RTP port + 1.
func TestPcapRTCPFromSDP(t *testing.T) {
	var (
		alice, pbx   = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
		aSIP, pSIP   = netip.AddrPortFrom(alice, 5060), netip.AddrPortFrom(pbx, 5060)
		aRTP, pRTP   = netip.AddrPortFrom(alice, 40000), netip.AddrPortFrom(pbx, 20000)
		aRTCP, pRTCP = netip.AddrPortFrom(alice, 50000), netip.AddrPortFrom(pbx, 20003)
		aDecoy       = netip.AddrPortFrom(alice, 40001)
		pDecoy       = netip.AddrPortFrom(pbx, 20001)
		t0           = pcapgen.Epoch
	)
	var recs []pcapgen.Record
	at := t0
	add := func(src, dst netip.AddrPort, payload []byte) {
		at = at.Add(10 * time.Millisecond)
		recs = append(recs, pcapgen.Record{Time: at, Data: pcapgen.UDP(src, dst, uint16(len(recs)), payload)})
	}
	sip := func(first string, cseq string, toTag string, body []byte) []byte {
		to := "<sip:bob@pbx>"
		if toTag != "" {
			to += ";tag=" + toTag
		}
		ct := ""
		if len(body) > 0 {
			ct = "Content-Type: application/sdp\r\n"
		}
		return []byte(fmt.Sprintf("%s\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK%s\r\nFrom: <sip:alice@pbx>;tag=a1\r\nTo: %s\r\n"+
			"Call-ID: rtcp-sdp@test\r\nCSeq: %s\r\nContact: <sip:alice@10.0.0.1:5060>\r\n%sContent-Length: %d\r\n\r\n%s",
			first, cseq[:1], to, cseq, ct, len(body), body))
	}
	offer := pcapgen.SDP{User: "alice", SessID: 1, Version: 1, Addr: alice, Port: aRTP.Port(), RTCPPort: aRTCP.Port()}.Bytes()
	answer := pcapgen.SDP{User: "pbx", SessID: 2, Version: 1, Addr: pbx, Port: pRTP.Port(), RTCPPort: pRTCP.Port()}.Bytes()
	add(aSIP, pSIP, sip("INVITE sip:bob@pbx SIP/2.0", "1 INVITE", "", offer))
	add(pSIP, aSIP, sip("SIP/2.0 200 OK", "1 INVITE", "b1", answer))
	add(aSIP, pSIP, sip("ACK sip:bob@pbx SIP/2.0", "1 ACK", "b1", nil))
	for i := 0; i < 10; i++ {
		add(aRTP, pRTP, pcapgen.RTP{PT: 0, Seq: uint16(i), TS: uint32(160 * i), SSRC: 0xa, Payload: pcapgen.G711Payload(i)}.Bytes())
		add(pRTP, aRTP, pcapgen.RTP{PT: 0, Seq: uint16(i), TS: uint32(160 * i), SSRC: 0xb, Payload: pcapgen.G711Payload(i)}.Bytes())
	}
	add(aRTCP, pRTCP, pcapgen.RTCPReport{SSRC: 0xa, RemoteSSRC: 0xb, Sender: true, At: at, Packets: 10, Octets: 1600, CNAME: "alice"}.Bytes())
	add(aDecoy, pDecoy, pcapgen.RTCPReport{SSRC: 0xa, RemoteSSRC: 0xb, Sender: true, At: at, Packets: 10, Octets: 1600, CNAME: "decoy"}.Bytes())
	add(aSIP, pSIP, sip("BYE sip:bob@pbx SIP/2.0", "2 BYE", "b1", nil))
	add(pSIP, aSIP, sip("SIP/2.0 200 OK", "2 BYE", "b1", nil))
	var buf bytes.Buffer
	if err := pcapgen.WritePcap(&buf, layers.LinkTypeRaw, false, recs); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "rtcp.pcap")
	if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	if s := e.Status(); s.Decoder.RTCP != 2 || s.Store.Messages != 5 {
		t.Fatalf("capture: %d RTCP (want the real one and the decoy), %d SIP messages", s.Decoder.RTCP, s.Store.Messages)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	out := filepath.Join(t.TempDir(), "call.pcapng")
	n, err := Pcap(context.Background(), e, []string{calls[0].CallID}, out, Options{Files: []string{f}, Media: true})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5+20+1 {
		t.Errorf("saved %d packets, want 5 SIP + 20 RTP + 1 RTCP", n)
	}
	r, err := pcap.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var rtcp []netip.AddrPort
	_, err = capture.Run(context.Background(), []capture.Source{r}, capture.Options{}, nil, func(ev *capture.Event) error {
		if ev.Kind == capture.KindRTCP {
			rtcp = append(rtcp, ev.Src)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rtcp) != 1 || rtcp[0] != aRTCP {
		t.Errorf("RTCP saved from %v, want only from %v (a=rtcp), not %v (RTP port + 1)", rtcp, aRTCP, aDecoy)
	}
}
