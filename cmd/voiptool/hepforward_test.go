package main

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"strings"
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
