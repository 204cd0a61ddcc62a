package engine

import (
	"context"
	"github.com/voiptool/voiptool/internal/testpeer"
	"net/netip"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/sipflow"
)

// corpus names a shared-corpus file (the test skips without it).
func corpus(t *testing.T, name string) string { return testpeer.CorpusFile(t, name) }

func runFiles(t *testing.T, e *Engine, files ...string) {
	t.Helper()
	if _, err := e.Run(context.Background(), testpeer.Sources(t, files...), func(err error) { t.Logf("warning: %v", err) }); err != nil {
		t.Fatal(err)
	}
}

// TestEarlyMediaCall checks the whole chain on a real call: one call,
// answered, both RTP directions linked to it through the SDP, and the
// stream summary copied into the call for the call list.
func TestEarlyMediaCall(t *testing.T) {
	f := corpus(t, "sip-udp-g711a-bidir-183-earlymedia.pcap")
	e := New(Options{})
	runFiles(t, e, f)
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) != 1 {
		t.Fatalf("calls = %d, want 1", len(calls))
	}
	c := calls[0]
	if c.Messages != 7 || c.FinalCode != 200 {
		t.Errorf("messages %d final %d, want 7 and 200 (MANIFEST: INVITE/100/183/200/ACK/BYE/200)", c.Messages, c.FinalCode)
	}
	st := e.Streams(c.CallID)
	if len(st) != 2 {
		t.Fatalf("streams linked to the call = %d, want 2 (both directions)", len(st))
	}
	for _, s := range st {
		if s.Codec != "PCMA" || s.Lost != 0 {
			t.Errorf("stream %08x codec %q lost %d, want PCMA with no loss", s.SSRC, s.Codec, s.Lost)
		}
	}
	if len(c.Streams) != 2 {
		t.Errorf("call summary carries %d streams, want 2", len(c.Streams))
	}
	s := e.Status()
	if s.Records != 527 || s.Decoder.Packets != 527 {
		t.Errorf("records %d decoder packets %d, want 527", s.Records, s.Decoder.Packets)
	}
}

// TestHEPInCapture checks that HEP found in a capture is unwrapped: the
// inner SIP becomes ordinary messages with the inner addresses, and a
// compressed payload (chunk 0x0010) is inflated.
func TestHEPInCapture(t *testing.T) {
	for _, tc := range []struct {
		file      string
		sip, logs int64
	}{
		// MANIFEST: 8 HEP packets, 6 of them SIP, plus one LOG and one RTCP-JSON.
		{"hep3-udp9060-sip-options-publish-rtcpjson-log.pcap", 6, 2},
		// MANIFEST: 21 HEP packets, all zlib-compressed SIP.
		{"hep3-udp9060-sll-compressed.pcapng", 21, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			e := New(Options{})
			runFiles(t, e, corpus(t, tc.file))
			s := e.Status()
			if s.Engine.HEPErrors != 0 {
				t.Errorf("HEP errors = %d", s.Engine.HEPErrors)
			}
			if got := s.Store.Messages; got != tc.sip {
				t.Errorf("SIP messages from HEP = %d, want %d", got, tc.sip)
			}
			if s.Engine.HEPOther != tc.logs {
				t.Errorf("non-SIP HEP = %d, want %d", s.Engine.HEPOther, tc.logs)
			}
			for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
				if c.Src.Port() == 9060 || c.Dst.Port() == 9060 {
					t.Errorf("call %s has the collector address %v -> %v, not the inner one", c.CallID, c.Src, c.Dst)
				}
			}
		})
	}
}

// TestStreamsStayWithTheirCall: eight sequential calls reuse the same
// media ports; each call keeps its own stream, and a later call does not
// take the earlier streams over.
func TestStreamsStayWithTheirCall(t *testing.T) {
	e := New(Options{})
	runFiles(t, e, corpus(t, "sip-udp-g726-8-sequential-calls-dynamic-pt.pcap"))
	codecs := map[string]bool{}
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		if len(c.Streams) != 1 {
			t.Errorf("call %s has %d streams, want its own 1", c.CallID, len(c.Streams))
			continue
		}
		codecs[c.Streams[0].Codec] = true
	}
	if len(codecs) != 8 {
		t.Errorf("distinct codecs over the calls = %d, want 8 (one G.726 variant per call)", len(codecs))
	}
}

