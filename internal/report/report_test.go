package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr error
	}{
		{"table", FormatTable, nil},
		{"TEXT", FormatTable, nil},
		{" json ", FormatJSON, nil},
		{"jsonl", FormatJSONL, nil},
		{"csv", FormatCSV, nil},
		{"xml", 0, ErrUnknownFormat},
		{"", 0, ErrUnknownFormat},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if !errors.Is(err, tt.wantErr) || (err == nil && got != tt.want) {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != strings.ToLower(strings.TrimSpace(tt.in)) && tt.in != "TEXT" {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
	for _, n := range FlowFormats() {
		f, err := ParseFlowFormat(n)
		if err != nil || f.String() != n {
			t.Errorf("ParseFlowFormat(%q) = %v, %v", n, f, err)
		}
	}
	if f, err := ParseFlowFormat("md"); err != nil || f != FlowMarkdown {
		t.Errorf("ParseFlowFormat(md) = %v, %v", f, err)
	}
	if _, err := ParseFlowFormat("dot"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFlowFormat(dot) error = %v, want ErrUnknownFormat", err)
	}
}

func TestUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	checks := map[string]error{
		"calls":   WriteCalls(&b, Format(99), nil, TableOptions{}),
		"streams": WriteStreams(&b, Format(99), nil, TableOptions{}),
		"kpis":    WriteKPIs(&b, Format(99), sipflow.KPIs{}),
		"flow":    WriteFlow(&b, FlowFormat(99), Flow{}, FlowOptions{}),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: error %v, want ErrUnknownFormat", name, err)
		}
	}
	if b.Len() != 0 {
		t.Errorf("unknown format wrote %q", b.String())
	}
}

var errBoom = errors.New("boom")

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errBoom
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteErrorsPropagate checks every writer returns the destination's
// error, both when the first write fails and when a later one does
// (output larger than the 4 KiB buffer).
func TestWriteErrorsPropagate(t *testing.T) {
	calls := sampleCalls(t)
	for len(calls) < 64 {
		calls = append(calls, calls...)
	}
	streams := sampleStreams()
	flow := FlowFromCalls([]sipflow.CallDetail{sampleDetail(t)}, nil)
	for _, budget := range []int{0, 5000} {
		for f := FormatTable; f <= FormatCSV; f++ {
			if err := WriteCalls(&failWriter{budget}, f, calls, TableOptions{}); !errors.Is(err, errBoom) {
				t.Errorf("WriteCalls %v budget %d: %v", f, budget, err)
			}
		}
		if budget == 0 {
			for f := FormatTable; f <= FormatCSV; f++ {
				if err := WriteStreams(&failWriter{0}, f, streams, TableOptions{}); !errors.Is(err, errBoom) {
					t.Errorf("WriteStreams %v: %v", f, err)
				}
				if err := WriteKPIs(&failWriter{0}, f, sipflow.KPIs{}); !errors.Is(err, errBoom) {
					t.Errorf("WriteKPIs %v: %v", f, err)
				}
			}
			if err := WriteExplain(&failWriter{0}, streams[0]); !errors.Is(err, errBoom) {
				t.Errorf("WriteExplain: %v", err)
			}
		}
		for ff := FlowText; ff <= FlowHTML; ff++ {
			if err := WriteFlow(&failWriter{budget / 50}, ff, flow, FlowOptions{}); !errors.Is(err, errBoom) {
				t.Errorf("WriteFlow %v budget %d: %v", ff, budget, err)
			}
		}
	}
}

// sampleAddrs are the full addresses in the sample; a table may drop them
// but must never print a fragment.
var sampleAddrs = []string{
	"10.0.0.1:5060", "10.0.0.10:5060", "[2001:db8::10]:5060", "[2001:db8::20]:5060",
	"10.0.0.1:4000", "[2001:db8::20]:30000",
}

