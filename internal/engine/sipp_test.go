package engine

import (
	"github.com/voiptool/voiptool/internal/testpeer"

	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// freeUDPPort asks the kernel for a free loopback UDP port.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func need(t *testing.T, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (apt-get install sip-tester tcpdump tshark); .ci/run installs it", b)
		}
	}
}

// TestSippRealCall makes a real call with sipp (UAS and UAC on
// loopback, the UAC playing G.711 A-law RTP and RFC 2833 DTMF from a
// pcap), records it with tcpdump, and checks that what we make of the
// recording agrees with the call sipp made and with tshark's reading
// of the same file. Loopback captures carry unfinished UDP checksums
// (offload), so this also proves we never drop on checksum.
func TestSippRealCall(t *testing.T) {
	need(t, "sipp", "tcpdump", "tshark")
	if testing.Short() {
		t.Skip("makes a real 8-second call; skipped with -short")
	}
	const pcaps = "/usr/share/sip-tester"
	if _, err := os.Stat(filepath.Join(pcaps, "g711a.pcap")); err != nil {
		t.Skipf("sipp's RTP sample %s/g711a.pcap missing", pcaps)
	}
	// uac_pcap always plays its RTP to ports 6000/6001: one such test at a time.
	defer testpeer.Lock(t, "sipp-rtp")()
	dir := t.TempDir()
	// sipp's uac_pcap scenario names "pcap/g711a.pcap" relative to cwd.
	if err := os.Symlink(pcaps, filepath.Join(dir, "pcap")); err != nil {
		t.Fatal(err)
	}
	uas, uac, media := freeUDPPort(t), freeUDPPort(t), freeUDPPort(t)
	file := filepath.Join(dir, "call.pcap")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	filter := "udp and (port " + strconv.Itoa(uas) + " or port " + strconv.Itoa(uac) + " or portrange 6000-6001 or port " + strconv.Itoa(media) + ")"
	dump := exec.CommandContext(ctx, "tcpdump", "-i", "lo", "-U", "-n", "-w", file, filter)
	dump.Dir = dir
	dumpErr := &lockedBuffer{}
	dump.Stderr = dumpErr
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	// tcpdump prints "listening on" once its socket is open; poll for it
	// (bounded) so the first INVITE is not lost.
	for i := 0; i < 100 && !strings.Contains(dumpErr.String(), "listening on"); i++ {
		time.Sleep(50 * time.Millisecond)
	}

	srv := exec.CommandContext(ctx, "sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(uas), "-m", "1", "-nostdin", "-timeout", "30s")
	srv.Dir = dir
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	cli := exec.CommandContext(ctx, "sipp", "-sn", "uac_pcap", "127.0.0.1:"+strconv.Itoa(uas), "-i", "127.0.0.1", "-p", strconv.Itoa(uac), "-mp", strconv.Itoa(media), "-m", "1", "-nostdin", "-timeout", "30s")
	cli.Dir = dir
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, out)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("sipp uas: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let tcpdump write the last packets
	dump.Process.Signal(os.Interrupt)
	dump.Wait()

	r, err := pcap.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := New(Options{})
	var warns []error
	if _, err := e.Run(ctx, []capture.Source{r}, func(err error) { warns = append(warns, err) }); err != nil {
		t.Fatal(err)
	}
	if len(warns) > 0 {
		t.Errorf("warnings on a clean loopback capture: %v", warns)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) != 1 {
		t.Fatalf("calls = %d, want the 1 call sipp made", len(calls))
	}
	c := calls[0]
	// sipp's uac: INVITE, 100, 180, 200, ACK, (pause), BYE, 200.
	if c.Type != sipflow.TypeCall || c.State != sipflow.StateCompleted || c.FinalCode != 200 || c.HangupBy != "caller" {
		t.Errorf("call = type %s state %s code %d hangup %q, want CALL COMPLETED 200 by caller", c.Type, c.State, c.FinalCode, c.HangupBy)
	}
	tsharkSIP := tsharkCount(t, file, "sip")
	if c.Messages != tsharkSIP {
		t.Errorf("messages = %d, tshark counts %d SIP frames", c.Messages, tsharkSIP)
	}
	// The A-law stream sipp plays from g711a.pcap must be found, linked
	// to the call through the SDP, with no loss on loopback.
	var voice bool
	for _, s := range e.Streams(c.CallID) {
		if s.Codec == "PCMA" && s.Packets > 100 {
			voice = true
			if s.Lost != 0 {
				t.Errorf("stream %08x lost %d on loopback", s.SSRC, s.Lost)
			}
		}
	}
	if !voice {
		t.Errorf("no PCMA stream linked to the call; streams: %+v", e.Streams(""))
	}
}

func tsharkCount(t *testing.T, file, filter string) int {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-r", file, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return len(strings.Fields(string(out)))
}

// lockedBuffer collects a child's stderr, written by exec's copying
// goroutine while the test polls it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
