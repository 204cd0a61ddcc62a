package pcapgen

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// problemCall is one call of the problem scenarios: alice (the caller)
// and the server, with their SDP media endpoints.
type problemCall struct {
	c            *call
	tl           *timeline
	base         int // ms
	aMedia, bMed netip.AddrPort
	inv          *SIPMsg
}

// problemParties: a LAN caller and server (private addresses on both the
// signalling and the SDP, so private-sdp stays quiet unless a call says
// otherwise).
var (
	probCaller = netip.MustParseAddr("10.1.1.10")
	probServer = netip.MustParseAddr("10.1.1.1")
)

func newProblemCall(tl *timeline, n, base int, label string, callerSig netip.Addr) *problemCall {
	id := fmt.Sprintf("prob-%02d-%s@voiptool.test", n, label)
	a := party{user: "alice", display: "Alice", sig: netip.AddrPortFrom(callerSig, 5060), ua: uaAlice}
	b := party{user: fmt.Sprint(3000 + n), display: "Service", sig: netip.AddrPortFrom(probServer, 5060), ua: uaPBX}
	c := &call{id: id, a: a, b: b, domain: domain, transport: "UDP", aTag: fmt.Sprintf("pa%02d", n), bTag: fmt.Sprintf("pb%02d", n)}
	return &problemCall{c: c, tl: tl, base: base,
		aMedia: netip.AddrPortFrom(probCaller, uint16(40000+2*n)), bMed: netip.AddrPortFrom(probServer, uint16(20000+2*n))}
}

func (p *problemCall) fa(ms int, m *SIPMsg) { p.tl.sip(at(p.base+ms), p.c.a.sig, p.c.b.sig, m) }
func (p *problemCall) fb(ms int, m *SIPMsg) { p.tl.sip(at(p.base+ms), p.c.b.sig, p.c.a.sig, m) }

func (p *problemCall) sdp(ep netip.AddrPort, pt uint8, dir string) []byte {
	s := SDP{User: "u", SessID: uint64(ep.Port()), Version: 1, Addr: ep.Addr(), Port: ep.Port(), Direction: dir}
	b := s.Bytes()
	if pt == 8 { // the answer chose PCMA only
		b = []byte(replaceAll(string(b), "RTP/AVP 0 8 101", "RTP/AVP 8 101"))
	}
	return b
}

// invite sends INVITE/100/180/200/ACK; answer at answerMs.
func (p *problemCall) invite(offerDir, answerDir string, answerPT uint8, ringMs, answerMs int) {
	p.inv = p.c.req("INVITE", true, false, 1, "i", p.sdp(p.aMedia, 0, offerDir))
	p.fa(0, p.inv)
	p.fb(5, p.c.resp(p.inv, 100, "Trying", "", nil))
	p.fb(ringMs, p.c.resp(p.inv, 180, "Ringing", p.c.bTag, nil))
	p.fb(answerMs, p.c.resp(p.inv, 200, "OK", p.c.bTag, p.sdp(p.bMed, answerPT, answerDir)))
	p.fa(answerMs+5, p.c.req("ACK", true, true, 1, "ack", nil))
}

func (p *problemCall) bye(ms int) {
	bye := p.c.req("BYE", true, true, 2, "bye", nil)
	p.fa(ms, bye)
	p.fb(ms+5, p.c.resp(bye, 200, "OK", "", nil))
}

// rtp sends n packets of a small PCMU-typed stream (4-byte payloads keep
// the file small; the payload type, not the size, names the codec).
func (p *problemCall) rtp(src, dst netip.AddrPort, ssrc uint32, startMs, n int, mod func(*rtpStream)) {
	s := rtpStream{src: src, dst: dst, ssrc: ssrc, pt: PTPCMU, seq0: uint16(ssrc), ts0: ssrc * 7, start: at(p.base + startMs), n: n,
		marker: map[int]bool{0: true}, payloadN: 4}
	if mod != nil {
		mod(&s)
	}
	s.build(p.tl)
}