func checkAddrsWhole(t *testing.T, out string) {
	t.Helper()
	for _, field := range strings.Fields(out) {
		if !strings.Contains(field, "2001:db8") && !strings.HasPrefix(field, "10.0.0.") {
			continue
		}
		whole := false
		for _, a := range sampleAddrs {
			whole = whole || field == a
		}
		if !whole {
			t.Errorf("address printed partially: %q", field)
		}
	}
}

func TestTableWidth(t *testing.T) {
	calls := sampleCalls(t)
	streams := sampleStreams()
	// The floors: start, state, from, to and a 12-rune Call-ID cannot go
	// from the calls table (64); src, dst, ssrc, codec, lost, loss% and
	// MOS cannot go from the streams table (80).
	floor := map[string]int{"calls": 64, "streams": 80}
	for width := 64; width <= 260; width += 7 {
		for name, render := range map[string]func(*bytes.Buffer) error{
			"calls":   func(b *bytes.Buffer) error { return WriteCalls(b, FormatTable, calls, TableOptions{Width: width}) },
			"streams": func(b *bytes.Buffer) error { return WriteStreams(b, FormatTable, streams, TableOptions{Width: width}) },
		} {
			var b bytes.Buffer
			if err := render(&b); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if width < floor[name] {
				continue
			}
			if len(lines) != 3 {
				t.Fatalf("%s width %d: %d lines, want header + 2", name, width, len(lines))
			}
			for _, l := range lines {
				if n := utf8.RuneCountInString(l); n > width {
					t.Errorf("%s width %d: line of %d runes: %q", name, width, n, l)
				}
			}
			checkAddrsWhole(t, b.String())
		}
	}
	// Unlimited width shows every column in full.
	var b bytes.Buffer
	if err := WriteCalls(&b, FormatTable, calls, TableOptions{Width: -1, NoHeader: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), ellipsis) || !strings.Contains(b.String(), sampleCallID) || strings.HasPrefix(b.String(), "start") {
		t.Errorf("unlimited width cut or headed:\n%s", b.String())
	}
}

