package sipflow

import "testing"

// Realistic dialogs for the parser benchmarks: a generated load call as
// in the SIP-heavy benchmark captures, and a real IMS call with early media
// (../shared/corpus/sip-udp-g711a-bidir-183-earlymedia.pcap). Each is
// INVITE with SDP, provisional responses, 200 with SDP, ACK, BYE, 200.
var benchDialogs = map[string][][]byte{
	"load": {
		crlf(`INVITE sip:bob@10.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1656d636;rport
Max-Forwards: 70
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>
Call-ID: large-0000000@voiptool.test
CSeq: 1 INVITE
Contact: <sip:u0@10.10.0.0:5060;transport=udp>
User-Agent: Zoiper rv2.10.20.3
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY
Supported: replaces, timer
Content-Type: application/sdp
Content-Length: 222

v=0
o=u0 0 1 IN IP4 10.10.0.0
s=voiptool
c=IN IP4 10.10.0.0
t=0 0
m=audio 40000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`),
		crlf(`SIP/2.0 100 Trying
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1656d636;rport
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>
Call-ID: large-0000000@voiptool.test
CSeq: 1 INVITE
Server: Asterisk PBX 20.5.0
Content-Length: 0

`),
		crlf(`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1656d636;rport
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>;tag=lb0
Call-ID: large-0000000@voiptool.test
CSeq: 1 INVITE
Contact: <sip:bob@10.0.0.1:5060;transport=udp>
Server: Asterisk PBX 20.5.0
Content-Length: 0

`),
		crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1656d636;rport
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>;tag=lb0
Call-ID: large-0000000@voiptool.test
CSeq: 1 INVITE
Contact: <sip:bob@10.0.0.1:5060;transport=udp>
Server: Asterisk PBX 20.5.0
Content-Type: application/sdp
Content-Length: 222

v=0
o=root 0 1 IN IP4 10.0.0.1
s=voiptool
c=IN IP4 10.0.0.1
t=0 0
m=audio 10000 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`),
		crlf(`ACK sip:bob@10.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1e56e2ce;rport
Max-Forwards: 70
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>;tag=lb0
Call-ID: large-0000000@voiptool.test
CSeq: 1 ACK
User-Agent: Zoiper rv2.10.20.3
Content-Length: 0

`),
		crlf(`BYE sip:bob@10.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1d56e13b;rport
Max-Forwards: 70
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>;tag=lb0
Call-ID: large-0000000@voiptool.test
CSeq: 2 BYE
User-Agent: Zoiper rv2.10.20.3
Content-Length: 0

`),
		crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.10.0.0:5060;branch=z9hG4bK1d56e13b;rport
From: "Load" <sip:u0@pbx.example.com>;tag=la0
To: "Bob" <sip:bob@pbx.example.com>;tag=lb0
Call-ID: large-0000000@voiptool.test
CSeq: 2 BYE
Server: Asterisk PBX 20.5.0
Content-Length: 0

`),
	},
	"ims": {
		crlf(`INVITE sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone SIP/2.0
Via: SIP/2.0/UDP 10.251.23.139:5060;branch=z9hG4bK12b005c2
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>
P-Preferred-Identity: <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>
Call-ID: 1135D8701739D86@10.251.23.139
CSeq: 1 INVITE
Allow: INVITE, ACK, BYE, CANCEL, REFER, NOTIFY, SUBSCRIBE, REGISTER
Max-Forwards: 70
Contact: <sip:+33360653674@10.251.23.139:5060;user=phone>
User-Agent: neufbox6 - r13507
Content-Type: application/sdp
Content-Length: 277

v=0
o=+33360653674 1388604231 1388604232 IN IP4 10.251.23.139
s=-
c=IN IP4 10.251.23.139
t=0 0
m=audio 35560 RTP/AVP 8 0 18 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11
a=sendrecv
a=ptime:20
`),
		crlf(`SIP/2.0 100 Trying
Call-ID: 1135D8701739D86@10.251.23.139
Via: SIP/2.0/UDP 10.251.23.139:5060;received=10.251.23.139;branch=z9hG4bK12b005c2
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
CSeq: 1 INVITE
Date: Wed, 01 Jan 2014 19:23:51 GMT
Server: Alcatel-Lucent-HPSS/3.0.3
Content-Length: 0

`),
		crlf(`SIP/2.0 183 Session Progress
Via: SIP/2.0/UDP 10.251.23.139:5060;received=10.251.23.139;branch=z9hG4bK12b005c2
Call-ID: 1135D8701739D86@10.251.23.139
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=524b656f-138860423163019-gm-po-lucentPCSF-021676
CSeq: 1 INVITE
Contact: <sip:pcgw-0006.imsgroup0-005.ach4isc02.ims.sfr.net:5062>
Server: Alcatel-Lucent-HPSS/3.0.3
Content-Length: 222
Content-Type: application/sdp

v=0
o=LucentPCSF 1619618013 1619618013 IN IP4 imsgroup0-005.ach4isc02.ims.sfr.net
s=-
c=IN IP4 109.3.79.137
t=0 0
m=audio 44344 RTP/AVP 8 101
a=rtpmap:101 telephone-event/8000
a=sendrecv
a=ptime:20
a=maxptime:30
`),
		crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.251.23.139:5060;received=10.251.23.139;branch=z9hG4bK12b005c2
Call-ID: 1135D8701739D86@10.251.23.139
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=524b656f-138860423163019-gm-po-lucentPCSF-021676
CSeq: 1 INVITE
Contact: <sip:pcgw-0006.imsgroup0-005.ach4isc02.ims.sfr.net:5062>
Allow: INVITE,ACK,BYE,CANCEL,INFO,OPTIONS,UPDATE,REFER,NOTIFY
User-Agent: swengine v3.5 r14843
Server: Alcatel-Lucent-HPSS/3.0.3
Content-Length: 222
Content-Type: application/sdp

v=0
o=LucentPCSF 1619618013 1619618013 IN IP4 imsgroup0-005.ach4isc02.ims.sfr.net
s=-
c=IN IP4 109.3.79.137
t=0 0
m=audio 44344 RTP/AVP 8 101
a=rtpmap:101 telephone-event/8000
a=sendrecv
a=ptime:20
a=maxptime:30
`),
		crlf(`ACK sip:pcgw-0006.imsgroup0-005.ach4isc02.ims.sfr.net:5062 SIP/2.0
Via: SIP/2.0/UDP 10.251.23.139:5060;received=10.251.23.139;branch=z9hG4bK12b005c2
Max-Forwards: 70
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=524b656f-138860423163019-gm-po-lucentPCSF-021676
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
Call-ID: 1135D8701739D86@10.251.23.139
CSeq: 1 ACK
Content-Length: 0

`),
		crlf(`BYE sip:pcgw-0006.imsgroup0-005.ach4isc02.ims.sfr.net:5062 SIP/2.0
Via: SIP/2.0/UDP 10.251.23.139:5060;branch=z9hG4bK11a5291f
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=524b656f-138860423163019-gm-po-lucentPCSF-021676
Call-ID: 1135D8701739D86@10.251.23.139
CSeq: 2 BYE
Allow: INVITE, ACK, BYE, CANCEL, REFER, NOTIFY, SUBSCRIBE, REGISTER
Max-Forwards: 70
Contact: <sip:+33360653674@10.251.23.139:5060;user=phone>
User-Agent: neufbox6 - r13507
Content-Length: 0

`),
		crlf(`SIP/2.0 200 OK
Call-ID: 1135D8701739D86@10.251.23.139
Via: SIP/2.0/UDP 10.251.23.139:5060;received=10.251.23.139;branch=z9hG4bK11a5291f
To: <sip:147@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=524b656f-138860423163019-gm-po-lucentPCSF-021676
From: "0360653674" <sip:+33360653674@ims.mnc010.mcc208.3gppnetwork.org;user=phone>;tag=66891B8
CSeq: 2 BYE
Contact: <sip:pcgw-0006.imsgroup0-005.ach4isc02.ims.sfr.net:5062>
Date: Wed, 01 Jan 2014 19:23:56 GMT
Server: Alcatel-Lucent-HPSS/3.0.3
Content-Length: 0

`),
	},
}

// BenchmarkUnmarshalDialog parses every message of a dialog into one reused
// Message, as the pipeline does; ns/op is per message.
func BenchmarkUnmarshalDialog(b *testing.B) {
	for _, name := range []string{"load", "ims"} {
		msgs := benchDialogs[name]
		b.Run(name, func(b *testing.B) {
			var m Message
			n := 0
			for _, x := range msgs {
				n += len(x)
			}
			b.ReportAllocs()
			b.SetBytes(int64(n / len(msgs)))
			i := 0
			for b.Loop() {
				_ = m.Unmarshal(msgs[i])
				if i++; i == len(msgs) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkUnmarshalBodyDialog is BenchmarkUnmarshalDialog for
// UnmarshalBody, the classifier's decode of the body alone.
func BenchmarkUnmarshalBodyDialog(b *testing.B) {
	for _, name := range []string{"load", "ims"} {
		msgs := benchDialogs[name]
		b.Run(name, func(b *testing.B) {
			var m Message
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_ = m.UnmarshalBody(msgs[i])
				if i++; i == len(msgs) {
					i = 0
				}
			}
		})
	}
}

func TestUnmarshalDialogAllocs(t *testing.T) {
	var m Message
	for name, msgs := range benchDialogs {
		for _, x := range msgs {
			if err := m.Unmarshal(x); err != nil || m.Warnings != 0 {
				t.Fatalf("%s: err %v warnings %v", name, err, m.Warnings)
			}
		}
		for i, x := range msgs {
			if n := testing.AllocsPerRun(100, func() { _ = m.Unmarshal(x) }); n != 0 {
				t.Errorf("%s message %d: Unmarshal allocs = %v, want 0", name, i, n)
			}
			if n := testing.AllocsPerRun(100, func() { _ = m.UnmarshalBody(x) }); n != 0 {
				t.Errorf("%s message %d: UnmarshalBody allocs = %v, want 0", name, i, n)
			}
		}
	}
}