// both sends the two directions from the announced endpoints.
func (p *problemCall) both(startMs, n int) {
	p.rtp(p.aMedia, p.bMed, 0xa0000000+uint32(p.aMedia.Port()), startMs, n, nil)
	p.rtp(p.bMed, p.aMedia, 0xb0000000+uint32(p.bMed.Port()), startMs+3, n, nil)
}

func replaceAll(s, old, new string) string {
	out := ""
	for {
		i := indexOf(s, old)
		if i < 0 {
			return out + s
		}
		out += s[:i] + new
		s = s[i+len(old):]
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// mediaCtx is what a media problem case builds on.
type mediaCtx struct {
	tl       *timeline
	w        *Expect
	n, first int // call number (names and ports), first of this file (times start at 0)
}

// next opens the next call of a case, expecting problems (none: clean).
func (c *mediaCtx) next(label string, problems ...string) *problemCall {
	c.n++
	p := newProblemCall(c.tl, c.n, (c.n-c.first-1)*20000, label, probCaller)
	if problems == nil {
		problems = []string{}
	}
	c.w.Dialogs = append(c.w.Dialogs, DialogExpect{CallID: p.c.id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1, Problems: problems, Notes: label})
	return p
}

// pk is the packets per stream of the media cases: above diagnose's
// 50-packet minimum for judging a stream.
const pk = 55

// mediaCasesA: a clean call, and the problems of who sends what where.
var mediaCasesA = []func(c *mediaCtx){
	func(c *mediaCtx) {
		p := c.next("clean")
		p.invite("", "", 0, 300, 1000)
		p.both(1010, pk)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("one-way", "one-way-audio")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xa1, 1010, pk, nil)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("hold-sendonly")
		p.invite("sendonly", "recvonly", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xa2, 1010, pk, nil)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("late-media", "late-media")
		p.invite("", "", 0, 300, 1000)
		p.both(4000, pk)
		p.bye(6000)
	},

	func(c *mediaCtx) {
		p := c.next("media-from-elsewhere", "media-address-mismatch")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xa4, 1010, pk, nil)
		p.rtp(netip.AddrPortFrom(netip.MustParseAddr("10.1.1.99"), p.bMed.Port()), p.aMedia, 0xb4, 1013, pk, nil)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("codec-mismatch", "codec-mismatch")
		p.invite("", "", 8, 300, 1000) // answer: PCMA only; RTP stays PCMU
		p.both(1010, pk)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("ptime", "ptime-asymmetry")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xa6, 1010, pk, nil)
		p.rtp(p.bMed, p.aMedia, 0xb6, 1013, pk, func(s *rtpStream) { s.ptimeMs = 30 })
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("ssrc-change", "ssrc-change")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xa7, 1010, pk, nil)
		p.rtp(p.aMedia, p.bMed, 0xa77, 1010+pk*20, pk, nil)
		p.rtp(p.bMed, p.aMedia, 0xb7, 1013, 2*pk, nil)
		p.bye(4500)
	},
}

