package pcapgen

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// buildCallsMixed: 16 INVITE dialogs with distinct outcomes, alice
// (192.168.1.10) calling through the PBX (10.0.0.1), plus a B2BUA B-leg
// from the PBX to bob (192.168.1.20). No RTP: this file is about
// signalling and stays small.
func buildCallsMixed() Scenario {
	var tl timeline
	var w Expect
	n := 0
	newCall := func(label string) (*call, func(int, *SIPMsg), func(int, *SIPMsg), int) {
		n++
		c := &call{id: fmt.Sprintf("mixed-%02d-%s@192.168.1.10", n, label), a: alice(addrAlice), b: pbx(addrPBX),
			domain: domain, transport: "UDP", aTag: fmt.Sprintf("a%02dtag", n), bTag: fmt.Sprintf("b%02dtag", n)}
		c.b.user = fmt.Sprintf("%d", 2000+n)
		base := (n - 1) * 2500
		fa := func(ms int, m *SIPMsg) { tl.sip(at(base+ms), c.a.sig, c.b.sig, m) }
		fb := func(ms int, m *SIPMsg) { tl.sip(at(base+ms), c.b.sig, c.a.sig, m) }
		return c, fa, fb, base
	}
	offer := func(c *call, dir string, v uint64) []byte {
		return SDP{User: "alice", SessID: 1000 + uint64(n), Version: v, Addr: c.a.sig.Addr(), Port: uint16(40000 + 2*n), Direction: dir}.Bytes()
	}
	answer := func(c *call, dir string, v uint64) []byte {
		return SDP{User: "root", SessID: 2000 + uint64(n), Version: v, Addr: c.b.sig.Addr(), Port: uint16(20000 + 2*n), Direction: dir}.Bytes()
	}
	dlg := func(c *call, code int, state string, toTags int, notes string) {
		w.Dialogs = append(w.Dialogs, DialogExpect{CallID: c.id, Method: "INVITE", FinalCode: code, State: state, ToTags: toTags, Notes: notes})
	}
	// failed sends INVITE, optional provisional responses, a final
	// non-2xx and the hop-by-hop ACK (same branch, RFC 3261 17.1.1.3).
	failed := func(label string, code int, reason, state string, ringing bool, extra ...string) {
		c, fa, fb, _ := newCall(label)
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 100, "Trying", "", nil))
		if ringing {
			fb(300, c.resp(inv, 180, "Ringing", c.bTag, nil))
		}
		fb(1200, c.resp(inv, code, reason, c.bTag, nil, extra...))
		ack := c.req("ACK", true, true, 1, "i", nil)
		ack.Via = inv.Via
		fa(1205, ack)
		dlg(c, code, state, 1, fmt.Sprintf("%d %s", code, reason))
	}
	answered := func(c *call, fa, fb func(int, *SIPMsg), inv *SIPMsg, from int) {
		fb(from, c.resp(inv, 200, "OK", c.bTag, answer(c, "", 1)))
		fa(from+15, c.req("ACK", true, true, inv.CSeq, "ack", nil))
	}

	// 1: answered, caller hangs up.
	{
		c, fa, fb, _ := newCall("caller-bye")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 100, "Trying", "", nil))
		fb(400, c.resp(inv, 180, "Ringing", c.bTag, nil))
		answered(c, fa, fb, inv, 1000)
		bye := c.req("BYE", true, true, 2, "bye", nil)
		fa(2000, bye)
		fb(2010, c.resp(bye, 200, "OK", "", nil))
		dlg(c, 200, StateCompleted, 1, "BYE from caller")
	}
	// 2: answered, callee hangs up (callee's own CSeq space).
	{
		c, fa, fb, _ := newCall("callee-bye")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 100, "Trying", "", nil))
		fb(400, c.resp(inv, 180, "Ringing", c.bTag, nil))
		answered(c, fa, fb, inv, 1000)
		bye := c.req("BYE", false, true, 101, "bye", nil)
		fb(2000, bye)
		fa(2010, c.resp(bye, 200, "OK", "", nil))
		dlg(c, 200, StateCompleted, 1, "BYE from callee")
	}
	failed("busy", 486, "Busy Here", StateBusy, true)
	// 4: CANCEL while ringing, then 487 (RFC 3261 9.1).
	{
		c, fa, fb, _ := newCall("cancel")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 100, "Trying", "", nil))
		fb(300, c.resp(inv, 180, "Ringing", c.bTag, nil))
		cancel := c.req("CANCEL", true, false, 1, "i", nil)
		fa(1500, cancel)
		fb(1510, c.resp(cancel, 200, "OK", c.bTag, nil))
		fb(1512, c.resp(inv, 487, "Request Terminated", c.bTag, nil))
		ack := c.req("ACK", true, true, 1, "i", nil)
		fa(1520, ack)
		dlg(c, 487, StateCancelled, 1, "CANCEL while ringing, 200 to CANCEL, 487 to INVITE, ACK")
	}
	failed("decline", 603, "Decline", StateRejected, true)
	failed("notfound", 404, "Not Found", StateRejected, false)
	failed("redirect", 302, "Moved Temporarily", StateDiverted, false, "Contact: <sip:carol@192.168.1.30:5060>")
	// 8: 407 challenge, ACK, INVITE with credentials answered, BYE.
	{
		c, fa, fb, _ := newCall("auth")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 407, "Proxy Authentication Required", c.bTag+"x", nil,
			`Proxy-Authenticate: Digest realm="asterisk", nonce="1767262000/8b1c2d3e", algorithm=MD5, qop="auth"`))
		ack := c.req("ACK", true, false, 1, "i", nil)
		ack.To += ";tag=" + c.bTag + "x"
		fa(15, ack)
		inv2 := c.req("INVITE", true, false, 2, "i2", offer(c, "", 1),
			`Proxy-Authorization: Digest username="alice", realm="asterisk", nonce="1767262000/8b1c2d3e", uri="sip:2008@10.0.0.1:5060", response="0a4f113b3c5a2d1e9f8b7c6d5e4f3a2b", algorithm=MD5, qop=auth, nc=00000001, cnonce="6b8b4567"`)
		fa(30, inv2)
		fb(40, c.resp(inv2, 100, "Trying", "", nil))
		answered(c, fa, fb, inv2, 900)
		bye := c.req("BYE", true, true, 3, "bye", nil)
		fa(2000, bye)
		fb(2010, c.resp(bye, 200, "OK", "", nil))
		dlg(c, 200, StateCompleted, 2, "407 on CSeq 1 (To tag b08tagx), INVITE CSeq 2 with Proxy-Authorization answered")
	}
	failed("timeout", 408, "Request Timeout", StateRejected, true)
	// 10: no final response; INVITE retransmitted at T1, 2*T1, 4*T1
	// (RFC 3261 17.1.1.2, T1 = 500 ms) and nothing ever answers.
	{
		c, fa, _, _ := newCall("noanswer")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		for _, t := range []int{0, 500, 1500, 3500} {
			fa(t, inv)
		}
		dlg(c, 0, StateSetup, 0, "INVITE sent 4 times (retransmissions), no response at all")
	}
	failed("unavailable", 503, "Service Unavailable", StateRejected, false, "Retry-After: 120")
	// 12: forked: two 180s with different To tags, 200 from the second.
	{
		c, fa, fb, _ := newCall("forked")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 100, "Trying", "", nil))
		fb(300, c.resp(inv, 180, "Ringing", "fork1", nil))
		fb(320, c.resp(inv, 180, "Ringing", "fork2", nil))
		c.bTag = "fork2"
		answered(c, fa, fb, inv, 1100)
		bye := c.req("BYE", true, true, 2, "bye", nil)
		fa(2000, bye)
		fb(2010, c.resp(bye, 200, "OK", "", nil))
		dlg(c, 200, StateCompleted, 2, "180 with To tag fork1 and fork2; 200 OK and dialog on fork2")
	}
	// 13: hold and resume by re-INVITE (RFC 3264 8.4).
	{
		c, fa, fb, _ := newCall("hold")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fb(10, c.resp(inv, 100, "Trying", "", nil))
		answered(c, fa, fb, inv, 500)
		hold := c.req("INVITE", true, true, 2, "hold", offer(c, "sendonly", 2))
		fa(1000, hold)
		fb(1010, c.resp(hold, 200, "OK", "", answer(c, "recvonly", 2)))
		fa(1020, c.req("ACK", true, true, 2, "hack", nil))
		resume := c.req("INVITE", true, true, 3, "resume", offer(c, "sendrecv", 3))
		fa(1600, resume)
		fb(1610, c.resp(resume, 200, "OK", "", answer(c, "sendrecv", 3)))
		fa(1620, c.req("ACK", true, true, 3, "rack", nil))
		bye := c.req("BYE", true, true, 4, "bye", nil)
		fa(2200, bye)
		fb(2210, c.resp(bye, 200, "OK", "", nil))
		dlg(c, 200, StateCompleted, 1, "re-INVITE CSeq 2 a=sendonly (hold, answer recvonly), CSeq 3 a=sendrecv (resume)")
	}
	// 14: INVITE retransmitted once before 100; 200 OK retransmitted once
	// before the ACK (RFC 3261 13.3.1.4).
	{
		c, fa, fb, _ := newCall("retrans")
		inv := c.req("INVITE", true, false, 1, "i", offer(c, "", 1))
		fa(0, inv)
		fa(500, inv)
		fb(510, c.resp(inv, 100, "Trying", "", nil))
		fb(700, c.resp(inv, 180, "Ringing", c.bTag, nil))
		ok := c.resp(inv, 200, "OK", c.bTag, answer(c, "", 1))
		fb(1000, ok)
		fb(1500, ok)
		fa(1510, c.req("ACK", true, true, 1, "ack", nil))
		bye := c.req("BYE", true, true, 2, "bye", nil)
		fa(2000, bye)
		fb(2010, c.resp(bye, 200, "OK", "", nil))
		dlg(c, 200, StateCompleted, 1, "INVITE sent twice (500 ms apart), 200 OK sent twice; retransmissions count in Messages")
	}
	// 15+16: B2BUA. A-leg alice->PBX, B-leg PBX->bob with X-Call-ID
	// naming the A-leg's Call-ID.
	{
		ca, fa, fbA, base := newCall("b2bua-aleg")
		inv := ca.req("INVITE", true, false, 1, "i", offer(ca, "", 1))
		fa(0, inv)
		fbA(10, ca.resp(inv, 100, "Trying", "", nil))

		n++
		cb := &call{id: fmt.Sprintf("mixed-%02d-b2bua-bleg@10.0.0.1", n), domain: domain, transport: "UDP", aTag: "b2bB1", bTag: "b2bB2",
			a: party{user: "alice", display: "Alice", sig: netip.AddrPortFrom(addrPBX, 5060), ua: uaPBX},
			b: party{user: "bob", display: "Bob", sig: netip.AddrPortFrom(addrBob, 5060), ua: uaBob}}
		fpb := func(ms int, m *SIPMsg) { tl.sip(at(base+ms), cb.a.sig, cb.b.sig, m) }
		fbob := func(ms int, m *SIPMsg) { tl.sip(at(base+ms), cb.b.sig, cb.a.sig, m) }
		invB := cb.req("INVITE", true, false, 1, "i",
			SDP{User: "root", SessID: 3000, Version: 1, Addr: addrPBX, Port: 20100}.Bytes(), "X-Call-ID: "+ca.id)
		fpb(20, invB)
		fbob(30, cb.resp(invB, 100, "Trying", "", nil))
		fbob(300, cb.resp(invB, 180, "Ringing", cb.bTag, nil))
		fbA(310, ca.resp(inv, 180, "Ringing", ca.bTag, nil))
		fbob(1000, cb.resp(invB, 200, "OK", cb.bTag, SDP{User: "bob", SessID: 4000, Version: 1, Addr: addrBob, Port: 30000}.Bytes()))
		fpb(1010, cb.req("ACK", true, true, 1, "ack", nil))
		answered(ca, fa, fbA, inv, 1020)
		bye := ca.req("BYE", true, true, 2, "bye", nil)
		fa(2000, bye)
		fbA(2005, ca.resp(bye, 200, "OK", "", nil))
		byeB := cb.req("BYE", true, true, 2, "bye", nil)
		fpb(2006, byeB)
		fbob(2015, cb.resp(byeB, 200, "OK", "", nil))
		dlg(ca, 200, StateCompleted, 1, "B2BUA A-leg (alice->PBX)")
		dlg(cb, 200, StateCompleted, 1, "B2BUA B-leg (PBX->bob 192.168.1.20), X-Call-ID names the A-leg")
		w.Dialogs[len(w.Dialogs)-1].LinkedTo = ca.id
	}

	ev := tl.sorted()
	recs := encodeUDP(ev, addrAlice, ethLink, &w)
	// Bob's packets are neither to nor from alice: fix their MAC direction
	// is irrelevant to decoders, so encodeUDP's guess is kept.
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "SIP only, no RTP; calls start 2.5 s apart; Dialogs lists every Call-ID with final code and state"
	return Scenario{Name: "calls-mixed", File: "calls-mixed.pcap",
		Description: "16 INVITE dialogs: answered (BYE either side), 486, CANCEL/487, 603, 404, 302, 407+auth, 408, no answer with retransmissions, 503, forked 180s, hold/resume re-INVITEs, retransmitted INVITE/200, B2BUA A/B legs",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}
