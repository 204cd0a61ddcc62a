package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestAnonymizeOptions(t *testing.T) {
	var got *anonymizeOptions
	reached := false
	cmd := newCmdAnonymize(testIO(), func(o *anonymizeOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "in.pcap", "out.pcap", "--key", "k", "--keep-digits", "3", "--keep-domains",
		"--keep-bodies", "--rtp", "drop", "--map", "m.tsv", "--no-verify")
	if err != nil {
		t.Fatal(err)
	}
	if got.in != "in.pcap" || got.out != "out.pcap" || got.key != "k" || got.keepDigits != 3 || !got.keepDomains ||
		!got.keepBodies || got.rtp != "drop" || got.mapFile != "m.tsv" || !got.noVerify {
		t.Fatalf("options %+v", got)
	}
	rejects(t, func(reached *bool) *cobra.Command {
		return newCmdAnonymize(testIO(), func(*anonymizeOptions) error { *reached = true; return nil })
	}, [][]string{
		{"in.pcap"},
		{"a", "b", "c"},
		{"a", "b", "--key", "k", "--key-file", "f"},
		{"a", "b", "--keep-digits", "-1"},
		{"a", "b", "--rtp", "mute"},
	})
}

func TestAnonymizeEndToEnd(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	dir := t.TempDir()
	out, mp := filepath.Join(dir, "out.pcap"), filepath.Join(dir, "map.tsv")
	code, stdout, stderr := runCmd(t, "anonymize", in, out, "--key", "e2e", "--map", mp)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "leak check: ") || !strings.Contains(stdout, ": 0 found") {
		t.Fatalf("summary:\n%s", stdout)
	}
	if b, err := os.ReadFile(mp); err != nil || !strings.Contains(string(b), "\t") {
		t.Fatalf("map: %v %q", err, b)
	}
	// the output decodes as a capture with the same calls
	code, dump, _ := runCmd(t, "calls", out, "--format", "csv")
	if code != exitOK || strings.Count(dump, "\n") < 2 {
		t.Fatalf("calls on the output: exit %d\n%s", code, dump)
	}
	// same key, byte-identical output
	out2 := filepath.Join(dir, "out2.pcap")
	runCmd(t, "anonymize", in, out2, "--key", "e2e")
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if string(a) != string(b) {
		t.Fatal("same key, different output")
	}
	// refuses to overwrite its input
	if code, _, stderr := runCmd(t, "anonymize", out, out, "--key", "x"); code == exitOK || !strings.Contains(stderr, "overwrite") {
		t.Fatalf("same file: exit %d %q", code, stderr)
	}
}

func TestAnonymizeGzipOut(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "pcaps", "gzip-basic.pcap.gz")
	out := filepath.Join(t.TempDir(), "out.pcap.gz")
	code, stdout, stderr := runCmd(t, "anonymize", in, out, "--key", "gz")
	if code != exitOK || !strings.Contains(stdout, ": 0 found") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(out); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatal("output not gzip")
	}
	if code, _, stderr := runCmd(t, "anonymize", "-", out); code == exitOK || !strings.Contains(stderr, "give files") {
		t.Fatalf("stdin: exit %d %q", code, stderr)
	}
}

// --check OUT --against IN: the leak check alone passes an anonymised
// capture and fails the original compared with itself.
func TestAnonymizeCheckMode(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	out := filepath.Join(t.TempDir(), "out.pcap")
	if code, _, stderr := runCmd(t, "anonymize", in, out, "--key", "k"); code != exitOK {
		t.Fatalf("anonymize: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr := runCmd(t, "anonymize", "--check", out, "--against", in); code != exitOK || !strings.Contains(stdout, ": 0 found") {
		t.Errorf("check of the anonymised file: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := runCmd(t, "anonymize", "--check", in, "--against", in); code != exitError || strings.Contains(stdout, ": 0 found") {
		t.Errorf("check of the original: exit %d\n%s", code, stdout)
	}
	if code, _, _ := runCmd(t, "anonymize", "--check", out); code != exitUsage {
		t.Errorf("--check without --against: exit %d", code)
	}
}
