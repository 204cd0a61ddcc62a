package sipflow

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
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
	w := jsonWriter{b: b, ok: true}
	return s.appendJSON(&w)
}

// AppendJSONIndent is AppendJSON indented as json.Indent indents with
// prefix and indent (what an Encoder with SetIndent writes, without its
// trailing newline).
func (s *CallSummary) AppendJSONIndent(b []byte, prefix, indent string) ([]byte, bool) {
	w := jsonWriter{b: b, ok: true, ind: true, prefix: prefix, indent: indent}
	// The line breaks of the deepest levels (a negotiation's media's
	// codecs are six down) come from one run of bytes: appending the
	// prefix and each level's indent one by one was a third of the time.
	if n := 1 + len(prefix) + jsonMaxDepth*len(indent); n <= len(w.nlBuf) {
		w.nlBuf[0] = '\n'
		k := 1 + copy(w.nlBuf[1:], prefix)
		for range jsonMaxDepth {
			k += copy(w.nlBuf[k:], indent)
		}
		w.nlOK = true
	}
	return s.appendJSON(&w)
}

func (s *CallSummary) appendJSON(w *jsonWriter) ([]byte, bool) {
	start := len(w.b)
	w.openObj()
	w.key("call_id", true)
	w.str(s.CallID)
	w.key("type", false)
	w.str(s.Type)
	w.key("state", false)
	w.str(s.State.String()) // State.MarshalText
	w.key("from", false)
	w.str(s.From)
	w.key("to", false)
	w.str(s.To)
	w.key("from_display", false)
	w.str(s.FromDisplay)
	w.key("to_display", false)
	w.str(s.ToDisplay)
	w.key("pai", false)
	w.str(s.PAI)
	w.key("src", false)
	w.addrPort(s.Src)
	w.key("dst", false)
	w.addrPort(s.Dst)
	w.key("start", false)
	w.time(s.Start)
	w.key("end", false)
	w.time(s.End)
	w.key("setup_ms", false)
	w.int(s.SetupMS)
	w.key("pdd_ms", false)
	w.int(s.PDDMS)
	w.key("ring_ms", false)
	w.int(s.RingMS)
	w.key("duration_ms", false)
	w.int(s.DurationMS)
	w.key("total_ms", false)
	w.int(s.TotalMS)
	w.key("final_code", false)
	w.int(int64(s.FinalCode))
	w.key("reason", false)
	w.str(s.Reason)
	w.key("hangup_by", false)
	w.str(s.HangupBy)
	w.key("messages", false)
	w.int(int64(s.Messages))
	w.key("retransmissions", false)
	w.int(int64(s.Retransmissions))
	w.key("duplicates", false)
	w.int(int64(s.Duplicates))
	w.key("sources", false)
	jsonSlice(w, s.Sources, w.strp)
	w.key("auth_challenges", false)
	w.int(int64(s.AuthChallenges))
	w.key("forks", false)
	w.int(int64(s.Forks))
	w.key("on_hold", false)
	w.bool(s.OnHold)
	w.key("expired", false)
	w.bool(s.Expired)
	w.key("srtp", false)
	w.bool(s.SRTP)
	w.key("warnings", false)
	w.int(int64(s.Warnings))
	w.key("methods", false)
	jsonSlice(w, s.Methods, w.strp)
	w.key("user_agents", false)
	jsonSlice(w, s.UserAgents, w.strp)
	w.key("ips", false)
	jsonSlice(w, s.IPs, w.addr)
	w.key("offer", false)
	jsonSlice(w, s.Offer, w.media)
	w.key("answer", false)
	jsonSlice(w, s.Answer, w.media)
	w.key("sdp_history", false)
	jsonSlice(w, s.SDPHistory, w.negotiation)
	w.key("sdp_history_dropped", false)
	w.int(int64(s.SDPHistoryDropped))
	w.key("codec", false)
	w.str(s.Codec)
	w.key("legs", false)
	jsonSlice(w, s.Legs, w.leg)
	w.key("streams", false)
	jsonSlice(w, s.Streams, w.stream)
	w.key("problems", false)
	jsonSlice(w, s.Problems, w.problem)
	w.closeObj()
	if !w.ok {
		return w.b[:start], false
	}
	return w.b, true
}

func (w *jsonWriter) media(m *MediaSummary) {
	w.openObj()
	w.key("type", true)
	w.str(m.Type)
	w.key("addr", false)
	w.addrPort(m.Addr)
	w.key("rtcp", false)
	w.addrPort(m.RTCP)
	w.key("proto", false)
	w.str(m.Proto)
	w.key("codecs", false)
	jsonSlice(w, m.Codecs, w.strp)
	w.key("dir", false)
	w.str(m.Dir)
	w.key("srtp", false)
	w.bool(m.SRTP)
	w.key("ptime", false)
	w.int(int64(m.Ptime))
	w.closeObj()
}

