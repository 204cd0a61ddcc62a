package main

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestNoRawControlsInOutputs: a capture whose headers carry terminal
// escape sequences (retitle, clear, clipboard, C1 CSI) goes through
// every printer of wire text; none may emit a raw control character,
// only visible escapes.
func TestNoRawControlsInOutputs(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "hostile-escapes.pcap")
	id := "hostile-1@192.0.2.66"
	var lines [][]string
	lines = append(lines, []string{"dump", f, "-q"})
	for _, format := range []string{"table", "json", "jsonl", "csv"} {
		lines = append(lines, []string{"calls", f, "-q", "--format", format})
	}
	for _, format := range []string{"text", "markdown", "mermaid", "plantuml", "svg", "html"} {
		lines = append(lines, []string{"flow", f, "-q", "--call", id, "--format", format})
	}
	lines = append(lines, []string{"stats", f, "-q"}, []string{"rtp", f, "-q"}, []string{"open", f, "-q"})
	for _, args := range lines {
		var out, errOut bytes.Buffer
		if code := run(args, &ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
			t.Errorf("%v: exit %d: %s", args, code, errOut.String())
			continue
		}
		for name, b := range map[string][]byte{"stdout": out.Bytes(), "stderr": errOut.Bytes()} {
			if i := rawControl(b); i >= 0 {
				t.Errorf("%v: raw control byte 0x%02x on %s at %d: %q", args, b[i], name, i, b[max(0, i-20):min(len(b), i+20)])
			}
		}
		if args[0] == "dump" && !bytes.Contains(out.Bytes(), []byte(`\x1b]52;c;`)) {
			t.Errorf("dump hides the escape instead of showing it:\n%s", out.String())
		}
	}
}

// rawControl returns the offset of the first byte a terminal would act
// on (C0 controls but tab, LF and CR; DEL; ESC; C1 in UTF-8), or -1.
func rawControl(b []byte) int {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\t' || c == '\n' || c == '\r':
		case c < 0x20 || c == 0x7f:
			return i
		case c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			return i
		}
	}
	return -1
}
