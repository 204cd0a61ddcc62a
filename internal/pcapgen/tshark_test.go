package pcapgen

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTshark has Wireshark's dissectors, a third independent reader, read
// the committed files: every capture opens without error and has
// Want.Packets frames; where frame-level SIP counting is meaningful
// (UDP, SCTP, fragments) `-Y sip` matches; RTP/RTCP counts match with the
// heuristic dissectors on.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed; skipping the Wireshark cross-check")
	}
	// One pass per file gives the frame count, read errors, per-frame
	// protocol stacks and checksum verdicts (RTP/RTCP heuristics on).
	run := func(file string) ([]string, string, error) {
		cmd := exec.Command(tshark, "-n", "-r", filepath.Join(committedDir, file),
			"-o", "rtp.heuristic_rtp:TRUE", "-o", "rtcp.heuristic_rtcp:TRUE",
			"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
			"-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "tls.handshake.type",
			"-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "_ws.malformed")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var lines []string
		if o := strings.TrimSpace(out.String()); o != "" {
			lines = strings.Split(o, "\n")
		}
		return lines, errb.String(), err
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			lines, stderr, err := run(s.File)
			n := len(lines)
			if s.Want.ReadErr {
				if err == nil && !strings.Contains(stderr, "cut short") {
					t.Errorf("tshark read the damaged file without complaint")
				}
				if n != s.Want.Packets {
					t.Errorf("tshark shows %d frames, want %d", n, s.Want.Packets)
				}
				return
			}
			if err != nil {
				t.Fatalf("tshark: %v: %s", err, stderr)
			}
			if n != s.Want.Packets {
				t.Errorf("tshark shows %d frames, want %d", n, s.Want.Packets)
			}
			var sip, rtp, rtcp, hello, bad int
			for _, line := range lines {
				f := strings.Split(line, "|")
				if len(f) < 6 {
					continue
				}
				protos := ":" + f[0] + ":"
				if strings.Contains(protos, ":sip:") {
					sip++
				}
				if strings.Contains(protos, ":rtp:") || strings.HasSuffix(protos, ":rtp:") {
					rtp++
				}
				if strings.Contains(protos, ":rtcp:") {
					rtcp++
				}
				for _, h := range strings.Split(f[1], ",") {
					if h == "1" {
						hello++
					}
				}
				if strings.Contains(f[2]+f[3]+f[4], "0") || f[5] != "" {
					bad++
				}
			}
			if s.sipFrames >= 0 && s.Want.HEP == 0 && sip != s.sipFrames {
				t.Errorf("tshark: %d frames with SIP, want %d", sip, s.sipFrames)
			}
			if rtp != s.Want.RTP || rtcp != s.Want.RTCP {
				t.Errorf("tshark: %d RTP / %d RTCP frames, want %d / %d", rtp, rtcp, s.Want.RTP, s.Want.RTCP)
			}
			if hello != s.Want.TLSStreams {
				t.Errorf("tshark: %d ClientHellos, want %d TLS streams", hello, s.Want.TLSStreams)
			}
			if bad != 0 && s.Want.HEP == 0 {
				t.Errorf("tshark: %d frames with a bad checksum or malformed", bad)
			}
		})
	}
}
