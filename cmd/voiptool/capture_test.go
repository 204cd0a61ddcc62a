package main

import (
	"github.com/voiptool/voiptool/internal/testpeer"

	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

func TestCaptureOptions(t *testing.T) {
	var got *captureOptions
	reached := false
	cmd := newCmdCapture(testIO(), func(o *captureOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "-i", "lo", "-i", "any", "--no-ui", "-w", "out.pcapng", "--record", "calls",
		"-C", "100MB", "-G", "1h", "-W", "10", "--max-total", "1GiB", "--gzip", "--status-interval", "5s",
		"--report", "calls,rtp", "--format", "json", "--duration", "2m", "-c", "1000", "--metrics", "127.0.0.1:9466",
		"--max-memory", "256MiB", "-B", "32", "-s", "1500", "-p", "udp", "port", "5060", "or", "portrange", "10000-20000")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.live.ifaces, ",") != "lo,any" || got.live.expr != "udp port 5060 or portrange 10000-20000" ||
		got.write != "out.pcapng" || got.record != "calls" || got.fileMax != "100MB" || got.every != time.Hour || got.files != 10 ||
		got.total != "1GiB" || !got.gzip || !got.noUI || got.status != 5*time.Second || strings.Join(got.reports, ",") != "calls,rtp" ||
		got.format != "json" || got.dur != 2*time.Minute || got.count != 1000 || got.metrics != "127.0.0.1:9466" || got.maxMem != "256MiB" ||
		got.live.bufferMB != 32 || got.live.snaplen != 1500 || !got.live.noPromisc {
		t.Errorf("options = %+v", got)
	}
	ro, err := got.recorderOptions(nil, nil)
	if err != nil || ro.MaxFileBytes != 100e6 || ro.MaxTotalBytes != 1<<30 || ro.Interval != time.Hour || ro.MaxFiles != 10 || !ro.Gzip {
		t.Errorf("recorder options %+v, %v", ro, err)
	}
	rejects(t, func(reached *bool) *cobra.Command {
		return newCmdCapture(testIO(), func(*captureOptions) error { *reached = true; return nil })
	}, [][]string{
		{},                                      // nothing to capture
		{"-i", "lo", "udp", "portrnge", "5060"}, // a typo in the filter
		{"-i", "lo", "--record", "everything"},
		{"-i", "lo", "-C", "10XB", "-w", "x.pcap"},
		{"-i", "lo", "-C", "100MB"}, // rotation without -w
		{"-i", "lo", "--report", "bogus"},
		{"-i", "lo", "--format", "xml"},
		{"-F", "filter.txt", "a.pcap"}, // -F without -i
	})
}

// TestCaptureLiveSipp: while sipp makes a call with RTP on loopback,
// `voiptool capture -i lo --no-ui -w` records exactly the SIP messages
// tcpdump records in parallel, and what voiptool makes of its own
// recording equals what it makes of tcpdump's (calls, states, messages,
// streams, packets, loss).
func TestCaptureLiveSipp(t *testing.T) {
	for _, b := range []string{"sipp", "tcpdump", "tshark"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (apt-get install sip-tester tcpdump tshark); .ci/run installs it", b)
		}
	}
	if testing.Short() {
		t.Skip("makes a real call of several seconds; skipped with -short")
	}
	const pcaps = "/usr/share/sip-tester"
	if _, err := os.Stat(filepath.Join(pcaps, "g711a.pcap")); err != nil {
		t.Skipf("sipp's RTP sample %s/g711a.pcap missing", pcaps)
	}
	if os.Geteuid() != 0 {
		t.Skip("live capture needs CAP_NET_RAW (CI runs as root)")
	}
	// uac_pcap always plays its RTP to ports 6000/6001: one such test at a time.
	defer testpeer.Lock(t, "sipp-rtp")()
	dir := t.TempDir()
	if err := os.Symlink(pcaps, filepath.Join(dir, "pcap")); err != nil {
		t.Fatal(err)
	}
	uas, uac, media := freePort(t), freePort(t), freePort(t)
	metricsAddr := "127.0.0.1:" + strconv.Itoa(freePort(t)) // a free UDP port number is almost surely free on TCP
	filter := []string{"udp", "and", "(port", strconv.Itoa(uas), "or", "port", strconv.Itoa(uac), "or", "portrange", "6000-6001", "or", "port", strconv.Itoa(media) + ")"}
	ours, theirs := filepath.Join(dir, "ours.pcap"), filepath.Join(dir, "tcpdump.pcap")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	td := exec.CommandContext(ctx, "tcpdump", append([]string{"-i", "lo", "-U", "-n", "-w", theirs}, filter...)...)
	tdErr := &syncBuffer{}
	td.Stderr = tdErr
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { td.Process.Kill(); td.Wait() }()
	for i := 0; i < 100 && !strings.Contains(tdErr.String(), "listening on"); i++ {
		time.Sleep(50 * time.Millisecond)
	}

	capCtx, stopCapture := context.WithCancel(ctx)
	var capOut, capErr bytes.Buffer
	capDone := make(chan error, 1)
	go func() {
		cmd := newCmdCapture(&ioStreams{Out: &capOut, ErrOut: &capErr}, nil)
		cmd.SetArgs(append([]string{"-i", "lo", "--no-ui", "-w", ours, "--status-interval", "1s", "--report", "calls", "--metrics", metricsAddr}, filter...))
		cmd.SetContext(capCtx)
		capDone <- cmd.Execute()
	}()
	// A second capture beside it reads lo with a two-socket fanout group:
	// what it records must be what the single socket records.
	fanned := filepath.Join(dir, "fanout.pcap")
	var fanErr bytes.Buffer
	fanDone := make(chan error, 1)
	go func() {
		cmd := newCmdCapture(&ioStreams{Out: io.Discard, ErrOut: &fanErr}, nil)
		cmd.SetArgs(append([]string{"-i", "lo", "--fanout", "2", "--no-ui", "-w", fanned, "--status-interval", "1s"}, filter...))
		cmd.SetContext(capCtx)
		fanDone <- cmd.Execute()
	}()
	time.Sleep(500 * time.Millisecond) // the rings are open well before the first INVITE

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
	time.Sleep(500 * time.Millisecond)
	// Scraped while the capture still runs: the figures are the call's.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`voiptool_sip_requests_total{method="INVITE"} 1`,
		`voiptool_sip_requests_total{method="BYE"} 1`,
		`voiptool_sip_responses_total{code="200"} 2`,
		`voiptool_calls{state="COMPLETED"} 1`,
		`voiptool_call_setup_seconds_count 1`,
		`voiptool_drops_total{stage="kernel"} 0`,
		`voiptool_drops_total{stage="queue"} 0`,
	} {
		if !strings.Contains(string(body), "\n"+want+"\n") {
			t.Errorf("metrics during the run lack %q", want)
		}
	}
	if !strings.Contains(string(body), `voiptool_recorder_packets_total`) || strings.Contains(string(body), "voiptool_recorder_packets_total 0\n") {
		t.Errorf("recorder figures missing or zero in the metrics")
	}
	stopCapture() // as Ctrl-C would
	if err := <-capDone; err != nil {
		t.Fatalf("capture: %v\n%s", err, capErr.String())
	}
	if err := <-fanDone; err != nil {
		t.Fatalf("capture --fanout 2: %v\n%s", err, fanErr.String())
	}
	td.Process.Signal(os.Interrupt)
	td.Wait()
	if !strings.Contains(fanErr.String(), "lo#1, lo#2") {
		t.Errorf("fanout capture's banner does not name its two sockets:\n%s", fanErr.String())
	}
	if got, want := countSIP(t, fanned), countSIP(t, theirs); got != want {
		t.Errorf("SIP frames: ours with --fanout 2 %d, tcpdump's %d", got, want)
	}
	// Every packet of every flow, counted per direction: the records of
	// the two sockets are merged by time within a window, so on a loaded
	// machine an RTP packet may be written just before the SIP that
	// announced it (counted as reordered), and an analysis of the file
	// would then not take it for RTP; the packets are all there.
	if a, b := udpFlows(t, fanned), udpFlows(t, theirs); a != b {
		t.Errorf("UDP packets per direction in the fanout recording:\n%s\nin tcpdump's:\n%s\nits summary:\n%s", a, b, fanErr.String())
	}

	if !strings.Contains(capErr.String(), "recorded ") || !strings.Contains(capErr.String(), "(interrupted)") {
		t.Errorf("capture summary:\n%s", capErr.String())
	}
	if got, want := countSIP(t, ours), countSIP(t, theirs); got != want || want < 6 { // INVITE 180 200 ACK BYE 200
		t.Errorf("SIP frames: ours %d, tcpdump's %d (tshark -Y sip)", got, want)
	}
	a, b := analyse(t, ours), analyse(t, theirs)
	if a != b {
		t.Errorf("analysis of our recording:\n%s\nof tcpdump's:\n%s", a, b)
	}
	if !strings.Contains(a, "COMPLETED") || !strings.Contains(a, "PCMA") {
		t.Errorf("expected a completed call with a PCMA stream:\n%s", a)
	}
}

