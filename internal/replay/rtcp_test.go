package replay

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/pion/rtcp"

	"github.com/voiptool/voiptool/capture"
)

// TestReplayNewRTPMapsRTCP: with --new-rtp the RTCP of the call names the
// new SSRCs, its sender reports carry the new timestamp base and what
// the replay sent of the stream, and its reception reports the new
// sequence numbers; NTP times stay as captured.
func TestReplayNewRTPMapsRTCP(t *testing.T) {
	dst := listenUDP(t)
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Loops: 1,
		Rewrite: true, NewRTP: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := dst.wait(int(sum.Counts.Sent))
	orig := original(t, "basic-call.pcap")
	if len(got) != len(orig) {
		t.Fatalf("got %d datagrams, capture has %d payloads", len(got), len(orig))
	}
	shifts := map[uint32]rtpShift{}
	sent := map[uint32][2]uint32{} // original SSRC -> packets, payload octets so far
	nSR, nRR, nSDES := 0, 0, 0
	for i, e := range orig {
		b := got[i].b
		switch e.Kind {
		case capture.KindRTP:
			s := rtpShift{binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint16(b[2:]) - e.RTP.SequenceNumber,
				binary.BigEndian.Uint32(b[4:]) - e.RTP.Timestamp}
			if old, ok := shifts[e.RTP.SSRC]; ok && old != s {
				t.Fatalf("packet %d: stream %08x shifted by %+v, before by %+v", i, e.RTP.SSRC, s, old)
			}
			shifts[e.RTP.SSRC] = s
			c := sent[e.RTP.SSRC]
			sent[e.RTP.SSRC] = [2]uint32{c[0] + 1, c[1] + uint32(len(e.RTP.Payload(e.Payload)))}
		case capture.KindRTCP:
			op, err := rtcp.Unmarshal(e.Payload)
			if err != nil {
				t.Fatalf("packet %d: capture's RTCP: %v", i, err)
			}
			np, err := rtcp.Unmarshal(b)
			if err != nil {
				t.Fatalf("packet %d: replayed RTCP: %v", i, err)
			}
			if len(op) != len(np) {
				t.Fatalf("packet %d: %d RTCP packets, capture had %d", i, len(np), len(op))
			}
			for j := range op {
				switch o := op[j].(type) {
				case *rtcp.SenderReport:
					n := np[j].(*rtcp.SenderReport)
					nSR++
					s, ok := shifts[o.SSRC]
					if !ok {
						t.Fatalf("packet %d: SR of %08x before its RTP", i, o.SSRC)
					}
					c := sent[o.SSRC]
					if n.SSRC != s.ssrc || n.RTPTime != o.RTPTime+s.dts || n.NTPTime != o.NTPTime ||
						n.PacketCount != c[0] || n.OctetCount != c[1] {
						t.Errorf("packet %d: SR ssrc %08x rtp %d ntp %x count %d/%d, want %08x %d %x %d/%d", i,
							n.SSRC, n.RTPTime, n.NTPTime, n.PacketCount, n.OctetCount, s.ssrc, o.RTPTime+s.dts, o.NTPTime, c[0], c[1])
					}
					checkReports(t, i, o.Reports, n.Reports, shifts)
				case *rtcp.ReceiverReport:
					n := np[j].(*rtcp.ReceiverReport)
					nRR++
					if s, ok := shifts[o.SSRC]; ok && n.SSRC != s.ssrc {
						t.Errorf("packet %d: RR from %08x, want %08x", i, n.SSRC, s.ssrc)
					}
					if n.SSRC == o.SSRC {
						t.Errorf("packet %d: RR keeps the captured SSRC %08x", i, o.SSRC)
					}
					checkReports(t, i, o.Reports, n.Reports, shifts)
				case *rtcp.SourceDescription:
					n := np[j].(*rtcp.SourceDescription)
					nSDES++
					for k, ch := range o.Chunks {
						s, ok := shifts[ch.Source]
						if !ok || n.Chunks[k].Source != s.ssrc || n.Chunks[k].Items[0].Text != ch.Items[0].Text {
							t.Errorf("packet %d: SDES chunk %08x %q, want %08x %q", i, n.Chunks[k].Source, n.Chunks[k].Items[0].Text, s.ssrc, ch.Items[0].Text)
						}
					}
				}
			}
		}
	}
	if nSR+nRR == 0 || nSDES == 0 || sum.Counts.RTCPRewritten != int64(nSDES) || sum.Counts.RTCPUnchanged != 0 {
		t.Fatalf("%d SR %d RR %d SDES, counts %+v", nSR, nRR, nSDES, sum.Counts)
	}
}

// rtpShift is how one captured stream was renumbered.
type rtpShift struct {
	ssrc uint32
	dseq uint16
	dts  uint32
}

