//go:build linux

package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// netnsPeer is a veth pair whose far end lives in a network namespace
// of its own, with tcpdump recording what arrives there.
type netnsPeer struct {
	ns, near, far string
	farMAC        string
	out           string
	td            *exec.Cmd
	tdErr         bytes.Buffer
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newNetnsPeer creates the namespace and the pair (removed at cleanup),
// or skips when not root or a tool is missing.
func newNetnsPeer(t *testing.T) *netnsPeer {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("frame replay through a veth needs root (network namespaces, AF_PACKET)")
	}
	for _, tool := range []string{"ip", "tcpdump", "tshark"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	id := os.Getpid() % 1000000
	p := &netnsPeer{ns: fmt.Sprintf("vtreplay%d", id), near: fmt.Sprintf("vtr%da", id), far: fmt.Sprintf("vtr%db", id),
		farMAC: "02:76:74:00:00:02", out: filepath.Join(t.TempDir(), "recorded.pcap")}
	if out, err := exec.Command("ip", "netns", "add", p.ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	// deleting the namespace deletes the far end, and with it the pair
	t.Cleanup(func() { exec.Command("ip", "netns", "del", p.ns).Run() })
	ipCmd(t, "link", "add", p.near, "address", "02:76:74:00:00:01", "type", "veth", "peer", "name", p.far, "netns", p.ns)
	t.Cleanup(func() { exec.Command("ip", "link", "del", p.near).Run() })
	// no IPv6 on the near end: its router solicitations stay out of the recording
	os.WriteFile("/proc/sys/net/ipv6/conf/"+p.near+"/disable_ipv6", []byte("1"), 0o644)
	ipCmd(t, "-n", p.ns, "link", "set", p.far, "address", p.farMAC)
	ipCmd(t, "link", "set", p.near, "up")
	ipCmd(t, "-n", p.ns, "link", "set", p.far, "up")
	return p
}

// record starts tcpdump on the far end and waits until it captures.
func (p *netnsPeer) record(t *testing.T) {
	t.Helper()
	p.td = exec.Command("ip", "netns", "exec", p.ns, "tcpdump", "-i", p.far, "-n", "-U", "--immediate-mode", "-B", "16384", "-w", p.out, "udp")
	p.td.Stderr = &p.tdErr
	if err := p.td.Start(); err != nil {
		t.Skipf("tcpdump: %v", err)
	}
	pid := p.td.Process.Pid
	t.Cleanup(func() {
		if p.td.ProcessState == nil {
			syscall.Kill(pid, syscall.SIGKILL)
			p.td.Wait()
		}
	})
	for i := 0; i < 250; i++ {
		if strings.Contains(p.tdErr.String(), "listening on") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Skipf("tcpdump did not start: %s", p.tdErr.String())
}

// stop ends tcpdump (by its PID) once the last frames are written.
func (p *netnsPeer) stop(t *testing.T) {
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(p.td.Process.Pid, syscall.SIGINT)
	p.td.Wait()
	if m := kernelDrops.FindStringSubmatch(p.tdErr.String()); m != nil && m[1] != "0" {
		t.Fatalf("tcpdump dropped packets: %s", p.tdErr.String())
	}
}

// tsharkLines runs tshark on file with a display filter and fields.
func tsharkLines(t *testing.T, file, filter string, fields ...string) []string {
	t.Helper()
	args := []string{"-r", file, "-o", "rtp.heuristic_rtp:TRUE", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-Y", filter, "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func pcapTimes(t *testing.T, file string) []time.Time {
	t.Helper()
	r, err := pcap.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ts []time.Time
	for {
		_, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return ts
		}
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, p.Timestamp)
	}
}

// TestFramesThroughVeth replays basic-call.pcap's frames at its own
// speed through a veth into a namespace of its own, with a --map and the
// far end's MAC, while tcpdump records there; tshark must find the same
// SIP messages, as many RTP and RTCP packets, the mapped addresses and
// every IP and UDP checksum valid. The departure error the summary
// reports and the one the recording shows are logged.
func TestFramesThroughVeth(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a 6 s call in real time")
	}
	p := newNetnsPeer(t)
	p.record(t)
	in := pcapPath("basic-call.pcap")
	mac, _ := netParseMAC(p.farMAC)
	sum, err := Run(context.Background(), Options{Files: []string{in}, Iface: p.near, DstMAC: mac, Speed: 1, Loops: 1, Spin: DefaultSpin,
		Maps: []Map{{From: ap("10.0.0.1:0"), To: ap("10.9.0.1:0")}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t)
	var text bytes.Buffer
	WriteSummary(&text, sum, "text")
	t.Logf("summary:\n%s", text.String())
	f := sum.Frames
	if f == nil || f.Sent != 375 || f.Records != 375 || f.Dropped+f.TooBig+f.Errors != 0 || f.Rewritten != 375 {
		t.Fatalf("frames %+v", f)
	}
	if sum.Lateness.Count != 375 || !strings.Contains(text.String(), "timing error: p50") {
		t.Fatalf("departure error of %d frames measured, summary:\n%s", sum.Lateness.Count, text.String())
	}
	sipFields := []string{"sip.Request-Line", "sip.Status-Line", "sip.Call-ID", "sip.CSeq"}
	wantSIP, gotSIP := tsharkLines(t, in, "sip", sipFields...), tsharkLines(t, p.out, "sip", sipFields...)
	if len(wantSIP) != 13 || !slices.Equal(wantSIP, gotSIP) {
		t.Fatalf("SIP recorded:\n%s\nwant:\n%s", strings.Join(gotSIP, "\n"), strings.Join(wantSIP, "\n"))
	}
	for _, proto := range []string{"rtp", "rtcp"} {
		w, g := len(tsharkLines(t, in, proto, "frame.number")), len(tsharkLines(t, p.out, proto, "frame.number"))
		if w == 0 || w != g {
			t.Errorf("%s: %d packets recorded, %d in the capture", proto, g, w)
		}
	}
	sums := tsharkLines(t, p.out, "udp", "ip.checksum.status", "udp.checksum.status", "ip.src", "ip.dst")
	if len(sums) != 375 {
		t.Fatalf("%d UDP frames recorded, want 375", len(sums))
	}
	for i, l := range sums {
		f := strings.Split(l, "\t")
		if f[0] != "1" || f[1] != "1" { // 1: good
			t.Fatalf("frame %d: checksum status ip %s udp %s (1 is good)", i+1, f[0], f[1])
		}
		if f[2] == "10.0.0.1" || f[3] == "10.0.0.1" || (f[2] != "10.9.0.1" && f[3] != "10.9.0.1") {
			t.Fatalf("frame %d: %s -> %s, the map was not applied", i+1, f[2], f[3])
		}
	}
	// departure error on the wire: each frame's offset from the first,
	// recorded against captured
	wantT, gotT := pcapTimes(t, in), pcapTimes(t, p.out)
	errs := make([]time.Duration, len(gotT))
	for i := range gotT {
		d := gotT[i].Sub(gotT[0]) - wantT[i].Sub(wantT[0])
		errs[i] = max(d, -d)
	}
	slices.Sort(errs)
	l := sum.Lateness
	t.Logf("departure lateness (summary, %d frames): p50 %s p99 %s max %s; offset error on the wire (tcpdump): p50 %s p99 %s max %s",
		l.Count, l.P50, l.P99, l.Max, errs[len(errs)/2], errs[len(errs)*99/100], errs[len(errs)-1])
}

// TestFramesRefuseOwnInterface: the loopback interface owns 127.0.0.1,
// where a map puts the capture's PBX: refused before anything is sent.
func TestFramesRefuseOwnInterface(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("opening an AF_PACKET socket needs root")
	}
	_, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, Iface: "lo", Loops: 1,
		Maps: []Map{{From: ap("10.0.0.1:0"), To: ap("127.0.0.1:0")}}}, nil)
	if !errors.Is(err, ErrOwnAddress) {
		t.Fatalf("got %v, want ErrOwnAddress", err)
	}
	t.Log(err)
}

func netParseMAC(s string) ([]byte, error) { return net.ParseMAC(s) }
