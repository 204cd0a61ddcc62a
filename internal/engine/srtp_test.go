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
)

// SRTCP of a call whose SDP offers an SDES key is decrypted with it and
// read: the sender report reaches the tracker. A wrong key is counted,
// never analysed as RTCP.
func TestSRTCPDecryptedWithSDESKey(t *testing.T) {
	master := []byte("0123456789abcdef") // 16-byte AES-128 master key
	salt := []byte("0123456789abcd")     // 14-byte master salt
	inline := base64.StdEncoding.EncodeToString(append(append([]byte(nil), master...), salt...))
	aliceRTCP := netip.MustParseAddrPort("10.0.0.1:40001")
	bob := netip.MustParseAddrPort("10.0.0.2:20000")
	sdp := "v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + inline + "\r\n"
	invite := "INVITE sip:bob@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"From: <sip:alice@10.0.0.1>;tag=a\r\nTo: <sip:bob@10.0.0.2>\r\nCall-ID: srtp-1\r\nCSeq: 1 INVITE\r\n" +
		"Content-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdp)) + "\r\n\r\n" + sdp
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

	ctx, err := srtp.CreateContext(master, salt, srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	sr := &rtcp.SenderReport{SSRC: 0x1234, NTPTime: 0xdeadbeef00000000, RTPTime: 160, PacketCount: 50, OctetCount: 8000}
	plain, err := sr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := ctx.EncryptRTCP(nil, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), enc...)
	bad[len(bad)-1] ^= 0xff // the authentication tag no longer matches

	e := New(Options{})
	events := []capture.Event{
		{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: t0, Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"), Payload: []byte(invite)},
		{Kind: capture.KindRTCP, Transport: capture.TransportUDP, Time: t0.Add(time.Second), Src: aliceRTCP, Dst: bob, Payload: enc},
		{Kind: capture.KindRTCP, Transport: capture.TransportUDP, Time: t0.Add(2 * time.Second), Src: aliceRTCP, Dst: bob, Payload: bad},
	}
	for i := range events {
		if err := e.Handle(&events[i]); err != nil {
			t.Fatal(err)
		}
	}
	st := e.Status()
	if st.Engine.SRTCPDecrypted != 1 || st.Engine.SRTCPFailed != 1 || st.Engine.SDESBad != 0 {
		t.Errorf("engine counters %+v", st.Engine)
	}
	if st.RTP.RTCPPackets != 1 || st.RTP.RTCPErrors != 0 {
		t.Errorf("tracker RTCP counters %+v: want the decrypted sender report read, the forged one not", st.RTP)
	}
	if !strings.Contains(st.String(), "1 SRTCP packets decrypted with SDES keys, 1 failed authentication") {
		t.Errorf("status line does not say it: %s", st)
	}
}