// checkReports: each reception report names the new SSRC of the stream
// it reports on and its extended highest sequence number in the new
// numbering; loss, jitter and LSR/DLSR stay.
func checkReports(t *testing.T, i int, o, n []rtcp.ReceptionReport, shifts map[uint32]rtpShift) {
	t.Helper()
	if len(o) != len(n) {
		t.Fatalf("packet %d: %d report blocks, capture had %d", i, len(n), len(o))
	}
	for k := range o {
		s, ok := shifts[o[k].SSRC]
		if !ok {
			t.Fatalf("packet %d: report on %08x, no RTP of it", i, o[k].SSRC)
		}
		w := o[k]
		w.SSRC = s.ssrc
		if uint16(n[k].LastSequenceNumber) != uint16(w.LastSequenceNumber)+s.dseq {
			t.Errorf("packet %d: highest seq %d, want %d", i, uint16(n[k].LastSequenceNumber), uint16(w.LastSequenceNumber)+s.dseq)
		}
		w.LastSequenceNumber = n[k].LastSequenceNumber
		if n[k] != w {
			t.Errorf("packet %d: report %+v, want %+v", i, n[k], w)
		}
	}
}

func TestShiftExtSeq(t *testing.T) {
	for _, c := range []struct {
		name string
		ext  uint32
		b    rtpBase
		want uint32
	}{
		{"no shift wrap", 1<<16 | 100, rtpBase{dseq: 10, first: 50, seen: true}, 1<<16 | 110},
		// the new stream starts at 4: 8 packets after 65530 is 12, no cycle yet
		{"shift undoes a wrap", 1<<16 | 2, rtpBase{dseq: 10, first: 65530, seen: true}, 12},
		// the new stream starts at 65535 and wraps where the old did not
		{"shift adds a wrap", 20, rtpBase{dseq: 65535, first: 0, seen: true}, 1<<16 | 19},
		{"nothing sent yet: cycles kept", 3<<16 | 7, rtpBase{dseq: 1}, 3<<16 | 8},
	} {
		if got := shiftExtSeq(c.ext, &c.b); got != c.want {
			t.Errorf("%s: %#x, want %#x", c.name, got, c.want)
		}
	}
}

// TestRewriteRTCPFeedbackAndXR: BYE, NACK, PLI, XR and APP packets name
// the new SSRCs (and NACK/XR the new sequence numbers); an undecodable
// packet goes out unchanged and is counted.
func TestRewriteRTCPFeedbackAndXR(t *testing.T) {
	r := &replayer{streams: map[uint32]*rtpBase{
		1: {ssrc: 101, dseq: 1000, dts: 5},
		2: {ssrc: 102, dseq: 2000, dts: 6},
	}}
	in, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 2, Reports: []rtcp.ReceptionReport{{SSRC: 1, LastSequenceNumber: 7, Jitter: 9}}},
		&rtcp.TransportLayerNack{SenderSSRC: 2, MediaSSRC: 1, Nacks: []rtcp.NackPair{{PacketID: 3}}},
		&rtcp.PictureLossIndication{SenderSSRC: 2, MediaSSRC: 1},
		&rtcp.ExtendedReport{SenderSSRC: 2, Reports: []rtcp.ReportBlock{
			&rtcp.VoIPMetricsReportBlock{SSRC: 1},
			&rtcp.DLRRReportBlock{Reports: []rtcp.DLRRReport{{SSRC: 1, LastRR: 4}}},
			&rtcp.StatisticsSummaryReportBlock{SSRC: 1, BeginSeq: 10, EndSeq: 20},
		}},
		&rtcp.ApplicationDefined{SSRC: 2, Name: "TEST", Data: []byte{1, 2, 3, 4}},
		&rtcp.Goodbye{Sources: []uint32{2}, Reason: "bye"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := rtcp.Unmarshal(r.rewriteRTCP(in))
	if err != nil {
		t.Fatal(err)
	}
	rr := ps[0].(*rtcp.ReceiverReport)
	nack := ps[1].(*rtcp.TransportLayerNack)
	pli := ps[2].(*rtcp.PictureLossIndication)
	xr := ps[3].(*rtcp.ExtendedReport)
	app := ps[4].(*rtcp.ApplicationDefined)
	bye := ps[5].(*rtcp.Goodbye)
	ss := xr.Reports[2].(*rtcp.StatisticsSummaryReportBlock)
	switch {
	case rr.SSRC != 102 || rr.Reports[0].SSRC != 101 || rr.Reports[0].LastSequenceNumber != 1007 || rr.Reports[0].Jitter != 9:
		t.Errorf("RR %+v", rr)
	case nack.SenderSSRC != 102 || nack.MediaSSRC != 101 || nack.Nacks[0].PacketID != 1003:
		t.Errorf("NACK %+v", nack)
	case pli.SenderSSRC != 102 || pli.MediaSSRC != 101:
		t.Errorf("PLI %+v", pli)
	case xr.SenderSSRC != 102 || xr.Reports[0].(*rtcp.VoIPMetricsReportBlock).SSRC != 101 ||
		xr.Reports[1].(*rtcp.DLRRReportBlock).Reports[0].SSRC != 101 || ss.SSRC != 101 || ss.BeginSeq != 1010 || ss.EndSeq != 1020:
		t.Errorf("XR %+v", xr)
	case app.SSRC != 102 || bye.Sources[0] != 102 || bye.Reason != "bye":
		t.Errorf("APP %+v BYE %+v", app, bye)
	}
	if r.c.RTCPRewritten != 1 || r.c.RTCPUnknown != 0 {
		t.Errorf("counts %+v", r.c)
	}
	bad := []byte{0x80, 200, 0, 9, 1, 2} // length says 40 bytes
	if out := r.rewriteRTCP(bad); string(out) != string(bad) || r.c.RTCPUnchanged != 1 {
		t.Errorf("undecodable RTCP: %x, counts %+v", out, r.c)
	}
}
