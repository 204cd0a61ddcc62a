package diagnose

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

var (
	t0     = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	caller = netip.MustParseAddrPort("10.0.0.1:40000")
	callee = netip.MustParseAddrPort("10.0.0.2:20000")
)

// answered is an answered, completed call of 10 s with sendrecv SDP.
func answered() sipflow.CallSummary {
	return sipflow.CallSummary{
		CallID: "c", Type: sipflow.TypeCall, State: sipflow.StateCompleted, FinalCode: 200,
		Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
		Start: t0, End: t0.Add(11 * time.Second), SetupMS: 1000, PDDMS: 300, DurationMS: 10000,
		Messages: 6, Methods: []string{"INVITE", "ACK", "BYE"},
		Offer:  []sipflow.MediaSummary{{Type: "audio", Addr: caller, Codecs: []string{"PCMU", "PCMA"}, Dir: "sendrecv"}},
		Answer: []sipflow.MediaSummary{{Type: "audio", Addr: callee, Codecs: []string{"PCMU"}, Dir: "sendrecv"}},
	}
}

func stream(src, dst netip.AddrPort, ssrc uint32) rtpstats.StreamReport {
	return rtpstats.StreamReport{SSRC: ssrc, Src: src, Dst: dst, Codec: "PCMU", Packets: 450, Expected: 450, PacketMs: 20,
		Start: t0.Add(1010 * time.Millisecond), End: t0.Add(10 * time.Second), MOS: 4.4, Link: rtpstats.LinkSDP}
}

func codes(ps []sipflow.Problem) string {
	var c []string
	for _, p := range ps {
		c = append(c, p.Code)
	}
	return strings.Join(c, ",")
}

func TestDetectorsOnSummaries(t *testing.T) {
	both := []rtpstats.StreamReport{stream(caller, callee, 1), stream(callee, caller, 2)}
	cases := []struct {
		name    string
		call    func(*sipflow.CallSummary)
		streams []rtpstats.StreamReport
		seen    bool
		now     time.Time
		o       Options
		want    string
	}{
		{name: "clean", streams: both, seen: true, want: ""},
		{name: "one way", streams: both[:1], seen: true, want: OneWayAudio},
		{name: "one way, answer recvonly", call: func(c *sipflow.CallSummary) { c.Answer[0].Dir = "recvonly" }, streams: both[:1], seen: true, want: ""},
		{name: "one way, on hold", call: func(c *sipflow.CallSummary) { c.OnHold = true }, streams: both[:1], seen: true, want: ""},
		{name: "one way, too few packets", streams: func() []rtpstats.StreamReport {
			s := stream(caller, callee, 1)
			s.Packets = 10
			return []rtpstats.StreamReport{s}
		}(), seen: true, want: ""},
		{name: "no media", seen: true, want: NoMedia},
		{name: "no media, signalling-only capture", seen: false, want: ""},
		{name: "no ACK yet, within Timer H", call: func(c *sipflow.CallSummary) {
			c.Methods = []string{"INVITE"}
			c.State, c.DurationMS = sipflow.StateInCall, -1
		}, streams: both, seen: true, now: t0.Add(10 * time.Second), want: ""},
		{name: "no ACK, overdue", call: func(c *sipflow.CallSummary) {
			c.Methods = []string{"INVITE"}
			c.State, c.DurationMS = sipflow.StateInCall, -1
		}, streams: both, seen: true, now: t0.Add(40 * time.Second), want: NoACK},
		{name: "registration refreshed with challenges", call: func(c *sipflow.CallSummary) {
			*c = sipflow.CallSummary{CallID: "r", Type: "REGISTER", State: sipflow.StateCompleted, FinalCode: 200, AuthChallenges: 5, SetupMS: -1, DurationMS: -1, PDDMS: -1}
		}, want: ""},
		{name: "auth loop", call: func(c *sipflow.CallSummary) {
			*c = sipflow.CallSummary{CallID: "r", Type: "REGISTER", State: sipflow.StateRejected, FinalCode: 401, AuthChallenges: 3, SetupMS: -1, DurationMS: -1, PDDMS: -1}
		}, want: AuthLoop},
		{name: "slow setup off", call: func(c *sipflow.CallSummary) { c.PDDMS = 9000 }, streams: both, seen: true, o: Options{SlowSetup: -1}, want: ""},
		{name: "slow setup", call: func(c *sipflow.CallSummary) { c.PDDMS = 9000 }, streams: both, seen: true, want: SlowSetup},
		{name: "loss under a lowered threshold", streams: func() []rtpstats.StreamReport {
			s := stream(caller, callee, 1)
			s.Lost, s.LostPct = 5, 1.1
			return []rtpstats.StreamReport{s, both[1]}
		}(), seen: true, o: Options{HighLossPct: 1}, want: HighLoss},
		{name: "loss under the default", streams: func() []rtpstats.StreamReport {
			s := stream(caller, callee, 1)
			s.Lost, s.LostPct = 5, 1.1
			return []rtpstats.StreamReport{s, both[1]}
		}(), seen: true, want: ""},
		{name: "codec from the answer", streams: func() []rtpstats.StreamReport {
			s := stream(caller, callee, 1)
			s.Codec = "PCMA"
			return []rtpstats.StreamReport{s, both[1]}
		}(), seen: true, want: CodecMismatch},
		{name: "short call", call: func(c *sipflow.CallSummary) { c.DurationMS = 800 }, want: ShortCall},
		{name: "timeout state", call: func(c *sipflow.CallSummary) {
			c.State, c.FinalCode, c.SetupMS, c.DurationMS, c.Methods = sipflow.StateTimeout, 0, -1, -1, []string{"INVITE"}
		}, want: Timeout},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sum := answered()
			if c.call != nil {
				c.call(&sum)
			}
			now := c.now
			if now.IsZero() {
				now = t0.Add(time.Minute)
			}
			got := Call(&Input{Call: sum, Streams: c.streams, Now: now, MediaSeen: c.seen}, c.o)
			if codes(got) != c.want {
				t.Errorf("problems %v, want %q", got, c.want)
			}
			if got == nil {
				t.Error("nil list: JSON must show []")
			}
		})
	}
}

