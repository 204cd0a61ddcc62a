package engine

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/srtpdec"
)

// sdesSIP builds a SIP message with an SDP whose media at host:port
// carries the given a=crypto lines.
func sdesSIP(first, callID, host string, port int, crypto ...string) string {
	sdp := "v=0\r\no=x 1 1 IN IP4 " + host + "\r\ns=-\r\nc=IN IP4 " + host + "\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	for _, c := range crypto {
		sdp += "a=crypto:" + c + "\r\n"
	}
	method := "INVITE"
	return first + "\r\nVia: SIP/2.0/UDP " + host + ":5060;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@10.0.0.1>;tag=a\r\nTo: <sip:bob@10.0.0.2>;tag=b\r\nCall-ID: " + callID + "\r\nCSeq: 1 " + method + "\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
}

type sdesKey struct {
	master, salt []byte
	profile      srtp.ProtectionProfile
}

func (k sdesKey) inline() string {
	return base64.StdEncoding.EncodeToString(append(append([]byte(nil), k.master...), k.salt...))
}

func (k sdesKey) srtcp(t *testing.T, ssrc uint32) []byte {
	t.Helper()
	ctx, err := srtp.CreateContext(k.master, k.salt, k.profile)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := (&rtcp.SenderReport{SSRC: ssrc, NTPTime: 0xdeadbeef00000000, RTPTime: 160, PacketCount: 50, OctetCount: 8000}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := ctx.EncryptRTCP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// The offer lists two suites; the answer picks the second by its tag.
// The offerer then sends with the offered key of tag 2, not the first
// line's, and the answerer with the answer's key: both directions'
// SRTCP are decrypted. Before the answer only the first line is bound
// (provisionally), so the offerer's tag-2 SRTCP fails.
func TestSDESAnswerChoosesSecondTag(t *testing.T) {
	off1 := sdesKey{[]byte("offer-key-1-AES!"), []byte("offer-salt-1-!"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	off2 := sdesKey{[]byte("offer-key-2-AES!"), []byte("offer-salt-2-!"), srtp.ProtectionProfileAes128CmHmacSha1_32}
	ans := sdesKey{[]byte("answer-key-2-AE!"), []byte("answer-salt-2!"), srtp.ProtectionProfileAes128CmHmacSha1_32}
	invite := sdesSIP("INVITE sip:bob@10.0.0.2 SIP/2.0", "sdes-tag", "10.0.0.1", 40000,
		"1 AES_CM_128_HMAC_SHA1_80 inline:"+off1.inline(), "2 AES_CM_128_HMAC_SHA1_32 inline:"+off2.inline())
	ok200 := sdesSIP("SIP/2.0 200 OK", "sdes-tag", "10.0.0.2", 20000, "2 AES_CM_128_HMAC_SHA1_32 inline:"+ans.inline())
	alice, bob := netip.MustParseAddrPort("10.0.0.1:40001"), netip.MustParseAddrPort("10.0.0.2:20001")
	sip := func(src, dst string) (netip.AddrPort, netip.AddrPort) {
		return netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	e := New(Options{})
	feed := func(i int, kind capture.Kind, src, dst netip.AddrPort, b []byte) {
		ev := capture.Event{Kind: kind, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(i) * time.Second), Src: src, Dst: dst, Payload: b}
		if err := e.Handle(&ev); err != nil {
			t.Fatal(err)
		}
	}
	// decrypted feeds one SRTCP packet and reports whether it was decrypted.
	n := 0
	decrypted := func(src, dst netip.AddrPort, b []byte) bool {
		before := e.Status().Engine.SRTCPDecrypted
		n++
		feed(n, capture.KindRTCP, src, dst, b)
		return e.Status().Engine.SRTCPDecrypted == before+1
	}
	s, d := sip("10.0.0.1:5060", "10.0.0.2:5060")
	feed(0, capture.KindSIP, s, d, []byte(invite))
	if decrypted(alice, bob, off2.srtcp(t, 0x1111)) {
		t.Error("before the answer, the offerer's tag-2 SRTCP was decrypted: only the first line is bound then")
	}
	if !decrypted(alice, bob, off1.srtcp(t, 0x1111)) {
		t.Error("before the answer, the offerer's first line does not decrypt")
	}
	n++
	feed(n, capture.KindSIP, d, s, []byte(ok200))
	if !decrypted(alice, bob, off2.srtcp(t, 0x1111)) {
		t.Error("the offerer's SRTCP under the chosen tag 2 is not decrypted")
	}
	if !decrypted(bob, alice, ans.srtcp(t, 0x2222)) {
		t.Error("the answerer's SRTCP under its answer key is not decrypted")
	}
	if decrypted(alice, bob, off1.srtcp(t, 0x1111)) {
		t.Error("the offerer's unchosen first line still decrypts")
	}
	st := e.Status().Engine
	if st.SRTCPDecrypted != 3 || st.SRTCPFailed != 2 || st.SDESRebound != 1 || st.SDESTagUnmatched != 0 || st.SDESBad != 0 {
		t.Errorf("engine counters %+v", st)
	}
}

// An answer naming a tag the offer did not carry keeps the provisional
// binding and is counted.
func TestSDESAnswerUnknownTag(t *testing.T) {
	off1 := sdesKey{[]byte("offer-key-1-AES!"), []byte("offer-salt-1-!"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	ans := sdesKey{[]byte("answer-key-2-AE!"), []byte("answer-salt-2!"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	e := New(Options{})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i, m := range []string{
		sdesSIP("INVITE sip:bob@10.0.0.2 SIP/2.0", "sdes-x", "10.0.0.1", 40000, "1 AES_CM_128_HMAC_SHA1_80 inline:"+off1.inline()),
		sdesSIP("SIP/2.0 200 OK", "sdes-x", "10.0.0.2", 20000, "7 AES_CM_128_HMAC_SHA1_80 inline:"+ans.inline()),
	} {
		ev := capture.Event{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(i) * time.Second),
			Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"), Payload: []byte(m)}
		if i == 1 {
			ev.Src, ev.Dst = ev.Dst, ev.Src
		}
		e.Handle(&ev)
	}
	if st := e.Status().Engine; st.SDESTagUnmatched != 1 || st.SDESRebound != 0 {
		t.Errorf("engine counters %+v", st)
	}
}

// A key given by SSRC (--srtp-key) decrypts that SSRC's SRTCP with no
// SDP at all; another SSRC from the same address is not decrypted.
func TestSRTPKeyBySSRC(t *testing.T) {
	k := sdesKey{[]byte("by-ssrc-key-AES!"), []byte("by-ssrc-salt!!"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	ssrc, key, err := srtpdec.ParseKeyArg("0x1234:" + k.inline())
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{SRTPKeys: []srtpdec.SSRCKey{{SSRC: ssrc, Key: key}}})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	src, dst := netip.MustParseAddrPort("10.0.0.1:40001"), netip.MustParseAddrPort("10.0.0.2:20001")
	for i, p := range [][]byte{k.srtcp(t, 0x1234), k.srtcp(t, 0x9999)} {
		ev := capture.Event{Kind: capture.KindRTCP, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(i) * time.Second), Src: src, Dst: dst, Payload: p}
		e.Handle(&ev)
	}
	if st := e.Status(); st.Engine.SRTCPDecrypted != 1 || st.Engine.SRTCPFailed != 0 {
		t.Errorf("engine %+v: want SSRC 0x1234 decrypted, 0x9999 left without a key", st.Engine)
	}
}

// srtpEvents protects n RTP packets of ssrc with k and returns them as
// capture events from src, headers decoded as the classifier does.
func srtpEvents(t testing.TB, k sdesKey, ssrc uint32, pt uint8, n int, payload func(i int) []byte, src, dst netip.AddrPort, t0 time.Time) []capture.Event {
	ctx, err := srtp.CreateContext(k.master, k.salt, k.profile)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]capture.Event, n)
	for i := range evs {
		p := payload(i)
		plain := make([]byte, 12, 12+len(p))
		plain[0], plain[1] = 0x80, pt
		plain[2], plain[3] = byte(i>>8), byte(i)
		ts := uint32(i/4) * 800 // RFC 4733: one timestamp per event
		plain[4], plain[5], plain[6], plain[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		plain[8], plain[9], plain[10], plain[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		plain = append(plain, p...)
		enc, err := ctx.EncryptRTP(nil, plain, nil)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), Src: src, Dst: dst, Payload: enc}
		if err := evs[i].RTP.Unmarshal(enc); err != nil {
			t.Fatal(err)
		}
	}
	return evs
}

// SRTP of a call with SDES keys is decrypted before the tracker reads
// it: RFC 4733 events inside (digit 5, sent as four events) are found,
// which their ciphertext would never give. A packet with a damaged tag
// is counted and analysed from its header only.
func TestSRTPPayloadDecrypted(t *testing.T) {
	k := sdesKey{[]byte("dtmf-master-key!"), []byte("dtmf-salt-1234"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	sdp := "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/SAVP 101\r\na=rtpmap:101 telephone-event/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + k.inline() + "\r\n"
	invite := "INVITE sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@10.0.0.1>;tag=a\r\nTo: <sip:bob@10.0.0.2>\r\nCall-ID: srtp-dtmf\r\nCSeq: 1 INVITE\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	alice, bob := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:20000")
	e := New(Options{})
	sipEv := capture.Event{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: t0, Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"), Payload: []byte(invite)}
	e.Handle(&sipEv)
	// Four events (digits 5, 1, 9, #), four packets each, the last with E set.
	digits := []byte{5, 1, 9, 11}
	evs := srtpEvents(t, k, 0xabcd, 101, 16, func(i int) []byte {
		end := byte(0)
		if i%4 == 3 {
			end = 0x80
		}
		dur := uint16(160 * (i%4 + 1))
		return []byte{digits[i/4], end | 10, byte(dur >> 8), byte(dur)}
	}, alice, bob, t0.Add(time.Second))
	evs[5].Payload[len(evs[5].Payload)-1] ^= 1 // a damaged tag: digit 1 still ends with packet 7
	for i := range evs {
		e.Handle(&evs[i])
	}
	st := e.Status().Engine
	if st.SRTPDecrypted != 15 || st.SRTPFailed != 1 {
		t.Errorf("counters %+v", st)
	}
	var got []string
	for _, s := range e.Streams("") {
		for _, d := range s.DTMF {
			got = append(got, d.Digit)
		}
	}
	if strings.Join(got, "") != "519#" {
		t.Errorf("DTMF %q, want 519#", got)
	}
}

// Decrypting SRTP on the per-packet path allocates nothing once the
// stream's key is installed and its stream exists.
func TestSRTPDecryptAllocs(t *testing.T) {
	k := sdesKey{[]byte("alloc-master-ke!"), []byte("alloc-salt-123"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	ssrc, key, err := srtpdec.ParseKeyArg("0x42:" + k.inline())
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{SRTPKeys: []srtpdec.SSRCKey{{SSRC: ssrc, Key: key}}})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	evs := srtpEvents(t, k, 0x42, 0, 400, func(int) []byte { return make([]byte, 160) },
		netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:20000"), t0)
	for i := range 100 { // the stream, its tables and buffers exist
		e.Handle(&evs[i])
	}
	i := 100
	allocs := testing.AllocsPerRun(200, func() {
		e.Handle(&evs[i])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per SRTP packet", allocs)
	}
	if st := e.Status().Engine; st.SRTPDecrypted != int64(i) || st.SRTPFailed != 0 {
		t.Errorf("counters %+v after %d packets", st, i)
	}
}

// BenchmarkHandleSRTP: one 160-byte G.711 SRTP packet through the
// engine (decryption, header, tracker), steady state.
func BenchmarkHandleSRTP(b *testing.B) {
	k := sdesKey{[]byte("bench-master-ke!"), []byte("bench-salt-123"), srtp.ProtectionProfileAes128CmHmacSha1_80}
	ssrc, key, err := srtpdec.ParseKeyArg("0x42:" + k.inline())
	if err != nil {
		b.Fatal(err)
	}
	e := New(Options{SRTPKeys: []srtpdec.SSRCKey{{SSRC: ssrc, Key: key}}})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	evs := srtpEvents(b, k, 0x42, 0, 4096, func(int) []byte { return make([]byte, 160) },
		netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:20000"), t0)
	b.ReportAllocs()
	b.SetBytes(int64(len(evs[0].Payload)))
	i := 0
	for b.Loop() {
		e.Handle(&evs[i%len(evs)])
		i++
	}
}