func TestFlowTextWidth(t *testing.T) {
	f := FlowFromCalls([]sipflow.CallDetail{sampleDetail(t)}, nil)
	for _, width := range []int{40, 80, 100, 120, 160, 400} {
		var b bytes.Buffer
		if err := WriteFlow(&b, FlowText, f, FlowOptions{Width: width}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		noted := strings.Contains(out, "wider than the requested")
		maxLine := 0
		for _, l := range strings.Split(out, "\n") {
			if !strings.HasPrefix(l, "Call") && !strings.HasPrefix(l, "note:") {
				maxLine = max(maxLine, utf8.RuneCountInString(l))
			}
		}
		if !noted && maxLine > width {
			t.Errorf("width %d: %d-rune line without a note", width, maxLine)
		}
		if noted && maxLine <= width {
			t.Errorf("width %d: note but lines fit (%d)", width, maxLine)
		}
		// Every endpoint title appears whole, even at the narrowest width.
		for _, e := range f.Endpoints {
			if !strings.Contains(out, e.Name()) {
				t.Errorf("width %d: title %q missing", width, e.Name())
			}
		}
		if got := strings.Count(out, "[R]"); got != 1 {
			t.Errorf("width %d: %d retransmission marks, want 1", width, got)
		}
	}
}

func TestFlowFromCalls(t *testing.T) {
	d := sampleDetail(t)
	f := FlowFromCalls([]sipflow.CallDetail{d}, sampleAliases())
	wantEP := []Endpoint{
		{Addr: alice},
		{Addr: proxy4, Alias: "proxy"},
		{Addr: proxy6, Alias: "proxy"},
		{Addr: bob},
	}
	if !reflect.DeepEqual(f.Endpoints, wantEP) {
		t.Fatalf("endpoints = %+v\nwant %+v", f.Endpoints, wantEP)
	}
	if f.Endpoints[2].Name() != "proxy:5060" || f.Endpoints[3].Name() != "[2001:db8::20]:5060" {
		t.Errorf("names %q %q", f.Endpoints[2].Name(), f.Endpoints[3].Name())
	}
	if len(f.Messages) != 14 {
		t.Fatalf("%d messages, want 14", len(f.Messages))
	}
	first, second := f.Messages[0], f.Messages[1]
	if first.Label != "INVITE" || first.Class != ClassRequest || first.From != 0 || first.To != 1 ||
		first.SDP != "PCMU,PCMA 10.0.0.1:4000 sendrecv" || first.Retrans || first.CallID != sampleCallID {
		t.Errorf("first message = %+v", first)
	}
	if !second.Retrans {
		t.Errorf("second message not a retransmission: %+v", second)
	}
	classes := map[string]MessageClass{"100 Trying": ClassProvisional, "180 Ringing": ClassProvisional, "200 OK": ClassSuccess}
	for i, m := range f.Messages {
		if i > 0 && m.Time.Before(f.Messages[i-1].Time) {
			t.Errorf("message %d out of time order", i)
		}
		if c, ok := classes[m.Label]; ok && m.Class != c {
			t.Errorf("%s class %v, want %v", m.Label, m.Class, c)
		}
	}
	if len(f.Streams) != 2 || f.Streams[0].From != 0 || f.Streams[0].To != 3 {
		t.Errorf("streams = %+v (media should sit on the SIP columns of the same IP)", f.Streams)
	}

	// Two legs: interleaved by time, labelled by leg.
	legs := FlowFromCalls(sampleLegs(t), nil)
	if len(legs.CallIDs) != 2 || legs.Messages[len(legs.Messages)-1].Leg != 1 || legs.Messages[0].Leg != 0 {
		t.Errorf("legs: %+v", legs.CallIDs)
	}
	if got := legs.label(&legs.Messages[1]); got != "[1] INVITE [R]" {
		t.Errorf("leg label = %q", got)
	}

	// An IPv4-mapped IPv6 source shares the IPv4 column and alias.
	mapped := d
	mapped.Messages = append([]sipflow.MessageDetail(nil), d.Messages...)
	mapped.Messages[0].Meta.Src = netip.AddrPortFrom(netip.AddrFrom16(alice.Addr().As16()), alice.Port())
	mf := FlowFromCalls([]sipflow.CallDetail{mapped}, map[netip.Addr]string{alice.Addr(): "alice"})
	if len(mf.Endpoints) != 4 || mf.Endpoints[0].Name() != "alice:5060" {
		t.Errorf("mapped endpoints = %+v", mf.Endpoints)
	}
}

func TestAddStreams(t *testing.T) {
	f := FlowFromCalls([]sipflow.CallDetail{sampleDetail(t)}, nil)
	f.AddStreams(sampleStreams(), nil)
	// The rtpstats reports carry different MOS than the summary, so both
	// sets are kept; timed ones sort first.
	if len(f.Streams) != 4 || f.Streams[0].Start.IsZero() || !f.Streams[3].Start.IsZero() {
		t.Fatalf("streams = %+v", f.Streams)
	}
	ev := f.timeline()
	if ev[len(ev)-1].stream == nil || !ev[len(ev)-1].t.IsZero() {
		t.Errorf("untimed stream not last")
	}
}

func TestCalls_CSV(t *testing.T) {
	calls := sampleCalls(t)
	var b bytes.Buffer
	if err := WriteCalls(&b, FormatCSV, calls, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(calls)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(calls)+1)
	}
	if !reflect.DeepEqual(recs[0], callCSVHeader()) {
		t.Errorf("header = %v", recs[0])
	}
	row := map[string]string{}
	for i, h := range recs[0] {
		row[h] = recs[2][i]
	}
	want := map[string]string{
		"call_id": sampleCallID, "state": "COMPLETED", "src": "10.0.0.1:5060", "setup_ms": "4210",
		"pdd_ms": "1630", "retransmissions": "1", "offer": "PCMU,PCMA 10.0.0.1:4000 sendrecv",
		"streams": "PCMA:3040:0.07:4.37;PCMA:3038:1.33:3.91", "start": "2026-03-14T09:26:53Z",
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
}

func TestStreams_CSV(t *testing.T) {
	st := sampleStreams()
	var b bytes.Buffer
	if err := WriteStreams(&b, FormatCSV, st, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !reflect.DeepEqual(recs[0], streamCSVHeader()) {
		t.Fatalf("records: %d, header %v", len(recs), recs[0])
	}
	for _, r := range recs[1:] {
		if len(r) != len(recs[0]) {
			t.Errorf("row has %d fields, header %d", len(r), len(recs[0]))
		}
	}
}

func TestKPIs_CSV(t *testing.T) {
	var b bytes.Buffer
	k := sampleStore(t).KPIs(sipflow.Filter{})
	if err := WriteKPIs(&b, FormatCSV, k); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 || len(recs[1]) != len(recs[0]) {
		t.Fatalf("records %v, err %v", recs, err)
	}
}

// jsonNames returns the top-level JSON names of a struct type.
func jsonNames(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

// TestCSVHeadersCoverJSON fails when a data struct gains a field the CSV
// does not carry (by its JSON name, or as the prefix of dotted names), so
// the formats cannot drift apart silently.
func TestCSVHeadersCoverJSON(t *testing.T) {
	tests := []struct {
		typ     reflect.Type
		header  []string
		omitted map[string]bool // documented exclusions
	}{
		{reflect.TypeFor[sipflow.CallSummary](), callCSVHeader(), nil},
		{reflect.TypeFor[rtpstats.StreamReport](), streamCSVHeader(), map[string]bool{"series": true}},
		{reflect.TypeFor[sipflow.KPIs](), kpiCSVHeader(), nil},
	}
	for _, tt := range tests {
		for _, name := range jsonNames(tt.typ) {
			if tt.omitted[name] {
				continue
			}
			found := false
			for _, h := range tt.header {
				found = found || h == name || strings.HasPrefix(h, name+".")
			}
			if !found {
				t.Errorf("%v: JSON field %q has no CSV column", tt.typ, name)
			}
		}
	}
}

func TestCalls_JSON(t *testing.T) {
	calls := sampleCalls(t)
	var b bytes.Buffer
	if err := WriteCalls(&b, FormatJSON, calls, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("[\n  {")) {
		t.Errorf("not a pretty array: %.20q", b.String())
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d objects", len(got))
	}
	c := got[1]
	if c["call_id"] != sampleCallID || c["state"] != "COMPLETED" || c["setup_ms"] != 4210.0 || c["src"] != "10.0.0.1:5060" {
		t.Errorf("call = %v", c)
	}
	for _, name := range jsonNames(reflect.TypeFor[sipflow.CallSummary]()) {
		if _, ok := c[name]; !ok && !strings.HasSuffix(name, "display") && name != "pai" {
			t.Errorf("field %q missing", name)
		}
	}

	b.Reset()
	if err := WriteCalls(&b, FormatJSON, nil, TableOptions{}); err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("empty JSON = %q, %v", b.String(), err)
	}

	b.Reset()
	if err := WriteCalls(&b, FormatJSONL, calls, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSONL lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("JSONL line: %v", err)
		}
	}
}

func TestStreams_JSONRoundTrip(t *testing.T) {
	st := sampleStreams()
	var b bytes.Buffer
	if err := WriteStreams(&b, FormatJSON, st, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []rtpstats.StreamReport
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, st)
	}
}

