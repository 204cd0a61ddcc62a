package pcapgen

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// WriteLarge writes a benchmark capture to w: calls overlapping calls,
// each INVITE/100/180/200/ACK, rtpPerCall RTP packets each way (G.711,
// 20 ms) and BYE/200, over Ethernet/IPv4/UDP in a µs pcap. Calls start
// 50 ms apart, so many are active at once; call k uses caller
// 10.10.x.y:5060 and media ports derived from k. Output is deterministic.
// Total records = calls * (7 + 2*rtpPerCall).
func WriteLarge(w io.Writer, calls, rtpPerCall int) error {
	if calls < 0 || rtpPerCall < 0 || calls > 1<<20 {
		return fmt.Errorf("%w: calls=%d rtpPerCall=%d", ErrBadArgument, calls, rtpPerCall)
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(Snaplen, layers.LinkTypeEthernet); err != nil {
		return err
	}
	// Records are produced in time order with a small merge: each call's
	// events are generated on demand from its index, so memory stays
	// bounded by the number of active calls, not the file size.
	const spacing = 50 * time.Millisecond
	callEvents := func(k int) []largeRec {
		cl := netip.AddrFrom4([4]byte{10, 10, byte(k >> 8), byte(k)})
		caller := party{user: fmt.Sprintf("u%d", k), display: "Load", sig: netip.AddrPortFrom(cl, 5060), ua: uaAlice}
		c := &call{id: fmt.Sprintf("large-%07d@voiptool.test", k), a: caller, b: pbx(addrPBX), domain: domain,
			transport: "UDP", aTag: fmt.Sprintf("la%d", k), bTag: fmt.Sprintf("lb%d", k)}
		base := Epoch.Add(time.Duration(k) * spacing)
		aM := netip.AddrPortFrom(cl, 40000)
		pM := netip.AddrPortFrom(addrPBX, uint16(10000+2*(k%20000)))
		var tl timeline
		inv := c.req("INVITE", true, false, 1, "i", SDP{User: caller.user, SessID: uint64(k), Version: 1, Addr: cl, Port: 40000}.Bytes())
		tl.sip(base, caller.sig, c.b.sig, inv)
		tl.sip(base.Add(5*time.Millisecond), c.b.sig, caller.sig, c.resp(inv, 100, "Trying", "", nil))
		tl.sip(base.Add(100*time.Millisecond), c.b.sig, caller.sig, c.resp(inv, 180, "Ringing", c.bTag, nil))
		tl.sip(base.Add(200*time.Millisecond), c.b.sig, caller.sig, c.resp(inv, 200, "OK", c.bTag,
			SDP{User: "root", SessID: uint64(k), Version: 1, Addr: addrPBX, Port: pM.Port()}.Bytes()))
		tl.sip(base.Add(210*time.Millisecond), caller.sig, c.b.sig, c.req("ACK", true, true, 1, "a", nil))
		m0 := base.Add(220 * time.Millisecond)
		for i := range rtpPerCall {
			t := m0.Add(time.Duration(i) * G711Interval)
			tl.add(t, aM, pM, kindRTP, RTP{PT: PTPCMU, Seq: uint16(i), TS: uint32(i * G711Samples), SSRC: uint32(k)<<8 | 1, Payload: G711Payload(i)}.Bytes())
			tl.add(t.Add(3*time.Millisecond), pM, aM, kindRTP, RTP{PT: PTPCMU, Seq: uint16(i), TS: uint32(i * G711Samples), SSRC: uint32(k)<<8 | 2, Payload: G711Payload(i)}.Bytes())
		}
		end := m0.Add(time.Duration(rtpPerCall)*G711Interval + 10*time.Millisecond)
		bye := c.req("BYE", true, true, 2, "b", nil)
		tl.sip(end, caller.sig, c.b.sig, bye)
		tl.sip(end.Add(5*time.Millisecond), c.b.sig, caller.sig, c.resp(bye, 200, "OK", "", nil))
		ev := tl.sorted()
		out := make([]largeRec, len(ev))
		for i, e := range ev {
			out[i] = largeRec{t: e.t, b: Ethernet(UDP(e.src, e.dst, uint16(i), e.payload), e.src.Addr() == cl)}
		}
		return out
	}
	var active [][]largeRec
	next := 0
	for next < calls || len(active) > 0 {
		// Admit every call that starts before the earliest largeRec record.
		for next < calls {
			st := Epoch.Add(time.Duration(next) * spacing)
			if len(active) > 0 && !st.Before(earliest(active)) {
				break
			}
			active = append(active, callEvents(next))
			next++
		}
		// Emit the earliest record (ties: lowest call index first).
		bi := 0
		for i := range active {
			if active[i][0].t.Before(active[bi][0].t) {
				bi = i
			}
		}
		p := active[bi][0]
		ci := gopacket.CaptureInfo{Timestamp: p.t, CaptureLength: len(p.b), Length: len(p.b)}
		if err := pw.WritePacket(ci, p.b); err != nil {
			return err
		}
		active[bi] = active[bi][1:]
		if len(active[bi]) == 0 {
			active = append(active[:bi], active[bi+1:]...)
		}
	}
	return nil
}

type largeRec struct {
	t time.Time
	b []byte
}

func earliest(active [][]largeRec) time.Time {
	t := active[0][0].t
	for _, a := range active[1:] {
		if a[0].t.Before(t) {
			t = a[0].t
		}
	}
	return t
}
