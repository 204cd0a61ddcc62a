package report

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/voiptool/voiptool/rtpstats"
)

// streamColumns is the stream table; see callColumns for the drop rules.
func streamColumns() []column {
	return []column{
		{name: "start", drop: 5},
		{name: "src"},
		{name: "dst"},
		{name: "ssrc"},
		{name: "codec"},
		{name: "pkts", right: true, drop: 6},
		{name: "lost", right: true},
		{name: "loss%", right: true},
		{name: "jitter", right: true, drop: 4}, // mean/max ms
		{name: "max-delta", right: true, drop: 8},
		{name: "mos", right: true},
		{name: "mos-adapt", right: true, drop: 7},
		{name: "dtmf", shrink: 6, drop: 9}, // first to go on a narrow terminal
		{name: "call-id", shrink: 8, drop: 3},
	}
}

// dtmfDigits joins the RFC 4733 digits a stream carried ("-" for none).
func dtmfDigits(s *rtpstats.StreamReport) string {
	if len(s.DTMF) == 0 {
		return "-"
	}
	var b strings.Builder
	for _, d := range s.DTMF {
		b.WriteString(d.Digit)
	}
	return sanitize(b.String())
}

// WriteStreams renders one row per RTP stream. JSON is an indented array of
// rtpstats.StreamReport; CSV flattens nested objects into dotted JSON
// paths (burst_loss.burst_r, quality.ie, rtcp.rtt_ms) and leaves out the
// time series (see streamCSVHeader).
func WriteStreams(w io.Writer, f Format, streams []rtpstats.StreamReport, o TableOptions) error {
	return WriteStreamSeq(w, f, func(yield func(*rtpstats.StreamReport) bool) {
		for i := range streams {
			if !yield(&streams[i]) {
				return
			}
		}
	}, o)
}

// WriteStreamSeq is WriteStreams over a sequence walked once, so a long
// list of reports is written without a copy of it (engine.StreamSeq):
// at the end of a run under --max-memory that copy was the peak.
func WriteStreamSeq(w io.Writer, f Format, streams iter.Seq[*rtpstats.StreamReport], o TableOptions) error {
	out := newWriter(w)
	switch f {
	case FormatTable:
		t := table{cols: streamColumns()}
		for s := range streams {
			t.add(fmtTime(s.Start), fmtAddr(s.Src), fmtAddr(s.Dst), ssrcHex(s.SSRC), codecOr(s.Codec),
				strconv.Itoa(s.Packets), strconv.Itoa(s.Lost), f1(s.LostPct)+"%",
				jitterCell(s), f1(s.MaxDeltaMs), f2(s.MOS), f2(s.MOSAdaptive), dtmfDigits(s), dash(s.CallID))
		}
		t.render(out, o.width(), !o.NoHeader)
	case FormatJSON:
		a := newJSONArray(out)
		for s := range streams {
			if out.err != nil {
				break
			}
			a.add(s)
		}
		a.end()
	case FormatJSONL:
		for s := range streams {
			if out.err != nil {
				break
			}
			encodeJSON(out, s, false)
		}
	case FormatCSV:
		c := newCSV(out, streamCSVHeader())
		for s := range streams {
			if out.err != nil {
				break
			}
			c.row(streamCSVRow(s))
		}
		c.end()
	default:
		return fmt.Errorf("%w %v", ErrUnknownFormat, f)
	}
	return out.flush()
}

// streamCSVHeader uses the JSON names of rtpstats.StreamReport, dotted for
// nested objects. The per-interval series has no place in one row and is
// left out; loss_histogram and dtmf are joined with ';'.
func streamCSVHeader() []string {
	return []string{
		"call_id", "link", "sdp_endpoint", "call_ids", "ssrc", "ssrc_hex", "src", "dst", "payload_type", "codec", "clock_rate", "start", "end",
		"packets", "expected", "lost", "lost_pct", "lost_tshark", "duplicates", "out_of_order", "late", "seq_errors",
		"min_delta_ms", "mean_delta_ms", "max_delta_ms", "min_jitter_ms", "mean_jitter_ms",
		"max_jitter_ms", "max_skew_ms",
		"burst_loss.burst_r", "burst_loss.burst_density", "burst_loss.gap_density",
		"burst_loss.burst_duration_ms", "burst_loss.gap_duration_ms", "loss_histogram", "packet_ms",
		"r_factor", "mos", "mos_jb50", "mos_jb200", "mos_adaptive",
		"quality.ie", "quality.bpl", "quality.ppl", "quality.burst_r", "quality.delay_ms",
		"quality_jb50.late_lost", "quality_jb200.late_lost", "quality_adaptive.late_lost",
		"rtcp.rtt_ms", "rtcp.sender_reports", "rtcp.cname", "rtcp.bye",
		"dtmf", "bad_events", "series_dropped",
	}
}

