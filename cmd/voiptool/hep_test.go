package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/sipflow"
)

// syncBuffer is a bytes.Buffer the collector's goroutine writes while
// the test polls it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// TestHEPForwardToListen forwards the demo capture with hep-forward to
// voiptool listen over UDP loopback, with -w, and checks that what the
// collector saved holds the same calls and messages as the capture.
func TestHEPForwardToListen(t *testing.T) {
	capture := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	addr := "udp:127.0.0.1:" + strconv.Itoa(freePort(t))
	saved := filepath.Join(t.TempDir(), "hep.pcap")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lctx, stopListen := context.WithCancel(ctx)
	var out, errOut syncBuffer
	var wg sync.WaitGroup
	var lerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		lerr = listenRun(lctx, &listenOptions{io: &ioStreams{Out: &out, ErrOut: &errOut}, addrs: []string{addr}, write: saved, noUI: true, dedup: 2 * time.Second})
	}()
	time.Sleep(200 * time.Millisecond) // bind before sending: UDP senders lose what nobody hears

	var fout, ferr bytes.Buffer
	err := hepForwardRun(ctx, &hepForwardOptions{
		io: &ioStreams{Out: &fout, ErrOut: &ferr}, in: loadOptions{files: []string{capture}},
		hep:   hepSendOptions{to: []string{addr}, version: 3, protos: []string{"sip"}, flushWait: 5 * time.Second, captureID: 2001, authKey: ""},
		speed: "max",
	})
	if err != nil {
		t.Fatalf("hep-forward: %v\n%s", err, ferr.String())
	}
	if !strings.Contains(ferr.String(), "sent 13 ") {
		t.Errorf("hep-forward summary: %s", ferr.String())
	}
	// Wait (bounded) for the 13 messages to be printed by the collector.
	for i := 0; i < 100 && strings.Count(out.String(), "\n") < 13; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	stopListen()
	wg.Wait()
	if lerr != nil {
		t.Fatal(lerr)
	}
	if n := strings.Count(out.String(), "\n"); n != 13 {
		t.Errorf("collector printed %d messages, want 13:\n%s", n, out.String())
	}

	// The collector's pcap, read back, is the same SIP as the capture.
	var got, want []sipflow.CallSummary
	for _, f := range []struct {
		file string
		dst  *[]sipflow.CallSummary
	}{{capture, &want}, {saved, &got}} {
		e, err := load(context.Background(), &ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, &loadOptions{files: []string{f.file}, quiet: true}, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		*f.dst = e.Calls(sipflow.Filter{}, 0, -1)
	}
	if len(got) != len(want) {
		t.Fatalf("collector saved %d dialogs, capture has %d", len(got), len(want))
	}
	for i := range want {
		if got[i].CallID != want[i].CallID || got[i].Messages != want[i].Messages || got[i].State != want[i].State || !got[i].Start.Equal(want[i].Start) {
			t.Errorf("dialog %d: saved %s %d msgs %s %v, capture %s %d msgs %s %v", i,
				got[i].CallID, got[i].Messages, got[i].State, got[i].Start, want[i].CallID, want[i].Messages, want[i].State, want[i].Start)
		}
	}
}

// TestHEPForwardOptions checks the packet the forwarder builds against
// an independent listener: capture id, auth key, node name and the
// original addresses and time.
func TestHEPForwardOptions(t *testing.T) {
	capture := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	l, err := heptransport.NewListener([]string{"udp:127.0.0.1:0"}, heptransport.ListenOptions{AuthKey: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type got struct {
		capID     uint32
		node, src string
		t         time.Time
	}
	var mu sync.Mutex
	var pkts []got
	var wg sync.WaitGroup
	wg.Add(1)
	lctx, stop := context.WithCancel(ctx)
	go func() {
		defer wg.Done()
		l.Run(lctx, func(p *hep.Packet, _ netip.AddrPort) {
			mu.Lock()
			pkts = append(pkts, got{p.CaptureID, string(p.GroupID), p.Src.String(), p.Time})
			mu.Unlock()
		})
	}()
	var ferr bytes.Buffer
	err = hepForwardRun(ctx, &hepForwardOptions{
		io: &ioStreams{Out: &bytes.Buffer{}, ErrOut: &ferr}, in: loadOptions{files: []string{capture}},
		hep: hepSendOptions{to: []string{l.Addrs()[0]}, version: 3, protos: []string{"sip"}, flushWait: 5 * time.Second,
			captureID: 2001, authKey: "secret", nodeName: "edge1"},
		speed: "max",
	})
	if err != nil {
		t.Fatalf("hep-forward: %v\n%s", err, ferr.String())
	}
	for i := 0; i < 100; i++ {
		mu.Lock()
		n := len(pkts)
		mu.Unlock()
		if n >= 13 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if len(pkts) != 13 {
		t.Fatalf("listener got %d packets with the right auth key, want 13 (stats %+v)", len(pkts), l.Stats())
	}
	p := pkts[0]
	// basic-call.pcap starts with alice's REGISTER at 10:00:00 UTC.
	if p.capID != 2001 || p.node != "edge1" || p.src != "192.168.1.10:5060" || !p.t.Equal(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("first packet = %+v", p)
	}
}

// TestOpenForwards: browsing a capture with --hep-to forwards its SIP and
// says what it sent (here without a terminal, so the call table prints).
func TestOpenForwards(t *testing.T) {
	l, err := heptransport.NewListener([]string{"udp:127.0.0.1:0"}, heptransport.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	n := 0
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Run(ctx, func(*hep.Packet, netip.AddrPort) { mu.Lock(); n++; mu.Unlock() })
	}()
	capture := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	code, out, stderr := runCmd(t, capture, "--hep-to", l.Addrs()[0])
	if code != 0 || !strings.Contains(out, "COMPLETED") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if !strings.Contains(stderr, "hep sent 13 queued 0 dropped 0") {
		t.Errorf("forwarder counters missing: %q", stderr)
	}
	for i := 0; i < 100; i++ {
		mu.Lock()
		got := n
		mu.Unlock()
		if got >= 13 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if n != 13 {
		t.Errorf("collector received %d, want 13", n)
	}
}

// With a live source beside the files (here a HEP listener), the files
// are still named for the engine and the saves: their messages are
// re-read from them, and only the live source's are kept and framed.
func TestFileNamesWithLive(t *testing.T) {
	capture := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	in, err := openInputs([]string{capture})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.addHEP([]string{"udp:127.0.0.1:" + strconv.Itoa(freePort(t))}); err != nil {
		t.Fatal(err)
	}
	if !in.isLive() {
		t.Fatal("a HEP listener is a live source")
	}
	if got := in.fileNames(); len(got) != 1 || got[0] != capture {
		t.Errorf("fileNames = %q, want the capture file", got)
	}
}
