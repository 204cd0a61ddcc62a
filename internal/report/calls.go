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
		var r csvRow
		for c := range calls {
			if out.err != nil {
				break
			}
			cw.row(callCSVRow(&r, c))
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

// csvRow builds a call's CSV row: the text it formats (numbers, times,
// addresses, lists) is appended to one buffer and becomes one string,
// the fields slices of it; the summary's own strings are used as they
// are. A row was some thirty allocations (a string per number, per
// list, per media line), a sixth of `calls --format csv` on a SIP-only
// capture. One csvRow serves every row of a report: the fields of a
// row are good until the next.
type csvRow struct {
	b      []byte
	fields []string
	ends   []int // per field: its end in b, or -1 when it is not in b
}

func (r *csvRow) str(s string) {
	r.fields = append(r.fields, s)
	r.ends = append(r.ends, -1)
}

// end closes a field appended to b since the field before it.
func (r *csvRow) end() {
	r.fields = append(r.fields, "")
	r.ends = append(r.ends, len(r.b))
}

func (r *csvRow) int(n int64) {
	r.b = strconv.AppendInt(r.b, n, 10)
	r.end()
}

func (r *csvRow) bool(v bool) { r.str(strconv.FormatBool(v)) }

func (r *csvRow) addr(a netip.AddrPort) {
	if !a.IsValid() {
		r.str("")
		return
	}
	r.b = a.AppendTo(r.b)
	r.end()
}

func (r *csvRow) time(t time.Time) {
	if t.IsZero() {
		r.str("")
		return
	}
	r.b = t.UTC().AppendFormat(r.b, time.RFC3339Nano)
	r.end()
}

// list is strings.Join(l, csvListSep).
func (r *csvRow) list(l []string) {
	switch len(l) {
	case 0:
		r.str("")
	case 1:
		r.str(l[0])
	default:
		r.b = appendList(r.b, l, func(b []byte, x *string) []byte { return append(b, *x...) })
		r.end()
	}
}

// done returns the row's fields.
func (r *csvRow) done() []string {
	if len(r.b) > 0 {
		all := string(r.b)
		start := 0
		for i, e := range r.ends {
			if e >= 0 {
				r.fields[i] = all[start:e]
				start = e
			}
		}
	}
	return r.fields
}

// callCSVRow is the CSV row of c, in callCSVHeader's order; problems
// are "code:severity" (the details are in JSON).
func callCSVRow(r *csvRow, c *sipflow.CallSummary) []string {
	r.b, r.fields, r.ends = r.b[:0], r.fields[:0], r.ends[:0]
	r.str(c.CallID)
	r.str(c.Type)
	r.str(c.State.String())
	r.str(c.From)
	r.str(c.To)
	r.str(c.FromDisplay)
	r.str(c.ToDisplay)
	r.str(c.PAI)
	r.addr(c.Src)
	r.addr(c.Dst)
	r.time(c.Start)
	r.time(c.End)
	r.int(c.SetupMS)
	r.int(c.PDDMS)
	r.int(c.RingMS)
	r.int(c.DurationMS)
	r.int(c.TotalMS)
	r.int(int64(c.FinalCode))
	r.str(c.Reason)
	r.str(c.HangupBy)
	r.int(int64(c.Messages))
	r.int(int64(c.Retransmissions))
	r.int(int64(c.Duplicates))
	r.list(c.Sources)
	r.int(int64(c.AuthChallenges))
	r.int(int64(c.Forks))
	r.bool(c.OnHold)
	r.bool(c.Expired)
	r.bool(c.SRTP)
	r.int(int64(c.Warnings))
	r.list(c.Methods)
	r.list(c.UserAgents)
	r.b = appendList(r.b, c.IPs, func(b []byte, a *netip.Addr) []byte { return a.AppendTo(b) })
	r.end()
	r.b = appendMediaList(r.b, c.Offer)
	r.end()
	r.b = appendMediaList(r.b, c.Answer)
	r.end()
	r.b = appendNegotiationsCSV(r.b, c.SDPHistory)
	r.end()
	r.int(int64(c.SDPHistoryDropped))
	r.str(c.Codec)
	r.b = appendList(r.b, c.Legs, func(b []byte, l *sipflow.Leg) []byte {
		return append(append(append(append(b, l.CallID...), '('), l.Rule...), ')')
	})
	r.end()
	r.b = appendList(r.b, c.Streams, func(b []byte, s *sipflow.Stream) []byte {
		return fmt.Appendf(b, "%s:%d:%.2f:%.2f", s.Codec, s.Packets, lossPct(s.Lost, s.Packets), s.MOS)
	})
	r.end()
	r.b = appendList(r.b, c.Problems, func(b []byte, p *sipflow.Problem) []byte {
		return append(append(append(b, p.Code...), ':'), p.Severity...)
	})
	r.end()
	return r.done()
}

// appendList appends each of l, separated by csvListSep.
func appendList[T any](b []byte, l []T, each func([]byte, *T) []byte) []byte {
	for i := range l {
		if i > 0 {
			b = append(b, csvListSep...)
		}
		b = each(b, &l[i])
	}
	return b
}

// appendNegotiationsCSV appends "method cseq: offer / answer" per
// exchange, joined by " | " (the media lists inside already use ';').
func appendNegotiationsCSV(b []byte, ns []sipflow.Negotiation) []byte {
	for i := range ns {
		n := &ns[i]
		if i > 0 {
			b = append(b, " | "...)
		}
		b = append(append(b, n.Method...), ' ')
		b = strconv.AppendUint(b, uint64(n.CSeq), 10)
		b = appendMediaList(append(b, ": "...), n.Offer)
		b = appendMediaList(append(b, " / "...), n.Answer)
	}
	return b
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

// appendMediaList appends SDP media as "PCMU,PCMA 10.0.0.1:4000
// sendrecv" items joined by csvListSep.
func appendMediaList(b []byte, ms []sipflow.MediaSummary) []byte {
	return appendList(b, ms, appendMedia)
}

// mediaSummary names the codecs, the media address and the direction; the
// media type is spelled out only when it is not audio, the usual case.
func mediaSummary(m *sipflow.MediaSummary) string { return string(appendMedia(nil, m)) }

// appendMedia appends mediaSummary's text.
func appendMedia(b []byte, m *sipflow.MediaSummary) []byte {
	if m.Type != "" && m.Type != "audio" {
		b = append(append(b, m.Type...), ' ')
	}
	if len(m.Codecs) == 0 {
		b = append(b, '-')
	}
	for i, c := range m.Codecs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c...)
	}
	if m.Addr.IsValid() {
		b = m.Addr.AppendTo(append(b, ' '))
	}
	if m.Dir != "" {
		b = append(append(b, ' '), m.Dir...)
	}
	if m.SRTP {
		b = append(b, " srtp"...)
	}
	return b
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
	var err error
	if a.ind, err = a.appendElem(a.ind[:0], v); err != nil {
		w.err = err
		return
	}
	_, _ = w.Write(a.ind)
}

// appendElem appends the next element to b, its comma or the opening
// bracket first, and counts it; on an error b is as it was. The calls
// report's encoding goroutine appends a chunk's elements to one buffer
// with it (WriteCallChunks).
func (a *jsonArray) appendElem(b []byte, v any) ([]byte, error) {
	start := len(b)
	if a.n == 0 {
		b = append(b, "[\n  "...)
	} else {
		b = append(b, ",\n  "...)
	}
	ok := false
	if ap, isA := v.(jsonAppender); isA {
		b, ok = ap.AppendJSONIndent(b, "  ", "  ")
	}
	if !ok {
		a.buf.Reset()
		if err := a.e.Encode(v); err != nil {
			return b[:start], fmt.Errorf("report: encoding JSON element %d: %w", a.n, err)
		}
		b = appendIndented(b, bytes.TrimSuffix(a.buf.Bytes(), []byte("\n")), "  ", "  ")
	}
	a.n++
	return b, nil
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
