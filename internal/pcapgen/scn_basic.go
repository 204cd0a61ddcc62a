package pcapgen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Addresses of the demo network (RFC 1918 / RFC 3849 documentation space).
var (
	addrAlice  = netip.MustParseAddr("192.168.1.10")
	addrPBX    = netip.MustParseAddr("10.0.0.1")
	addrBob    = netip.MustParseAddr("192.168.1.20")
	addrAlice6 = netip.MustParseAddr("2001:db8::10")
	addrPBX6   = netip.MustParseAddr("2001:db8::1")
)

const (
	uaAlice = "Zoiper rv2.10.20.3"
	uaPBX   = "Asterisk PBX 20.5.0"
	uaBob   = "Yealink SIP-T46U 108.86.0.20"
	domain  = "pbx.example.com"
)

func at(ms int) time.Time { return Epoch.Add(time.Duration(ms) * time.Millisecond) }

func alice(a netip.Addr) party {
	return party{user: "alice", display: "Alice", sig: netip.AddrPortFrom(a, 5060), ua: uaAlice}
}
func pbx(a netip.Addr) party {
	return party{user: "bob", display: "Bob", sig: netip.AddrPortFrom(a, 5060), ua: uaPBX}
}

func builders() []func() Scenario {
	return []func() Scenario{
		buildBasicCall,
		buildCallsMixed,
		buildRTPImpaired,
		buildRTPLossTruth,
		buildSharedMedia,
		buildProblemsMediaA, buildProblemsMediaB, buildProblemsSignalling,
		buildLinkNull, buildLinkLoop, buildLinkSLL, buildLinkSLL2,
		buildLinkRaw101, buildLinkRaw12, buildLinkIPv4, buildLinkIPv6,
		buildVLAN, buildPPPoE, buildIPv6Ext, buildIPv4Frag, buildIPv6Frag,
		buildTCPMulti, buildTCPSplit, buildTCPOutOfOrder, buildTCPSeqWrap,
		buildSCTP, buildWebSocket,
		buildTunnelIPIP, buildTunnelGRE, buildTunnelERSPAN2, buildTunnelERSPAN3, buildTunnelVXLAN,
		buildTLS, buildHEP, buildHostileText,
		buildPcapNano, buildPcapBigEndian, buildPcapngTwoIfaces, buildPcapngTsresol, buildPcapngTwoSections,
		buildGzip, buildTruncated, buildGarbage,
	}
}