// TestHandleRTPAllocs: the per-packet path through the engine (counters,
// clock, tracker) allocates nothing for RTP of a known stream.
func TestHandleRTPAllocs(t *testing.T) {
	e := New(Options{})
	src := netip.MustParseAddrPort("10.0.0.1:4000")
	dst := netip.MustParseAddrPort("10.0.0.2:5000")
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, 0 // v2, PCMU
	pkt[8], pkt[9], pkt[10], pkt[11] = 0x12, 0x34, 0x56, 0x78
	ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Src: src, Dst: dst, Payload: pkt}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	seq := uint16(0)
	step := func() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		ts := uint32(seq) * 160
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		ev.Time = t0.Add(time.Duration(seq) * 20 * time.Millisecond)
		if !ev.RTP.Parse(pkt) { // as capture's classifier does
			t.Fatal("not RTP")
		}
		if err := e.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ {
		step() // the stream exists and its series has grown
	}
	if n := testing.AllocsPerRun(1000, step); n > 0.01 {
		t.Errorf("Handle(RTP) allocates %v per packet", n)
	}
}

// TestHEPAgentClockSkew: HEP found in a capture carries the agent's
// clock, minutes away from the capture's; calls must not expire because
// of the difference (one clock per call).
func TestHEPAgentClockSkew(t *testing.T) {
	capT := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	agentT := capT.Add(-2 * time.Minute)
	e := New(Options{})
	msgs := []string{
		"INVITE sip:bob@h SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKskew\r\nFrom: <sip:alice@h>;tag=1\r\nTo: <sip:bob@h>\r\nCall-ID: skew\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKskew\r\nFrom: <sip:alice@h>;tag=1\r\nTo: <sip:bob@h>;tag=2\r\nCall-ID: skew\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	}
	for i, m := range msgs {
		p := hep.Packet{
			Version: 3, Family: 2, Protocol: 17, ProtoType: hep.ProtoSIP,
			Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
			Time: agentT.Add(time.Duration(i) * time.Second), Payload: []byte(m),
		}
		if i == 1 {
			p.Src, p.Dst = p.Dst, p.Src
		}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		ev := &capture.Event{Kind: capture.KindHEP, Transport: capture.TransportUDP, Time: capT.Add(time.Duration(i) * time.Second), Payload: b}
		if err := e.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	c, ok := e.Store().Summary("skew")
	if !ok || c.State != sipflow.StateRinging {
		t.Errorf("call state = %v (found %v), want RINGING: the agent's clock must not expire it", c.State, ok)
	}
	if !c.Start.Equal(agentT) {
		t.Errorf("call start = %v, want the agent's time %v", c.Start, agentT)
	}
}

// TestClear: Clear is a request; with no writer running (the load has
// finished) the caller carries it out at once.
func TestClear(t *testing.T) {
	f := corpus(t, "sip-udp-g711a-bidir-183-earlymedia.pcap")
	e := New(Options{})
	runFiles(t, e, f)
	v0 := e.Version()
	e.Clear()
	if e.ClearPending() {
		t.Error("Clear with no writer running is still pending")
	}
	if n := len(e.Calls(sipflow.Filter{}, 0, -1)); n != 0 {
		t.Errorf("calls after Clear = %d", n)
	}
	if n := len(e.Streams("")); n != 0 {
		t.Errorf("streams after Clear = %d", n)
	}
	if s := e.Status(); s.Store.Cleared != 1 || s.Records != 527 {
		t.Errorf("status after Clear: cleared %d records %d", s.Store.Cleared, s.Records)
	}
	if e.Version() == v0 {
		t.Error("Version did not move with Clear")
	}
}