// udpFlows counts the UDP packets of a capture per direction, by tshark.
func udpFlows(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-r", file, "-Y", "udp", "-T", "fields", "-e", "ip.src", "-e", "udp.srcport", "-e", "ip.dst", "-e", "udp.dstport").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	n := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n[l]++
	}
	var lines []string
	for k, v := range n {
		lines = append(lines, strings.ReplaceAll(k, "\t", " ")+" "+strconv.Itoa(v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func countSIP(t *testing.T, file string) int {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-r", file, "-Y", "sip", "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	return len(strings.Fields(string(out)))
}

// analyse describes a capture's calls and streams in a comparable text.
func analyse(t *testing.T, file string) string {
	t.Helper()
	r, err := pcap.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := engine.New(engine.Options{})
	if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	var lines []string
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		lines = append(lines, c.CallID+" "+c.State.String()+" msgs="+strconv.Itoa(c.Messages))
	}
	for _, s := range e.Streams("") {
		lines = append(lines, "stream "+strconv.FormatUint(uint64(s.SSRC), 16)+" "+s.Codec+" packets="+strconv.Itoa(s.Packets)+" lost="+strconv.Itoa(s.Lost))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// `dump same.pcap -w same.pcap` must not destroy its input, nor may -w
// follow a symbolic link; both exit 1 with the input untouched.
func TestWriteRefusesInputAndSymlink(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(in, src, 0o644); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	if code := run([]string{"dump", in, "-w", in, "-q"}, &ioStreams{Out: io.Discard, ErrOut: &errOut}); code != exitError {
		t.Errorf("dump x -w x: exit %d, want %d", code, exitError)
	}
	if !strings.Contains(errOut.String(), "also an input") {
		t.Errorf("message: %q", errOut.String())
	}
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("keep"), 0o644)
	link := filepath.Join(dir, "out.pcap")
	os.Symlink(victim, link)
	if code := run([]string{"dump", in, "-w", link, "-q"}, &ioStreams{Out: io.Discard, ErrOut: io.Discard}); code != exitError {
		t.Errorf("-w onto a symlink: exit %d", code)
	}
	if b, _ := os.ReadFile(in); !bytes.Equal(b, src) {
		t.Error("input changed")
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Error("symlink target changed")
	}
	// A plain new output is written whole, mode 0600.
	out := filepath.Join(dir, "new.pcap")
	if code := run([]string{"dump", in, "-w", out, "-q"}, &ioStreams{Out: io.Discard, ErrOut: io.Discard}); code != exitOK {
		t.Fatalf("dump -w new: exit %d", code)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new output: %v %v", fi, err)
	}
}

// A store limit that bites is said, with the option that raises it.
func TestStoreLimitReported(t *testing.T) {
	var out, errOut bytes.Buffer
	f := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	if code := run([]string{"calls", f, "--max-calls", "1"}, &ioStreams{Out: &out, ErrOut: &errOut}); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "dialogs evicted by the store's limits") || !strings.Contains(errOut.String(), "--max-calls") {
		t.Errorf("summary does not report the eviction:\n%s", errOut.String())
	}
	if code := run([]string{"calls", f, "--max-memory", "lots"}, &ioStreams{Out: &out, ErrOut: &errOut}); code != exitUsage {
		t.Errorf("--max-memory lots: exit %d", code)
	}
}

// capture --listen collects HEP from agents beside (or instead of)
// interfaces; the calls report at exit holds what the agent sent.
func TestCaptureListenHEP(t *testing.T) {
	port := freePort(t)
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		cmd := newCmdCapture(&ioStreams{Out: &out, ErrOut: &errOut}, nil)
		cmd.SetArgs([]string{"--listen", "udp:127.0.0.1:" + strconv.Itoa(port), "--no-ui", "--status-interval", "0", "--report", "calls", "--format", "json"})
		cmd.SetContext(ctx)
		if err := cmd.Execute(); err != nil {
			t.Errorf("capture: %v", err)
		}
		done <- 0
	}()
	f := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	// hep-forward the bundled call to the collector, three times: UDP,
	// and the listener may still be starting the first time.
	for range 3 {
		if code := run([]string{"hep-forward", f, "--to", "udp:127.0.0.1:" + strconv.Itoa(port), "-q"}, &ioStreams{Out: io.Discard, ErrOut: io.Discard}); code != exitOK {
			t.Fatalf("hep-forward exit %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
	if !strings.Contains(out.String(), "8d3f0b2a-1c4e-4f6a-9b7d-0e2c4a6b8d01") {
		t.Errorf("the forwarded call is not in the report:\n%s\n%s", out.String(), errOut.String())
	}
}
