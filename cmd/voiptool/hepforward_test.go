package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
)

// TestHEPForwardPaced replays basic-call.pcap at 100x to a loopback
// collector: every message arrives, no faster than the schedule allows,
// and the summary reports how late the departures were.
func TestHEPForwardPaced(t *testing.T) {
	l, err := heptransport.NewListener([]string{"udp:127.0.0.1:0"}, heptransport.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	arrived := make(chan time.Time, 32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx, func(p *hep.Packet, _ netip.AddrPort) { arrived <- p.Time })
	}()
	var errOut bytes.Buffer
	start := time.Now()
	err = hepForwardRun(ctx, &hepForwardOptions{
		io: &ioStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, in: loadOptions{files: []string{filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")}},
		hep:   hepSendOptions{to: l.Addrs(), version: 3, protos: []string{"sip"}, flushWait: 5 * time.Second},
		speed: "100",
	})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var first, last time.Time
	for n := 0; n < 13; n++ {
		select {
		case pt := <-arrived:
			if n == 0 {
				first = pt
			}
			last = pt
		case <-ctx.Done():
			t.Fatalf("collector got %d of 13", n)
		}
	}
	cancel()
	<-done
	// The capture's span at 100x is a lower bound on the run (no gap in
	// it reaches the pacer's 10 s cap).
	span := last.Sub(first)
	if took < span/100 {
		t.Errorf("13 messages spanning %v sent in %v at speed 100", span, took)
	}
	if !strings.Contains(errOut.String(), "voiptool: 13 paced, late p50 ") {
		t.Errorf("no lateness line:\n%s", errOut.String())
	}
}

// TestHEPForwardSpoolNextRun: the collector is down for the whole first
// run. Without --spool the 13 messages are counted as never sent at exit
// and the run fails; with it they wait on disk, and a second run with
// the same --spool and --to and no input (the next start) delivers them,
// in order, once the collector is up.
func TestHEPForwardSpoolNextRun(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := l.Addr().String()
	l.Close() // down: connections are refused
	to := []string{"tcp:" + hostPort}
	dir := t.TempDir()
	pcapFile := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	run := func(files []string, spool string) (string, error) {
		var errOut bytes.Buffer
		err := hepForwardRun(context.Background(), &hepForwardOptions{
			io: &ioStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}, in: loadOptions{files: files},
			hep:   hepSendOptions{to: to, version: 3, protos: []string{"sip"}, spool: spool, flushWait: 300 * time.Millisecond},
			speed: "max",
		})
		return errOut.String(), err
	}
	out, err := run([]string{pcapFile}, "")
	if err == nil || !strings.Contains(out, "never sent at exit 13 (lost)") {
		t.Fatalf("no spool, collector down: %v\n%s", err, out)
	}
	out, err = run([]string{pcapFile}, dir)
	if err == nil || !strings.Contains(out, "spooled 13") || !strings.Contains(out, "bytes left in the spool") {
		t.Fatalf("spool, collector down: %v\n%s", err, out)
	}

	c, err := heptransport.NewListener(to, heptransport.ListenOptions{DedupWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, func(p *hep.Packet, _ netip.AddrPort) {
			mu.Lock()
			got = append(got, string(p.Payload[:bytes.IndexByte(p.Payload, '\r')]))
			mu.Unlock()
		})
	}()
	defer func() { cancel(); <-done }()
	out, err = run(nil, dir)
	if err != nil || !strings.Contains(out, "sent 13 (") {
		t.Fatalf("next run, spool only: %v\n%s", err, out)
	}
	for i := 0; ; i++ {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 13 {
			break
		}
		if i > 400 {
			t.Fatalf("collector got %d of 13", n)
		}
		time.Sleep(25 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 13 || !strings.HasPrefix(got[0], "REGISTER ") || !strings.HasPrefix(got[6], "INVITE ") || !strings.HasPrefix(got[11], "BYE ") {
		t.Fatalf("collector got %d: %q", len(got), got)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("spool dir: %v %v", ents, err)
	}
	if fi, err := ents[0].Info(); err != nil || fi.Size() != 0 {
		t.Fatalf("spool left: %v %v", fi, err)
	}
}
