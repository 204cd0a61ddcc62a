package engine

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/voiptool/voiptool/internal/pcapgen"
	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// TestB2BUABypass: Asterisk re-INVITEs both legs so the phones send media
// to each other (10.0.2.5:7078 <-> 10.0.2.4:7078). Each leg's offer and
// answer follow the re-INVITEs, the negotiated codec is PCMA (not the
// caller's first offered, opus), and both streams belong to both legs.
func TestB2BUABypass(t *testing.T) {
	e := New(Options{})
	runFiles(t, e, corpus(t, "sip-udp-b2bua-reinvite-g711a-bidir.pcap"))
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	legs := 0
	for _, c := range calls {
		if c.Type != sipflow.TypeCall {
			continue
		}
		legs++
		if c.Codec != "PCMA" {
			t.Errorf("%s: codec %q, want PCMA", c.CallID, c.Codec)
		}
		if len(c.Streams) != 2 {
			t.Errorf("%s: %d streams, want both directions of the bypassed media", c.CallID, len(c.Streams))
		}
		if len(c.SDPHistory) != 3 {
			t.Errorf("%s: %d offer/answer exchanges, want 3", c.CallID, len(c.SDPHistory))
		}
		for _, p := range c.Problems {
			if p.Code == "no-media" || p.Code == "one-way-audio" {
				t.Errorf("%s: %s: %s", c.CallID, p.Code, p.Detail)
			}
		}
		if c.CallID == "153037964" {
			// The B2BUA's re-INVITE (CSeq 102) offers the callee's
			// media; the caller answers from 10.0.2.5:7078.
			n := c.SDPHistory[1]
			if n.CSeq != 102 || n.Offer[0].Addr.String() != "10.0.2.4:7078" || n.Answer[0].Addr.String() != "10.0.2.5:7078" {
				t.Errorf("re-INVITE exchange = %d %v / %v", n.CSeq, n.Offer[0].Addr, n.Answer[0].Addr)
			}
		}
		for _, s := range e.Streams(c.CallID) {
			if !slices.Contains(s.CallIDs, c.CallID) || len(s.CallIDs) != 2 {
				t.Errorf("%s: stream %v->%v call_ids %v", c.CallID, s.Src, s.Dst, s.CallIDs)
			}
		}
	}
	if legs != 2 {
		t.Fatalf("%d call legs, want 2", legs)
	}
}

// scenarioByName returns a generated scenario and the path of its
// committed capture.
func scenarioByName(t *testing.T, name string) (pcapgen.Scenario, string) {
	t.Helper()
	for _, s := range pcapgen.Scenarios() {
		if s.Name == name {
			return s, filepath.Join("..", "..", "testdata", "pcaps", s.File)
		}
	}
	t.Fatalf("no scenario %q", name)
	return pcapgen.Scenario{}, ""
}

// TestSharedMediaEndpoint: two overlapping calls whose answers announce
// the same 127.0.0.1:26000; every stream stays with the call whose offer
// and answer announced both of its ends, though the second call
// announced 26000 last.
func TestSharedMediaEndpoint(t *testing.T) {
	sc, f := scenarioByName(t, "calls-shared-media")
	e := New(Options{})
	runFiles(t, e, f)
	got := map[uint32]rtpstats.StreamReport{}
	for _, r := range e.Streams("") {
		got[r.SSRC] = r
	}
	for _, w := range sc.Want.Streams {
		r, ok := got[w.SSRC]
		if !ok {
			t.Errorf("%#x: not tracked", w.SSRC)
			continue
		}
		if r.CallID != w.CallID || r.Link != rtpstats.LinkSDP || len(r.CallIDs) != 0 {
			t.Errorf("%#x %v->%v: call %q link %q call_ids %v, want %q sdp (%s)", w.SSRC, r.Src, r.Dst, r.CallID, r.Link, r.CallIDs, w.CallID, w.Notes)
		}
	}
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		if len(c.Streams) != 2 {
			t.Errorf("%s: %d streams, want its own 2", c.CallID, len(c.Streams))
		}
		if len(c.Problems) != 0 {
			t.Errorf("%s: problems %v", c.CallID, c.Problems)
		}
	}
}
