package report

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// The sample call: Alice (IPv4) calls Bob (IPv6) through a dual-stack
// proxy that forwards with the same Call-ID. Alice's first INVITE is
// retransmitted once (RFC 3261 17.1.1.2, T1 = 500 ms) before the proxy
// answers 100 Trying.
var (
	alice    = netip.MustParseAddrPort("10.0.0.1:5060")
	proxy4   = netip.MustParseAddrPort("10.0.0.10:5060")
	proxy6   = netip.MustParseAddrPort("[2001:db8::10]:5060")
	bob      = netip.MustParseAddrPort("[2001:db8::20]:5060")
	sampleT0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
)

const sampleCallID = "a84b4c76e66710@pc33.atlanta.example.com"

func sdp(ipver, ip string, port int, codecs string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- 2890844526 2890844526 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n", ipver, ip, ipver, ip)
	pts := map[string]string{"PCMU": "0", "PCMA": "8"}
	var list []string
	for _, c := range strings.Split(codecs, ",") {
		list = append(list, pts[c])
	}
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %s\r\n", port, strings.Join(list, " "))
	for _, c := range strings.Split(codecs, ",") {
		fmt.Fprintf(&b, "a=rtpmap:%s %s/8000\r\n", pts[c], c)
	}
	b.WriteString("a=sendrecv\r\n")
	return b.String()
}

