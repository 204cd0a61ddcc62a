package pcapgen

import (
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Terminal control sequences an attacker can put in SIP headers: every
// printer of wire text must show them, not obey them.
const (
	escRetitle   = "\x1b]0;pwned\x07"       // OSC 0: set the window title
	escClear     = "\x1b[2J"                // CSI 2 J: clear the screen
	escClipboard = "\x1b]52;c;ZXZpbA==\x07" // OSC 52: write the clipboard
	escCSI8bit   = "\u009b31m"              // C1 CSI, the 8-bit form
)

// buildHostileText is one ordinary call whose User-Agent, Server, Subject
// and an unknown header carry raw terminal escape sequences (the display
// names carry them too, quoted as the generator quotes display names).
func buildHostileText() Scenario {
	var tl timeline
	var w Expect
	cl, sv := netip.MustParseAddr("192.0.2.66"), netip.MustParseAddr("192.0.2.1")
	a := party{user: "mallory", display: "Mallory" + escRetitle, sig: netip.AddrPortFrom(cl, 5060), ua: "evil-ua" + escClear + escClipboard}
	p := party{user: "bob", display: "Bob" + escCSI8bit, sig: netip.AddrPortFrom(sv, 5060), ua: "pbx" + escRetitle}
	c := &call{id: "hostile-1@192.0.2.66", a: a, b: p, domain: domain, transport: "UDP", aTag: "h1a", bTag: "h1b"}
	inv := c.req("INVITE", true, false, 1, "i", SDP{User: "mallory", SessID: 7001, Version: 7001, Addr: cl, Port: 40000}.Bytes(),
		"Subject: call me"+escClear, "X-Campaign: 42"+escClipboard)
	tl.sip(at(0), a.sig, p.sig, inv)
	tl.sip(at(200), p.sig, a.sig, c.resp(inv, 200, "OK", c.bTag, SDP{User: "bob", SessID: 8001, Version: 8001, Addr: sv, Port: 20000}.Bytes()))
	tl.sip(at(210), a.sig, p.sig, c.req("ACK", true, true, 1, "a", nil))
	bye := c.req("BYE", true, true, 2, "b", nil)
	tl.sip(at(3000), a.sig, p.sig, bye)
	tl.sip(at(3010), p.sig, a.sig, c.resp(bye, 200, "OK", "", nil))
	w.Dialogs = append(w.Dialogs, DialogExpect{CallID: c.id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1,
		Notes: "User-Agent, Server, Subject and X-Campaign carry raw OSC 0 (retitle), CSI 2J (clear), OSC 52 (clipboard) and a C1 CSI"})
	ev := tl.sorted()
	fillDialogs(&w, ev)
	recs := encodeUDP(ev, cl, ethLink, &w)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	return Scenario{Name: "hostile-escapes", File: "hostile-escapes.pcap",
		Description: "a call whose User-Agent, Server, Subject and an X- header carry raw terminal escape sequences (retitle, clear, clipboard, C1 CSI)",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}
