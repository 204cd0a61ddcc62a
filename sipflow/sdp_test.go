package sipflow

import (
	"errors"
	"strings"
	"testing"
)

func TestSDPUnmarshal(t *testing.T) {
	body := crlf(`v=0
o=jdoe 2890844526 2890842807 IN IP6 2001:db8::1
s=SDP Seminar
c=IN IP6 2001:db8::2
t=0 0
a=recvonly
m=audio 49170 RTP/SAVP 0 96 101
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32
a=rtpmap:96 opus/48000/2
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtcp:53020 IN IP4 126.16.64.4
a=ptime:20
m=video 51372 UDP/TLS/RTP/SAVPF 99
c=IN IP4 192.0.2.7/127
a=rtcp-mux
a=fingerprint:sha-256 AB:CD
a=inactive
m=image 0 udptl t38
`)
	var s SDP
	if err := s.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	if s.Bad != 0 || len(s.Media) != 3 || string(s.SessionName) != "SDP Seminar" || s.Origin.IP.String() != "2001:db8::1" {
		t.Fatalf("bad %d media %d name %q origin %v", s.Bad, len(s.Media), s.SessionName, s.Origin.IP)
	}
	a := &s.Media[0]
	if string(a.Type) != "audio" || a.Port != 49170 || string(a.Proto) != "RTP/SAVP" || len(a.Payloads) != 3 || a.Payloads[1] != 96 {
		t.Errorf("audio %+v", a)
	}
	if ep, ok := s.Endpoint(0); !ok || ep.String() != "[2001:db8::2]:49170" {
		t.Errorf("endpoint %v", ep)
	}
	if ep, ok := s.RTCPEndpoint(0); !ok || ep.String() != "126.16.64.4:53020" {
		t.Errorf("rtcp %v", ep)
	}
	if s.Direction(0) != DirRecvOnly || !s.Secure(0) || a.Ptime != 20 {
		t.Errorf("dir %v secure %v ptime %d", s.Direction(0), s.Secure(0), a.Ptime)
	}
	if string(s.Codec(0, 96)) != "opus" || a.RTPMaps[0].Clock != 48000 || a.RTPMaps[0].Channels != 2 || string(s.Codec(0, 0)) != "PCMU" {
		t.Errorf("codecs %+v", a.RTPMaps)
	}
	if len(a.Fmtps) != 1 || string(a.Fmtps[0].Params) != "0-15" {
		t.Errorf("fmtp %+v", a.Fmtps)
	}
	v := &s.Media[1]
	if ep, _ := s.Endpoint(1); ep.String() != "192.0.2.7:51372" {
		t.Errorf("video endpoint %v", ep)
	}
	if ep, _ := s.RTCPEndpoint(1); ep.String() != "192.0.2.7:51372" || !v.RTCPMux || !s.Secure(1) || s.Direction(1) != DirInactive {
		t.Errorf("video rtcp %v mux %v", ep, v.RTCPMux)
	}
	if _, ok := s.Endpoint(2); ok {
		t.Error("port 0 media must have no endpoint")
	}
	if string(s.Media[2].Proto) != "udptl" || string(s.Media[2].Formats) != "t38" || len(s.Media[2].Payloads) != 0 {
		t.Errorf("t38 %+v", s.Media[2])
	}
}

func TestSDPHold(t *testing.T) {
	tests := []struct {
		name string
		body string
		hold bool
	}{
		{"sendrecv", "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\na=sendrecv\n", false},
		{"no attribute", "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n", false},
		{"sendonly", "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\na=sendonly\n", true},
		{"session inactive", "v=0\nc=IN IP4 1.2.3.4\na=inactive\nm=audio 4000 RTP/AVP 0\n", true},
		{"media overrides session", "v=0\nc=IN IP4 1.2.3.4\na=inactive\nm=audio 4000 RTP/AVP 0\na=sendrecv\n", false},
		{"RFC 2543 0.0.0.0", "v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\n", true},
		{"recvonly is not hold", "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\na=recvonly\n", false},
		{"all disabled", "v=0\nc=IN IP4 1.2.3.4\nm=audio 0 RTP/AVP 0\n", false},
	}
	for _, tt := range tests {
		var s SDP
		if err := s.Unmarshal(crlf(tt.body)); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := s.OnHold(); got != tt.hold {
			t.Errorf("%s: OnHold = %v, want %v", tt.name, got, tt.hold)
		}
	}
}

func TestSDPErrors(t *testing.T) {
	var s SDP
	if err := s.Unmarshal([]byte("hello")); !errors.Is(err, ErrNotSDP) {
		t.Errorf("err %v", err)
	}
	body := "v=0\nthis is not a line\nc=IN\nm=audio x RTP/AVP 0\nc=IN IP4 999.1.1.1\na=rtpmap:abc\na=ptime:x\n"
	if err := s.Unmarshal([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if s.Bad != 5 { // junk line, short c=, bad port, rtpmap, ptime (the bad IP parses as a name)
		t.Errorf("bad lines = %d", s.Bad)
	}
	if s.Media[0].Conn.IP.IsValid() {
		t.Error("999.1.1.1 must not parse as an address")
	}
}

func TestParseIP(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1": "10.0.0.1", "255.255.255.255": "255.255.255.255", "0.0.0.0": "0.0.0.0",
		"::1": "::1", "2001:db8::1": "2001:db8::1",
		"256.1.1.1": "invalid IP", "1.2.3": "invalid IP", "1.2.3.4.5": "invalid IP", "a.b.c.d": "invalid IP",
		"": "invalid IP", "1..2.3": "invalid IP", "0001.1.1.1": "invalid IP", "host.example.com": "invalid IP",
	} {
		if got := parseIP([]byte(in)).String(); got != want {
			t.Errorf("parseIP(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSDPAllocs(t *testing.T) {
	b := []byte(strings.ReplaceAll(sdpOffer, "\n", "\r\n"))
	var s SDP
	_ = s.Unmarshal(b)
	if n := testing.AllocsPerRun(200, func() { _ = s.Unmarshal(b) }); n != 0 {
		t.Fatalf("SDP allocs = %v", n)
	}
}