// sipMsg assembles a message with CRLF line ends and a correct
// Content-Length.
func sipMsg(start string, headers []string, body string) []byte {
	var b strings.Builder
	b.WriteString(start + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

type sipStep struct {
	ms       int
	src, dst netip.AddrPort
	raw      []byte
}

// sampleSteps returns the proxied call with the given Call-ID; offset
// shifts it in time.
func sampleSteps(callID string, offset int) []sipStep {
	viaA := "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds"
	viaP := "Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bKnashds8"
	from := "From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774"
	to := "To: \"Bob\" <sip:bob@biloxi.example.com>"
	toT := to + ";tag=a6c85cf"
	cid := "Call-ID: " + callID
	ua := "User-Agent: softphone/1.0"
	offer := sdp("IP4", "10.0.0.1", 4000, "PCMU,PCMA")
	answer := sdp("IP6", "2001:db8::20", 30000, "PCMA")
	inviteA := sipMsg("INVITE sip:bob@biloxi.example.com SIP/2.0",
		[]string{viaA, "Max-Forwards: 70", from, to, cid, "CSeq: 314159 INVITE", "Contact: <sip:alice@10.0.0.1>", ua}, offer)
	inviteP := sipMsg("INVITE sip:bob@[2001:db8::20] SIP/2.0",
		[]string{viaP, viaA, "Max-Forwards: 69", from, to, cid, "CSeq: 314159 INVITE", "Contact: <sip:alice@10.0.0.1>", ua}, offer)
	r := func(status string, vias []string, toH, cseq, body string) []byte {
		h := append(append([]string{}, vias...), from, toH, cid, cseq)
		return sipMsg("SIP/2.0 "+status, h, body)
	}
	ackA := sipMsg("ACK sip:bob@[2001:db8::20] SIP/2.0",
		[]string{"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashds9", "Max-Forwards: 70", from, toT, cid, "CSeq: 314159 ACK"}, "")
	ackP := sipMsg("ACK sip:bob@[2001:db8::20] SIP/2.0",
		[]string{"Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bKnashdsA", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashds9", "Max-Forwards: 69", from, toT, cid, "CSeq: 314159 ACK"}, "")
	byeA := sipMsg("BYE sip:bob@[2001:db8::20] SIP/2.0",
		[]string{"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashdsB", "Max-Forwards: 70", from, toT, cid, "CSeq: 314160 BYE"}, "")
	byeP := sipMsg("BYE sip:bob@[2001:db8::20] SIP/2.0",
		[]string{"Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bKnashdsC", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashdsB", "Max-Forwards: 69", from, toT, cid, "CSeq: 314160 BYE"}, "")
	byeOKP := r("200 OK", []string{"Via: SIP/2.0/UDP [2001:db8::10]:5060;branch=z9hG4bKnashdsC", "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashdsB"}, toT, "CSeq: 314160 BYE", "")
	byeOKA := r("200 OK", []string{"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashdsB"}, toT, "CSeq: 314160 BYE", "")
	steps := []sipStep{
		{0, alice, proxy4, inviteA},
		{500, alice, proxy4, inviteA}, // retransmission: identical bytes
		{505, proxy4, alice, r("100 Trying", []string{viaA}, to, "CSeq: 314159 INVITE", "")},
		{510, proxy6, bob, inviteP},
		{1630, bob, proxy6, r("180 Ringing", []string{viaP, viaA}, toT, "CSeq: 314159 INVITE", "")},
		{1634, proxy4, alice, r("180 Ringing", []string{viaA}, toT, "CSeq: 314159 INVITE", "")},
		{4210, bob, proxy6, r("200 OK", []string{viaP, viaA}, toT, "CSeq: 314159 INVITE", answer)},
		{4214, proxy4, alice, r("200 OK", []string{viaA}, toT, "CSeq: 314159 INVITE", answer)},
		{4302, alice, proxy4, ackA},
		{4306, proxy6, bob, ackP},
		{65120, alice, proxy4, byeA},
		{65124, proxy6, bob, byeP},
		{65140, bob, proxy6, byeOKP},
		{65145, proxy4, alice, byeOKA},
	}
	for i := range steps {
		steps[i].ms += offset
	}
	return steps
}

// registerSteps is a REGISTER with a digest challenge from Bob's IPv6
// phone, so the call list has a second, non-INVITE row.
func registerSteps() []sipStep {
	cid := "Call-ID: 843817637684230@998sdasdh09"
	from := "From: <sip:bob@biloxi.example.com>;tag=456248"
	to := "To: <sip:bob@biloxi.example.com>"
	via := func(b string) string { return "Via: SIP/2.0/UDP [2001:db8::20]:5060;branch=" + b }
	reg := func(cseq, b string, extra ...string) []byte {
		return sipMsg("REGISTER sip:registrar.biloxi.example.com SIP/2.0",
			append([]string{via(b), "Max-Forwards: 70", from, to, cid, "CSeq: " + cseq + " REGISTER", "Contact: <sip:bob@[2001:db8::20]>", "User-Agent: deskphone/7.2"}, extra...), "")
	}
	resp := func(status, cseq, b string, extra ...string) []byte {
		return sipMsg("SIP/2.0 "+status, append([]string{via(b), from, to + ";tag=2493k59kd", cid, "CSeq: " + cseq + " REGISTER"}, extra...), "")
	}
	return []sipStep{
		{-2000, bob, proxy6, reg("1826", "z9hG4bKnashds7")},
		{-1996, proxy6, bob, resp("401 Unauthorized", "1826", "z9hG4bKnashds7", `WWW-Authenticate: Digest realm="biloxi.example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359"`)},
		{-1950, bob, proxy6, reg("1827", "z9hG4bKnashds8", `Authorization: Digest username="bob", realm="biloxi.example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:registrar.biloxi.example.com", response="dfe56131d1958046689d83306477ecc"`)},
		{-1946, proxy6, bob, resp("200 OK", "1827", "z9hG4bKnashds8", "Expires: 3600")},
	}
}

func feed(s *sipflow.Store, steps []sipStep) {
	for i, st := range steps {
		s.Add(st.raw, sipflow.Meta{
			Time: sampleT0.Add(time.Duration(st.ms) * time.Millisecond),
			Src:  st.src, Dst: st.dst, Transport: sipflow.TransportUDP, Frame: i + 1, Offset: -1,
		})
	}
}

// sampleStore holds the register dialog and the proxied call, with the
// call's two RTP streams attached the way the engine does.
func sampleStore(t testing.TB) *sipflow.Store {
	t.Helper()
	s := sipflow.NewStore(sipflow.StoreOptions{})
	feed(s, registerSteps())
	feed(s, sampleSteps(sampleCallID, 0))
	if !s.SetStreams(sampleCallID, []sipflow.Stream{
		{Src: netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("[2001:db8::20]:30000"), SSRC: 0x1A2B3C4D, Codec: "PCMA", Packets: 3040, Lost: 2, JitterMS: 1.8, MOS: 4.37},
		{Src: netip.MustParseAddrPort("[2001:db8::20]:30000"), Dst: netip.MustParseAddrPort("10.0.0.1:4000"), SSRC: 0x5E6F7081, Codec: "PCMA", Packets: 3038, Lost: 41, JitterMS: 12.5, MOS: 3.91},
	}) {
		t.Fatal("SetStreams: sample call not in store")
	}
	if !s.SetProblems(sampleCallID, []sipflow.Problem{{Code: "high-jitter", Severity: sipflow.SeverityWarning, SSRC: 0x5E6F7081,
		Detail: "[2001:db8::20]:30000 -> 10.0.0.1:4000 jitter peaked at 48.0 ms (mean 12.5 ms)"}}) {
		t.Fatal("SetProblems: sample call not in store")
	}
	return s
}

func sampleCalls(t testing.TB) []sipflow.CallSummary {
	t.Helper()
	calls := sampleStore(t).Snapshot()
	if len(calls) != 2 {
		t.Fatalf("sample store has %d calls, want 2", len(calls))
	}
	return calls
}

func sampleDetail(t testing.TB) sipflow.CallDetail {
	t.Helper()
	d, ok := sampleStore(t).Call(sampleCallID)
	if !ok {
		t.Fatal("sample call missing")
	}
	return d
}

// sampleStreams are the two directions of the sample call as rtpstats
// reports them; the E-model values come from rtpstats.Assess so they stay
// consistent with the inputs.
func sampleStreams() []rtpstats.StreamReport {
	mk := func(src, dst string, ssrc uint32, startMs int, pkts, lost int, br, meanJ, maxJ, maxD float64, lateJB50 int, rtt float64) rtpstats.StreamReport {
		exp := pkts + lost
		r := rtpstats.StreamReport{
			CallID: sampleCallID, SSRC: ssrc,
			Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst),
			PayloadType: 8, Codec: "PCMA", ClockRate: 8000,
			Start:   sampleT0.Add(time.Duration(startMs) * time.Millisecond),
			End:     sampleT0.Add(time.Duration(startMs+60800) * time.Millisecond),
			Packets: pkts, Expected: exp, Lost: lost, LostTshark: lost, LostPct: float64(lost) * 100 / float64(exp),
			MinDeltaMs: 0.4, MeanDeltaMs: 20, MaxDeltaMs: maxD,
			MinJitterMs: 0, MeanJitterMs: meanJ, MaxJitterMs: maxJ, MaxSkewMs: 11.2,
			PacketMs: 20,
		}
		r.BurstLoss.BurstR = br
		r.LossHistogram[0] = lost
		delay := 20.0
		if rtt > 0 {
			r.RTCP = &rtpstats.RTCPSummary{SenderReports: 12, CNAME: "bob@biloxi", RTTMs: rtt, HasRTT: true}
			delay += rtt / 2
		}
		ppl := r.LostPct
		r.Quality = rtpstats.Assess("PCMA", true, ppl, br, delay)
		r.QualityJB50 = rtpstats.Assess("PCMA", true, float64(lost+lateJB50)*100/float64(exp), br, delay+50)
		r.QualityJB50.LateLost = lateJB50
		r.QualityJB200 = rtpstats.Assess("PCMA", true, ppl, br, delay+200)
		r.QualityAdaptive = rtpstats.Assess("PCMA", true, ppl, br, delay+35)
		r.RFactor, r.MOS = r.Quality.R, r.Quality.MOS
		r.MOSJB50, r.MOSJB200, r.MOSAdaptive = r.QualityJB50.MOS, r.QualityJB200.MOS, r.QualityAdaptive.MOS
		return r
	}
	return []rtpstats.StreamReport{
		mk("10.0.0.1:4000", "[2001:db8::20]:30000", 0x1A2B3C4D, 4320, 3040, 2, 1, 1.2, 3.4, 41.5, 0, 0),
		mk("[2001:db8::20]:30000", "10.0.0.1:4000", 0x5E6F7081, 4330, 3038, 41, 2.4, 6.8, 31.2, 122.9, 17, 48),
	}
}

// sampleAliases names both proxy addresses, as an alias file would.
func sampleAliases() map[netip.Addr]string {
	return map[netip.Addr]string{
		netip.MustParseAddr("10.0.0.10"):    "proxy",
		netip.MustParseAddr("2001:db8::10"): "proxy",
	}
}
