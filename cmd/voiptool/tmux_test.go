package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// tmuxTerm drives the real binary in a real terminal: a tmux server of
// its own (-L), so the test never touches the user's sessions.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

func (m *tmuxTerm) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (m *tmuxTerm) screen() string { return m.run("capture-pane", "-p", "-t", "ui") }

func (m *tmuxTerm) keys(k ...string) { m.run(append([]string{"send-keys", "-t", "ui"}, k...)...) }

func (m *tmuxTerm) text(s string) { m.run("send-keys", "-t", "ui", "-l", s) }

// waitFor polls the screen (bounded: 10 s) until it shows want.
func (m *tmuxTerm) waitFor(want string) string {
	m.t.Helper()
	var s string
	for i := 0; i < 200; i++ {
		s = m.screen()
		if strings.Contains(s, want) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	return ""
}

// tmuxSetup skips without tmux or with -short, builds the binary and
// returns a temporary directory, the binary and the demo capture.
func tmuxSetup(t *testing.T) (dir, bin, capture string) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed (apt-get install tmux); .ci/run installs it")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs it for seconds; skipped with -short")
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "voiptool")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	capture, err := filepath.Abs(filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, bin, capture
}

// TestTmuxEndToEnd opens the demo capture in the built binary inside
// tmux, filters the list, opens the call's ladder, scrolls it, opens the
// stream view, saves the call with its media to pcap through the save
// dialog, and checks both the screens and the saved file (with our
// reader, and with tshark when installed).
func TestTmuxEndToEnd(t *testing.T) {
	dir, bin, capture := tmuxSetup(t)
	m := &tmuxTerm{t: t, socket: fmt.Sprintf("voiptool-test-%d", os.Getpid())}
	m.run("new-session", "-d", "-s", "ui", "-x", "120", "-y", "30", "-e", "TERM=xterm-256color", "--", bin, capture)
	t.Cleanup(func() { exec.Command("tmux", "-L", m.socket, "kill-server").Run() })

	s := m.waitFor("3/3 dialogs")
	for _, want := range []string{"REGIST", "OPTIONS", "INVITE", "COMPLETED", "alice", "bob", "PCMU"} {
		if !strings.Contains(s, want) {
			t.Errorf("call list lacks %q:\n%s", want, s)
		}
	}

	// Filter as you type: only the INVITE dialog is left.
	m.keys("F7")
	m.text("type=CALL")
	m.keys("Enter")
	s = m.waitFor("1/3 dialogs")
	if strings.Contains(s, "REGIST") {
		t.Errorf("filter type=CALL still shows the REGISTER dialog:\n%s", s)
	}

	// The ladder of the call, with both RTP streams drawn, then scroll.
	m.keys("Enter")
	s = m.waitFor("180 Ringing")
	for _, want := range []string{"192.168.1.10:5060", "10.0.0.1:5060", "INVITE", "200 OK", "BYE", "RTP PCMU"} {
		if !strings.Contains(s, want) {
			t.Errorf("ladder lacks %q:\n%s", want, s)
		}
	}
	m.keys("j", "j", "j", "G", "g")
	m.waitFor("Call flow")

	// The stream view: both directions with their loss.
	m.keys("s")
	s = m.waitFor("RTP streams")
	for _, want := range []string{"0x1a2b3c4d", "0x5e6f7081", "192.168.1.10:40000", "10.0.0.1:20000", "MOS"} {
		if !strings.Contains(s, want) {
			t.Errorf("stream view lacks %q:\n%s", want, s)
		}
	}

	// Back to the list, then save the call with its media.
	// One Escape at a time: two in a row read as Alt+Escape.
	m.keys("Escape")
	m.waitFor("Call flow")
	m.keys("Escape")
	m.waitFor("1/3 dialogs")
	out := filepath.Join(dir, "saved.pcap")
	m.keys("F2")
	m.waitFor("Save / export")
	m.keys("Tab", "Right", "Tab", "C-u")
	m.text(out)
	m.keys("Enter")
	m.waitFor("saved 369 packets") // 7 SIP + 358 RTP + 4 RTCP

	m.keys("q")
	for i := 0; i < 100; i++ {
		if exec.Command("tmux", "-L", m.socket, "has-session", "-t", "ui").Run() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	checkSaved(t, out, 369, 7)
}

// checkSaved checks that the saved file out holds packets records, sip
// of them SIP messages for tshark (when installed), and returns its
// interfaces.
func checkSaved(t *testing.T, out string, packets, sip int) []pcap.Interface {
	t.Helper()
	r, err := pcap.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != packets {
		t.Errorf("saved file holds %d packets, want %d", n, packets)
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		b, err := exec.Command("tshark", "-n", "-r", out, "-Y", "sip", "-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		if k := len(strings.Fields(string(b))); k != sip {
			t.Errorf("tshark finds %d SIP messages in the saved file, want %d", k, sip)
		}
	}
	return r.Interfaces()
}

// TestTmuxListenSave runs the built binary as a HEP collector in a real
// terminal, forwards the demo capture to it over UDP loopback, and saves
// every call through the save dialog: the messages no file holds are
// framed from what the engine kept, so the saved file holds each of the
// 13 SIP messages (checked with our reader, and with tshark when
// installed).
func TestTmuxListenSave(t *testing.T) {
	dir, bin, capture := tmuxSetup(t)
	m := &tmuxTerm{t: t, socket: fmt.Sprintf("voiptool-ls-%d", os.Getpid())}
	addr := "udp:127.0.0.1:" + strconv.Itoa(freePort(t))
	m.run("new-session", "-d", "-s", "ui", "-x", "120", "-y", "30", "-e", "TERM=xterm-256color", "--", bin, "listen", addr)
	t.Cleanup(func() { exec.Command("tmux", "-L", m.socket, "kill-server").Run() })
	m.waitFor("0/0 dialogs")

	fwd := exec.Command(bin, "hep-forward", capture, "--to", addr)
	if out, err := fwd.CombinedOutput(); err != nil {
		t.Fatalf("hep-forward: %v\n%s", err, out)
	}
	m.waitFor("3/3 dialogs")

	out := filepath.Join(dir, "live.pcapng")
	m.keys("F2")
	m.waitFor("Save / export")
	m.keys("Right", "Right", "Tab", "Tab", "C-u") // every call, pcap (SIP)
	m.text(out)
	m.keys("Enter")
	m.waitFor("saved 13 packets of 3 call(s)")
	m.keys("q")

	if ifs := checkSaved(t, out, 13, 13); len(ifs) == 0 || !strings.Contains(ifs[0].Name, "framed from the store") {
		t.Errorf("interfaces %+v: want one named as framed from the store", ifs)
	}
}

// TestTmuxRealtime plays the demo capture at a tenth of its pace in a
// real terminal: the REGISTER comes first and the OPTIONS (0.5 s into the
// capture, 5 s of play) does not come while paused; N plays one SIP
// message at a time; } skips ahead past the end of the call.
func TestTmuxRealtime(t *testing.T) {
	_, bin, capture := tmuxSetup(t)
	m := &tmuxTerm{t: t, socket: fmt.Sprintf("voiptool-rt-%d", os.Getpid())}
	m.run("new-session", "-d", "-s", "ui", "-x", "120", "-y", "30", "-e", "TERM=xterm-256color", "--", bin, "--realtime", "--speed", "0.1", capture)
	t.Cleanup(func() { exec.Command("tmux", "-L", m.socket, "kill-server").Run() })

	s := m.waitFor("REGIST")
	if !strings.Contains(s, "▶ x0.1") || strings.Contains(s, "OPTIONS") {
		t.Fatalf("at the start of play: want the REGISTER alone, playing at x0.1:\n%s", s)
	}
	m.keys("P")
	m.waitFor("‖ x0.1")
	time.Sleep(6 * time.Second) // the OPTIONS is due 5 s into play
	if s := m.screen(); strings.Contains(s, "OPTIONS") {
		t.Fatalf("the OPTIONS came while paused:\n%s", s)
	}
	// N plays one SIP message at a time: what is left of the REGISTER
	// exchange (at most three messages), then the OPTIONS.
	presses := 0
	for ; presses < 6 && !strings.Contains(m.screen(), "OPTIONS"); presses++ {
		m.keys("N")
		time.Sleep(400 * time.Millisecond)
	}
	s = m.waitFor("OPTIONS")
	if presses == 0 || presses > 4 || strings.Contains(s, "INVITE") || !strings.Contains(s, "‖") {
		t.Errorf("N pressed %d times: it should play message by message to the OPTIONS and stay paused:\n%s", presses, s)
	}
	m.keys("}")
	s = m.waitFor("3/3 dialogs")
	if !strings.Contains(s, "INVITE") || strings.Count(s, "COMPLETED") != 3 {
		t.Errorf("after skipping a minute the call is complete:\n%s", s)
	}
	m.keys("q")
}

// --realtime plays files (an interface is real time already), and
// --speed only paces it, within 0.1 to 100.
func TestRealtimeUsage(t *testing.T) {
	pc := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	for _, args := range [][]string{
		{"open", "--speed", "2", pc},
		{"open", "--realtime", "-i", "lo"},
		{"open", "--realtime", "--speed", "1000", pc},
		{"open", "--realtime", "--speed", "max", pc},
		{"open", "--realtime", pc}, // stdout is not a terminal here
	} {
		if code, _, stderr := runCmd(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want usage (%d): %s", args, code, exitUsage, stderr)
		}
	}
}
