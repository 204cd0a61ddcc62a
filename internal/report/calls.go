package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/voiptool/voiptool/sipflow"
)

// callColumns is the call-list table; a function rather than a package
// variable so no caller can change it for everyone. Drop ranks remove the
// timings and counters the state column already implies first, then the
// addresses (never cut), and keep start, state, parties and Call-ID.
func callColumns() []column {
	return []column{
		{name: "start"},
		{name: "type", drop: 7},
		{name: "state"},
		{name: "from", shrink: 8},
		{name: "to", shrink: 8},
		{name: "src", drop: 6},
		{name: "dst", drop: 5},
		{name: "msgs", right: true, drop: 9},
		{name: "setup", right: true, drop: 8},
		{name: "pdd", right: true, drop: 10},
		{name: "duration", right: true, drop: 3},
		{name: "streams", shrink: 12, drop: 4},
		{name: "problems", shrink: 12, drop: 2},
		{name: "call-id", shrink: 12},
	}
}

// WriteCalls renders one row per call or dialog. Table rows follow the
// order of calls; JSON is an indented array of sipflow.CallSummary with
// its stable snake_case names; CSV has a header row of the same names with
// nested slices flattened (see callCSVHeader).
func WriteCalls(w io.Writer, f Format, calls []sipflow.CallSummary, o TableOptions) error {
	return WriteCallSeq(w, f, func(yield func(*sipflow.CallSummary) bool) {
		for i := range calls {
			if !yield(&calls[i]) {
				return
			}
		}
	}, o)
}

// WriteCallSeq is WriteCalls over a sequence of summaries, for lists too
// long to hold (sipflow.Store.Summaries): JSON, JSON lines and CSV are
// written call by call, each summary forgotten once written. The table
// needs its column widths before its first row, so it ranges over calls
// twice, measuring and then writing: calls must yield the same calls in
// the same order each time (a cell grown in between is cut to the width
// measured). The bytes are those WriteCalls writes for the same calls.
// Writing stops at the first write error.
func WriteCallSeq(w io.Writer, f Format, calls iter.Seq[*sipflow.CallSummary], o TableOptions) error {
	out := newWriter(w)
	switch f {
	case FormatTable:
		cells := make([]string, len(callColumns()))
		t := table{cols: callColumns()}
		m := t.measure(!o.NoHeader)
		for c := range calls {
			m.row(callCells(cells, c))
		}
		l := m.layout(o.width())
		if !o.NoHeader {
			l.header(out)
		}
		for c := range calls {
			if out.err != nil {
				break
			}
			l.emit(out, callCells(cells, c))
		}
	case FormatJSON:
		a := newJSONArray(out)
		for c := range calls {
			if out.err != nil {
				break
			}
			a.add(c)
		}
		a.end()
	case FormatJSONL:
		// A line as encoding/json writes it, without its reflection
		// when the summary encodes itself (sipflow's AppendJSON).
		var line []byte
		for c := range calls {
			if out.err != nil {
				break
			}
			var ok bool
			if line, ok = c.AppendJSON(line[:0]); ok {
				line = append(line, '\n')
				_, _ = out.Write(line)
				continue
			}
			encodeJSON(out, c, false)
		}
	case FormatCSV:
		cw := newCSV(out, callCSVHeader())
		for c := range calls {
			if out.err != nil {
				break
			}
			cw.row(callCSVRow(c))
		}
		cw.end()
	default:
		return fmt.Errorf("%w %v", ErrUnknownFormat, f)
	}
	return out.flush()
}

// callCells fills cells with the table row of c, sanitized, and returns
// it.
func callCells(cells []string, c *sipflow.CallSummary) []string {
	cells = append(cells[:0], fmtTime(c.Start), c.Type, stateCell(c), party(c.From, c.FromDisplay), party(c.To, c.ToDisplay),
		fmtAddr(c.Src), fmtAddr(c.Dst), strconv.Itoa(c.Messages),
		fmtMS(c.SetupMS), fmtMS(c.PDDMS), fmtMS(c.DurationMS), streamsCell(c.Streams), problemsCell(c.Problems), c.CallID)
	for i := range cells {
		cells[i] = sanitize(cells[i])
	}
	return cells
}

