package hepsource

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

const invite = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
	"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: hep-src-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"

// HEP from an agent and records of a capture file go through one engine
// run: the HEP-carried call is there with the agent's capture time and
// the inner addresses, next to the file's calls.
func TestHEPMergedWithFile(t *testing.T) {
	src, err := New([]string{"udp:127.0.0.1:0"}, heptransport.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(src.Addrs()[0], "udp:")
	file, err := pcap.Open("../../testdata/pcaps/basic-call.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	e := engine.New(engine.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, []capture.Source{file, src}, nil)
		done <- err
	}()
	agentTime := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p := heptransport.SIPPacket([]byte(invite), netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060"), agentTime, 17)
	p.CaptureID = 2001
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := e.Store().Summary("hep-src-1"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the HEP-carried INVITE never reached the engine")
		}
		conn.Write(b) // UDP: send again until it is in (the listener may still be starting)
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil && err != context.Canceled {
		t.Fatal(err)
	}
	c, _ := e.Store().Summary("hep-src-1")
	if !c.Start.Equal(agentTime) || c.Src != netip.MustParseAddrPort("10.0.0.1:5060") {
		t.Errorf("HEP call: start %v src %v, want the agent's time and the inner address", c.Start, c.Src)
	}
	if n := e.Store().Count(sipflow.Filter{}); n < 4 { // the file's three dialogs and the HEP one
		t.Errorf("%d dialogs, want the file's and the agent's", n)
	}
	if st := src.Stats(); st.Delivered == 0 || src.Dropped() != 0 {
		t.Errorf("listener %+v, dropped %d", st, src.Dropped())
	}
}
