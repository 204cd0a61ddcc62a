package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
