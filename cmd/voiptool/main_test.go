package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs the command line against buffers, as main would.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func corpusFile(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not present (../shared/corpus)", name)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string // substring of stderr
	}{
		{"version", []string{"--version"}, exitOK, ""},
		{"unknown flag", []string{"dump", "--no-such-flag"}, exitUsage, "unknown flag"},
		{"no input", []string{"dump"}, exitUsage, "no capture file"},
		{"bad regex", []string{"dump", "x.pcap", "-e", "("}, exitUsage, "bad --regex"},
		{"bad kind", []string{"dump", "x.pcap", "--kind", "mgcp"}, exitUsage, "unknown --kind"},
		{"missing file", []string{"dump", "/nonexistent.pcap"}, exitError, "nonexistent.pcap"},
		{"not a capture", []string{"dump", "main.go"}, exitError, "main.go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.err) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.err)
			}
		})
	}
}

func TestVersionCompletionMan(t *testing.T) {
	if code, out, _ := runCmd(t, "--version"); code != 0 || !strings.HasPrefix(out, "voiptool ") {
		t.Errorf("--version: %d %q", code, out)
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, stderr := runCmd(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "voiptool") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", sh, code, len(out), stderr)
		}
	}
	code, out, _ := runCmd(t, "man")
	if code != 0 || !strings.Contains(out, ".TH \"VOIPTOOL\"") || !strings.Contains(out, "dump") {
		t.Errorf("man: exit %d, page:\n%.300s", code, out)
	}
	dir := t.TempDir()
	if code, _, stderr := runCmd(t, "man", "--dir", dir); code != 0 {
		t.Fatalf("man --dir: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "voiptool-dump.1")); err != nil {
		t.Errorf("man --dir wrote no voiptool-dump.1: %v", err)
	}
}

// TestHelpHasExamples holds every command to the CLI convention: --help
// shows examples.
func TestHelpHasExamples(t *testing.T) {
	root := newRootCmd(&ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s --help has no examples", c.Name())
		}
	}
}

func TestDumpOptions(t *testing.T) {
	var got *dumpOptions
	cmd := newCmdDump(&ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, func(o *dumpOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"a.pcap", "-r", "b.pcapng", "-e", "INVITE", "--ignore-case", "--kind", "sip,rtp", "-c", "5", "-i", "lo"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.files, ",") != "b.pcapng,a.pcap" || got.regex != "INVITE" || !got.ignoreCase ||
		strings.Join(got.kinds, ",") != "sip,rtp" || got.count != 5 || strings.Join(got.ifaces, ",") != "lo" {
		t.Errorf("options = %+v", got)
	}
}

func TestDumpCorpus(t *testing.T) {
	f := corpusFile(t, "sip-udp-g711a-bidir-183-earlymedia.pcap")
	code, out, stderr := runCmd(t, "dump", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// MANIFEST: INVITE/100/183/200/ACK/BYE/200.
	if n := strings.Count(out, "\nSIP UDP ") + strings.Count(out[:4], "SIP "); n != 7 {
		t.Errorf("printed %d SIP messages, want 7", n)
	}
	if !strings.Contains(out, "SIP UDP 2014-01-01 19:23:51.036868 10.251.23.139:5060 -> 172.22.75.71:5062 #5\nINVITE sip:147@") {
		t.Errorf("first message header not as expected:\n%.300s", out)
	}
	if !strings.Contains(stderr, "527 packets: 7 SIP, 509 RTP") {
		t.Errorf("summary = %q", stderr)
	}
	_, out, _ = runCmd(t, "dump", f, "-e", "^BYE", "-q")
	if strings.Count(out, "\nBYE sip:") != 1 {
		t.Errorf("-e ^BYE printed:\n%s", out)
	}
}