func TestKPIs_JSON(t *testing.T) {
	k := sampleStore(t).KPIs(sipflow.Filter{})
	var b bytes.Buffer
	if err := WriteKPIs(&b, FormatJSON, k); err != nil {
		t.Fatal(err)
	}
	var got sipflow.KPIs
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, k) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, k)
	}
}

// xmlWellFormed decodes every token and counts elements by local name.
func xmlWellFormed(t testing.TB, doc []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	counts := map[string]int{}
	for i := 0; i < 1_000_000; i++ {
		tok, err := d.Token()
		if err == io.EOF {
			return counts
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			counts[se.Name.Local]++
		}
	}
	t.Fatal("XML token loop did not end")
	return nil
}

func TestFlowSVGAndHTML(t *testing.T) {
	f := FlowFromCalls([]sipflow.CallDetail{sampleDetail(t)}, sampleAliases())
	var b bytes.Buffer
	if err := WriteFlow(&b, FlowSVG, f, FlowOptions{}); err != nil {
		t.Fatal(err)
	}
	c := xmlWellFormed(t, b.Bytes())
	// one lifeline per endpoint plus one arrow per message and stream
	if want := len(f.Endpoints) + len(f.Messages) + len(f.Streams); c["svg"] != 1 || c["line"] != want {
		t.Errorf("svg %d, lines %d want %d", c["svg"], c["line"], want)
	}
	b.Reset()
	if err := WriteFlow(&b, FlowHTML, f, FlowOptions{Title: "a < b & \"c\""}); err != nil {
		t.Fatal(err)
	}
	c = xmlWellFormed(t, b.Bytes())
	if c["svg"] != 1 || c["table"] != 1 || c["tr"] != 1+len(f.Messages)+len(f.Streams) {
		t.Errorf("html elements %v", c)
	}
}

