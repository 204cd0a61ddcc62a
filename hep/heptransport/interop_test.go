package heptransport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/voiptool/voiptool/hep"
)

// corpusDir is the shared capture corpus, a sibling of the repository root
// (this package is three levels below it). Its files are test inputs only.
const corpusDir = "../../../shared/corpus"

const sngrepCapture = "sip-udp-g711u-bidir-401-183-magicjack.pcap"

func needSngrep(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sngrep")
	if err != nil {
		t.Skip("sngrep not installed (apt-get install sngrep); interop test skipped")
	}
	return path
}

// corpusFile returns the path of a corpus capture and its SIP message
// count from MANIFEST.md, or skips when the corpus is absent.
func corpusFile(t *testing.T, name string) (string, int) {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(corpusDir, name)) // sngrep runs in a temp dir
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared corpus file %s not available (%v); it lives next to the repository", name, err)
	}
	man, err := os.ReadFile(filepath.Join(corpusDir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	// Summary row: | `file` | bytes | link | pkts | SIP msgs | ...
	re := regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(name) + "` \\| [0-9]+ \\| [^|]+\\| [0-9]+ \\| ([0-9]+) \\|")
	m := re.FindSubmatch(man)
	if m == nil {
		t.Fatalf("MANIFEST.md has no summary row for %s", name)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return p, n
}

// sngrepCmd prepares sngrep with its own HOME and only the given settings,
// so a user's ~/.sngreprc cannot change the test.
func sngrepCmd(ctx context.Context, t *testing.T, bin string, settings []string, args ...string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "sngreprc")
	var b strings.Builder
	for _, s := range settings {
		b.WriteString("set " + s + "\n")
	}
	if err := os.WriteFile(rc, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-F", "-f", rc}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "TERM=dumb")
	cmd.Dir = dir
	return cmd
}

// TestSngrepSends: sngrep replays a corpus capture as a HEP agent (-H) to
// our Listener; every SIP message of the file must arrive, decoded, for
// HEP3 (with an auth key) and for sngrep's quirky HEPv2.
func TestSngrepSends(t *testing.T) {
	bin := needSngrep(t)
	capture, want := corpusFile(t, sngrepCapture)
	for _, tt := range []struct {
		name     string
		settings []string
		key      string
		version  uint8
	}{
		{"v3", []string{"eep.send.version 3", "eep.send.id 2002"}, "", 3},
		{"v3 auth key", []string{"eep.send.version 3", "eep.send.pass s3cret"}, "s3cret", 3},
		{"v2", []string{"eep.send.version 2", "eep.send.id 2002"}, "", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := startCollector(t, []string{"udp:127.0.0.1:0"}, ListenOptions{AuthKey: tt.key, DedupWindow: -1})
			hp := strings.TrimPrefix(c.l.Addrs()[0], "udp:")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := sngrepCmd(ctx, t, bin, tt.settings, "-I", capture, "-H", "udp:"+hp, "-N", "-q")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sngrep: %v\n%s", err, out)
			}
			waitFor(t, fmt.Sprintf("%d SIP messages", want), func() bool { return c.count() >= want })
			time.Sleep(50 * time.Millisecond) // let any extra datagram arrive, so "more than want" is caught
			pkts := c.snapshot()
			if len(pkts) != want {
				t.Fatalf("received %d messages, MANIFEST says %d", len(pkts), want)
			}
			for i, g := range pkts {
				if g.p.Version != tt.version || g.p.ProtoType != hep.ProtoSIP || g.p.Protocol != ProtoUDP || !isSIPStart(g.raw) {
					t.Fatalf("message %d: v%d type %v proto %d %.30q", i, g.p.Version, g.p.ProtoType, g.p.Protocol, g.raw)
				}
				if g.p.Time.Year() < 2000 || !g.p.Src.Addr().IsValid() || g.p.Dst.Port() == 0 {
					t.Fatalf("message %d: time %v %v -> %v", i, g.p.Time, g.p.Src, g.p.Dst)
				}
				if tt.version == 2 && g.p.CaptureID != 2002 {
					t.Fatalf("message %d: capture id %d", i, g.p.CaptureID)
				}
			}
			if st := c.l.Stats(); st.Bad != 0 || st.AuthFailures != 0 {
				t.Fatalf("listener stats %+v", st)
			}
		})
	}
}

var sipStart = regexp.MustCompile(`^(SIP/2\.0 [0-9]{3} |[A-Z]+ [^ ]+ SIP/2\.0\r\n)`)

func isSIPStart(b []byte) bool { return sipStart.Match(b) }

