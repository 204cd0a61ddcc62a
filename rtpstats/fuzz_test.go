package rtpstats

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// FuzzRTPHeader decodes, re-encodes and decodes again; both decodes must
// agree, and the re-encoding must be byte-identical except for padding
// contents (only the padding count is kept).
func FuzzRTPHeader(f *testing.F) {
	f.Add([]byte{0x80, 0x00, 0x12, 0x34, 0, 0, 1, 0x40, 0xde, 0xad, 0xbe, 0xef, 0xff})
	f.Add([]byte{0xb2, 0xe5, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 9, 0, 0, 0, 10, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 0xaa, 0, 0, 3})
	f.Add([]byte{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Header
		var r Fixed
		err := p.Unmarshal(b)
		if ok := r.Parse(b); ok != (err == nil) || (ok && (r != p.Fixed || !bytes.Equal(r.Payload(b), p.Payload))) {
			t.Fatalf("Fixed.Parse %v %+v, Header.Unmarshal %v %+v", ok, r, err, p)
		}
		if err != nil {
			return
		}
		if n := int(p.HeaderLength); n+len(p.Payload)+int(p.PaddingSize) != len(b) {
			t.Fatalf("header %d + payload %d + padding %d != %d", n, len(p.Payload), p.PaddingSize, len(b))
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("marshal of decoded packet: %v", err)
		}
		if len(out) != len(b) {
			t.Fatalf("length %d, input %d", len(out), len(b))
		}
		var q Header
		if err := q.Unmarshal(out); err != nil || !p.Equal(&q) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, p, q)
		}
	})
}

// FuzzTracker feeds arbitrary datagrams (length-prefixed records) to
// AddRTP and AddRTCP and renders reports; nothing may panic. A 7-byte
// record starting with 'S' (version bits 01: never RTP) is an SDP
// announcement of IPv4 address:port bytes 1-6, so the NAT port guess and
// announcement expiry run too.
func FuzzTracker(f *testing.F) {
	rec := func(recs ...[]byte) []byte {
		var out []byte
		for _, r := range recs {
			out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
			out = append(out, r...)
		}
		return out
	}
	p := func(seq uint16, ts uint32, pt byte) []byte {
		h := Header{Fixed: Fixed{PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: []byte{0, 0x8a, 0, 160}}
		b, _ := h.Marshal()
		return b
	}
	f.Add(rec(p(1, 0, 8), p(2, 160, 8), p(4, 480, 8), p(3, 320, 8), p(3, 320, 8)))
	f.Add(rec(p(65535, 0xffffff00, 0), p(0, 0x60, 0), p(1, 0x100, 13), p(2, 0x200, 101)))
	// SR then RR (RTCP records have PT 200/201 in byte 1).
	f.Add(rec([]byte{0x80, 200, 0, 6, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},
		[]byte{0x81, 201, 0, 7, 0, 0, 0, 9, 0, 0, 0, 7, 0x10, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 9, 3, 4, 5, 6, 0, 1, 0, 0}))
	// Private 10.0.0.1:4000 announced, then media from the public tSrc:4000.
	f.Add(rec([]byte{'S', 10, 0, 0, 1, 0x0f, 0xa0}, p(1, 0, 0), p(2, 160, 0), []byte{'S', 10, 0, 0, 2, 0x0f, 0xa0}, p(3, 320, 0)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := NewTracker(Options{Interval: 10 * time.Millisecond, MaxSeries: 50})
		tr.SetCodec(tDst, 96, "opus", 48000)
		tr.SetCodec(tDst, 97, "telephone-event", 8000)
		now := tBase
		for n := 0; len(data) >= 2 && n < 1000; n++ {
			l := int(binary.BigEndian.Uint16(data))
			data = data[2:]
			if l > len(data) {
				l = len(data)
			}
			pkt := data[:l]
			data = data[l:]
			now = now.Add(time.Duration(l) * time.Millisecond)
			m := Meta{Time: now, Src: tSrc, Dst: tDst}
			if len(pkt) == 7 && pkt[0] == 'S' {
				ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte(pkt[1:5])), binary.BigEndian.Uint16(pkt[5:]))
				tr.SetCallIDAt(ep, "fuzz"+string('a'+rune(pkt[4]%3)), now) // several calls per endpoint
				tr.SetCodec(ep, 96, "opus", 48000)
				checkTables(t, tr)
				continue
			}
			if len(pkt) > 1 && pkt[1] >= 200 && pkt[1] <= 207 {
				_ = tr.AddRTCP(pkt, m)
			} else {
				_ = tr.AddRTP(pkt, m)
			}
		}
		for _, r := range tr.Streams() {
			_ = r.Explain().String()
			if (r.Link == "") != (r.CallID == "") {
				t.Fatalf("link %q with call id %q", r.Link, r.CallID)
			}
			if len(r.CallIDs) > 0 && r.CallIDs[0] != r.CallID {
				t.Fatalf("call_ids %v do not start with call_id %q", r.CallIDs, r.CallID)
			}
			if r.Lost < 0 || r.LostPct < 0 || r.LostPct > 100 || r.Late < 0 || r.Duplicates < 0 {
				t.Fatalf("lost %d (%v%%), late %d, duplicates %d", r.Lost, r.LostPct, r.Late, r.Duplicates)
			}
		}
		checkTables(t, tr)
		tr.ExpireBefore(now.Add(-time.Second))
		checkTables(t, tr)
		tr.ExpireBefore(now.Add(time.Nanosecond)) // everything, the last packet included
		if len(tr.all) != 0 || len(tr.flows) != 0 || tr.anns.len() != 0 || tr.natPorts.len() != 0 || len(tr.hints) != 0 || len(tr.idx.byEP) != 0 || len(tr.idx.callEPs) != 0 {
			t.Fatalf("after expiring everything: %d streams, %d flows, %d announcements, %d ports indexed, %d hints, %d endpoints and %d calls indexed", len(tr.all), len(tr.flows), tr.anns.len(), tr.natPorts.len(), len(tr.hints), len(tr.idx.byEP), len(tr.idx.callEPs))
		}
	})
}
