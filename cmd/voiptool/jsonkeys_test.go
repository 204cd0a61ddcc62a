package main

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestJSONKeysAlwaysPresent: every record of `calls`, `rtp` and `stats`
// JSON over every corpus file carries the same key set: a key whose
// value is empty is there as "", null or [], never left out, so scripts
// can rely on the documented names.
func TestJSONKeysAlwaysPresent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "*.pcap*"))
	files = append(files, filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap"))
	if len(files) < 2 {
		t.Log("../shared/corpus not present: checking the bundled capture only")
	}
	t.Logf("%d captures", len(files))
	for _, cmd := range []string{"calls", "rtp", "stats"} {
		var want []string
		wantFrom := ""
		for _, f := range files {
			code, out, stderr := runCmd(t, cmd, f, "-q", "--format", "json")
			if code != 0 {
				if strings.Contains(stderr, "no packets") {
					continue
				}
				t.Fatalf("%s %s: exit %d: %s", cmd, f, code, stderr)
			}
			var recs []map[string]any
			if cmd == "stats" {
				var one map[string]any
				if err := json.Unmarshal([]byte(out), &one); err != nil {
					t.Fatalf("%s %s: %v", cmd, f, err)
				}
				recs = append(recs, one)
			} else if err := json.Unmarshal([]byte(out), &recs); err != nil {
				t.Fatalf("%s %s: %v", cmd, f, err)
			}
			for i, r := range recs {
				keys := make([]string, 0, len(r))
				for k := range r {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if want == nil {
					want, wantFrom = keys, filepath.Base(f)
					continue
				}
				if strings.Join(keys, ",") != strings.Join(want, ",") {
					t.Errorf("%s %s record %d keys differ from %s's:\n got %v\nwant %v", cmd, filepath.Base(f), i, wantFrom, keys, want)
					return
				}
			}
		}
	}
}

// DTMF digits show in the rtp table and in --explain, not only in JSON.
func TestRTPShowsDTMF(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "rtp-impaired.pcap")
	_, out, _ := runCmd(t, "rtp", f, "-q", "--width", "200")
	if !strings.Contains(out, "dtmf") || !strings.Contains(out, "  5  ") {
		t.Errorf("rtp table without the DTMF digit:\n%s", out)
	}
	_, out, _ = runCmd(t, "rtp", f, "-q", "--explain")
	if !strings.Contains(out, "DTMF (RFC 4733) 5: 5 at ") {
		t.Errorf("--explain without the DTMF digit:\n%s", out)
	}
}

// --columns on a piped open is refused with a message, not ignored.
func TestOpenColumnsWhenPiped(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	code, _, stderr := runCmd(t, "open", f, "--columns", "index,callid")
	if code != exitUsage || !strings.Contains(stderr, "--columns") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
