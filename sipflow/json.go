package sipflow

import (
	"net/netip"

	"github.com/voiptool/voiptool/internal/jsonw"
)

// AppendJSON appends s as encoding/json encodes it compactly with HTML
// escaping off (an Encoder with SetEscapeHTML(false), without the
// trailing newline: the same keys, order and bytes), and reports whether
// it could. A value outside the fast path (a NaN or infinite number, a
// time outside years 0-9999 or not in UTC, an address whose text would
// need escaping) returns false, and the caller encodes s with
// encoding/json instead. Reflection over the summary and the re-indent
// of its output were a quarter of the CPU of `calls --format json` on a
// SIP-only capture; FuzzCallSummaryJSON and TestCallSummaryJSONCaptures
// hold the two byte-identical.
func (s *CallSummary) AppendJSON(b []byte) ([]byte, bool) {
	var w jsonWriter
	w.Reset(b)
	return s.appendJSON(&w)
}

// AppendJSONIndent is AppendJSON indented as json.Indent indents with
// prefix and indent (what an Encoder with SetIndent writes, without its
// trailing newline).
func (s *CallSummary) AppendJSONIndent(b []byte, prefix, indent string) ([]byte, bool) {
	var w jsonWriter
	w.ResetIndent(b, prefix, indent)
	return s.appendJSON(&w)
}

func (s *CallSummary) appendJSON(w *jsonWriter) ([]byte, bool) {
	start := len(w.Bytes())
	w.OpenObj()
	w.Key("call_id", true)
	w.Str(s.CallID)
	w.Key("type", false)
	w.Str(s.Type)
	w.Key("state", false)
	w.Str(s.State.String()) // State.MarshalText
	w.Key("from", false)
	w.Str(s.From)
	w.Key("to", false)
	w.Str(s.To)
	w.Key("from_display", false)
	w.Str(s.FromDisplay)
	w.Key("to_display", false)
	w.Str(s.ToDisplay)
	w.Key("pai", false)
	w.Str(s.PAI)
	w.Key("src", false)
	w.AddrPort(s.Src)
	w.Key("dst", false)
	w.AddrPort(s.Dst)
	w.Key("start", false)
	w.Time(s.Start)
	w.Key("end", false)
	w.Time(s.End)
	w.Key("setup_ms", false)
	w.Int64(s.SetupMS)
	w.Key("pdd_ms", false)
	w.Int64(s.PDDMS)
	w.Key("ring_ms", false)
	w.Int64(s.RingMS)
	w.Key("duration_ms", false)
	w.Int64(s.DurationMS)
	w.Key("total_ms", false)
	w.Int64(s.TotalMS)
	w.Key("final_code", false)
	w.Int64(int64(s.FinalCode))
	w.Key("reason", false)
	w.Str(s.Reason)
	w.Key("hangup_by", false)
	w.Str(s.HangupBy)
	w.Key("messages", false)
	w.Int64(int64(s.Messages))
	w.Key("retransmissions", false)
	w.Int64(int64(s.Retransmissions))
	w.Key("duplicates", false)
	w.Int64(int64(s.Duplicates))
	w.Key("sources", false)
	jsonSlice(w, s.Sources, w.strp)
	w.Key("auth_challenges", false)
	w.Int64(int64(s.AuthChallenges))
	w.Key("forks", false)
	w.Int64(int64(s.Forks))
	w.Key("on_hold", false)
	w.Bool(s.OnHold)
	w.Key("expired", false)
	w.Bool(s.Expired)
	w.Key("srtp", false)
	w.Bool(s.SRTP)
	w.Key("warnings", false)
	w.Int64(int64(s.Warnings))
	w.Key("methods", false)
	jsonSlice(w, s.Methods, w.strp)
	w.Key("user_agents", false)
	jsonSlice(w, s.UserAgents, w.strp)
	w.Key("ips", false)
	jsonSlice(w, s.IPs, func(a *netip.Addr) { w.Addr(*a) })
	w.Key("offer", false)
	jsonSlice(w, s.Offer, w.media)
	w.Key("answer", false)
	jsonSlice(w, s.Answer, w.media)
	w.Key("sdp_history", false)
	jsonSlice(w, s.SDPHistory, w.negotiation)
	w.Key("sdp_history_dropped", false)
	w.Int64(int64(s.SDPHistoryDropped))
	w.Key("codec", false)
	w.Str(s.Codec)
	w.Key("legs", false)
	jsonSlice(w, s.Legs, w.leg)
	w.Key("streams", false)
	jsonSlice(w, s.Streams, w.stream)
	w.Key("problems", false)
	jsonSlice(w, s.Problems, w.problem)
	w.CloseObj()
	if !w.OK() {
		return w.Bytes()[:start], false
	}
	return w.Bytes(), true
}

