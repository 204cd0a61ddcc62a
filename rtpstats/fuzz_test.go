package rtpstats

import (
	"encoding/binary"
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
		if p.Unmarshal(b) != nil {
			return
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
// AddRTP and AddRTCP and renders reports; nothing may panic.
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
		h := Header{PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 7, Payload: []byte{0, 0x8a, 0, 160}}
		b, _ := h.Marshal()
		return b
	}
	f.Add(rec(p(1, 0, 8), p(2, 160, 8), p(4, 480, 8), p(3, 320, 8), p(3, 320, 8)))
	f.Add(rec(p(65535, 0xffffff00, 0), p(0, 0x60, 0), p(1, 0x100, 13), p(2, 0x200, 101)))
	// SR then RR (RTCP records have PT 200/201 in byte 1).
	f.Add(rec([]byte{0x80, 200, 0, 6, 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3},
		[]byte{0x81, 201, 0, 7, 0, 0, 0, 9, 0, 0, 0, 7, 0x10, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 9, 3, 4, 5, 6, 0, 1, 0, 0}))
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
			if len(pkt) > 1 && pkt[1] >= 200 && pkt[1] <= 207 {
				_ = tr.AddRTCP(pkt, m)
			} else {
				_ = tr.AddRTP(pkt, m)
			}
		}
		for _, r := range tr.Streams() {
			_ = r.Explain().String()
		}
		tr.ExpireBefore(now)
	})
}
