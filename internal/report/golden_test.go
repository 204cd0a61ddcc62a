package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/sipflow"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// goldenCase renders one golden file. The list is the single source of
// truth for TestGoldenOrphans.
type goldenCase struct {
	name   string // testdata/<name>.golden
	render func(t *testing.T, b *bytes.Buffer) error
}

func goldenCases() []goldenCase {
	calls := func(f Format, o TableOptions) func(*testing.T, *bytes.Buffer) error {
		return func(t *testing.T, b *bytes.Buffer) error { return WriteCalls(b, f, sampleCalls(t), o) }
	}
	streams := func(f Format, o TableOptions) func(*testing.T, *bytes.Buffer) error {
		return func(t *testing.T, b *bytes.Buffer) error { return WriteStreams(b, f, sampleStreams(), o) }
	}
	kpis := func(f Format) func(*testing.T, *bytes.Buffer) error {
		return func(t *testing.T, b *bytes.Buffer) error {
			return WriteKPIs(b, f, sampleStore(t).KPIs(sipflow.Filter{}))
		}
	}
	flow := func(ff FlowFormat, o FlowOptions) func(*testing.T, *bytes.Buffer) error {
		return func(t *testing.T, b *bytes.Buffer) error {
			return WriteFlow(b, ff, FlowFromCalls([]sipflow.CallDetail{sampleDetail(t)}, sampleAliases()), o)
		}
	}
	return []goldenCase{
		{"calls_table", calls(FormatTable, TableOptions{})},
		{"calls_table_w80", calls(FormatTable, TableOptions{Width: 80})},
		{"calls_table_wide", calls(FormatTable, TableOptions{Width: -1})},
		{"calls_json", calls(FormatJSON, TableOptions{})},
		{"calls_jsonl", calls(FormatJSONL, TableOptions{})},
		{"calls_csv", calls(FormatCSV, TableOptions{})},
		{"streams_table", streams(FormatTable, TableOptions{})},
		{"streams_table_w80", streams(FormatTable, TableOptions{Width: 80})},
		{"streams_json", streams(FormatJSON, TableOptions{})},
		{"streams_csv", streams(FormatCSV, TableOptions{})},
		{"explain", func(t *testing.T, b *bytes.Buffer) error { return WriteExplain(b, sampleStreams()[1]) }},
		{"kpis_table", kpis(FormatTable)},
		{"kpis_json", kpis(FormatJSON)},
		{"kpis_csv", kpis(FormatCSV)},
		{"flow_text", flow(FlowText, FlowOptions{})},
		{"flow_text_wide", flow(FlowText, FlowOptions{Width: -1})},
		{"flow_text_w60", flow(FlowText, FlowOptions{Width: 60})},
		{"flow_markdown", flow(FlowMarkdown, FlowOptions{})},
		{"flow_mermaid", flow(FlowMermaid, FlowOptions{})},
		{"flow_plantuml", flow(FlowPlantUML, FlowOptions{})},
		{"flow_svg", flow(FlowSVG, FlowOptions{})},
		{"flow_html", flow(FlowHTML, FlowOptions{Title: "Alice -> Bob via proxy"})},
		{"flow_legs_rtp_text", func(t *testing.T, b *bytes.Buffer) error {
			f := FlowFromCalls(sampleLegs(t), nil)
			f.AddStreams(sampleStreams(), nil)
			return WriteFlow(b, FlowText, f, FlowOptions{Width: 150})
		}},
	}
}

// sampleLegs is the sample call seen as two Call-IDs, as a B2BUA would
// make it: the same flow with a second Call-ID 40 ms later.
func sampleLegs(t *testing.T) []sipflow.CallDetail {
	s := sipflow.NewStore(sipflow.StoreOptions{})
	steps := sampleSteps(sampleCallID, 0)
	feed(s, steps[:4]) // leg 1: INVITE, retransmission, 100, forwarded INVITE
	feed(s, sampleSteps("b2b-leg-2@proxy", 40)[8:10])
	a, ok1 := s.Call(sampleCallID)
	b, ok2 := s.Call("b2b-leg-2@proxy")
	if !ok1 || !ok2 {
		t.Fatal("legs missing from store")
	}
	return []sipflow.CallDetail{a, b}
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.render(t, &b); err != nil {
				t.Fatalf("render: %v", err)
			}
			// Determinism: a second rendering must give the same bytes.
			var again bytes.Buffer
			if err := c.render(t, &again); err != nil || !bytes.Equal(b.Bytes(), again.Bytes()) {
				t.Fatalf("second rendering differs (err %v)", err)
			}
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/report -update)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s differs from golden; got:\n%s", path, b.String())
			}
		})
	}
}

// TestGoldenOrphans fails on golden files no case produces, so stale
// goldens cannot linger after a case is removed or renamed.
func TestGoldenOrphans(t *testing.T) {
	known := make(map[string]bool)
	for _, c := range goldenCases() {
		if known[c.name] {
			t.Errorf("duplicate golden case %q", c.name)
		}
		known[c.name] = true
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		if !known[name] {
			t.Errorf("orphaned golden file %s: no case renders it; delete it or add a case", f)
		}
	}
}
