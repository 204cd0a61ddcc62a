package rtpstats

import (
	"math"
	"net/netip"
	"strconv"
	"time"
)

// AppendJSON appends r as encoding/json encodes it compactly with HTML
// escaping off (the same keys, order and bytes), and reports whether it
// could: a value its fast path does not cover (a string that needs
// escaping, a NaN or infinite number, a time outside years 0-9999)
// returns false, and the caller encodes r with encoding/json instead.
// Reflection over the report's sixty-odd fields was the largest cost of
// `rtp --format json` after the analysis itself (issue 17);
// FuzzAppendJSON and the report package's corpus tests hold the two
// byte-identical.
func (r *StreamReport) AppendJSON(b []byte) ([]byte, bool) {
	w := jsonWriter{b: b, ok: true}
	return r.appendJSON(&w)
}

// AppendJSONIndent is AppendJSON indented as json.Indent indents with
// prefix and indent (what an Encoder with SetIndent writes, without its
// trailing newline).
func (r *StreamReport) AppendJSONIndent(b []byte, prefix, indent string) ([]byte, bool) {
	w := jsonWriter{b: b, ok: true, ind: true, prefix: prefix, indent: indent}
	return r.appendJSON(&w)
}

func (r *StreamReport) appendJSON(w *jsonWriter) ([]byte, bool) {
	w.openObj()
	w.key("call_id", true)
	w.str(r.CallID)
	w.key("link", false)
	w.str(r.Link)
	w.key("sdp_endpoint", false)
	w.addrPort(r.SDPEndpoint)
	w.key("call_ids", false)
	jsonSlice(w, r.CallIDs, func(id *string) { w.str(*id) })
	w.key("ssrc", false)
	w.uint(uint64(r.SSRC))
	w.key("ssrc_hex", false)
	w.str(r.SSRCHex)
	w.key("src", false)
	w.addrPort(r.Src)
	w.key("dst", false)
	w.addrPort(r.Dst)
	w.key("payload_type", false)
	w.uint(uint64(r.PayloadType))
	w.key("codec", false)
	w.str(r.Codec)
	w.key("clock_rate", false)
	w.uint(uint64(r.ClockRate))
	w.key("start", false)
	w.time(r.Start)
	w.key("end", false)
	w.time(r.End)
	w.key("packets", false)
	w.int(r.Packets)
	w.key("expected", false)
	w.int(r.Expected)
	w.key("lost", false)
	w.int(r.Lost)
	w.key("lost_pct", false)
	w.float(r.LostPct)
	w.key("lost_tshark", false)
	w.int(r.LostTshark)
	w.key("duplicates", false)
	w.int(r.Duplicates)
	w.key("out_of_order", false)
	w.int(r.OutOfOrder)
	w.key("late", false)
	w.int(r.Late)
	w.key("seq_errors", false)
	w.int(r.SeqErrors)
	w.key("min_delta_ms", false)
	w.float(r.MinDeltaMs)
	w.key("mean_delta_ms", false)
	w.float(r.MeanDeltaMs)
	w.key("max_delta_ms", false)
	w.float(r.MaxDeltaMs)
	w.key("min_jitter_ms", false)
	w.float(r.MinJitterMs)
	w.key("mean_jitter_ms", false)
	w.float(r.MeanJitterMs)
	w.key("max_jitter_ms", false)
	w.float(r.MaxJitterMs)
	w.key("max_skew_ms", false)
	w.float(r.MaxSkewMs)
	w.key("burst_loss", false)
	w.burst(&r.BurstLoss)
	w.key("loss_histogram", false)
	w.openArr()
	for i, n := range r.LossHistogram {
		w.elem(i)
		w.int(n)
	}
	w.closeArr(len(r.LossHistogram))
	w.key("packet_ms", false)
	w.float(r.PacketMs)
	w.key("r_factor", false)
	w.float(r.RFactor)
	w.key("mos", false)
	w.float(r.MOS)
	w.key("mos_jb50", false)
	w.float(r.MOSJB50)
	w.key("mos_jb200", false)
	w.float(r.MOSJB200)
	w.key("mos_adaptive", false)
	w.float(r.MOSAdaptive)
	w.key("quality", false)
	w.assessment(&r.Quality)
	w.key("quality_jb50", false)
	w.assessment(&r.QualityJB50)
	w.key("quality_jb200", false)
	w.assessment(&r.QualityJB200)
	w.key("quality_adaptive", false)
	w.assessment(&r.QualityAdaptive)
	w.key("rtcp", false)
	w.rtcp(r.RTCP)
	w.key("dtmf", false)
	jsonSlice(w, r.DTMF, w.dtmf)
	w.key("bad_events", false)
	w.int(r.BadEvents)
	w.key("series", false)
	jsonSlice(w, r.Series, func(p *SeriesPoint) {
		w.openObj()
		w.key("start", true)
		w.time(p.Start)
		w.key("packets", false)
		w.int(p.Packets)
		w.key("lost", false)
		w.int(p.Lost)
		w.key("max_jitter_ms", false)
		w.float(p.MaxJitterMs)
		w.key("mos", false)
		w.float(p.MOS)
		w.closeObj()
	})
	w.key("series_dropped", false)
	w.int(r.SeriesDropped)
	w.closeObj()
	return w.b, w.ok
}

