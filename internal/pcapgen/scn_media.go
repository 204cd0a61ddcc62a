package pcapgen

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// buildSharedMedia: two overlapping calls on loopback, the shape SIPp's
// UAS produces: both answers announce the same media endpoint
// 127.0.0.1:26000, the callers 27000 and 27004. Each stream belongs to
// the call whose offer and answer announced both of its ends, even though
// the second call announced 26000 last.
func buildSharedMedia() Scenario {
	var tl timeline
	var w Expect
	lo := netip.MustParseAddr("127.0.0.1")
	uac := party{user: "sipp", display: "sipp", sig: netip.AddrPortFrom(lo, 5061), ua: "SIPp UAC"}
	uas := party{user: "service", display: "service", sig: netip.AddrPortFrom(lo, 5060), ua: "SIPp UAS"}
	server := netip.AddrPortFrom(lo, 26000)
	for k, callerPort := range []uint16{27000, 27004} {
		id := fmt.Sprintf("%d-shared-media@127.0.0.1", k+1)
		c := &call{id: id, a: uac, b: uas, domain: "127.0.0.1", transport: "UDP", aTag: fmt.Sprintf("uac%d", k+1), bTag: fmt.Sprintf("uas%d", k+1)}
		base := 400 * k // the second call starts while the first is talking
		caller := netip.AddrPortFrom(lo, callerPort)
		inv := c.req("INVITE", true, false, 1, "i", SDP{User: "sipp", SessID: uint64(100 + k), Version: 1, Addr: lo, Port: callerPort}.Bytes())
		tl.sip(at(base), uac.sig, uas.sig, inv)
		tl.sip(at(base+5), uas.sig, uac.sig, c.resp(inv, 100, "Trying", "", nil))
		tl.sip(at(base+10), uas.sig, uac.sig, c.resp(inv, 200, "OK", c.bTag, SDP{User: "sipp", SessID: uint64(200 + k), Version: 1, Addr: lo, Port: 26000}.Bytes()))
		tl.sip(at(base+15), uac.sig, uas.sig, c.req("ACK", true, true, 1, "a", nil))
		for j, d := range []rtpStream{
			{src: caller, dst: server, ssrc: 0x5a000001 + uint32(2*k), pt: PTPCMU, seq0: 1000, ts0: 16000, start: at(base + 20), n: 60, marker: map[int]bool{0: true}},
			{src: server, dst: caller, ssrc: 0x5a000002 + uint32(2*k), pt: PTPCMU, seq0: 3000, ts0: 48000, start: at(base + 22), n: 60, marker: map[int]bool{0: true}},
		} {
			d.notes = fmt.Sprintf("call %d, %s", k+1, [2]string{"caller to the shared endpoint", "shared endpoint to caller"}[j])
			st := d.build(&tl)
			st.CallID = id
			w.Streams = append(w.Streams, st)
		}
		bye := c.req("BYE", true, true, 2, "b", nil)
		tl.sip(at(base+2500), uac.sig, uas.sig, bye)
		tl.sip(at(base+2505), uas.sig, uac.sig, c.resp(bye, 200, "OK", "", nil))
		w.Dialogs = append(w.Dialogs, DialogExpect{CallID: id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1,
			Notes: "answer announces the shared 127.0.0.1:26000"})
	}
	ev := tl.sorted()
	recs := encodeUDP(ev, lo, ethLink, &w)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "two overlapping calls whose answers both announce 127.0.0.1:26000 (callers 27000 and 27004); Streams name their call"
	return Scenario{Name: "calls-shared-media", File: "calls-shared-media.pcap",
		Description: "two overlapping SIPp-style calls on loopback whose answers announce the same media endpoint 127.0.0.1:26000",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}
