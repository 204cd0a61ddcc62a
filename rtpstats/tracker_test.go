package rtpstats

import (
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"
)

var (
	tSrc  = netip.MustParseAddrPort("192.0.2.1:4000")
	tDst  = netip.MustParseAddrPort("192.0.2.2:5000")
	tBase = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// synth describes one packet of a synthetic stream.
type synth struct {
	seq    uint16
	ts     uint32
	at     time.Duration // arrival after tBase
	pt     uint8
	marker bool
	ssrc   uint32
	pl     []byte
}

func rtpBytes(t testing.TB, p synth) []byte {
	t.Helper()
	pl := p.pl
	if pl == nil {
		pl = make([]byte, 160)
	}
	h := Header{Fixed: Fixed{Marker: p.marker, PayloadType: p.pt, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: pl}
	if h.SSRC == 0 {
		h.SSRC = 0x11223344
	}
	b, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func feed(t testing.TB, tr *Tracker, ps []synth) {
	t.Helper()
	for _, p := range ps {
		if err := tr.AddRTP(rtpBytes(t, p), Meta{Time: tBase.Add(p.at), Src: tSrc, Dst: tDst}); err != nil {
			t.Fatal(err)
		}
	}
}

// regular returns n PCMA packets, 20 ms apart, seq from seq0.
func regular(seq0 uint16, n int) []synth {
	ps := make([]synth, n)
	for i := range ps {
		ps[i] = synth{seq: seq0 + uint16(i), ts: 1000 + uint32(i)*160, at: time.Duration(i) * 20 * time.Millisecond, pt: 8}
	}
	return ps
}

func drop(ps []synth, seqs ...uint16) []synth {
	out := ps[:0:0]
outer:
	for _, p := range ps {
		for _, s := range seqs {
			if p.seq == s {
				continue outer
			}
		}
		out = append(out, p)
	}
	return out
}

func one(t *testing.T, tr *Tracker) StreamReport {
	t.Helper()
	r := tr.Streams()
	if len(r) != 1 {
		t.Fatalf("streams = %d, want 1", len(r))
	}
	return r[0]
}

func TestLossPattern(t *testing.T) {
	tr := NewTracker(Options{})
	// 100 packets, lose 1010 alone and 1020-1022 as a run of three.
	feed(t, tr, drop(regular(1000, 100), 1010, 1020, 1021, 1022))
	r := one(t, tr)
	if r.Packets != 96 || r.Expected != 100 || r.Lost != 4 {
		t.Fatalf("packets/expected/lost = %d/%d/%d, want 96/100/4", r.Packets, r.Expected, r.Lost)
	}
	near(t, "lost_pct", r.LostPct, 4, 1e-9)
	if r.SeqErrors != 2 {
		t.Errorf("seq_errors = %d, want 2 (one per gap)", r.SeqErrors)
	}
	want := [histBuckets]int{0: 1, 2: 1}
	if r.LossHistogram != want {
		t.Errorf("histogram = %v, want %v", r.LossHistogram, want)
	}
	// Perfect 20 ms pacing: the gap of 3 shows as an 80 ms delta, jitter 0.
	near(t, "max delta", r.MaxDeltaMs, 80, 1e-6)
	near(t, "min delta", r.MinDeltaMs, 20, 1e-6)
	near(t, "max jitter", r.MaxJitterMs, 0, 1e-9)
	if r.Codec != "PCMA" || r.ClockRate != 8000 {
		t.Errorf("codec %s/%d", r.Codec, r.ClockRate)
	}
	near(t, "packet_ms", r.PacketMs, 20, 1e-9)
	// Markov: received→lost transitions 2 of the received-with-successor
	// (96 received, the last has none: 95); lost→received 2 of 4 lost.
	near(t, "markov p", r.BurstLoss.MarkovP, 2.0/95, 1e-9)
	near(t, "markov q", r.BurstLoss.MarkovQ, 2.0/4, 1e-9)
	near(t, "burst_r", r.BurstLoss.BurstR, 1/(2.0/95+0.5), 1e-9)
	// Series: 100 packets over 1.98 s → two 1 s buckets of 50 slots.
	if len(r.Series) != 2 || r.Series[0].Packets+r.Series[1].Packets != 96 || r.Series[0].Lost+r.Series[1].Lost != 4 {
		t.Errorf("series = %+v", r.Series)
	}
}

func TestBurstGap(t *testing.T) {
	// 40 received, then lost,recv,lost,lost (a burst: losses < Gmin apart),
	// then 40 received, then one isolated loss, then 40 received.
	ps := regular(0, 126)
	ps = drop(ps, 40, 42, 43, 84)
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	b := r.BurstLoss
	// Burst = seqs 40..43: 3 lost of 4 → density 0.75 per A.2
	// (p23 = 1 − c22/(c22+c23) = 1 − 0/1 = 1, p32 = c32/(c31+c32+c33) =
	// 1/(1+1+1) → 1/(1+1/3) = 0.75).
	near(t, "burst density", b.BurstDensity, 0.75, 1e-9)
	// Gap: isolated loss 84 among c11 = 40+40+41 received → 1/(121+1).
	near(t, "gap density", b.GapDensity, 1.0/122, 1e-9)
	if r.LossHistogram[0] != 2 || r.LossHistogram[1] != 1 {
		t.Errorf("histogram %v, want two single losses and one pair", r.LossHistogram)
	}
}

func TestReorderDuplicate(t *testing.T) {
	ps := regular(1, 10)
	ps[4], ps[5] = ps[5], ps[4] // seq 6 arrives before 5
	ps[4].at, ps[5].at = ps[5].at, ps[4].at
	ps = append(ps, synth{seq: 10, ts: ps[9].ts, at: ps[9].at + time.Millisecond, pt: 8}) // duplicate of the last
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	// Wireshark: expected = last − first + 1 = 10, received 11 → lost −1;
	// every sequence number arrived, so the real loss is 0.
	if r.Packets != 11 || r.Expected != 10 || r.LostTshark != -1 || r.Lost != 0 || r.LostPct != 0 {
		t.Errorf("packets/expected/lost_tshark/lost/pct = %d/%d/%d/%d/%v, want 11/10/-1/0/0", r.Packets, r.Expected, r.LostTshark, r.Lost, r.LostPct)
	}
	if r.OutOfOrder != 1 || r.Duplicates != 1 {
		t.Errorf("ooo/dups = %d/%d, want 1/1", r.OutOfOrder, r.Duplicates)
	}
	// Wrong sequence at 6 (jump), at 5 (late) and at the duplicate.
	if r.SeqErrors != 3 {
		t.Errorf("seq_errors = %d, want 3", r.SeqErrors)
	}
	if h := r.LossHistogram; h != [histBuckets]int{} {
		t.Errorf("reordering must not count as loss: %v", h)
	}
}

func TestSeqWrap(t *testing.T) {
	ps := regular(65530, 12) // 65530..65535, 0..5
	ps = drop(ps, 0)
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	if r.Expected != 12 || r.Packets != 11 || r.Lost != 1 || r.LostTshark != 1 {
		t.Errorf("expected/packets/lost/lost_tshark = %d/%d/%d/%d, want 12/11/1/1", r.Expected, r.Packets, r.Lost, r.LostTshark)
	}
	if r.LossHistogram[0] != 1 {
		t.Errorf("histogram %v", r.LossHistogram)
	}
}

func TestSSRCChange(t *testing.T) {
	a := regular(100, 5)
	b := regular(7000, 5)
	for i := range b {
		b[i].ssrc = 0xCAFE
		b[i].at += 100 * time.Millisecond
	}
	tr := NewTracker(Options{})
	feed(t, tr, append(a, b...))
	r := tr.Streams()
	if len(r) != 2 || r[0].SSRC != 0x11223344 || r[1].SSRC != 0xCAFE || r[0].Packets != 5 || r[1].Packets != 5 || r[1].Lost != 0 {
		t.Fatalf("streams: %+v", r)
	}
}

func TestJitterMarkerTimestampJump(t *testing.T) {
	// Odd packets arrive 4 ms late. Transit differences alternate +4/−4 ms,
	// so |D| = 4 for every packet after the first; J follows RFC 3550 A.8.
	ps := regular(0, 50)
	for i := range ps {
		if i%2 == 1 {
			ps[i].at += 4 * time.Millisecond
		}
	}
	// Then 2 s of silence: timestamp and clock jump together, marker set.
	last := ps[len(ps)-1]
	ps = append(ps, synth{seq: last.seq + 1, ts: last.ts + 16000 + 160, at: last.at + 2020*time.Millisecond - 4*time.Millisecond, pt: 8, marker: true})
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	var j, maxJ, sum float64
	for i := 1; i < 50; i++ {
		j += (4 - j) / 16
		maxJ = math.Max(maxJ, j)
		sum += j
	}
	near(t, "max jitter", r.MaxJitterMs, maxJ, 1e-6)
	near(t, "mean jitter", r.MeanJitterMs, sum/49, 1e-6)
	// The marker packet's 2 s delta is not a regular delta.
	near(t, "max delta", r.MaxDeltaMs, 24, 1e-6)
	near(t, "min delta", r.MinDeltaMs, 16, 1e-6)
	if r.Lost != 0 {
		t.Errorf("lost %d", r.Lost)
	}
}

func TestComfortNoiseExcluded(t *testing.T) {
	ps := regular(0, 20)
	for i := 10; i < 13; i++ {
		ps[i].pt = ptCN
		ps[i].at += 30 * time.Millisecond // CN pacing must not count
	}
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	// Deltas of CN packets and of the first packet after CN are ignored.
	near(t, "max delta", r.MaxDeltaMs, 20, 1e-6)
	if r.Codec != "PCMA" {
		t.Errorf("codec %q: CN must not replace the media codec", r.Codec)
	}
}

func TestDynamicPTNeedsHint(t *testing.T) {
	ps := regular(0, 10)
	for i := range ps {
		ps[i].pt = 96
		ps[i].ts = uint32(i) * 960
	}
	ps[5].at += 5 * time.Millisecond
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	if r := one(t, tr); r.MaxJitterMs != 0 || r.MinJitterMs != -1 {
		t.Errorf("unknown dynamic PT must skip jitter like tshark: %+v", r)
	}
	tr = NewTracker(Options{})
	tr.SetCodec(tDst, 96, "opus", 48000)
	feed(t, tr, ps)
	r := one(t, tr)
	if r.Codec != "opus" || r.ClockRate != 48000 || r.MaxJitterMs == 0 {
		t.Errorf("hinted opus: codec %s clock %d jitter %v", r.Codec, r.ClockRate, r.MaxJitterMs)
	}
}

func TestJitterBufferLate(t *testing.T) {
	// One packet 120 ms late: lost for a 50 ms buffer, fine for 200 ms.
	ps := regular(0, 200)
	ps[100].at += 120 * time.Millisecond
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	if r.QualityJB50.LateLost != 1 || r.QualityJB200.LateLost != 0 {
		t.Errorf("late: jb50 %d jb200 %d, want 1/0", r.QualityJB50.LateLost, r.QualityJB200.LateLost)
	}
	if !(r.MOSJB50 < r.MOS) || r.Lost != 0 {
		t.Errorf("MOS %v jb50 %v: late packet must lower jb50 MOS", r.MOS, r.MOSJB50)
	}
	if r.Explain().Codec != "PCMA" || r.Explain().MOS != r.MOS {
		t.Errorf("explain %+v", r.Explain())
	}
}

func TestDTMF(t *testing.T) {
	ev := func(e byte, end bool, dur uint16) []byte {
		b := []byte{e, 10, byte(dur >> 8), byte(dur)}
		if end {
			b[1] |= eventEndBit
		}
		return b
	}
	var ps []synth
	at := time.Duration(0)
	add := func(seq uint16, ts uint32, pl []byte, m bool) {
		ps = append(ps, synth{seq: seq, ts: ts, at: at, pt: 101, pl: pl, marker: m})
		at += 20 * time.Millisecond
	}
	add(1, 8000, ev(5, false, 160), true)
	add(2, 8000, ev(5, false, 320), false)
	add(3, 8000, ev(5, true, 800), false)
	add(4, 8000, ev(5, true, 800), false) // RFC 4733 2.5.1.3 retransmits
	add(5, 8000, ev(5, true, 800), false)
	add(6, 16000, ev(11, false, 160), true) // '#' never ended
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	if len(r.DTMF) != 2 {
		t.Fatalf("dtmf = %+v", r.DTMF)
	}
	d := r.DTMF[0]
	if d.Digit != "5" || !d.Ended || d.DurationMs != 100 || d.Packets != 3 || !d.Start.Equal(tBase) {
		t.Errorf("first event %+v", d)
	}
	if r.DTMF[1].Digit != "#" || r.DTMF[1].Ended {
		t.Errorf("second event %+v", r.DTMF[1])
	}
}

func TestExpireBefore(t *testing.T) {
	tr := NewTracker(Options{})
	feed(t, tr, regular(0, 10))
	if got := tr.ExpireBefore(tBase); len(got) != 0 {
		t.Fatalf("expired too early: %d", len(got))
	}
	got := tr.ExpireBefore(tBase.Add(time.Second))
	if len(got) != 1 || got[0].Packets != 10 || tr.Len() != 0 || tr.Counters().Expired != 1 {
		t.Fatalf("expire: %d reports, %d left, counters %+v", len(got), tr.Len(), tr.Counters())
	}
	// Finished, not forgotten: the final report is still listed.
	if all := tr.Streams(); len(all) != 1 || all[0].Packets != 10 || all[0].SSRC != got[0].SSRC {
		t.Fatalf("after expiry Streams = %+v", all)
	}
}

func TestAddRTPAllocs(t *testing.T) {
	tr := NewTracker(Options{})
	b := rtpBytes(t, synth{seq: 0, ts: 0, pt: 8})
	m := Meta{Time: tBase, Src: tSrc, Dst: tDst}
	tr.SetCodec(tDst, 8, "PCMA", 8000)
	if err := tr.AddRTP(b, m); err != nil {
		t.Fatal(err)
	}
	var i uint16
	n := testing.AllocsPerRun(1000, func() {
		i++
		b[2], b[3] = byte(i>>8), byte(i)
		ts := uint32(i) * 160
		b[4], b[5], b[6], b[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		// Stay inside one series bucket so the test measures the
		// per-packet path, not the amortised per-second append.
		m.Time = tBase.Add(time.Duration(i) * 200 * time.Microsecond)
		_ = tr.AddRTP(b, m)
	})
	if n != 0 {
		t.Fatalf("AddRTP allocs/packet = %v, want 0", n)
	}
}

func BenchmarkAddRTP(b *testing.B) {
	tr := NewTracker(Options{})
	pkt := rtpBytes(b, synth{seq: 0, ts: 0, pt: 8})
	m := Meta{Time: tBase, Src: tSrc, Dst: tDst}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := uint16(i)
		pkt[2], pkt[3] = byte(s>>8), byte(s)
		ts := uint32(i) * 160
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		m.Time = tBase.Add(time.Duration(i) * 20 * time.Millisecond)
		_ = tr.AddRTP(pkt, m)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkAddRTPManyStreams spreads packets over 1000 streams so map
// lookups miss the cache like a busy trunk.
func BenchmarkAddRTPManyStreams(b *testing.B) {
	tr := NewTracker(Options{})
	pkt := rtpBytes(b, synth{seq: 0, ts: 0, pt: 0})
	const streams = 1000
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % streams
		n := i / streams
		s := uint16(n)
		pkt[2], pkt[3] = byte(s>>8), byte(s)
		ts := uint32(n) * 160
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		m := Meta{Time: tBase.Add(time.Duration(n) * 20 * time.Millisecond), Src: netip.AddrPortFrom(tSrc.Addr(), uint16(10000+k)), Dst: tDst}
		_ = tr.AddRTP(pkt, m)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

func TestCountersAndLimits(t *testing.T) {
	tr := NewTracker(Options{MaxStreams: 1})
	feed(t, tr, regular(0, 3))
	if err := tr.AddRTP([]byte{0x80, 0}, Meta{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short packet: %v", err)
	}
	other := rtpBytes(t, synth{seq: 1, pt: 0, ssrc: 99})
	if err := tr.AddRTP(other, Meta{Time: tBase, Src: tSrc, Dst: tDst}); err != nil {
		t.Fatal(err)
	}
	// A full table evicts the longest-idle stream instead of refusing
	// the new one; the evicted stream's final report stays.
	c := tr.Counters()
	if c.Malformed != 1 || c.Evicted != 1 || tr.Len() != 1 || len(tr.Streams()) != 2 {
		t.Fatalf("counters %+v live %d streams %d", c, tr.Len(), len(tr.Streams()))
	}
	for _, r := range tr.Streams() {
		if want := map[uint32]int{99: 1}[r.SSRC]; r.SSRC != 99 && r.Packets != 3 || r.SSRC == 99 && r.Packets != want {
			t.Errorf("ssrc %#x: %d packets", r.SSRC, r.Packets)
		}
	}
}

func TestCallIDAndAdaptiveBuffer(t *testing.T) {
	tr := NewTracker(Options{})
	tr.SetCallID(tDst, "abc@host")
	ps := regular(0, 300)
	for i := 100; i < 110; i++ {
		ps[i].at += time.Duration(i-99) * 15 * time.Millisecond // a delay spike ramping to 150 ms
	}
	feed(t, tr, ps)
	r := one(t, tr)
	if r.CallID != "abc@host" {
		t.Errorf("call_id %q", r.CallID)
	}
	a := r.QualityAdaptive
	if a.LateLost == 0 || a.LateLost > r.QualityJB50.LateLost {
		t.Errorf("adaptive late %d, jb50 late %d: adaptive must lose some but not more than jb50", a.LateLost, r.QualityJB50.LateLost)
	}
	if r.QualityJB200.LateLost != 0 {
		t.Errorf("jb200 late %d, spike is 150 ms", r.QualityJB200.LateLost)
	}
	if a.DelayMs < 20+adaptiveMinMs-1 || a.DelayMs > 20+adaptiveMaxMs {
		t.Errorf("adaptive delay %v out of bounds", a.DelayMs)
	}
}

func TestMaxSkewClockDrift(t *testing.T) {
	// The sender's clock runs slow: 20 ms of timestamp every 20.1 ms of
	// arrival. Skew = nominal − arrival reaches −0.1·49 ms at packet 50.
	ps := regular(0, 50)
	for i := range ps {
		ps[i].at = time.Duration(i) * 20100 * time.Microsecond
	}
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	near(t, "max skew", r.MaxSkewMs, -4.9, 1e-6)
	// Each packet is 0.1 ms later than expected: J → 0.1·(1 − (15/16)^49).
	near(t, "max jitter", r.MaxJitterMs, 0.1*(1-math.Pow(15.0/16, 49)), 1e-9)
}
