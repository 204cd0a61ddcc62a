package sipflow_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// stdJSON is what the reports write through encoding/json for c: an
// Encoder with HTML escaping off, compact and then json.Indent-ed under
// a two-space prefix, without the trailing newline.
func stdJSON(t testing.TB, c *sipflow.CallSummary) (compact, indented []byte, err error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(c); err != nil {
		return nil, nil, err
	}
	compact = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	var ind bytes.Buffer
	if err := json.Indent(&ind, compact, "  ", "  "); err != nil {
		t.Fatalf("json.Indent of encoding/json's own output: %v", err)
	}
	return compact, ind.Bytes(), nil
}

// checkSame compares both encodings of c with encoding/json's and
// reports whether the fast path took it.
func checkSame(t testing.TB, c *sipflow.CallSummary) bool {
	t.Helper()
	compact, indented, err := stdJSON(t, c)
	prefix := []byte("keep")
	got, ok := c.AppendJSON(append([]byte(nil), prefix...))
	gotInd, okInd := c.AppendJSONIndent(append([]byte(nil), prefix...), "  ", "  ")
	if ok != okInd {
		t.Fatalf("AppendJSON ok=%v but AppendJSONIndent ok=%v", ok, okInd)
	}
	if !ok {
		if !bytes.Equal(got, prefix) || !bytes.Equal(gotInd, prefix) {
			t.Fatalf("refused encoding changed the buffer: %q / %q", got, gotInd)
		}
		return false
	}
	if err != nil {
		t.Fatalf("fast path encoded a value encoding/json refuses (%v): %s", err, got)
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.HasPrefix(gotInd, prefix) {
		t.Fatal("buffer prefix lost")
	}
	if g := got[len(prefix):]; !bytes.Equal(g, compact) {
		t.Fatalf("compact differs:\n got %s\nwant %s", g, compact)
	}
	if g := gotInd[len(prefix):]; !bytes.Equal(g, indented) {
		t.Fatalf("indented differs:\n got %s\nwant %s", g, indented)
	}
	// An indent too long for the writer's run of line breaks, and none.
	for _, pi := range [][2]string{{"\t", "            "}, {"", ""}} {
		var want bytes.Buffer
		if err := json.Indent(&want, compact, pi[0], pi[1]); err != nil {
			t.Fatal(err)
		}
		if g, _ := c.AppendJSONIndent(nil, pi[0], pi[1]); !bytes.Equal(g, want.Bytes()) {
			t.Fatalf("indented with %q %q differs:\n got %s\nwant %s", pi[0], pi[1], g, want.Bytes())
		}
	}
	return true
}

// TestCallSummaryJSONCaptures: every call of every generated capture and
// of the shared corpus, as the engine summarises it (streams and
// problems included) and as the calls command lists it, encodes to
// encoding/json's bytes, and through the fast path.
func TestCallSummaryJSONCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*.pcap*"))
	corpus, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "*.pcap*"))
	if len(corpus) == 0 {
		t.Log("shared corpus absent: generated captures only")
	}
	files = append(files, corpus...)
	calls, captures := 0, 0
	var withStreams, withProblems, withHistory int
	for _, path := range files {
		r, err := pcap.Open(path)
		if err != nil {
			continue // not a capture (the damaged-file fixtures)
		}
		e := engine.New(engine.Options{})
		if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil && !errors.Is(err, io.EOF) {
			r.Close()
			t.Logf("%s: %v (checking what was read)", path, err)
		}
		r.Close()
		captures++
		for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
			if !checkSame(t, &c) {
				t.Errorf("%s: call %q left the fast path", path, c.CallID)
			}
			calls++
			if len(c.Streams) > 0 {
				withStreams++
			}
			if len(c.Problems) > 0 {
				withProblems++
			}
			if len(c.SDPHistory) > 0 {
				withHistory++
			}
		}
		for c := range e.Store().Summaries(sipflow.Filter{}) {
			if !checkSame(t, c) {
				t.Errorf("%s: summary %q left the fast path", path, c.CallID)
			}
		}
	}
	// The generated captures alone have calls with streams, problems
	// and SDP history: the nested encoders must have been exercised.
	if calls == 0 || withStreams == 0 || withProblems == 0 || withHistory == 0 {
		t.Fatalf("%d calls, %d with streams, %d with problems, %d with SDP history: the captures no longer cover the nested fields",
			calls, withStreams, withProblems, withHistory)
	}
	t.Logf("%d calls of %d captures byte-identical (%d with streams, %d with problems, %d with SDP history)",
		calls, captures, withStreams, withProblems, withHistory)
}