// jsonWriter appends JSON, compact or indented the way json.Indent
// indents (prefix, then indent per level; "{}" and "[]" stay empty).
type jsonWriter struct {
	b              []byte
	ok             bool
	ind            bool
	prefix, indent string
	depth          int
}

func (w *jsonWriter) lit(s string)  { w.b = append(w.b, s...) }
func (w *jsonWriter) int(n int)     { w.b = strconv.AppendInt(w.b, int64(n), 10) }
func (w *jsonWriter) uint(n uint64) { w.b = strconv.AppendUint(w.b, n, 10) }
func (w *jsonWriter) bool(v bool)   { w.b = strconv.AppendBool(w.b, v) }

func (w *jsonWriter) newline() {
	if !w.ind {
		return
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.prefix...)
	for range w.depth {
		w.b = append(w.b, w.indent...)
	}
}

// openObj and closeObj bracket an object; every object written here has
// keys, so it is never "{}".
func (w *jsonWriter) openObj() {
	w.b = append(w.b, '{')
	w.depth++
}

func (w *jsonWriter) closeObj() {
	w.depth--
	w.newline()
	w.b = append(w.b, '}')
}

func (w *jsonWriter) openArr() {
	w.b = append(w.b, '[')
	w.depth++
}

// elem starts element i of an array.
func (w *jsonWriter) elem(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
	w.newline()
}

// jsonSlice writes s as encoding/json does: null when nil, else an
// array of each element.
func jsonSlice[T any](w *jsonWriter, s []T, each func(*T)) {
	if s == nil {
		w.lit("null")
		return
	}
	w.openArr()
	for i := range s {
		w.elem(i)
		each(&s[i])
	}
	w.closeArr(len(s))
}

// closeArr ends an array of n elements.
func (w *jsonWriter) closeArr(n int) {
	w.depth--
	if n > 0 {
		w.newline()
	}
	w.b = append(w.b, ']')
}

func (w *jsonWriter) key(k string, first bool) {
	if !first {
		w.b = append(w.b, ',')
	}
	w.newline()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	if w.ind {
		w.b = append(w.b, '"', ':', ' ')
		return
	}
	w.b = append(w.b, '"', ':')
}

