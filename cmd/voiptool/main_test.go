package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/pcap"
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
		{"unknown shell", []string{"completion", "tcsh"}, exitUsage, "unknown shell"},
		{"man extra argument", []string{"man", "extra"}, exitUsage, "unexpected argument"},
		{"v2 cannot compress", []string{"hep-forward", "x.pcap", "--to", "udp:127.0.0.1:9060", "--hep-version", "2", "--compress"}, exitUsage, "--compress needs HEP version 3"},
		{"bad hep target", []string{"listen", "udp:nohostport"}, exitUsage, "listen"},
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
	// With -i, the words after the options are a capture filter (tcpdump
	// style); files come with -r.
	cmd.SetArgs([]string{"-r", "b.pcapng", "-r", "a.pcap", "-e", "INVITE", "--ignore-case", "--kind", "sip,rtp", "-c", "5", "-i", "lo", "-B", "8", "udp", "port", "5060"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.files, ",") != "b.pcapng,a.pcap" || got.regex != "INVITE" || !got.ignoreCase ||
		strings.Join(got.kinds, ",") != "sip,rtp" || got.count != 5 || strings.Join(got.live.ifaces, ",") != "lo" ||
		got.live.expr != "udp port 5060" || got.live.bufferMB != 8 {
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

// TestDumpWrite saves what dump printed and re-reads it: the packet of
// every printed message exactly once, so a TCP segment carrying several
// messages is saved once.
func TestDumpWrite(t *testing.T) {
	for _, tc := range []struct{ file, regex string }{
		{"calls-mixed.pcap", "^INVITE"},
		{"tcp-multi-message.pcap", ""},
	} {
		out := filepath.Join(t.TempDir(), "out.pcapng")
		args := []string{"dump", filepath.Join("..", "..", "testdata", "pcaps", tc.file), "-w", out}
		if tc.regex != "" {
			args = append(args, "-e", tc.regex)
		}
		code, stdout, stderr := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.file, code, stderr)
		}
		frames := map[string]bool{}
		printed := 0
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(line, "SIP ") && strings.Contains(line, " -> ") {
				printed++
				f := strings.Fields(line)
				frames[f[len(f)-1]] = true // "#N"
			}
		}
		if printed == 0 || !strings.Contains(stderr, fmt.Sprintf("saved %d packets", len(frames))) {
			t.Errorf("%s: %d messages printed from %d packets; summary %q", tc.file, printed, len(frames), stderr)
		}
		r, err := pcap.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			if _, _, err := r.Next(); err != nil {
				break
			}
			n++
		}
		r.Close()
		if n != len(frames) {
			t.Errorf("%s: saved file holds %d records, want %d", tc.file, n, len(frames))
		}
	}
}

// TestDumpEveryCorpusFile runs dump over every public capture: each
// must be read to the end with exit status 0 (none of them is damaged)
// and a summary naming what was found.
func TestDumpEveryCorpusFile(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) == 0 {
		t.Skip("../shared/corpus not present")
	}
	for _, f := range files {
		code, _, stderr := runCmd(t, "dump", f, "--kind", "all")
		if code != 0 || !strings.Contains(stderr, " packets: ") {
			t.Errorf("%s: exit %d, stderr %q", filepath.Base(f), code, stderr)
		}
	}
}

// TestDumpHEP prints the SIP found inside HEP with the inner addresses.
func TestDumpHEP(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "hep3-in-udp.pcap")
	code, out, stderr := runCmd(t, "dump", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// pcapgen: five SIP messages inside HEP3 on UDP 9060.
	if n := strings.Count(out, " tunnel\n"); n != 5 || strings.Contains(out, ":9060 ") {
		t.Errorf("printed %d HEP-carried SIP messages (want 5, none with the collector port):\n%s", n, out)
	}
}