func streamCSVRow(s *rtpstats.StreamReport) []string {
	hist := make([]string, len(s.LossHistogram))
	for i, n := range s.LossHistogram {
		hist[i] = strconv.Itoa(n)
	}
	var digits strings.Builder
	for _, d := range s.DTMF {
		digits.WriteString(d.Digit)
	}
	rtt, srs, cname, bye := "", "", "", ""
	if r := s.RTCP; r != nil {
		if r.HasRTT {
			rtt = g(r.RTTMs)
		}
		srs, cname, bye = strconv.Itoa(r.SenderReports), r.CNAME, strconv.FormatBool(r.Bye)
	}
	q := &s.Quality
	return []string{
		s.CallID, s.Link, addrCSV(s.SDPEndpoint), strings.Join(s.CallIDs, csvListSep), strconv.FormatUint(uint64(s.SSRC), 10), s.SSRCHex, addrCSV(s.Src), addrCSV(s.Dst),
		strconv.Itoa(int(s.PayloadType)), s.Codec, strconv.FormatUint(uint64(s.ClockRate), 10),
		timeCSV(s.Start), timeCSV(s.End),
		strconv.Itoa(s.Packets), strconv.Itoa(s.Expected), strconv.Itoa(s.Lost), g(s.LostPct), strconv.Itoa(s.LostTshark),
		strconv.Itoa(s.Duplicates), strconv.Itoa(s.OutOfOrder), strconv.Itoa(s.Late), strconv.Itoa(s.SeqErrors),
		g(s.MinDeltaMs), g(s.MeanDeltaMs), g(s.MaxDeltaMs), g(s.MinJitterMs), g(s.MeanJitterMs),
		g(s.MaxJitterMs), g(s.MaxSkewMs),
		g(s.BurstLoss.BurstR), g(s.BurstLoss.BurstDensity), g(s.BurstLoss.GapDensity),
		g(s.BurstLoss.BurstDurationMs), g(s.BurstLoss.GapDurationMs),
		strings.Join(hist, csvListSep), g(s.PacketMs),
		g(s.RFactor), g(s.MOS), g(s.MOSJB50), g(s.MOSJB200), g(s.MOSAdaptive),
		g(q.Ie), g(q.Bpl), g(q.Ppl), g(q.BurstR), g(q.DelayMs),
		strconv.Itoa(s.QualityJB50.LateLost), strconv.Itoa(s.QualityJB200.LateLost),
		strconv.Itoa(s.QualityAdaptive.LateLost),
		rtt, srs, cname, bye,
		digits.String(), strconv.Itoa(s.BadEvents), strconv.Itoa(s.SeriesDropped),
	}
}

// WriteExplain prints the ITU-T G.107 E-model inputs behind a stream's MOS
// for the four receiver scenarios rtpstats computes: the network as seen
// on the wire, fixed 50 ms and 200 ms jitter buffers, and an adaptive one.
func WriteExplain(w io.Writer, r rtpstats.StreamReport) error {
	out := newWriter(w)
	out.printf("stream %s %s -> %s %s", ssrcHex(r.SSRC), fmtAddr(r.Src), fmtAddr(r.Dst), sanitize(codecOr(r.Codec)))
	if r.CallID != "" {
		out.printf(" call-id %s", sanitize(r.CallID))
	}
	out.str("\n")
	out.printf("packets %d, expected %d, lost %d (%.2f%%; tshark's expected-received %d), duplicates %d, late %d, packet %.1f ms, burst ratio %.2f",
		r.Packets, r.Expected, r.Lost, r.LostPct, r.LostTshark, r.Duplicates, r.Late, r.PacketMs, r.BurstLoss.BurstR)
	if r.RTCP != nil && r.RTCP.HasRTT {
		out.printf(", RTCP RTT %.1f ms (one-way delay = RTT/2 + packet time)", r.RTCP.RTTMs)
	} else {
		out.str(", no RTCP RTT (delay = packet time only)")
	}
	out.str("\n")
	if len(r.DTMF) > 0 {
		out.printf("DTMF (RFC 4733) %s:", dtmfDigits(&r))
		for _, d := range r.DTMF {
			out.printf(" %s at %s for %.0f ms", sanitize(d.Digit), d.Start.UTC().Format("15:04:05.000"), d.DurationMs)
		}
		out.str("\n")
	}
	out.str("E-model, ITU-T G.107 (R = Ro - Is - Id - Ie,eff + A; MOS by G.107 Annex B):\n")
	t := table{cols: []column{
		{name: "scenario"}, {name: "codec"}, {name: "Ie", right: true}, {name: "Bpl", right: true},
		{name: "Ppl%", right: true}, {name: "BurstR", right: true}, {name: "delay-ms", right: true},
		{name: "late", right: true}, {name: "R", right: true}, {name: "MOS", right: true},
	}}
	scen := []struct {
		name string
		a    *rtpstats.Assessment
	}{
		{"network", &r.Quality}, {"jb50", &r.QualityJB50}, {"jb200", &r.QualityJB200}, {"adaptive", &r.QualityAdaptive},
	}
	for _, s := range scen {
		a := s.a
		t.add(s.name, codecOr(a.Codec), f1(a.Ie), f1(a.Bpl), f2(a.Ppl), f2(a.BurstR), f1(a.DelayMs),
			strconv.Itoa(a.LateLost), f1(a.R), f2(a.MOS))
	}
	t.render(out, TableOptions{Width: -1}.width(), true)
	// All four scenarios share the codec, so one source line covers them.
	if r.Quality.Source != "" {
		out.str("Ie/Bpl source: " + sanitize(r.Quality.Source))
		if r.Quality.Assumed {
			out.str(" (assumed)")
		}
		out.str("\n")
	}
	return out.flush()
}

func ssrcHex(v uint32) string { return fmt.Sprintf("0x%08X", v) }

func jitterCell(s *rtpstats.StreamReport) string {
	if s.ClockRate == 0 || s.MaxJitterMs < 0 {
		return "-" // clock rate unknown: rtpstats cannot compute jitter
	}
	return f1(s.MeanJitterMs) + "/" + f1(s.MaxJitterMs)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func f2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// g formats a float for machine-readable output: shortest exact form.
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