// str quotes s when no byte of it needs escaping (printable ASCII other
// than the quote and the backslash); anything else is left to
// encoding/json (its escapes of controls, U+2028/U+2029 and invalid
// UTF-8).
func (w *jsonWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			w.ok = false
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// float is encoding/json's float64 encoding: the shortest 'f' form, or
// 'e' for very small or large magnitudes with a one-digit exponent
// written without its leading zero.
func (w *jsonWriter) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.ok = false // encoding/json refuses them
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		if n := len(w.b); n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

// time is time.Time.MarshalJSON (RFC 3339 with nanoseconds, quoted) for
// UTC times (every packet time) of the years it accepts.
func (w *jsonWriter) time(t time.Time) {
	if _, off := t.Zone(); off != 0 {
		w.ok = false
		return
	}
	if y := t.Year(); y < 0 || y > 9999 {
		w.ok = false
		return
	}
	w.b = append(w.b, '"')
	w.b = t.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// addrPort is netip.AddrPort.MarshalText, quoted: "" when invalid.
func (w *jsonWriter) addrPort(ap netip.AddrPort) {
	w.b = append(w.b, '"')
	if ap.IsValid() {
		w.b = ap.AppendTo(w.b)
	}
	w.b = append(w.b, '"')
}

func (w *jsonWriter) burst(s *BurstStats) {
	w.openObj()
	w.key("gmin", true)
	w.int(s.Gmin)
	w.key("burst_density", false)
	w.float(s.BurstDensity)
	w.key("gap_density", false)
	w.float(s.GapDensity)
	w.key("burst_duration_ms", false)
	w.float(s.BurstDurationMs)
	w.key("gap_duration_ms", false)
	w.float(s.GapDurationMs)
	w.key("markov_p", false)
	w.float(s.MarkovP)
	w.key("markov_q", false)
	w.float(s.MarkovQ)
	w.key("burst_r", false)
	w.float(s.BurstR)
	w.closeObj()
}

func (w *jsonWriter) assessment(a *Assessment) {
	w.openObj()
	w.key("codec", true)
	w.str(a.Codec)
	w.key("ie", false)
	w.float(a.Ie)
	w.key("bpl", false)
	w.float(a.Bpl)
	w.key("ppl", false)
	w.float(a.Ppl)
	w.key("burst_r", false)
	w.float(a.BurstR)
	w.key("delay_ms", false)
	w.float(a.DelayMs)
	w.key("r", false)
	w.float(a.R)
	w.key("mos", false)
	w.float(a.MOS)
	w.key("assumed", false)
	w.bool(a.Assumed)
	w.key("source", false)
	w.str(a.Source)
	w.key("late_lost", false)
	w.int(a.LateLost)
	w.closeObj()
}

func (w *jsonWriter) dtmf(d *DTMFEvent) {
	w.openObj()
	w.key("digit", true)
	w.str(d.Digit)
	w.key("event", false)
	w.uint(uint64(d.Event))
	w.key("start", false)
	w.time(d.Start)
	w.key("duration_ms", false)
	w.float(d.DurationMs)
	w.key("volume", false)
	w.uint(uint64(d.Volume))
	w.key("ended", false)
	w.bool(d.Ended)
	w.key("packets", false)
	w.int(d.Packets)
	w.closeObj()
}

// rtcp encodes an RTCP summary; anything in it beyond the fast path
// (its reports, a CNAME to escape) defers to encoding/json too.
func (w *jsonWriter) rtcp(s *RTCPSummary) {
	if s == nil {
		w.lit("null")
		return
	}
	w.openObj()
	w.key("reports", true)
	jsonSlice(w, s.Reports, w.report)
	w.key("sender_reports", false)
	w.int(s.SenderReports)
	w.key("sender_packets", false)
	w.uint(uint64(s.SenderPackets))
	w.key("sender_octets", false)
	w.uint(uint64(s.SenderOctets))
	w.key("cname", false)
	w.str(s.CNAME)
	w.key("bye", false)
	w.bool(s.Bye)
	w.key("bye_reason", false)
	w.str(s.ByeReason)
	w.key("rtt_ms", false)
	w.float(s.RTTMs)
	w.key("has_rtt", false)
	w.bool(s.HasRTT)
	w.closeObj()
}

func (w *jsonWriter) report(r *RTCPReport) {
	w.openObj()
	w.key("reporter_ssrc", true)
	w.uint(uint64(r.Reporter))
	w.key("from", false)
	w.addrPort(r.From)
	w.key("time", false)
	w.time(r.Time)
	w.key("type", false)
	w.str(r.Type)
	w.key("fraction_lost", false)
	w.float(r.FractionLost)
	w.key("cumulative_lost", false)
	w.int(int(r.CumulativeLost))
	w.key("highest_seq", false)
	w.uint(uint64(r.HighestSeq))
	w.key("jitter_ts", false)
	w.uint(uint64(r.JitterTS))
	w.key("jitter_ms", false)
	w.float(r.JitterMs)
	w.key("rtt_ms", false)
	w.float(r.RTTMs)
	w.key("has_rtt", false)
	w.bool(r.HasRTT)
	w.key("reports", false)
	w.int(r.Reports)
	w.key("xr", false)
	if x := r.XR; x == nil {
		w.lit("null")
	} else {
		w.openObj()
		w.key("loss_rate", true)
		w.float(x.LossRate)
		w.key("discard_rate", false)
		w.float(x.DiscardRate)
		w.key("burst_density", false)
		w.float(x.BurstDensity)
		w.key("gap_density", false)
		w.float(x.GapDensity)
		w.key("burst_duration_ms", false)
		w.int(x.BurstMs)
		w.key("gap_duration_ms", false)
		w.int(x.GapMs)
		w.key("round_trip_delay_ms", false)
		w.int(x.RTTMs)
		w.key("end_system_delay_ms", false)
		w.int(x.EndSystemMs)
		w.key("r_factor", false)
		w.int(x.RFactor)
		w.key("mos_lq", false)
		w.float(x.MOSLQ)
		w.key("mos_cq", false)
		w.float(x.MOSCQ)
		w.key("gmin", false)
		w.int(x.Gmin)
		w.closeObj()
	}
	w.closeObj()
}
