//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/pcapgen"
)

// TestHEPForwardSavesAtExit runs hep-forward against a collector that
// stops reading after its first bytes (a small receive buffer, so the
// stall reaches our send queue): at the end of the input hep-forward waits
// --flush-timeout, then saves what the collector's TCP never acknowledged
// (and what never left the queue) to --spool and says so. The collector
// dies and comes back; the next hep-forward with the same --spool and
// --to and no input delivers exactly those, so that acknowledged in the
// first run + delivered by the second = every message.
func TestHEPForwardSavesAtExit(t *testing.T) {
	dir := t.TempDir()
	pcapFile := filepath.Join(dir, "calls.pcap")
	f, err := os.Create(pcapFile)
	if err != nil {
		t.Fatal(err)
	}
	const calls = 300 // 7 SIP messages each, no RTP
	if err := pcapgen.WriteLarge(f, calls, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()

	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 8192) }); err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stalled := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.ReadFull(c, make([]byte, 3000)) // then never again
			stalled <- c
		}
	}()
	to := []string{"tcp:" + ln.Addr().String()}
	spool := filepath.Join(dir, "spool")
	run := func(files []string) (string, error) {
		var errOut bytes.Buffer
		err := hepForwardRun(context.Background(), &hepForwardOptions{
			io: &ioStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, in: loadOptions{files: files},
			hep:   hepSendOptions{to: to, version: 3, protos: []string{"sip"}, spool: spool, flushWait: 500 * time.Millisecond},
			speed: "max",
		})
		return errOut.String(), err
	}
	num := func(out, re string) int {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %q in:\n%s", re, out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	out, err := run([]string{pcapFile})
	first := out
	if err == nil {
		t.Fatalf("a stalled collector, and hep-forward says all went:\n%s", out)
	}
	handed := num(out, `(\d+) packets handed to the sender`)
	sent := num(out, `: sent (\d+) \(`)
	saved := num(out, `saved to the spool at exit (\d+)`)
	if handed != 7*calls || saved == 0 || sent+saved > handed {
		t.Fatalf("handed %d, acknowledged %d, saved %d:\n%s", handed, sent, saved, out)
	}
	// Messages handed over before the connection was up went to the
	// spool at once; some may still wait there, behind the saved ones.
	left := handed - sent
	// The collector is killed with what it never read, and restarts.
	killStalled(stalled)
	ln.Close()
	c, err := heptransport.NewListener(to, heptransport.ListenOptions{DedupWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	got := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, func(*hep.Packet, netip.AddrPort) { mu.Lock(); got++; mu.Unlock() })
	}()
	defer func() { cancel(); <-done }()
	out, err = run(nil)
	if err != nil {
		t.Fatalf("the next run: %v\n%s", err, out)
	}
	t.Logf("first run:\n%s", first)
	if n := num(out, `: sent (\d+) \(`); n != left {
		t.Fatalf("the next run sent %d, %d were not acknowledged:\n%s", n, left, out)
	}
	for i := 0; ; i++ {
		mu.Lock()
		n := got
		mu.Unlock()
		if n == left {
			break
		}
		if n > left || i > 400 {
			t.Fatalf("the restarted collector got %d, %d were not acknowledged", n, left)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Logf("%d messages: %d acknowledged by the stalled collector, %d saved at exit, %d delivered by the next run", handed, sent, saved, left)
}

// killStalled resets every connection the stalled collector accepted
// (a kill: what it never read is lost, what it did not acknowledge was
// saved).
func killStalled(conns chan net.Conn) {
	for {
		select {
		case c := <-conns:
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			c.Close()
		default:
			return
		}
	}
}
