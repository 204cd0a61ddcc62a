package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite tui/testdata/*.golden from the current output")

// goldenUsed records every golden file a test read or wrote, so TestMain
// can fail on orphans (a golden no test uses any more silently stops
// guarding anything).
var goldenUsed sync.Map

func goldenPath(t *testing.T) string {
	return filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
}

// requireGolden compares got with testdata/<TestName>.golden, or rewrites
// it with -update. Trailing spaces are trimmed per line so editors do not
// break the files; the frame size is checked separately.
func requireGolden(t *testing.T, got string) {
	t.Helper()
	p := goldenPath(t)
	goldenUsed.Store(filepath.Base(p), true)
	got = trimLines(got)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./tui -update to accept):\n--- got ---\n%s\n--- want ---\n%s", p, got, want)
	}
}

func trimLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	// Only a full run can tell an orphan from a golden of a test that was
	// filtered out.
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" {
		if orphans := orphanGoldens(); len(orphans) > 0 {
			fmt.Fprintf(os.Stderr, "orphaned golden files (no test used them; delete them): %s\n", strings.Join(orphans, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

func orphanGoldens() []string {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	var out []string
	for _, f := range files {
		if _, ok := goldenUsed.Load(filepath.Base(f)); !ok {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// sizes are the two frames every view is checked at: the classic
// terminal and a wide one.
var sizes = []struct{ w, h int }{{80, 24}, {160, 48}}

// checkFrame asserts the frame is exactly w×h cells: no view may push
// the status line off screen or leave a ragged right edge beyond w.
func checkFrame(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := len([]rune(l)); n > w {
			t.Errorf("line %d is %d cells wide, want <= %d: %q", i, n, w, l)
		}
	}
}

// TestGolden renders every view at both sizes.
func TestGolden(t *testing.T) {
	cases := []struct {
		name  string
		opts  Options
		setup func(m *Model, d *memData)
	}{
		{"list", Options{}, func(m *Model, d *memData) { press(t, m, "j", "j", "space", "j") }},
		{"list_ascii", Options{ASCII: true}, func(m *Model, d *memData) { press(t, m, "space") }},
		{"save_ascii", Options{ASCII: true}, func(m *Model, d *memData) { press(t, m, "f2") }},
		{"streams_ascii", Options{ASCII: true}, func(m *Model, d *memData) { press(t, m, "s") }},
		{"list_loading", Options{}, func(m *Model, d *memData) {
			d.counters.LoadDone, d.counters.LoadTotal, d.counters.Live = 3<<20, 8<<20, false
			m.refresh()
		}},
		{"list_sorted_desc", Options{}, func(m *Model, d *memData) { press(t, m, "o", "O") }},
		{"filter_error", Options{}, func(m *Model, d *memData) {
			press(t, m, "f")
			typeText(m, "bogus==1")
		}},
		{"filter_ok", Options{}, func(m *Model, d *memData) {
			press(t, m, "f7")
			typeText(m, "state~busy")
			press(t, m, "enter")
		}},
		{"flow", Options{}, func(m *Model, d *memData) { press(t, m, "enter") }},
		{"flow_extended", Options{}, func(m *Model, d *memData) {
			d.flows[d.rows[2].CallID] = fixtureFlow(d.rows[2].CallID, 0)
			press(t, m, "space", "j", "j", "space", "x", "j")
		}},
		{"flow_ascii", Options{ASCII: true}, func(m *Model, d *memData) { press(t, m, "enter") }},
		{"flow_scrolled", Options{}, func(m *Model, d *memData) { press(t, m, "enter", "l", "l", "l", "l", "l", "l") }},
		{"flow_raw", Options{}, func(m *Model, d *memData) { press(t, m, "enter", "r") }},
		{"flow_compressed", Options{}, func(m *Model, d *memData) { press(t, m, "enter", "z") }},
		{"flow_since_first", Options{}, func(m *Model, d *memData) { press(t, m, "enter", "T", "T", "T") }},
		{"flow_compare", Options{}, func(m *Model, d *memData) { press(t, m, "enter", "c", "j", "j", "c") }},
		{"streams", Options{}, func(m *Model, d *memData) { press(t, m, "s") }},
		{"stats", Options{}, func(m *Model, d *memData) { press(t, m, "t") }},
		{"help", Options{}, func(m *Model, d *memData) { press(t, m, "?") }},
		{"save", Options{}, func(m *Model, d *memData) { press(t, m, "f2") }},
		{"saving", Options{}, func(m *Model, d *memData) {
			press(t, m, "f2")
			m.Update(keyMsg("enter")) // the command is not run: the save stays in progress
			m.saving.progress.Store(&SaveProgress{Calls: 340, TotalCalls: 1000})
		}},
		{"saving_reread", Options{ASCII: true}, func(m *Model, d *memData) {
			press(t, m, "f2")
			m.Update(keyMsg("enter"))
			m.saving.progress.Store(&SaveProgress{Calls: 1000, TotalCalls: 1000, Read: 45, ReadTotal: 100})
		}},
		{"columns", Options{}, func(m *Model, d *memData) { press(t, m, "C", "j", "space") }},
		{"legend", Options{}, func(m *Model, d *memData) { press(t, m, "H", "l", "l", "l", "l", "l") }},
		{"empty", Options{}, nil},
	}
	for _, tc := range cases {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz.w, sz.h), func(t *testing.T) {
				n := 40
				if tc.name == "empty" {
					n = 0
				}
				d := newMemData(n)
				m := newTestModel(d, sz.w, sz.h, tc.opts)
				if tc.setup != nil {
					tc.setup(m, d)
				}
				s := screen(m)
				checkFrame(t, s, sz.w, sz.h)
				if tc.opts.ASCII {
					for i, r := range s {
						if r > 0x7e || (r < ' ' && r != '\n') {
							t.Fatalf("ASCII mode drew %q at byte %d", r, i)
						}
					}
				}
				requireGolden(t, s)
			})
		}
	}
}
