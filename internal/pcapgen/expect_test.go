package pcapgen

import (
	"testing"
	"time"
)

func scenario(t *testing.T, name string) Scenario {
	t.Helper()
	for _, s := range Scenarios() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return Scenario{}
}

// TestImpairedStreamsByHand restates, from the definitions in
// scn_rtp.go worked out by hand, what rtpStats computes.
func TestImpairedStreamsByHand(t *testing.T) {
	s := scenario(t, "rtp-impaired")
	type row struct {
		ssrc                                     uint32
		packets, expected, lost, dups, ooo, wrap int
		first, highest                           uint16
		markers                                  int
	}
	want := []row{
		{0x11111111, 35, 40, 5, 0, 0, 0, 1000, 1039, 1},
		{0x22222222, 40, 40, 0, 0, 0, 0, 2000, 2039, 1},
		{0x33333333, 40, 40, 0, 0, 2, 0, 3000, 3039, 1},
		{0x44444444, 42, 40, 0, 2, 0, 0, 4000, 4039, 1},
		{0x55555555, 20, 20, 0, 0, 0, 0, 5000, 5019, 1},
		{0x55aa55aa, 20, 20, 0, 0, 0, 0, 100, 119, 1},
		{0x66666666, 39, 40, 1, 0, 0, 1, 65520, 23, 1},
		{0x77777777, 40, 40, 0, 0, 0, 0, 7000, 7039, 2},
		{0x88888888, 60, 60, 0, 0, 0, 0, 8000, 8059, 3},
	}
	if len(s.Want.Streams) != len(want) {
		t.Fatalf("%d streams, want %d", len(s.Want.Streams), len(want))
	}
	total := 0
	for i, w := range want {
		g := s.Want.Streams[i]
		got := row{g.SSRC, g.Packets, g.Expected, g.Lost, g.Duplicates, g.OutOfOrder, g.SeqWraps, g.FirstSeq, g.HighestSeq, g.Markers}
		if got != w {
			t.Errorf("stream %d:\n got %+v\nwant %+v", i, got, w)
		}
		total += w.packets
	}
	if s.Want.RTP != total {
		t.Errorf("RTP = %d, want %d", s.Want.RTP, total)
	}
	// Streams without arrival jitter or timestamp irregularity have
	// zero jitter; the jittered one must show some, below its bound.
	for _, i := range []int{0, 4, 5, 6} {
		if j := s.Want.Streams[i].JitterMs; j != 0 {
			t.Errorf("stream %d jitter %v, want 0", i, j)
		}
	}
	if j := s.Want.Streams[1].JitterMs; j <= 0 || j >= 15 {
		t.Errorf("jittered stream: %v ms, want in (0, 15)", j)
	}
}

// TestRTPStatsRules checks the statistics function on tiny sequences
// whose answers follow from RFC 3550 A.1/A.3 directly.
func TestRTPStatsRules(t *testing.T) {
	mk := func(seqs ...uint16) []rtpArrival {
		var a []rtpArrival
		for i, s := range seqs {
			a = append(a, rtpArrival{seq: s, ts: uint32(s) * 160, arrival: Epoch.Add(G711Interval * timeDur(i))})
		}
		return a
	}
	cases := []struct {
		name                   string
		seqs                   []uint16
		expected, lost, dup, o int
		wraps                  int
	}{
		{"in order", []uint16{1, 2, 3}, 3, 0, 0, 0, 0},
		{"gap", []uint16{1, 4}, 4, 2, 0, 0, 0},
		{"dup", []uint16{1, 2, 2, 3}, 3, 0, 1, 0, 0},
		{"swap", []uint16{1, 3, 2, 4}, 4, 0, 0, 1, 0},
		{"wrap", []uint16{65534, 65535, 0, 1}, 4, 0, 0, 0, 1},
		{"late across wrap", []uint16{65534, 0, 65535, 1}, 4, 0, 0, 1, 1},
	}
	for _, c := range cases {
		st := rtpStats(mk(c.seqs...))
		if st.Expected != c.expected || st.Lost != c.lost || st.Duplicates != c.dup || st.OutOfOrder != c.o || st.SeqWraps != c.wraps {
			t.Errorf("%s: got expected=%d lost=%d dup=%d ooo=%d wraps=%d", c.name, st.Expected, st.Lost, st.Duplicates, st.OutOfOrder, st.SeqWraps)
		}
	}
}