// TestCallSummaryJSONCases: the shapes the captures may not have: nil and
// empty slices, escapes, invalid UTF-8, extreme numbers, zero, far and
// zoned times, zoned IPv6 addresses.
func TestCallSummaryJSONCases(t *testing.T) {
	full := sipflow.CallSummary{
		CallID: "a<b>&c\"d\\e\x00\x1f\x7f\u2028\u2029\xff\xc3(é😀", Type: sipflow.TypeCall, State: sipflow.StateInCall,
		From: "\b\f\n\r\t", FromDisplay: "Zoë <sip:x@y>", Src: netip.MustParseAddrPort("[2001:db8::1]:5060"),
		Dst: netip.MustParseAddrPort("10.0.0.1:5061"), Start: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC),
		SetupMS: -1, PDDMS: math.MaxInt64, RingMS: math.MinInt64, FinalCode: -200,
		Sources: []string{"eth0", ""}, Methods: []string{}, IPs: []netip.Addr{netip.MustParseAddr("::ffff:1.2.3.4"), {}},
		Offer:      []sipflow.MediaSummary{{Type: "audio", Codecs: []string{"PCMU/8000"}, Ptime: 20, SRTP: true}},
		Answer:     []sipflow.MediaSummary{},
		SDPHistory: []sipflow.Negotiation{{Method: "INVITE", CSeq: math.MaxUint32, Offer: []sipflow.MediaSummary{{Codecs: []string{}}}}},
		Legs:       []sipflow.Leg{{CallID: "x", Rule: sipflow.LinkSDP}},
		Streams: []sipflow.Stream{
			{SSRC: math.MaxUint32, JitterMS: 1e-7, MOS: 4.4},
			{JitterMS: 1e21, MOS: math.Copysign(0, -1)},
			{JitterMS: 123456789.125, MOS: -1e-300},
		},
		Problems: []sipflow.Problem{{Code: "one-way-audio", Severity: sipflow.SeverityError, Detail: "<no RTP>", SSRC: 1}},
	}
	cases := map[string]sipflow.CallSummary{
		"zero":  {},
		"full":  full,
		"state": {State: 200},
	}
	far := full
	far.End = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	cases["year 10000"] = far
	zoned := full
	zoned.Start = zoned.Start.In(time.FixedZone("X", 3600))
	cases["time zone"] = zoned
	nan := full
	nan.Streams = []sipflow.Stream{{MOS: math.NaN()}}
	cases["NaN"] = nan
	z6 := full
	z6.IPs = []netip.Addr{netip.MustParseAddr("fe80::1%eth0")}
	cases["zone"] = z6
	z6q := full
	z6q.Src = netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone("a\"b"), 1)
	cases["zone to escape"] = z6q
	fast := map[string]bool{"zero": true, "full": true, "state": true, "zone": true}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := checkSame(t, &c); got != fast[name] {
				t.Errorf("fast path %v, want %v", got, fast[name])
			}
		})
	}
}

// fuzzSummary builds a summary from fuzz input: its strings go into every
// string field, its numbers into the numeric ones, and the bits of
// shape choose nil, empty or filled slices, zero or odd times and
// addresses.
func fuzzSummary(s1, s2 string, n int64, f float64, shape uint32, raw []byte) sipflow.CallSummary {
	bit := func(i uint) bool { return shape&(1<<i) != 0 }
	strs := func(i uint) []string {
		switch {
		case bit(i):
			return nil
		case bit(i + 1):
			return []string{}
		}
		return []string{s1, s2}
	}
	var a16 [16]byte
	copy(a16[:], raw)
	var ap netip.AddrPort
	switch shape >> 20 & 3 {
	case 1:
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a16[:4])), uint16(n))
	case 2:
		ap = netip.AddrPortFrom(netip.AddrFrom16(a16), uint16(n>>16))
	case 3:
		ap = netip.AddrPortFrom(netip.AddrFrom16(a16).WithZone(s2), uint16(n))
	}
	var tm time.Time
	switch shape >> 22 & 3 {
	case 1:
		tm = time.Unix(0, n).UTC()
	case 2:
		tm = time.Unix(n, int64(shape)).UTC()
	case 3:
		tm = time.Unix(n/1000, n%1000).In(time.FixedZone("", int(int16(shape))))
	}
	f2 := math.Float64frombits(binary.LittleEndian.Uint64(append(raw, make([]byte, 8)...)))
	media := func(i uint) []sipflow.MediaSummary {
		switch {
		case bit(i):
			return nil
		case bit(i + 1):
			return []sipflow.MediaSummary{}
		}
		return []sipflow.MediaSummary{{Type: s1, Addr: ap, RTCP: ap, Proto: s2, Codecs: strs(i + 2), Dir: s1, SRTP: bit(i), Ptime: int(n)}}
	}
	c := sipflow.CallSummary{
		CallID: s1, Type: s2, State: sipflow.State(shape >> 24), From: s1, To: s2, FromDisplay: s2, ToDisplay: s1, PAI: s1,
		Src: ap, Dst: ap, Start: tm, End: tm.Add(time.Duration(n)), SetupMS: n, PDDMS: -n, RingMS: n >> 7, DurationMS: int64(shape),
		TotalMS: math.MinInt64 + n, FinalCode: int(n), Reason: s2, HangupBy: s1, Messages: int(-n), Retransmissions: int(shape),
		Duplicates: int(n >> 32), Sources: strs(0), SourceSet: uint64(n), AuthChallenges: int(int8(n)), Forks: int(n >> 40),
		OnHold: bit(2), Expired: bit(3), SRTP: bit(4), Warnings: int(n), Methods: strs(5), UserAgents: strs(7),
		Offer: media(9), Answer: media(12), SDPHistoryDropped: int(n), Codec: s2,
	}
	if !bit(15) {
		c.IPs = []netip.Addr{ap.Addr(), {}}
	}
	if bit(16) {
		c.SDPHistory = []sipflow.Negotiation{{Method: s1, CSeq: uint32(n), OfferTime: tm, OfferFrom: ap, Offer: media(12), Answer: media(9)}}
	} else if bit(17) {
		c.SDPHistory = []sipflow.Negotiation{}
	}
	if !bit(18) {
		c.Legs = []sipflow.Leg{{CallID: s2, Rule: s1}}
		c.Streams = []sipflow.Stream{{Src: ap, SSRC: uint32(n), Codec: s1, Packets: int(n), Lost: -int(n), JitterMS: f, MOS: f2, Link: s2}}
		c.Problems = []sipflow.Problem{{Code: s1, Severity: s2, Detail: s1 + s2, SSRC: shape}}
	} else if bit(19) {
		c.Legs, c.Streams, c.Problems = []sipflow.Leg{}, []sipflow.Stream{}, []sipflow.Problem{}
	}
	return c
}

