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
	w.Next(`"type": `)
	w.Str(s.Type)
	w.Next(`"state": `)
	w.Str(s.State.String()) // State.MarshalText
	w.Next(`"from": `)
	w.Str(s.From)
	w.Next(`"to": `)
	w.Str(s.To)
	w.Next(`"from_display": `)
	w.Str(s.FromDisplay)
	w.Next(`"to_display": `)
	w.Str(s.ToDisplay)
	w.Next(`"pai": `)
	w.Str(s.PAI)
	w.Next(`"src": `)
	w.AddrPort(s.Src)
	w.Next(`"dst": `)
	w.AddrPort(s.Dst)
	w.Next(`"start": `)
	w.Time(s.Start)
	w.Next(`"end": `)
	w.Time(s.End)
	w.Next(`"setup_ms": `)
	w.Int64(s.SetupMS)
	w.Next(`"pdd_ms": `)
	w.Int64(s.PDDMS)
	w.Next(`"ring_ms": `)
	w.Int64(s.RingMS)
	w.Next(`"duration_ms": `)
	w.Int64(s.DurationMS)
	w.Next(`"total_ms": `)
	w.Int64(s.TotalMS)
	w.Next(`"final_code": `)
	w.Int64(int64(s.FinalCode))
	w.Next(`"reason": `)
	w.Str(s.Reason)
	w.Next(`"hangup_by": `)
	w.Str(s.HangupBy)
	w.Next(`"messages": `)
	w.Int64(int64(s.Messages))
	w.Next(`"retransmissions": `)
	w.Int64(int64(s.Retransmissions))
	w.Next(`"duplicates": `)
	w.Int64(int64(s.Duplicates))
	w.Next(`"sources": `)
	w.Strs(s.Sources)
	w.Next(`"auth_challenges": `)
	w.Int64(int64(s.AuthChallenges))
	w.Next(`"forks": `)
	w.Int64(int64(s.Forks))
	w.Next(`"on_hold": `)
	w.Bool(s.OnHold)
	w.Next(`"expired": `)
	w.Bool(s.Expired)
	w.Next(`"srtp": `)
	w.Bool(s.SRTP)
	w.Next(`"warnings": `)
	w.Int64(int64(s.Warnings))
	w.Next(`"methods": `)
	w.Strs(s.Methods)
	w.Next(`"user_agents": `)
	w.Strs(s.UserAgents)
	w.Next(`"ips": `)
	jsonSlice(w, s.IPs, func(a *netip.Addr) { w.Addr(*a) })
	w.Next(`"offer": `)
	jsonSlice(w, s.Offer, w.media)
	w.Next(`"answer": `)
	jsonSlice(w, s.Answer, w.media)
	w.Next(`"sdp_history": `)
	jsonSlice(w, s.SDPHistory, w.negotiation)
	w.Next(`"sdp_history_dropped": `)
	w.Int64(int64(s.SDPHistoryDropped))
	w.Next(`"codec": `)
	w.Str(s.Codec)
	w.Next(`"legs": `)
	jsonSlice(w, s.Legs, w.leg)
	w.Next(`"streams": `)
	jsonSlice(w, s.Streams, w.stream)
	w.Next(`"problems": `)
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
	w.Next(`"addr": `)
	w.AddrPort(m.Addr)
	w.Next(`"rtcp": `)
	w.AddrPort(m.RTCP)
	w.Next(`"proto": `)
	w.Str(m.Proto)
	w.Next(`"codecs": `)
	w.Strs(m.Codecs)
	w.Next(`"dir": `)
	w.Str(m.Dir)
	w.Next(`"srtp": `)
	w.Bool(m.SRTP)
	w.Next(`"ptime": `)
	w.Int64(int64(m.Ptime))
	w.CloseObj()
}

func (w *jsonWriter) negotiation(n *Negotiation) {
	w.OpenObj()
	w.Member(`"method": `, true)
	w.Str(n.Method)
	w.Next(`"cseq": `)
	w.Uint(uint64(n.CSeq))
	w.Next(`"offer_time": `)
	w.Time(n.OfferTime)
	w.Next(`"answer_time": `)
	w.Time(n.AnswerTime)
	w.Next(`"offer_from": `)
	w.AddrPort(n.OfferFrom)
	w.Next(`"answer_from": `)
	w.AddrPort(n.AnswerFrom)
	w.Next(`"offer": `)
	jsonSlice(w, n.Offer, w.media)
	w.Next(`"answer": `)
	jsonSlice(w, n.Answer, w.media)
	w.CloseObj()
}

func (w *jsonWriter) leg(l *Leg) {
	w.OpenObj()
	w.Member(`"call_id": `, true)
	w.Str(l.CallID)
	w.Next(`"rule": `)
	w.Str(l.Rule)
	w.CloseObj()
}

func (w *jsonWriter) stream(s *Stream) {
	w.OpenObj()
	w.Member(`"src": `, true)
	w.AddrPort(s.Src)
	w.Next(`"dst": `)
	w.AddrPort(s.Dst)
	w.Next(`"ssrc": `)
	w.Uint(uint64(s.SSRC))
	w.Next(`"codec": `)
	w.Str(s.Codec)
	w.Next(`"packets": `)
	w.Int64(int64(s.Packets))
	w.Next(`"lost": `)
	w.Int64(int64(s.Lost))
	w.Next(`"jitter_ms": `)
	w.Float(s.JitterMS)
	w.Next(`"mos": `)
	w.Float(s.MOS)
	w.Next(`"link": `)
	w.Str(s.Link)
	w.CloseObj()
}

func (w *jsonWriter) problem(p *Problem) {
	w.OpenObj()
	w.Member(`"code": `, true)
	w.Str(p.Code)
	w.Next(`"severity": `)
	w.Str(p.Severity)
	w.Next(`"detail": `)
	w.Str(p.Detail)
	w.Next(`"ssrc": `)
	w.Uint(uint64(p.SSRC))
	w.CloseObj()
}

// jsonWriter is the shared writer (internal/jsonw) with the summary's
// nested values as methods.
type jsonWriter struct{ jsonw.Writer }

// jsonSlice is jsonw.Slice on w.
func jsonSlice[T any](w *jsonWriter, s []T, each func(*T)) { jsonw.Slice(&w.Writer, s, each) }
