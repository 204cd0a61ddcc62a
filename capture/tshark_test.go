package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusTshark re-derives each file's SIP count from tshark itself
// (-Y sip, one frame per SIP message in this corpus) and compares it to
// what Decode finds. It takes about a minute (one tshark run per file),
// so it runs only with VOIPTOOL_TSHARK=1; TestCorpus checks the same
// counts from the MANIFEST without tshark.
func TestCorpusTshark(t *testing.T) {
	if os.Getenv("VOIPTOOL_TSHARK") == "" {
		t.Skip("set VOIPTOOL_TSHARK=1 to compare with tshark (slow)")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	// Justified differences between tshark -Y sip frames and SIP messages.
	adjust := map[string]int{
		"sip-scanner-icmp-quoted-sip.pcap": -5, // SIP quoted inside ICMP errors is not a message
	}
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			args := []string{"-r", path, "-Y", "sip", "-T", "fields", "-e", "frame.number"}
			if strings.Contains(name, "port6060") {
				args = append(args, "-d", "tcp.port==6060,sip")
			}
			out, err := exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			want := bytes.Count(out, []byte("\n")) + adjust[name]
			st, _ := decodeFile(t, path, Options{})
			if st.SIP != want {
				t.Errorf("SIP = %d, tshark -Y sip = %d (adjusted)", st.SIP, want)
			}
		})
	}
}