// basicCall is the flagship: REGISTER 401/200, OPTIONS/200, then a PCMU
// call with RTP and RTCP both ways, two lost packets, mild jitter, BYE.
func basicCall() ([]event, Expect) {
	var tl timeline
	var w Expect
	a, p := alice(addrAlice), pbx(addrPBX)

	reg := &call{id: "5f3c1a9e-reg@192.168.1.10", a: a, b: party{user: "alice", display: "Alice", sig: p.sig, ua: uaPBX},
		domain: domain, transport: "UDP", aTag: "a73kszlfl"}
	r1 := reg.req("REGISTER", true, false, 1, "r1", nil, "Expires: 3600")
	r1.RequestURI = "sip:" + domain
	r1.To = r1.From[:len(r1.From)-len(";tag=a73kszlfl")]
	tl.sip(at(0), a.sig, p.sig, r1)
	tl.sip(at(12), p.sig, a.sig, reg.resp(r1, 401, "Unauthorized", "as5e1b2c3d", nil,
		`WWW-Authenticate: Digest algorithm=MD5, realm="asterisk", nonce="1767261600/6a0b9c3f1e2d"`))
	r2 := reg.req("REGISTER", true, false, 2, "r2", nil, "Expires: 3600",
		`Authorization: Digest username="alice", realm="asterisk", nonce="1767261600/6a0b9c3f1e2d", uri="sip:pbx.example.com", response="2f1c7e3b9a5d4c8e0f6a1b2c3d4e5f60", algorithm=MD5`)
	r2.RequestURI, r2.To = r1.RequestURI, r1.To
	tl.sip(at(30), a.sig, p.sig, r2)
	tl.sip(at(41), p.sig, a.sig, reg.resp(r2, 200, "OK", "as6f2c3d4e", nil, "Expires: 3600",
		"Contact: <sip:alice@192.168.1.10:5060;transport=udp>;expires=3600"))
	w.Dialogs = append(w.Dialogs, DialogExpect{CallID: reg.id, Method: "REGISTER", FinalCode: 200, ToTags: 2,
		Notes: "401 challenge then 200 on CSeq 2"})

	opt := &call{id: "2b7e0c41d5a84e61@10.0.0.1", a: party{user: "asterisk", display: "Asterisk", sig: p.sig, ua: uaPBX},
		b: a, domain: domain, transport: "UDP", aTag: "as1d2e3f4a"}
	o := opt.req("OPTIONS", true, false, 102, "o1", nil, "Accept: application/sdp")
	tl.sip(at(500), p.sig, a.sig, o)
	tl.sip(at(502), a.sig, p.sig, opt.resp(o, 200, "OK", "b9c8d7e6", nil,
		"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE", "Accept: application/sdp"))
	w.Dialogs = append(w.Dialogs, DialogExpect{CallID: opt.id, Method: "OPTIONS", FinalCode: 200, ToTags: 1})

	c := &call{id: "8d3f0b2a-1c4e-4f6a-9b7d-0e2c4a6b8d01", a: a, b: p, domain: domain, transport: "UDP",
		aTag: "d82kfw0s", bTag: "as58f4e2b1"}
	aMedia, pMedia := netip.AddrPortFrom(addrAlice, 40000), netip.AddrPortFrom(addrPBX, 20000)
	inv := c.req("INVITE", true, false, 1, "i1",
		SDP{User: "alice", SessID: 1767261601, Version: 1767261601, Addr: addrAlice, Port: 40000, RTCPPort: 40001}.Bytes())
	tl.sip(at(1000), a.sig, p.sig, inv)
	tl.sip(at(1010), p.sig, a.sig, c.resp(inv, 100, "Trying", "", nil))
	tl.sip(at(1250), p.sig, a.sig, c.resp(inv, 180, "Ringing", c.bTag, nil))
	ok := c.resp(inv, 200, "OK", c.bTag,
		SDP{User: "root", SessID: 1029384756, Version: 1029384757, Addr: addrPBX, Port: 20000, RTCPPort: 20001}.Bytes())
	tl.sip(at(2000), p.sig, a.sig, ok)
	tl.sip(at(2015), a.sig, p.sig, c.req("ACK", true, true, 1, "a1", nil))

	const n = 180 // 3.6 s each way keeps the file under 100 KB
	rng := rand.New(rand.NewPCG(2026, 1))
	sA := rtpStream{src: aMedia, dst: pMedia, ssrc: 0x1a2b3c4d, pt: PTPCMU, seq0: 12000, ts0: 480000,
		start: at(2020), n: n, lost: map[int]bool{57: true, 123: true}, jitter: rng, jitterMax: 3 * time.Millisecond,
		marker: map[int]bool{0: true}, notes: "alice→pbx: seq 12057 and 12123 lost, arrival jitter uniform [0,3) ms"}
	sP := rtpStream{src: pMedia, dst: aMedia, ssrc: 0x5e6f7081, pt: PTPCMU, seq0: 31000, ts0: 96000,
		start: at(2030), n: n, jitter: rng, jitterMax: 2 * time.Millisecond,
		marker: map[int]bool{0: true}, notes: "pbx→alice: no loss, arrival jitter uniform [0,2) ms"}
	w.Streams = append(w.Streams, sA.build(&tl), sP.build(&tl))
	// RTCP SR every 1.5 s from each side (RFC 3550 6.2 with a 5 s minimum
	// would be slower; Asterisk's default rtcpinterval is 5000 ms but a
	// shorter interval gives the demo two reports per side).
	for k, tms := range []int{3520, 5020} {
		sent := uint32(75 * (k + 1))
		tl.add(at(tms), netip.AddrPortFrom(addrAlice, 40001), netip.AddrPortFrom(addrPBX, 20001), kindRTCP,
			RTCPReport{SSRC: sA.ssrc, RemoteSSRC: sP.ssrc, Sender: true, At: at(tms), RTPTime: sA.ts0 + sent*160,
				Packets: sent, Octets: sent * 160, HighestSeq: 31000 + sent - 1,
				CNAME: "alice@192.168.1.10"}.Bytes())
		tl.add(at(tms+10), netip.AddrPortFrom(addrPBX, 20001), netip.AddrPortFrom(addrAlice, 40001), kindRTCP,
			RTCPReport{SSRC: sP.ssrc, RemoteSSRC: sA.ssrc, Sender: true, At: at(tms + 10), RTPTime: sP.ts0 + sent*160,
				Packets: sent, Octets: sent * 160, TotalLost: uint32(k + 1), FractionLost: uint8(256 / 75),
				HighestSeq: 12000 + sent - 1, CNAME: "asterisk"}.Bytes())
	}

	bye := c.req("BYE", true, true, 2, "b1", nil)
	tl.sip(at(5700), a.sig, p.sig, bye)
	tl.sip(at(5712), p.sig, a.sig, c.resp(bye, 200, "OK", "", nil))
	w.Dialogs = append(w.Dialogs, DialogExpect{CallID: c.id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1,
		Notes: "answered after 180, BYE from caller; RTP 40000<->20000 with RTCP on +1"})
	ev := tl.sorted()
	fillDialogs(&w, ev)
	return ev, w
}

