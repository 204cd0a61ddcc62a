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
	w.Member(`"call_id": `, true)
	w.Str(s.CallID)
	w.Member(`"type": `, false)
	w.Str(s.Type)
	w.Member(`"state": `, false)
	w.Str(s.State.String()) // State.MarshalText
	w.Member(`"from": `, false)
	w.Str(s.From)
	w.Member(`"to": `, false)
	w.Str(s.To)
	w.Member(`"from_display": `, false)
	w.Str(s.FromDisplay)
	w.Member(`"to_display": `, false)
	w.Str(s.ToDisplay)
	w.Member(`"pai": `, false)
	w.Str(s.PAI)
	w.Member(`"src": `, false)
	w.AddrPort(s.Src)
	w.Member(`"dst": `, false)
	w.AddrPort(s.Dst)
	w.Member(`"start": `, false)
	w.Time(s.Start)
	w.Member(`"end": `, false)
	w.Time(s.End)
	w.Member(`"setup_ms": `, false)
	w.Int64(s.SetupMS)
	w.Member(`"pdd_ms": `, false)
	w.Int64(s.PDDMS)
	w.Member(`"ring_ms": `, false)
	w.Int64(s.RingMS)
	w.Member(`"duration_ms": `, false)
	w.Int64(s.DurationMS)
	w.Member(`"total_ms": `, false)
	w.Int64(s.TotalMS)
	w.Member(`"final_code": `, false)
	w.Int64(int64(s.FinalCode))
	w.Member(`"reason": `, false)
	w.Str(s.Reason)
	w.Member(`"hangup_by": `, false)
	w.Str(s.HangupBy)
	w.Member(`"messages": `, false)
	w.Int64(int64(s.Messages))
	w.Member(`"retransmissions": `, false)
	w.Int64(int64(s.Retransmissions))
	w.Member(`"duplicates": `, false)
	w.Int64(int64(s.Duplicates))
	w.Member(`"sources": `, false)
	jsonSlice(w, s.Sources, w.strp)
	w.Member(`"auth_challenges": `, false)
	w.Int64(int64(s.AuthChallenges))
	w.Member(`"forks": `, false)
	w.Int64(int64(s.Forks))
	w.Member(`"on_hold": `, false)
	w.Bool(s.OnHold)
	w.Member(`"expired": `, false)
	w.Bool(s.Expired)
	w.Member(`"srtp": `, false)
	w.Bool(s.SRTP)
	w.Member(`"warnings": `, false)
	w.Int64(int64(s.Warnings))
	w.Member(`"methods": `, false)
	jsonSlice(w, s.Methods, w.strp)
	w.Member(`"user_agents": `, false)
	jsonSlice(w, s.UserAgents, w.strp)
	w.Member(`"ips": `, false)
	jsonSlice(w, s.IPs, func(a *netip.Addr) { w.Addr(*a) })
	w.Member(`"offer": `, false)
	jsonSlice(w, s.Offer, w.media)
	w.Member(`"answer": `, false)
	jsonSlice(w, s.Answer, w.media)
	w.Member(`"sdp_history": `, false)
	jsonSlice(w, s.SDPHistory, w.negotiation)
	w.Member(`"sdp_history_dropped": `, false)
	w.Int64(int64(s.SDPHistoryDropped))
	w.Member(`"codec": `, false)
	w.Str(s.Codec)
	w.Member(`"legs": `, false)
	jsonSlice(w, s.Legs, w.leg)
	w.Member(`"streams": `, false)
	jsonSlice(w, s.Streams, w.stream)
	w.Member(`"problems": `, false)
	jsonSlice(w, s.Problems, w.problem)
	w.CloseObj()
	if !w.OK() {
		return w.Bytes()[:start], false
	}
	return w.Bytes(), true
}

func (w *jsonWriter) media(m *MediaSummary) {
	w.OpenObj()
	w.Member(`"type": `, true)
	w.Str(m.Type)
	w.Member(`"addr": `, false)
	w.AddrPort(m.Addr)
	w.Member(`"rtcp": `, false)
	w.AddrPort(m.RTCP)
	w.Member(`"proto": `, false)
	w.Str(m.Proto)
	w.Member(`"codecs": `, false)
	jsonSlice(w, m.Codecs, w.strp)
	w.Member(`"dir": `, false)
	w.Str(m.Dir)
	w.Member(`"srtp": `, false)
	w.Bool(m.SRTP)
	w.Member(`"ptime": `, false)
	w.Int64(int64(m.Ptime))
	w.CloseObj()
}

func (w *jsonWriter) negotiation(n *Negotiation) {
	w.OpenObj()
	w.Member(`"method": `, true)
	w.Str(n.Method)
	w.Member(`"cseq": `, false)
	w.Uint(uint64(n.CSeq))
	w.Member(`"offer_time": `, false)
	w.Time(n.OfferTime)
	w.Member(`"answer_time": `, false)
	w.Time(n.AnswerTime)
	w.Member(`"offer_from": `, false)
	w.AddrPort(n.OfferFrom)
	w.Member(`"answer_from": `, false)
	w.AddrPort(n.AnswerFrom)
	w.Member(`"offer": `, false)
	jsonSlice(w, n.Offer, w.media)
	w.Member(`"answer": `, false)
	jsonSlice(w, n.Answer, w.media)
	w.CloseObj()
}

func (w *jsonWriter) leg(l *Leg) {
	w.OpenObj()
	w.Member(`"call_id": `, true)
	w.Str(l.CallID)
	w.Member(`"rule": `, false)
	w.Str(l.Rule)
	w.CloseObj()
}

func (w *jsonWriter) stream(s *Stream) {
	w.OpenObj()
	w.Member(`"src": `, true)
	w.AddrPort(s.Src)
	w.Member(`"dst": `, false)
	w.AddrPort(s.Dst)
	w.Member(`"ssrc": `, false)
	w.Uint(uint64(s.SSRC))
	w.Member(`"codec": `, false)
	w.Str(s.Codec)
	w.Member(`"packets": `, false)
	w.Int64(int64(s.Packets))
	w.Member(`"lost": `, false)
	w.Int64(int64(s.Lost))
	w.Member(`"jitter_ms": `, false)
	w.Float(s.JitterMS)
	w.Member(`"mos": `, false)
	w.Float(s.MOS)
	w.Member(`"link": `, false)
	w.Str(s.Link)
	w.CloseObj()
}

func (w *jsonWriter) problem(p *Problem) {
	w.OpenObj()
	w.Member(`"code": `, true)
	w.Str(p.Code)
	w.Member(`"severity": `, false)
	w.Str(p.Severity)
	w.Member(`"detail": `, false)
	w.Str(p.Detail)
	w.Member(`"ssrc": `, false)
	w.Uint(uint64(p.SSRC))
	w.CloseObj()
}

// jsonWriter is the shared writer (internal/jsonw) with the summary's
// nested values as methods.
type jsonWriter struct{ jsonw.Writer }

func (w *jsonWriter) strp(s *string) { w.Str(*s) }

// jsonSlice is jsonw.Slice on w.
func jsonSlice[T any](w *jsonWriter, s []T, each func(*T)) { jsonw.Slice(&w.Writer, s, each) }
