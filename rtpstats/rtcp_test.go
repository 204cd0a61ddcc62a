package rtpstats

import (
	"errors"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func marshalRTCP(t *testing.T, ps ...rtcp.Packet) []byte {
	t.Helper()
	b, err := rtcp.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRTCPReporterStats(t *testing.T) {
	const media, reporter = 0x11223344, 0xBBBB
	tr := NewTracker(Options{})
	feed(t, tr, regular(0, 50)) // PCMA stream with SSRC media, clock 8000

	ntp := uint64(0x0000_1234_5678_0000)
	back := Meta{Time: tBase.Add(time.Second), Src: tDst, Dst: tSrc}
	fwd := Meta{Time: tBase.Add(time.Second), Src: tSrc, Dst: tDst}
	sr := marshalRTCP(t,
		&rtcp.SenderReport{SSRC: media, NTPTime: ntp, RTPTime: 8000, PacketCount: 50, OctetCount: 8000},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: media, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "alice@example"}}}}})
	if err := tr.AddRTCP(sr, fwd); err != nil {
		t.Fatal(err)
	}
	// The receiver answers 1.1 s after the SR, having held it 1 s (DLSR
	// 65536/65536 s) → RTT 100 ms. Jitter 80 timestamp units at 8 kHz = 10 ms.
	// TotalLost 0xFFFFFF is −1 in the signed 24-bit field.
	back.Time = fwd.Time.Add(1100 * time.Millisecond)
	rr := marshalRTCP(t, &rtcp.ReceiverReport{SSRC: reporter, Reports: []rtcp.ReceptionReport{{
		SSRC: media, FractionLost: 64, TotalLost: 0xFFFFFF, LastSequenceNumber: 49, Jitter: 80,
		LastSenderReport: uint32(ntp >> 16), Delay: 65536,
	}}})
	if err := tr.AddRTCP(rr, back); err != nil {
		t.Fatal(err)
	}
	xr := marshalRTCP(t, &rtcp.ExtendedReport{SenderSSRC: reporter, Reports: []rtcp.ReportBlock{&rtcp.VoIPMetricsReportBlock{
		SSRC: media, LossRate: 128, RFactor: 80, MOSLQ: 42, MOSCQ: xrUnavailable, Gmin: 16,
	}}})
	if err := tr.AddRTCP(xr, back); err != nil {
		t.Fatal(err)
	}
	if err := tr.AddRTCP(marshalRTCP(t, &rtcp.Goodbye{Sources: []uint32{media}, Reason: "done"}), fwd); err != nil {
		t.Fatal(err)
	}

	r := one(t, tr)
	s := r.RTCP
	if s == nil {
		t.Fatal("no RTCP summary")
	}
	if s.CNAME != "alice@example" || s.SenderReports != 1 || s.SenderPackets != 50 || !s.Bye || s.ByeReason != "done" {
		t.Errorf("summary %+v", s)
	}
	if len(s.Reports) != 1 {
		t.Fatalf("reports %+v", s.Reports)
	}
	rep := s.Reports[0]
	if rep.Reporter != reporter || rep.Type != "rr" || rep.CumulativeLost != -1 || rep.FractionLost != 0.25 {
		t.Errorf("report %+v", rep)
	}
	near(t, "jitter ms", rep.JitterMs, 10, 1e-9)
	if !rep.HasRTT {
		t.Fatal("no RTT")
	}
	near(t, "rtt ms", rep.RTTMs, 100, 1e-6)
	if rep.XR == nil || rep.XR.MOSLQ != 4.2 || rep.XR.MOSCQ != 0 || rep.XR.RFactor != 80 || rep.XR.LossRate != 0.5 {
		t.Errorf("xr %+v", rep.XR)
	}
	// RTT/2 = 50 ms enters the E-model delay (plus 20 ms packetisation).
	near(t, "emodel delay", r.Quality.DelayMs, 70, 1e-6)
}

func TestRTCPMalformedMemberKeepsOthers(t *testing.T) {
	tr := NewTracker(Options{})
	good := marshalRTCP(t, &rtcp.Goodbye{Sources: []uint32{7}})
	bad := []byte{0x81, 201, 0, 9, 0, 0, 0, 1} // claims 40 bytes, has 8
	err := tr.AddRTCP(append(good, bad...), Meta{Time: tBase, Src: tSrc, Dst: tDst})
	if !errors.Is(err, ErrRTCP) || !errors.Is(err, ErrTruncated) {
		t.Fatalf("err = %v", err)
	}
	if s := tr.rtcp.summary(7, 0); s == nil || !s.Bye {
		t.Fatal("the BYE before the bad member was lost")
	}
	if err := tr.AddRTCP([]byte{0x40, 200, 0, 0}, Meta{}); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("version 1: %v", err)
	}
}