func TestCallsMixedDialogs(t *testing.T) {
	s := scenario(t, "calls-mixed")
	want := map[string]struct {
		code     int
		state    string
		messages int
	}{
		"mixed-01-caller-bye@192.168.1.10":  {200, StateCompleted, 7},
		"mixed-02-callee-bye@192.168.1.10":  {200, StateCompleted, 7},
		"mixed-03-busy@192.168.1.10":        {486, StateBusy, 5},
		"mixed-04-cancel@192.168.1.10":      {487, StateCancelled, 7},
		"mixed-05-decline@192.168.1.10":     {603, StateRejected, 5},
		"mixed-06-notfound@192.168.1.10":    {404, StateRejected, 4},
		"mixed-07-redirect@192.168.1.10":    {302, StateDiverted, 4},
		"mixed-08-auth@192.168.1.10":        {200, StateCompleted, 9},
		"mixed-09-timeout@192.168.1.10":     {408, StateRejected, 5},
		"mixed-10-noanswer@192.168.1.10":    {0, StateSetup, 4},
		"mixed-11-unavailable@192.168.1.10": {503, StateRejected, 4},
		"mixed-12-forked@192.168.1.10":      {200, StateCompleted, 8},
		"mixed-13-hold@192.168.1.10":        {200, StateCompleted, 12},
		"mixed-14-retrans@192.168.1.10":     {200, StateCompleted, 9},
		"mixed-15-b2bua-aleg@192.168.1.10":  {200, StateCompleted, 7},
		"mixed-16-b2bua-bleg@10.0.0.1":      {200, StateCompleted, 7},
	}
	if len(s.Want.Dialogs) != len(want) || s.Want.Calls != len(want) {
		t.Fatalf("%d dialogs, %d calls, want %d", len(s.Want.Dialogs), s.Want.Calls, len(want))
	}
	for _, d := range s.Want.Dialogs {
		w, ok := want[d.CallID]
		if !ok {
			t.Errorf("unexpected dialog %s", d.CallID)
			continue
		}
		if d.FinalCode != w.code || d.State != w.state || d.Messages != w.messages {
			t.Errorf("%s: %d %s %d msgs, want %d %s %d", d.CallID, d.FinalCode, d.State, d.Messages, w.code, w.state, w.messages)
		}
	}
	if got := s.Want.Dialogs[15].LinkedTo; got != "mixed-15-b2bua-aleg@192.168.1.10" {
		t.Errorf("B-leg LinkedTo = %q", got)
	}
}

func TestBasicCallShape(t *testing.T) {
	s := scenario(t, "basic-call")
	w := s.Want
	// 4 REGISTER, 2 OPTIONS, 7 INVITE dialog messages; 180+180-2 RTP; 2 SR each way.
	if w.SIP != 13 || w.RTP != 358 || w.RTCP != 4 || w.Calls != 1 || w.Packets != 375 {
		t.Errorf("basic-call: %+v", w)
	}
	if w.Streams[0].Lost != 2 || w.Streams[1].Lost != 0 {
		t.Errorf("lost = %d/%d, want 2/0", w.Streams[0].Lost, w.Streams[1].Lost)
	}
}

func timeDur(n int) time.Duration { return time.Duration(n) }

// TestLossTruthByHand: the ground truth of rtp-loss-truth, worked out by
// hand from its drop lists, equals both Missing (from the drop list) and
// Lost (from the captured sequence numbers).
func TestLossTruthByHand(t *testing.T) {
	s := scenario(t, "rtp-loss-truth")
	want := []struct {
		ssrc                   uint32
		missing, dropped, dups int
		packets, expected      int
	}{
		{0xa1a1a1a1, 17, 17, 4, 137, 150}, // 150 sent - 17 + 2×2 end copies
		{0xb2b2b2b2, 2, 2, 3, 61, 60},
		{0xc3c3c3c3, 3, 3, 0, 57, 60},
		{0xd4d4d4d4, 1, 7, 0, 53, 54},
		{0xe5e5e5e5, 3, 3, 1, 58, 60},
	}
	if len(s.Want.Streams) != len(want) {
		t.Fatalf("%d streams, want %d", len(s.Want.Streams), len(want))
	}
	for i, w := range want {
		g := s.Want.Streams[i]
		if g.SSRC != w.ssrc || g.Missing != w.missing || g.Lost != w.missing || g.Dropped != w.dropped || g.Duplicates != w.dups || g.Packets != w.packets || g.Expected != w.expected {
			t.Errorf("stream %d: ssrc %#x missing/lost/dropped/dups/packets/expected = %d/%d/%d/%d/%d/%d, want %#x %d/%d/%d/%d/%d/%d", i,
				g.SSRC, g.Missing, g.Lost, g.Dropped, g.Duplicates, g.Packets, g.Expected, w.ssrc, w.missing, w.missing, w.dropped, w.dups, w.packets, w.expected)
		}
	}
}