// mediaCasesB: quality and timing problems, no media at all, and a NATed caller.
var mediaCasesB = []func(c *mediaCtx){
	func(c *mediaCtx) {
		p := c.next("loss", "high-loss")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xa8, 1010, pk, func(s *rtpStream) { s.lost = map[int]bool{10: true, 30: true, 45: true} })
		p.rtp(p.bMed, p.aMedia, 0xb8, 1013, pk, nil)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("heavy-loss", "high-loss", "low-mos")
		p.invite("", "", 0, 300, 1000)
		lost := map[int]bool{}
		for i := 5; i < 55; i += 3 {
			lost[i] = true
		}
		p.rtp(p.aMedia, p.bMed, 0xa9, 1010, pk+25, func(s *rtpStream) { s.lost = lost })
		p.rtp(p.bMed, p.aMedia, 0xb9, 1013, pk, nil)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("jitter", "high-jitter")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xaa, 1010, pk, func(s *rtpStream) {
			s.jitter, s.jitterMax = rand.New(rand.NewPCG(7, 11)), 150*time.Millisecond
		})
		p.rtp(p.bMed, p.aMedia, 0xba, 1013, pk, nil)
		p.bye(3500)
	},

	func(c *mediaCtx) {
		p := c.next("rtp-after-bye", "rtp-after-bye")
		p.invite("", "", 0, 300, 1000)
		p.rtp(p.aMedia, p.bMed, 0xab, 1010, 230, nil) // until 5.6 s; BYE at 3.1 s
		p.rtp(p.bMed, p.aMedia, 0xbb, 1013, 100, nil)
		p.bye(3100)
	},

	func(c *mediaCtx) {
		p := c.next("dead-air", "bye-without-rtp-end")
		p.invite("", "", 0, 300, 1000)
		p.both(1010, pk)
		p.bye(14000)
	},

	func(c *mediaCtx) {
		p := c.next("no-media", "no-media")
		p.invite("", "", 0, 300, 1000)
		p.bye(5000)
	},

	func(c *mediaCtx) {
		pub := netip.MustParseAddr("203.0.113.10")
		c.n++
		p := newProblemCall(c.tl, c.n, (c.n-1)*20000, "private-sdp", pub)
		c.w.Dialogs = append(c.w.Dialogs, DialogExpect{CallID: p.c.id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1,
			Problems: []string{"media-address-mismatch", "private-sdp"},
			Notes:    "caller behind NAT: signalling and media from 203.0.113.10, SDP says 10.1.1.10"})
		p.invite("", "", 0, 300, 1000)
		nat := netip.AddrPortFrom(pub, p.aMedia.Port())
		p.rtp(nat, p.bMed, 0xad, 1010, pk, nil)
		p.rtp(p.bMed, nat, 0xbd, 1013, pk, nil)
		p.bye(3500)
	},
}