// FuzzCallSummaryJSON holds AppendJSON and AppendJSONIndent equal to
// encoding/json (+ json.Indent) for every summary they accept, and
// checks they accept the ordinary ones.
func FuzzCallSummaryJSON(f *testing.F) {
	f.Add("abc@host", "<sip:x@y>;tag=1&2", int64(1234), 4.41, uint32(0x00500000), []byte{10, 0, 0, 1})
	f.Add("\x00\x1f\"\\\u2028\u2029", "\xff\xfe\xc3", int64(math.MinInt64), 1e-7, uint32(0xffffffff), []byte{})
	f.Add("é😀", "", int64(math.MaxInt64), 1e21, uint32(0x03c4a5a5), []byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, s1, s2 string, n int64, fl float64, shape uint32, raw []byte) {
		c := fuzzSummary(s1, s2, n, fl, shape, raw)
		ok := checkSame(t, &c)
		ordinary := !math.IsNaN(fl) && !math.IsInf(fl, 0) && shape>>22&3 != 3 && shape>>20&3 != 3 && shape&(1<<18) != 0
		if t1 := c.Start; ordinary && (t1.Year() < 0 || t1.Year() > 9999 || c.End.Year() < 0 || c.End.Year() > 9999) {
			ordinary = false
		}
		if ordinary && !ok {
			t.Fatalf("an ordinary summary left the fast path: %+v", c)
		}
	})
}

// captureCalls is the engine's summaries of one generated capture.
func captureCalls(tb testing.TB, name string) []sipflow.CallSummary {
	tb.Helper()
	r, err := pcap.Open(filepath.Join("..", "testdata", "pcaps", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	e := engine.New(engine.Options{})
	if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil && !errors.Is(err, io.EOF) {
		tb.Fatal(err)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) == 0 {
		tb.Fatalf("%s: no calls", name)
	}
	return calls
}

// TestCallSummaryJSONAllocs: into a buffer with room, the encoder
// allocates nothing.
func TestCallSummaryJSONAllocs(t *testing.T) {
	calls := captureCalls(t, "calls-mixed.pcap")
	buf := make([]byte, 0, 1<<16)
	allocs := testing.AllocsPerRun(20, func() {
		for i := range calls {
			buf, _ = calls[i].AppendJSONIndent(buf[:0], "  ", "  ")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pass over %d calls, want 0", allocs, len(calls))
	}
}

// BenchmarkCallSummaryJSON compares the encoder with what the calls
// report did before it: encoding/json (HTML escaping off) and
// json.Indent, per call of calls-mixed.pcap.
func BenchmarkCallSummaryJSON(b *testing.B) {
	calls := captureCalls(b, "calls-mixed.pcap")
	b.Run("append-indent", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			for i := range calls {
				buf, _ = calls[i].AppendJSONIndent(buf[:0], "  ", "  ")
			}
		}
	})
	b.Run("encoding-json-indent", func(b *testing.B) {
		b.ReportAllocs()
		var raw, ind bytes.Buffer
		e := json.NewEncoder(&raw)
		e.SetEscapeHTML(false)
		for b.Loop() {
			for i := range calls {
				raw.Reset()
				ind.Reset()
				if err := e.Encode(&calls[i]); err != nil {
					b.Fatal(err)
				}
				if err := json.Indent(&ind, raw.Bytes(), "  ", "  "); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
