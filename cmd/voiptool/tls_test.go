package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// TestDumpTLS: --tls-keylog (or secrets injected into a pcapng by
// editcap) makes the SIP inside TLS visible, marked TLS; without them
// the connection is only counted.
func TestDumpTLS(t *testing.T) {
	dir := filepath.Join("..", "..", "capture", "tlsdec", "testdata")
	pcapFile := filepath.Join(dir, "tls12-ecdhe-ecdsa-aes128gcm.pcap")
	keylog := filepath.Join(dir, "tls12-ecdhe-ecdsa-aes128gcm.keylog")
	sipTLS := func(out string) int { return strings.Count(out, "SIP TLS ") }

	code, out, errOut := runCmd(t, "dump", "--tls-keylog", keylog, pcapFile)
	if code != exitOK || sipTLS(out) != 7 || !strings.Contains(errOut, "1 TLS connections decrypted") {
		t.Fatalf("with key log: exit %d, %d SIP TLS messages, stderr %q", code, sipTLS(out), errOut)
	}
	code, out, errOut = runCmd(t, "dump", pcapFile)
	if code != exitOK || sipTLS(out) != 0 || !strings.Contains(errOut, "2 TLS streams (encrypted SIP, not decoded)") {
		t.Fatalf("without key log: exit %d, %d SIP TLS messages, stderr %q", code, sipTLS(out), errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.keylog")
	os.WriteFile(bad, []byte("not a key log\n"), 0o644)
	if code, _, errOut = runCmd(t, "calls", "--tls-keylog", bad, pcapFile); code != exitError || !strings.Contains(errOut, "no TLS secrets") {
		t.Fatalf("bad key log: exit %d, stderr %q", code, errOut)
	}
	if _, err := exec.LookPath("editcap"); err != nil {
		t.Skip("editcap not installed:", err)
	}
	injected := filepath.Join(t.TempDir(), "injected.pcapng")
	if b, err := exec.Command("editcap", "--inject-secrets", "tls,"+keylog, pcapFile, injected).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v: %s", err, b)
	}
	code, out, errOut = runCmd(t, "calls", injected)
	if code != exitOK || !strings.Contains(out, "a84b4c76e66710@tls.example.com") || !strings.Contains(out, "COMPLETED") {
		t.Fatalf("injected secrets: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestStripSecrets: a pcapng saved from an input carrying decryption
// secrets (editcap --inject-secrets) keeps them, so tshark and voiptool
// decrypt the saved TLS call without a key log; --strip-secrets leaves
// them out. Keys given by --tls-keylog are never written.
func TestStripSecrets(t *testing.T) {
	for _, b := range []string{"editcap", "tshark"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (apt-get install tshark)", b)
		}
	}
	dir := filepath.Join("..", "..", "capture", "tlsdec", "testdata")
	pcapFile := filepath.Join(dir, "tls13-aes128gcm.pcap")
	keylog := filepath.Join(dir, "tls13-aes128gcm.keylog")
	tmp := t.TempDir()
	injected := filepath.Join(tmp, "injected.pcapng")
	if b, err := exec.Command("editcap", "--inject-secrets", "tls,"+keylog, pcapFile, injected).CombinedOutput(); err != nil {
		t.Fatalf("editcap: %v: %s", err, b)
	}
	tsharkSIP := func(file string) int {
		out, err := exec.Command("tshark", "-n", "-r", file, "-Y", "sip", "-T", "fields", "-e", "sip.Method", "-e", "sip.Status-Code").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		return len(strings.Fields(string(out)))
	}
	secretsOf := func(file string) int {
		r, err := pcap.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return len(r.Secrets())
	}
	for _, tc := range []struct {
		name   string
		args   []string
		input  string
		blocks int
		sip    int
	}{
		{"kept", nil, injected, 1, -1}, // -1: what tshark finds in the input
		{"stripped", []string{"--strip-secrets"}, injected, 0, 0},
		{"key log not written", []string{"--tls-keylog", keylog}, pcapFile, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(tmp, tc.name+".pcapng")
			args := append([]string{"capture", "-r", tc.input, "--no-ui", "-q", "--report", "none", "-w", out}, tc.args...)
			if code, _, errOut := runCmd(t, args...); code != exitOK {
				t.Fatalf("capture: exit %d: %s", code, errOut)
			}
			if n := secretsOf(out); n != tc.blocks {
				t.Errorf("%d decryption secrets blocks, want %d", n, tc.blocks)
			}
			if tc.sip < 0 {
				if tc.sip = tsharkSIP(injected); tc.sip < 5 {
					t.Fatalf("tshark finds %d SIP messages in the injected input", tc.sip)
				}
			}
			if n := tsharkSIP(out); n != tc.sip {
				t.Errorf("tshark finds %d SIP messages in the saved file, want %d", n, tc.sip)
			}
			code, stdout, _ := runCmd(t, "calls", out)
			if decrypted := strings.Contains(stdout, "a84b4c76e66710@tls.example.com"); code != exitOK || decrypted != (tc.sip > 0) {
				t.Errorf("voiptool calls on the saved file: exit %d, call found %v", code, decrypted)
			}
		})
	}
}