// udpPortBound reports whether something already listens on the port:
// binding it ourselves fails then.
func udpPortBound(port int) bool {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// TestSngrepReceives: our Sender is the agent, sngrep the collector (-L),
// writing what it receives to a pcap (-O). Every message must be there.
func TestSngrepReceives(t *testing.T) {
	bin := needSngrep(t)
	for _, version := range []uint8{3, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			port := freePort(t, "udp")
			out := filepath.Join(t.TempDir(), "out.pcap")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := sngrepCmd(ctx, t, bin, []string{fmt.Sprintf("eep.listen.version %d", version)},
				"-L", fmt.Sprintf("udp:127.0.0.1:%d", port), "-N", "-q", "-O", out)
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{}) // closed when sngrep is gone
			go func() { _ = cmd.Wait(); close(exited) }()
			defer func() { // never leave sngrep behind, even on failure
				_ = cmd.Process.Kill()
				select {
				case <-exited:
				case <-time.After(waitLimit):
				}
			}()
			waitFor(t, "sngrep to bind its HEP port", func() bool { return udpPortBound(port) })

			s, err := NewSender(SenderOptions{To: []string{fmt.Sprintf("udp:127.0.0.1:%d", port)}, Version: version, CaptureID: 77})
			if err != nil {
				t.Fatal(err)
			}
			stop := runSender(t, s)
			const n = 12
			for i := range n {
				p := SIPPacket(fullSIP(i), netip.MustParseAddrPort("192.0.2.10:5060"), netip.MustParseAddrPort("192.0.2.20:5060"),
					time.Unix(1700000000+int64(i), 0), ProtoUDP)
				if err := s.Send(&p); err != nil {
					t.Fatal(err)
				}
			}
			fctx, fcancel := context.WithTimeout(context.Background(), waitLimit)
			defer fcancel()
			if err := s.Flush(fctx); err != nil {
				t.Fatal(err)
			}
			stop()
			if st := s.Stats()[0]; st.Sent != n {
				t.Fatalf("sender stats %+v", st)
			}
			// sngrep handles a datagram before it writes it; give it a
			// moment, then ask it to exit (it flushes the pcap on SIGINT).
			var got int
			for try := 0; try < 100; try++ {
				time.Sleep(20 * time.Millisecond)
				if got = countSIPInPcap(t, out); got >= n {
					break
				}
			}
			sigAt := time.Now()
			_ = cmd.Process.Signal(syscall.SIGINT)
			defer func() { t.Logf("sngrep exit took %v after SIGINT; polled pcap %d SIP", time.Since(sigAt), got) }()
			select {
			case <-exited:
			case <-time.After(waitLimit):
				t.Fatalf("sngrep did not exit on SIGINT\n%s", stderr.String())
			}
			msgs := sipInPcap(t, out)
			if got = len(msgs); got != n {
				t.Fatalf("sngrep wrote %d SIP messages, sent %d\n%s", got, n, stderr.String())
			}
			for i, m := range msgs {
				if version == 2 {
					// sngrep's HEPv2 receiver computes the payload length as
					// ntohs(hp_l) - header, with hp_l a u8 (16 for IPv4), so
					// it stores 4096-28 bytes (IPv4 header block is 28): our payload, then NULs
					// (capture_eep.c, capture_eep_receive_v2). Its bug.
					if len(m) != 4096-28 {
						t.Fatalf("message %d: sngrep v2 stored %d bytes; its known length bug gives 4068", i, len(m))
					}
					m = bytes.TrimRight(m, "\x00")
				}
				if !bytes.Equal(m, fullSIP(i)) {
					t.Fatalf("message %d in sngrep's pcap:\n%q\nwant\n%q", i, m, fullSIP(i))
				}
			}
		})
	}
}

// fullSIP is a complete SIP request sngrep accepts as a dialog start.
func fullSIP(i int) []byte {
	return []byte(fmt.Sprintf("OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-interop-%d\r\n"+
		"From: <sip:alice@192.0.2.10>;tag=a%d\r\nTo: <sip:bob@192.0.2.20>\r\n"+
		"Call-ID: interop-%d@192.0.2.10\r\nCSeq: %d OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", i, i, i, i+1))
}

// countSIPInPcap counts UDP payloads that begin with a SIP start line. A
// file that does not exist yet or ends mid-record counts what is complete.
func countSIPInPcap(t *testing.T, path string) int { return len(sipInPcap(t, path)) }

// sipInPcap returns the UDP payloads that begin with a SIP start line.
func sipInPcap(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil // header not written yet
	}
	var out [][]byte
	for i := 0; i < 100000; i++ {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s packet %d: %v", path, i, err)
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && isSIPStart(udp.Payload) {
			out = append(out, append([]byte(nil), udp.Payload...))
		}
	}
	return out
}
