package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestCallsProblems: --problems keeps only the calls with a problem, the
// JSON always has a problems list, and a threshold flag moves a verdict.
func TestCallsProblems(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "problems-media-b.pcap")
	type call struct {
		CallID   string `json:"call_id"`
		Problems []struct {
			Code, Severity, Detail string
		} `json:"problems"`
	}
	list := func(args ...string) []call {
		t.Helper()
		code, out, stderr := runCmd(t, append([]string{"calls", f, "--format", "json", "-q"}, args...)...)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var cs []call
		if err := json.Unmarshal([]byte(out), &cs); err != nil {
			t.Fatal(err)
		}
		return cs
	}
	all := list()
	with := list("--problems")
	if len(all) != 7 || len(with) != 7 {
		t.Fatalf("%d calls, %d with problems; want 7 and 7", len(all), len(with))
	}
	// prob-101-loss loses 3 of 55 (5.5 %): flagged at the default 2 %,
	// not with the threshold raised to 6 %.
	flagged := func(cs []call, id string) bool {
		for _, c := range cs {
			if c.CallID == id && c.Problems != nil {
				for _, p := range c.Problems {
					if p.Code == "high-loss" {
						return true
					}
				}
			}
		}
		return false
	}
	if !flagged(with, "prob-101-loss@voiptool.test") {
		t.Error("high-loss not flagged at the default threshold")
	}
	if flagged(list("--loss-threshold", "6"), "prob-101-loss@voiptool.test") {
		t.Error("high-loss still flagged with --loss-threshold 6")
	}
	for _, c := range list("--filter", "not problem") {
		t.Errorf("%s has problems %v but matched 'not problem'", c.CallID, c.Problems)
	}
}