// TestDetailIsPrintable: wire text in a detail cannot carry control
// bytes to a terminal.
func TestDetailIsPrintable(t *testing.T) {
	sum := answered()
	s := stream(caller, callee, 1)
	s.Codec = "evil\x1b[2Jcodec"
	got := Call(&Input{Call: sum, Streams: []rtpstats.StreamReport{s, stream(callee, caller, 2)}, Now: t0.Add(time.Minute), MediaSeen: true}, Options{})
	if len(got) != 1 || got[0].Code != CodecMismatch || strings.ContainsAny(got[0].Detail, "\x1b") {
		t.Fatalf("%+v", got)
	}
}

// The short-call detail, appended without fmt, reads as the format
// "answered call hung up%s after %s" with "%d ms" or "%.1f s" wrote it.
func TestShortCallDetail(t *testing.T) {
	for _, tc := range []struct {
		by  string
		ms  int64
		dur string
	}{{"caller", 30, "30 ms"}, {"", 0, "0 ms"}, {"callee", 999, "999 ms"}, {"callee", 1000, "1.0 s"}, {"caller", 1949, "1.9 s"}, {"x", 1950, "1.9 s"}} {
		c := answered()
		c.DurationMS, c.HangupBy = tc.ms, tc.by
		ps := Call(&Input{Call: c, Now: t0.Add(time.Hour)}, Options{})
		by := ""
		if tc.by != "" {
			by = " by the " + tc.by
		}
		want := fmt.Sprintf("answered call hung up%s after %s", by, tc.dur)
		if len(ps) != 1 || ps[0].Code != ShortCall || ps[0].Detail != want || ps[0].Severity != sipflow.SeverityInfo {
			t.Errorf("%+v: got %+v, want one %s %q", tc, ps, ShortCall, want)
		}
		if d := time.Duration(tc.ms) * time.Millisecond; fmtDur(d) != tc.dur {
			t.Errorf("fmtDur(%v) = %q, want %q", d, fmtDur(d), tc.dur)
		}
	}
}

// Diagnosing a short SIP-only call into a reused list and Input (the
// engine's end-of-run walk over every call) costs one allocation: the
// detail's text.
func TestAppendCallAllocs(t *testing.T) {
	in := Input{Call: answered(), Now: t0.Add(time.Hour)}
	in.Call.DurationMS, in.Call.HangupBy = 30, "caller"
	var ps []sipflow.Problem
	allocs := testing.AllocsPerRun(100, func() {
		ps = AppendCall(ps[:0], &in, Options{})
	})
	if len(ps) != 1 || ps[0].Code != ShortCall {
		t.Fatalf("got %+v, want one %s", ps, ShortCall)
	}
	if allocs > 1 {
		t.Errorf("%v allocations per call, want at most 1", allocs)
	}
}