func (w *jsonWriter) media(m *MediaSummary) {
	w.OpenObj()
	w.Key("type", true)
	w.Str(m.Type)
	w.Key("addr", false)
	w.AddrPort(m.Addr)
	w.Key("rtcp", false)
	w.AddrPort(m.RTCP)
	w.Key("proto", false)
	w.Str(m.Proto)
	w.Key("codecs", false)
	jsonSlice(w, m.Codecs, w.strp)
	w.Key("dir", false)
	w.Str(m.Dir)
	w.Key("srtp", false)
	w.Bool(m.SRTP)
	w.Key("ptime", false)
	w.Int64(int64(m.Ptime))
	w.CloseObj()
}

func (w *jsonWriter) negotiation(n *Negotiation) {
	w.OpenObj()
	w.Key("method", true)
	w.Str(n.Method)
	w.Key("cseq", false)
	w.Uint(uint64(n.CSeq))
	w.Key("offer_time", false)
	w.Time(n.OfferTime)
	w.Key("answer_time", false)
	w.Time(n.AnswerTime)
	w.Key("offer_from", false)
	w.AddrPort(n.OfferFrom)
	w.Key("answer_from", false)
	w.AddrPort(n.AnswerFrom)
	w.Key("offer", false)
	jsonSlice(w, n.Offer, w.media)
	w.Key("answer", false)
	jsonSlice(w, n.Answer, w.media)
	w.CloseObj()
}

func (w *jsonWriter) leg(l *Leg) {
	w.OpenObj()
	w.Key("call_id", true)
	w.Str(l.CallID)
	w.Key("rule", false)
	w.Str(l.Rule)
	w.CloseObj()
}

func (w *jsonWriter) stream(s *Stream) {
	w.OpenObj()
	w.Key("src", true)
	w.AddrPort(s.Src)
	w.Key("dst", false)
	w.AddrPort(s.Dst)
	w.Key("ssrc", false)
	w.Uint(uint64(s.SSRC))
	w.Key("codec", false)
	w.Str(s.Codec)
	w.Key("packets", false)
	w.Int64(int64(s.Packets))
	w.Key("lost", false)
	w.Int64(int64(s.Lost))
	w.Key("jitter_ms", false)
	w.Float(s.JitterMS)
	w.Key("mos", false)
	w.Float(s.MOS)
	w.Key("link", false)
	w.Str(s.Link)
	w.CloseObj()
}

func (w *jsonWriter) problem(p *Problem) {
	w.OpenObj()
	w.Key("code", true)
	w.Str(p.Code)
	w.Key("severity", false)
	w.Str(p.Severity)
	w.Key("detail", false)
	w.Str(p.Detail)
	w.Key("ssrc", false)
	w.Uint(uint64(p.SSRC))
	w.CloseObj()
}

// jsonWriter is the shared writer (internal/jsonw) with the summary's
// nested values as methods.
type jsonWriter struct{ jsonw.Writer }

func (w *jsonWriter) strp(s *string) { w.Str(*s) }

// jsonSlice is jsonw.Slice on w.
func jsonSlice[T any](w *jsonWriter, s []T, each func(*T)) { jsonw.Slice(&w.Writer, s, each) }
