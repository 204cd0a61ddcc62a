package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/voiptool/voiptool/sipflow"
)

// FuzzFlowEscaping feeds arbitrary labels, SDP summaries and aliases to
// every flow format and checks each stays syntactically intact: SVG and
// HTML parse as XML, mermaid and PlantUML keep one statement per line,
// markdown rows keep their cell count, and no control character reaches
// the text outputs.
func FuzzFlowEscaping(f *testing.F) {
	f.Add("INVITE", "PCMU,PCMA 10.0.0.1:4000 sendrecv", "pbx")
	f.Add("486 Busy; #here <b>", "a|b\\c", "a\"b")
	f.Add("\x1b[2J\r\n@enduml", "%% x\nend", "]]>&amp;")
	f.Add("\xff\xfe", "--x--", "~~")
	f.Fuzz(func(t *testing.T, label, sdp, alias string) {
		checkFlowOutputs(t, hostileFlow(label, sdp, alias))
	})
}

// FuzzCallsCSV checks free-text fields come out of the CSV writer as
// their neutralised form exactly (control characters shown as escapes,
// since CSV files are read in terminals too: safetext.Line), that the
// file parses back, and that the table stays one line per call.
func FuzzCallsCSV(f *testing.F) {
	f.Add("alice", "a84b4c76e66710@pc33", "Normal, \"clearing\"")
	f.Add("=cmd|' /C calc'!A0", "id;1", "line1\nline2")
	f.Add("\x1b]0;x\x07", "\u009b31m", "\r\n")
	f.Fuzz(func(t *testing.T, from, callID, reason string) {
		c := sipflow.CallSummary{CallID: callID, From: from, Reason: reason, Type: sipflow.TypeCall, SetupMS: -1, PDDMS: -1, DurationMS: -1}
		var b bytes.Buffer
		if err := WriteCalls(&b, FormatCSV, []sipflow.CallSummary{c}, TableOptions{}); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse back: %v", err)
		}
		if len(recs) != 2 {
			t.Fatalf("%d records, want 2", len(recs))
		}
		got := map[string]string{}
		for i, h := range recs[0] {
			got[h] = recs[1][i]
		}
		for k, v := range map[string]string{"call_id": callID, "from": from, "reason": reason} {
			if got[k] != sanitize(v) {
				t.Fatalf("%s = %q, want %q", k, got[k], sanitize(v))
			}
		}
		b.Reset()
		if err := WriteCalls(&b, FormatTable, []sipflow.CallSummary{c}, TableOptions{}); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(b.String(), "\n"); n != 2 {
			t.Fatalf("table has %d lines, want 2:\n%q", n, b.String())
		}
		for _, r := range b.String() {
			if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
				t.Fatalf("control character %U in table", r)
			}
		}
		if !utf8.ValidString(b.String()) {
			t.Fatalf("table is not valid UTF-8")
		}
	})
}