func (w *jsonWriter) negotiation(n *Negotiation) {
	w.openObj()
	w.key("method", true)
	w.str(n.Method)
	w.key("cseq", false)
	w.uint(uint64(n.CSeq))
	w.key("offer_time", false)
	w.time(n.OfferTime)
	w.key("answer_time", false)
	w.time(n.AnswerTime)
	w.key("offer_from", false)
	w.addrPort(n.OfferFrom)
	w.key("answer_from", false)
	w.addrPort(n.AnswerFrom)
	w.key("offer", false)
	jsonSlice(w, n.Offer, w.media)
	w.key("answer", false)
	jsonSlice(w, n.Answer, w.media)
	w.closeObj()
}

func (w *jsonWriter) leg(l *Leg) {
	w.openObj()
	w.key("call_id", true)
	w.str(l.CallID)
	w.key("rule", false)
	w.str(l.Rule)
	w.closeObj()
}

func (w *jsonWriter) stream(s *Stream) {
	w.openObj()
	w.key("src", true)
	w.addrPort(s.Src)
	w.key("dst", false)
	w.addrPort(s.Dst)
	w.key("ssrc", false)
	w.uint(uint64(s.SSRC))
	w.key("codec", false)
	w.str(s.Codec)
	w.key("packets", false)
	w.int(int64(s.Packets))
	w.key("lost", false)
	w.int(int64(s.Lost))
	w.key("jitter_ms", false)
	w.float(s.JitterMS)
	w.key("mos", false)
	w.float(s.MOS)
	w.key("link", false)
	w.str(s.Link)
	w.closeObj()
}

func (w *jsonWriter) problem(p *Problem) {
	w.openObj()
	w.key("code", true)
	w.str(p.Code)
	w.key("severity", false)
	w.str(p.Severity)
	w.key("detail", false)
	w.str(p.Detail)
	w.key("ssrc", false)
	w.uint(uint64(p.SSRC))
	w.closeObj()
}

// jsonWriter appends JSON, compact or indented the way json.Indent
// indents (prefix, then indent per level; "{}" and "[]" stay empty).
// rtpstats has the same writer for its stream report; neither package
// may import the other's internals, and the two are small.
type jsonWriter struct {
	b              []byte
	ok             bool
	ind            bool
	prefix, indent string
	depth          int
	// nlBuf holds "\n", prefix and jsonMaxDepth indents when they fit
	// (nlOK); newline appends the start of it. (An array, not a slice
	// of it: a pointer into itself would move the writer to the heap.)
	nlOK  bool
	nlBuf [64]byte
}

// jsonMaxDepth is the deepest level a summary's encoding reaches.
const jsonMaxDepth = 6

func (w *jsonWriter) lit(s string)  { w.b = append(w.b, s...) }
func (w *jsonWriter) int(n int64)   { w.b = strconv.AppendInt(w.b, n, 10) }
func (w *jsonWriter) uint(n uint64) { w.b = strconv.AppendUint(w.b, n, 10) }
func (w *jsonWriter) bool(v bool)   { w.b = strconv.AppendBool(w.b, v) }

func (w *jsonWriter) newline() {
	if !w.ind {
		return
	}
	if w.nlOK && w.depth <= jsonMaxDepth {
		w.b = append(w.b, w.nlBuf[:1+len(w.prefix)+w.depth*len(w.indent)]...)
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

// jsonSlice writes s as encoding/json does: null when nil, "[]" when
// empty, else an array of each element.
func jsonSlice[T any](w *jsonWriter, s []T, each func(*T)) {
	if s == nil {
		w.lit("null")
		return
	}
	w.b = append(w.b, '[')
	w.depth++
	for i := range s {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.newline()
		each(&s[i])
	}
	w.depth--
	if len(s) > 0 {
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

func (w *jsonWriter) strp(s *string) { w.str(*s) }

const jsonHex = "0123456789abcdef"

// str is encoding/json's string encoding with HTML escaping off: '"',
// '\\' and the C0 controls escaped (\b \f \n \r \t short, the rest
// \u00XX), each invalid UTF-8 byte as \ufffd, U+2028 and U+2029 as
// \u2028 and \u2029 (JSONP safety), everything else as is. SIP text is
// full of '<', '>' and '&', which the reports leave alone.
func (w *jsonWriter) str(s string) {
	b := append(w.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	w.b = append(b, '"')
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
// UTC times (every packet time, and the zero time) of the years it
// accepts; anything else goes to encoding/json.
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
	n := len(w.b)
	w.b, _ = ap.AppendText(w.b)
	w.plain(n)
	w.b = append(w.b, '"')
}

// addr is netip.Addr.MarshalText, quoted: "" when invalid.
func (w *jsonWriter) addr(a *netip.Addr) {
	w.b = append(w.b, '"')
	n := len(w.b)
	w.b, _ = a.AppendText(w.b)
	w.plain(n)
	w.b = append(w.b, '"')
}

// plain checks that the text appended from n on needs no escaping (an
// IPv6 zone is free text); when it would, encoding/json writes the
// value.
func (w *jsonWriter) plain(n int) {
	for _, c := range w.b[n:] {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			w.ok = false
			return
		}
	}
}