// buildProblemsMedia builds one call per media problem, each triggering
// its detector and nothing else (calls 20 s apart, never overlapping);
// split in two files to stay small.
func buildProblemsMedia(name, desc string, cases []func(*mediaCtx), first int) Scenario {
	var tl timeline
	var w Expect
	c := &mediaCtx{tl: &tl, w: &w, n: first, first: first}
	for _, f := range cases {
		f(c)
	}
	ev := tl.sorted()
	recs := encodeUDP(ev, probCaller, ethLink, &w)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "one call per media problem; Dialogs[i].Problems are the codes internal/diagnose must report with its defaults"
	return Scenario{Name: name, File: name + ".pcap", Description: desc,
		Want: w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

func buildProblemsMediaA() Scenario {
	return buildProblemsMedia("problems-media-a", "a clean call and one call per media-path problem: one-way audio, a call on hold (not one-way), late media, media from an unannounced address, codec mismatch, ptime asymmetry, SSRC change", mediaCasesA, 0)
}

func buildProblemsMediaB() Scenario {
	return buildProblemsMedia("problems-media-b", "one call per media-quality problem: loss, heavy loss with low MOS, jitter, RTP after BYE, media stopped long before BYE, no media, private SDP behind NAT", mediaCasesB, 100)
}

// buildProblemsSignalling: one call per signalling problem, no RTP (so
// no-media stays quiet: the capture says nothing about media).
func buildProblemsSignalling() Scenario {
	var tl timeline
	var w Expect
	n := 0
	next := func(label string, code int, state string, problems ...string) *problemCall {
		n++
		p := newProblemCall(&tl, n, (n-1)*30000, label, probCaller)
		if problems == nil {
			problems = []string{}
		}
		w.Dialogs = append(w.Dialogs, DialogExpect{CallID: p.c.id, Method: "INVITE", FinalCode: code, State: state, ToTags: 1, Problems: problems, Notes: label})
		return p
	}
	challenge := func(p *problemCall, cseq uint32, ms int) {
		inv := p.c.req("INVITE", true, false, cseq, fmt.Sprint("i", cseq), p.sdp(p.aMedia, 0, ""))
		p.fa(ms, inv)
		p.fb(ms+10, p.c.resp(inv, 407, "Proxy Authentication Required", p.c.bTag+"x", nil,
			`Proxy-Authenticate: Digest realm="voiptool.test", nonce="n`+fmt.Sprint(cseq)+`", algorithm=MD5`))
		ack := p.c.req("ACK", true, false, cseq, fmt.Sprint("i", cseq), nil)
		ack.To += ";tag=" + p.c.bTag + "x"
		p.fa(ms+15, ack)
	}
	{
		p := next("clean-with-auth", 200, StateCompleted)
		challenge(p, 1, 0)
		inv := p.c.req("INVITE", true, false, 2, "i", p.sdp(p.aMedia, 0, ""))
		p.fa(30, inv)
		p.fb(40, p.c.resp(inv, 100, "Trying", "", nil))
		p.fb(300, p.c.resp(inv, 180, "Ringing", p.c.bTag, nil))
		p.fb(1000, p.c.resp(inv, 200, "OK", p.c.bTag, p.sdp(p.bMed, 0, "")))
		p.fa(1005, p.c.req("ACK", true, true, 2, "ack", nil))
		bye := p.c.req("BYE", true, true, 3, "bye", nil)
		p.fa(4000, bye)
		p.fb(4005, p.c.resp(bye, 200, "OK", "", nil))
	}
	{
		p := next("no-ack", 200, StateCompleted, "no-ack")
		p.inv = p.c.req("INVITE", true, false, 1, "i", p.sdp(p.aMedia, 0, ""))
		p.fa(0, p.inv)
		p.fb(300, p.c.resp(p.inv, 180, "Ringing", p.c.bTag, nil))
		p.fb(1000, p.c.resp(p.inv, 200, "OK", p.c.bTag, p.sdp(p.bMed, 0, "")))
		p.bye(4000)
	}
	{
		p := next("retransmissions", 200, StateCompleted, "retransmission-storm")
		// The 2xx retransmitted with RFC 3261 Timer G doubling until
		// the ACK finally arrives (13.3.1.4).
		p.inv = p.c.req("INVITE", true, false, 1, "i", p.sdp(p.aMedia, 0, ""))
		p.fa(0, p.inv)
		p.fb(300, p.c.resp(p.inv, 180, "Ringing", p.c.bTag, nil))
		ok := p.c.resp(p.inv, 200, "OK", p.c.bTag, p.sdp(p.bMed, 0, ""))
		for _, ms := range []int{1000, 1500, 2500, 4500, 8500, 12500} {
			p.fb(ms, ok)
		}
		p.fa(12505, p.c.req("ACK", true, true, 1, "ack", nil))
		p.bye(16000)
	}
	{
		p := next("slow-setup", 200, StateCompleted, "slow-setup")
		p.invite("", "", 0, 6000, 7000)
		p.bye(10000)
	}
	{
		p := next("short-call", 200, StateCompleted, "short-call")
		p.invite("", "", 0, 300, 1000)
		p.bye(1500)
	}
	{
		p := next("timeout", 408, StateRejected, "timeout")
		p.inv = p.c.req("INVITE", true, false, 1, "i", p.sdp(p.aMedia, 0, ""))
		p.fa(0, p.inv)
		p.fb(5, p.c.resp(p.inv, 100, "Trying", "", nil))
		p.fb(32000-5, p.c.resp(p.inv, 408, "Request Timeout", p.c.bTag, nil))
		ack := p.c.req("ACK", true, true, 1, "i", nil)
		ack.Via = p.inv.Via
		p.fa(32000, ack)
	}
	{
		p := next("auth-loop", 403, StateRejected, "auth-loop")
		challenge(p, 1, 0)
		challenge(p, 2, 100)
		challenge(p, 3, 200)
		inv := p.c.req("INVITE", true, false, 4, "i4", p.sdp(p.aMedia, 0, ""))
		p.fa(300, inv)
		p.fb(310, p.c.resp(inv, 403, "Forbidden", p.c.bTag+"x", nil))
		ack := p.c.req("ACK", true, false, 4, "i4", nil)
		ack.To += ";tag=" + p.c.bTag + "x"
		p.fa(315, ack)
	}
	ev := tl.sorted()
	recs := encodeUDP(ev, probCaller, ethLink, &w)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "one call per signalling problem, no RTP; Dialogs[i].Problems are the codes internal/diagnose must report with its defaults"
	return Scenario{Name: "problems-signalling", File: "problems-signalling.pcap",
		Description: "one call per signalling problem (no ACK, retransmissions, slow setup, short call, 408, auth loop) and a clean call with one challenge",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}