// callCSVHeader names the CSV columns after the JSON fields of
// sipflow.CallSummary, in declaration order. TestCSVHeadersCoverJSON keeps
// it in step with the struct.
func callCSVHeader() []string {
	return []string{
		"call_id", "type", "state", "from", "to", "from_display", "to_display", "pai",
		"src", "dst", "start", "end", "setup_ms", "pdd_ms", "ring_ms", "duration_ms", "total_ms",
		"final_code", "reason", "hangup_by", "messages", "retransmissions", "duplicates", "sources", "auth_challenges",
		"forks", "on_hold", "expired", "srtp", "warnings", "methods", "user_agents", "ips",
		"offer", "answer", "sdp_history", "sdp_history_dropped", "codec", "legs", "streams", "problems",
	}
}

// csvListSep joins list items inside one CSV cell. ';' rather than ','
// keeps cells readable when a spreadsheet splits on commas by mistake.
const csvListSep = ";"

func callCSVRow(c *sipflow.CallSummary) []string {
	ips := make([]string, len(c.IPs))
	for i, a := range c.IPs {
		ips[i] = a.String()
	}
	legs := make([]string, len(c.Legs))
	for i, l := range c.Legs {
		legs[i] = l.CallID + "(" + l.Rule + ")"
	}
	st := make([]string, len(c.Streams))
	for i, s := range c.Streams {
		st[i] = fmt.Sprintf("%s:%d:%.2f:%.2f", s.Codec, s.Packets, lossPct(s.Lost, s.Packets), s.MOS)
	}
	return []string{
		c.CallID, c.Type, c.State.String(), c.From, c.To, c.FromDisplay, c.ToDisplay, c.PAI,
		addrCSV(c.Src), addrCSV(c.Dst), timeCSV(c.Start), timeCSV(c.End),
		i64(c.SetupMS), i64(c.PDDMS), i64(c.RingMS), i64(c.DurationMS), i64(c.TotalMS),
		strconv.Itoa(c.FinalCode), c.Reason, c.HangupBy, strconv.Itoa(c.Messages),
		strconv.Itoa(c.Retransmissions), strconv.Itoa(c.Duplicates), strings.Join(c.Sources, csvListSep), strconv.Itoa(c.AuthChallenges), strconv.Itoa(c.Forks),
		strconv.FormatBool(c.OnHold), strconv.FormatBool(c.Expired), strconv.FormatBool(c.SRTP), strconv.Itoa(c.Warnings),
		strings.Join(c.Methods, csvListSep), strings.Join(c.UserAgents, csvListSep),
		strings.Join(ips, csvListSep), mediaList(c.Offer), mediaList(c.Answer), negotiationsCSV(c.SDPHistory),
		strconv.Itoa(c.SDPHistoryDropped), c.Codec,
		strings.Join(legs, csvListSep), strings.Join(st, csvListSep), problemsCSV(c.Problems),
	}
}

// negotiationsCSV is "method cseq: offer / answer" per exchange, joined
// by " | " (the media lists inside already use ';').
func negotiationsCSV(ns []sipflow.Negotiation) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.Method + " " + strconv.FormatUint(uint64(n.CSeq), 10) + ": " + mediaList(n.Offer) + " / " + mediaList(n.Answer)
	}
	return strings.Join(parts, " | ")
}

// problemsCell lists the problem codes, worst first as diagnosed.
func problemsCell(ps []sipflow.Problem) string {
	if len(ps) == 0 {
		return "-"
	}
	codes := make([]string, len(ps))
	for i, p := range ps {
		codes[i] = p.Code
	}
	return strings.Join(codes, ", ")
}

// problemsCSV is "code:severity" per problem; the details are in JSON.
func problemsCSV(ps []sipflow.Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Code + ":" + p.Severity
	}
	return strings.Join(parts, csvListSep)
}

func stateCell(c *sipflow.CallSummary) string {
	if c.FinalCode == 0 {
		return c.State.String()
	}
	return c.State.String() + " " + strconv.Itoa(c.FinalCode)
}

// party prefers the URI user; the display name is shown only when there
// is no user, because the table has room for one of them.
func party(user, display string) string {
	if user != "" {
		return user
	}
	return display
}

// streamsCell summarises streams as "codec loss% MOS", comma separated.
func streamsCell(st []sipflow.Stream) string {
	if len(st) == 0 {
		return "-"
	}
	parts := make([]string, len(st))
	for i, s := range st {
		parts[i] = fmt.Sprintf("%s %.1f%% %.2f", codecOr(s.Codec), lossPct(s.Lost, s.Packets), s.MOS)
	}
	return strings.Join(parts, ", ")
}

func codecOr(c string) string {
	if c == "" {
		return "?"
	}
	return c
}

// lossPct is lost over expected (received + lost), 0 when nothing was
// expected or losses are negative (duplicates outnumbering losses).
func lossPct(lost, packets int) float64 {
	if lost <= 0 || lost+packets <= 0 {
		return 0
	}
	return float64(lost) * 100 / float64(lost+packets)
}