func buildBasicCall() Scenario {
	ev, w := basicCall()
	recs := encodeUDP(ev, addrAlice, ethLink, &w)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "README demo; 3.6 s of PCMU each way (not 6 s) to stay under 100 KB"
	return Scenario{Name: "basic-call", File: "basic-call.pcap",
		Description: "REGISTER 401/200, OPTIONS/200, INVITE/100/180/200/ACK, PCMU RTP both ways with 2 lost + jitter, RTCP SR, BYE/200 (Ethernet/IPv4/UDP)",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

// miniCall is the small flow used by link, tunnel and file-format
// scenarios: INVITE(SDP)/200(SDP)/ACK, 2 RTP each way, BYE/200.
func miniCall(start int, cl, sv netip.Addr, id, transport string) ([]event, DialogExpect) {
	var tl timeline
	a, p := alice(cl), pbx(sv)
	c := &call{id: id, a: a, b: p, domain: domain, transport: transport, aTag: "t" + branchID(id, "a")[:6], bTag: "t" + branchID(id, "b")[:6]}
	inv := c.req("INVITE", true, false, 1, "i", SDP{User: "alice", SessID: 4001, Version: 4001, Addr: cl, Port: 40000}.Bytes())
	tl.sip(at(start), a.sig, p.sig, inv)
	tl.sip(at(start+200), p.sig, a.sig, c.resp(inv, 200, "OK", c.bTag, SDP{User: "root", SessID: 5001, Version: 5001, Addr: sv, Port: 20000}.Bytes()))
	tl.sip(at(start+210), a.sig, p.sig, c.req("ACK", true, true, 1, "a", nil))
	for _, d := range miniStreamDefs(start, cl, sv, id) {
		d.build(&tl)
	}
	bye := c.req("BYE", true, true, 2, "b", nil)
	tl.sip(at(start+300), a.sig, p.sig, bye)
	tl.sip(at(start+310), p.sig, a.sig, c.resp(bye, 200, "OK", "", nil))
	ev := tl.sorted()
	return ev, DialogExpect{CallID: id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1, Messages: 5}
}

// miniStreamDefs are the mini call's two RTP streams: 2 PCMU packets
// each way, marker on the first, SSRCs derived from the Call-ID so two
// mini calls in one file differ.
func miniStreamDefs(start int, cl, sv netip.Addr, id string) []rtpStream {
	var ssrcA, ssrcB uint32
	fmt.Sscanf(branchID(id, "ssrcA"), "%x", &ssrcA)
	fmt.Sscanf(branchID(id, "ssrcB"), "%x", &ssrcB)
	am, pm := netip.AddrPortFrom(cl, 40000), netip.AddrPortFrom(sv, 20000)
	return []rtpStream{
		{src: am, dst: pm, ssrc: ssrcA, pt: PTPCMU, seq0: 100, ts0: 1600, start: at(start + 220), n: 2, marker: map[int]bool{0: true}},
		{src: pm, dst: am, ssrc: ssrcB, pt: PTPCMU, seq0: 700, ts0: 8000, start: at(start + 225), n: 2, marker: map[int]bool{0: true}},
	}
}

// miniStreams is the expected statistics of miniStreamDefs.
func miniStreams(start int, cl, sv netip.Addr, id string) []StreamExpect {
	var tl timeline
	var out []StreamExpect
	for _, d := range miniStreamDefs(start, cl, sv, id) {
		out = append(out, d.build(&tl))
	}
	return out
}

// miniUDP builds a one-call scenario over a given link.
func miniUDP(name, file, desc string, link layers.LinkType, cl, sv netip.Addr, wrap linkFn) Scenario {
	ev, d := miniCall(0, cl, sv, name+"-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, cl, sv, name+"-0001@voiptool.test")}
	recs := encodeUDP(ev, cl, wrap, &w)
	fillDialogs(&w, ev)
	w.LinkType = uint32(link)
	return Scenario{Name: name, File: file, Description: desc, Want: w, data: pcapBytes(link, recs), sipFrames: w.SIP}
}