// hostileFlow has labels that try to break every output syntax.
func hostileFlow(label, sdp, alias string) Flow {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return Flow{
		Endpoints: []Endpoint{
			{Addr: netip.MustParseAddrPort("10.0.0.1:5060"), Alias: alias},
			{Addr: netip.MustParseAddrPort("[2001:db8::1]:5060")},
			{Addr: netip.MustParseAddrPort("[2001:db8::2]:5061")},
		},
		CallIDs: []string{label, "leg2"},
		Messages: []FlowMessage{
			{Time: t0, From: 0, To: 2, Label: label, SDP: sdp, Class: ClassRequest},
			{Time: t0.Add(time.Millisecond), From: 2, To: 1, Label: label, Class: ClassFailure, Retrans: true, Leg: 1},
			{Time: t0.Add(2 * time.Millisecond), From: 1, To: 1, Label: label, Class: ClassSuccess},
		},
		Streams: []FlowStream{{From: 1, To: 0, Label: label}},
	}
}

// checkFlowOutputs asserts the structural invariants of every format for
// arbitrary labels.
func checkFlowOutputs(t *testing.T, f Flow) {
	t.Helper()
	render := func(ff FlowFormat) string {
		var b bytes.Buffer
		if err := WriteFlow(&b, ff, f, FlowOptions{Title: f.Messages[0].Label}); err != nil {
			t.Fatalf("%v: %v", ff, err)
		}
		return b.String()
	}
	for _, ff := range []FlowFormat{FlowText, FlowMarkdown, FlowMermaid, FlowPlantUML} {
		out := render(ff)
		for _, r := range out {
			if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
				t.Fatalf("%v: control character %U in output", ff, r)
			}
		}
	}
	// Mermaid: header + 3 participants + 3 messages + 1 stream; no raw
	// '#' or ';' outside entity codes, no line break from the data.
	mm := strings.Split(strings.TrimSuffix(render(FlowMermaid), "\n"), "\n")
	if len(mm) != 8 {
		t.Fatalf("mermaid: %d lines, want 8", len(mm))
	}
	for _, l := range mm[1:] {
		_, stripped, _ := strings.Cut(l, ": ")
		if strings.HasPrefix(strings.TrimSpace(l), "participant") {
			_, stripped, _ = strings.Cut(l, " as ")
		}
		for {
			i := strings.IndexByte(stripped, '#')
			if i < 0 {
				break
			}
			j := strings.IndexByte(stripped[i:], ';')
			if j < 2 || strings.Trim(stripped[i+1:i+j], "0123456789") != "" {
				t.Fatalf("mermaid: raw '#' in %q", l)
			}
			stripped = stripped[:i] + stripped[i+j+1:]
		}
		if strings.ContainsAny(strings.Replace(stripped, "<br/>", "", 1), ";<>%") {
			t.Fatalf("mermaid: unescaped character in %q", l)
		}
	}
	// PlantUML: fixed line count, no unescaped '<'.
	pu := strings.Split(strings.TrimSuffix(render(FlowPlantUML), "\n"), "\n")
	if len(pu) != 3+3+3+1+1 {
		t.Fatalf("plantuml: %d lines", len(pu))
	}
	// Markdown: every table row has exactly 8 unescaped pipes.
	for _, l := range strings.Split(render(FlowMarkdown), "\n") {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		n := 0
		for i := 0; i < len(l); i++ {
			switch l[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		if n != 8 {
			t.Fatalf("markdown: %d cell separators in %q", n, l)
		}
	}
	xmlWellFormed(t, []byte(render(FlowSVG)))
	xmlWellFormed(t, []byte(render(FlowHTML)))
}

func TestFlowEscaping(t *testing.T) {
	for _, label := range []string{
		"486 Busy; #here <b>bold</b> & \"q\"",
		"\x1b[31mred\x1b[0m\r\nX-Injected: 1",
		"| pipe | \\ back \\n slash `code` **bold** --strike-- ~~w~~",
		"%% comment\nsequenceDiagram\nend",
		"@enduml\n@startuml",
		"\x00\xff\xfe invalid utf8",
		"",
		strings.Repeat("W", 300),
	} {
		checkFlowOutputs(t, hostileFlow(label, label, label))
	}
}

func TestTerminalSafe(t *testing.T) {
	calls := sampleCalls(t)
	calls[0].From = "\x1b]0;owned\x07evil"
	calls[0].CallID = "id\x9b31m"
	var b bytes.Buffer
	if err := WriteCalls(&b, FormatTable, calls, TableOptions{Width: -1}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\u009b") {
		t.Errorf("control characters reached the table: %q", b.String())
	}
}

func TestEmptyInputs(t *testing.T) {
	var b bytes.Buffer
	for f := FormatTable; f <= FormatCSV; f++ {
		b.Reset()
		if err := WriteCalls(&b, f, nil, TableOptions{}); err != nil {
			t.Errorf("calls %v: %v", f, err)
		}
		if f == FormatJSON && b.String() != "[]\n" {
			t.Errorf("empty calls JSON = %q", b.String())
		}
		if err := WriteStreams(&b, f, nil, TableOptions{}); err != nil {
			t.Errorf("streams %v: %v", f, err)
		}
		if err := WriteKPIs(&b, f, sipflow.KPIs{}); err != nil {
			t.Errorf("kpis %v: %v", f, err)
		}
	}
	if err := WriteExplain(&b, rtpstats.StreamReport{}); err != nil {
		t.Error(err)
	}
	for ff := FlowText; ff <= FlowHTML; ff++ {
		b.Reset()
		if err := WriteFlow(&b, ff, Flow{}, FlowOptions{}); err != nil {
			t.Errorf("flow %v: %v", ff, err)
		}
		if ff == FlowSVG || ff == FlowHTML {
			xmlWellFormed(t, b.Bytes())
		}
	}
}

func TestBadFlow(t *testing.T) {
	bad := []Flow{
		{Messages: []FlowMessage{{From: 0, To: 1}}},
		{Endpoints: make([]Endpoint, 2), Messages: []FlowMessage{{From: -1, To: 1}}},
		{Endpoints: make([]Endpoint, 2), Streams: []FlowStream{{From: 0, To: 2}}},
	}
	for i, f := range bad {
		for ff := FlowText; ff <= FlowHTML; ff++ {
			if err := WriteFlow(io.Discard, ff, f, FlowOptions{}); !errors.Is(err, ErrBadFlow) {
				t.Errorf("flow %d %v: error %v, want ErrBadFlow", i, ff, err)
			}
		}
	}
}