// mediaList renders SDP media as "PCMU,PCMA 10.0.0.1:4000 sendrecv" items.
func mediaList(ms []sipflow.MediaSummary) string {
	parts := make([]string, len(ms))
	for i := range ms {
		parts[i] = mediaSummary(&ms[i])
	}
	return strings.Join(parts, csvListSep)
}

// mediaSummary names the codecs, the media address and the direction; the
// media type is spelled out only when it is not audio, the usual case.
func mediaSummary(m *sipflow.MediaSummary) string {
	var b strings.Builder
	if m.Type != "" && m.Type != "audio" {
		b.WriteString(m.Type)
		b.WriteByte(' ')
	}
	if len(m.Codecs) == 0 {
		b.WriteString("-")
	} else {
		b.WriteString(strings.Join(m.Codecs, ","))
	}
	if m.Addr.IsValid() {
		b.WriteByte(' ')
		b.WriteString(m.Addr.String())
	}
	if m.Dir != "" {
		b.WriteByte(' ')
		b.WriteString(m.Dir)
	}
	if m.SRTP {
		b.WriteString(" srtp")
	}
	return b.String()
}

// tableTime is the table timestamp layout: UTC, milliseconds.
const tableTime = "2006-01-02 15:04:05.000"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(tableTime)
}

func timeCSV(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// fmtMS renders a duration in milliseconds as seconds with three decimals;
// negative values mean "does not apply" in sipflow and print as "-".
func fmtMS(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000) + "s"
}

func fmtAddr(a netip.AddrPort) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

func addrCSV(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// jsonAppender is a record that encodes itself, indented, as
// encoding/json and json.Indent would, without reflection, when it can
// (rtpstats.StreamReport.AppendJSONIndent, sipflow.CallSummary's);
// false sends it through encoding/json.
type jsonAppender interface {
	AppendJSONIndent(b []byte, prefix, indent string) ([]byte, bool)
}

// encodeJSONArray writes an indented array element by element (see
// jsonArray).
func encodeJSONArray(w *writer, n int, elem func(int) any) {
	a := newJSONArray(w)
	for i := range n {
		a.add(elem(i))
	}
	a.end()
}

// jsonArray writes an indented JSON array one element at a time, so a
// large list streams instead of being encoded (and re-indented) in one
// buffer, and its length need not be known. The bytes equal
// json.MarshalIndent(slice, "", "  ") with HTML escaping off; an empty
// list is "[]", never "null".
type jsonArray struct {
	w *writer
	n int
	// One encoder and buffers for all elements: compact, HTML escaping
	// off, then two-space indent under a two-space prefix
	// (appendIndented: what SetIndent does, without its rescan).
	buf bytes.Buffer
	ind []byte
	e   *json.Encoder
}

func newJSONArray(w *writer) *jsonArray {
	a := &jsonArray{w: w}
	a.e = json.NewEncoder(&a.buf)
	a.e.SetEscapeHTML(false)
	return a
}

// add writes one element; the comma goes before every element but the
// first, so the last needs no look-ahead.
func (a *jsonArray) add(v any) {
	w := a.w
	if w.err != nil {
		return
	}
	a.buf.Reset()
	ok := false
	if ap, isA := v.(jsonAppender); isA {
		a.ind, ok = ap.AppendJSONIndent(a.ind[:0], "  ", "  ")
	}
	if !ok {
		if err := a.e.Encode(v); err != nil {
			w.err = fmt.Errorf("report: encoding JSON element %d: %w", a.n, err)
			return
		}
		a.ind = appendIndented(a.ind[:0], bytes.TrimSuffix(a.buf.Bytes(), []byte("\n")), "  ", "  ")
	}
	if a.n == 0 {
		w.str("[\n  ")
	} else {
		w.str(",\n  ")
	}
	_, _ = w.Write(a.ind)
	a.n++
}

// end closes the array.
func (a *jsonArray) end() {
	if a.n == 0 {
		a.w.str("[]\n")
		return
	}
	a.w.str("\n]\n")
}

// encodeJSON writes v; HTML escaping is off because SIP URIs are full of
// '<' and '>' and the output is not embedded in HTML.
func encodeJSON(w *writer, v any, indent bool) {
	if w.err != nil {
		return
	}
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	if indent {
		e.SetIndent("", "  ")
	}
	if err := e.Encode(v); err != nil && w.err == nil {
		w.err = fmt.Errorf("report: encoding JSON: %w", err)
	}
}
