package rtpstats

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	natSDP    = netip.MustParseAddrPort("192.168.1.10:40000") // what the phone behind NAT announces
	natPublic = netip.MustParseAddrPort("198.51.100.7:40000") // where its media really comes from
	natPeer   = netip.MustParseAddrPort("203.0.113.9:20000")  // the far end, whose own SDP is not captured
)

// sendStream feeds n packets of payload type pt from src to dst, 20 ms
// apart, starting at tBase+start.
func sendStream(t *testing.T, tr *Tracker, src, dst netip.AddrPort, start time.Duration, ssrc uint32, pt uint8, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		p := synth{seq: uint16(100 + i), ts: uint32(1000 + 960*i), pt: pt, ssrc: ssrc}
		at := tBase.Add(start + time.Duration(i)*20*time.Millisecond)
		if err := tr.AddRTP(rtpBytes(t, p), Meta{Time: at, Src: src, Dst: dst}); err != nil {
			t.Fatal(err)
		}
	}
}

func reportBySSRC(t *testing.T, tr *Tracker, ssrc uint32) StreamReport {
	t.Helper()
	for _, r := range tr.Streams() {
		if r.SSRC == ssrc {
			return r
		}
	}
	t.Fatalf("no stream with ssrc %#x", ssrc)
	return StreamReport{}
}

type wantLink struct {
	ssrc   uint32
	callID string
	link   string
	ep     netip.AddrPort
}

func TestNATLinking(t *testing.T) {
	other := netip.MustParseAddrPort("10.0.0.5:40000")
	public := netip.MustParseAddrPort("203.0.113.50:40000")
	for _, c := range []struct {
		name string
		run  func(t *testing.T, tr *Tracker)
		want []wantLink
		// ambiguous is the wanted Counters.NATAmbiguous.
		ambiguous int
	}{
		{
			name: "exact source match",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				sendStream(t, tr, natSDP, natPeer, time.Second, 1, 0, 5)
			},
			want: []wantLink{{1, "A", LinkSDP, natSDP}},
		},
		{
			name: "exact destination match, SDP after the first packet",
			run: func(t *testing.T, tr *Tracker) {
				sendStream(t, tr, natPeer, natSDP, 0, 1, 0, 5)
				tr.SetCallIDAt(natSDP, "A", tBase.Add(time.Second))
			},
			want: []wantLink{{1, "A", LinkSDP, natSDP}},
		},
		{
			name: "NAT: port preserved, both directions",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				sendStream(t, tr, natPublic, natPeer, 2*time.Second, 1, 0, 5) // port on the source side
				sendStream(t, tr, natPeer, natPublic, 2*time.Second, 2, 0, 5) // and on the destination side
			},
			want: []wantLink{{1, "A", LinkNATPort, natSDP}, {2, "A", LinkNATPort, natSDP}},
		},
		{
			name: "NAT: SDP re-sent by the same call is one announcement",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				tr.SetCallIDAt(natSDP, "A", tBase.Add(500*time.Millisecond)) // 200 OK retransmission
				sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)
			},
			want: []wantLink{{1, "A", LinkNATPort, natSDP}},
		},
		{
			name: "ambiguous port: two private endpoints announce 40000",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				tr.SetCallIDAt(other, "B", tBase.Add(time.Second))
				sendStream(t, tr, natPublic, natPeer, 2*time.Second, 1, 0, 5)
			},
			want:      []wantLink{{1, "", "", netip.AddrPort{}}},
			ambiguous: 1,
		},
		{
			name: "outside the window",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				sendStream(t, tr, natPublic, natPeer, 2*time.Minute+time.Millisecond, 1, 0, 5)
			},
			want: []wantLink{{1, "", "", netip.AddrPort{}}},
		},
		{
			name: "last moment of the window",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				sendStream(t, tr, natPublic, natPeer, 2*time.Minute, 1, 0, 5)
			},
			want: []wantLink{{1, "A", LinkNATPort, natSDP}},
		},
		{
			name: "stream started before the announcement",
			run: func(t *testing.T, tr *Tracker) {
				sendStream(t, tr, natPublic, natPeer, 0, 1, 0, 5)
				tr.SetCallIDAt(natSDP, "A", tBase.Add(time.Second))
			},
			want: []wantLink{{1, "", "", netip.AddrPort{}}},
		},
		{
			name: "announcement dated after the stream's first packet (merged captures)",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase.Add(5*time.Second))
				sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)
			},
			want: []wantLink{{1, "", "", netip.AddrPort{}}},
		},
		{
			name: "public SDP address that does not match",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(public, "A", tBase)
				sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)
			},
			want: []wantLink{{1, "", "", netip.AddrPort{}}},
		},
		{
			name: "private endpoint seen on the wire is not NATed",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				sendStream(t, tr, natSDP, natPeer, time.Second, 1, 0, 5)
				sendStream(t, tr, natPublic, natPeer, 2*time.Second, 2, 0, 5)
			},
			want: []wantLink{{1, "A", LinkSDP, natSDP}, {2, "", "", netip.AddrPort{}}},
		},
		{
			name: "stale announcement does not make a fresh one ambiguous",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(other, "old", tBase)
				tr.SetCallIDAt(natSDP, "A", tBase.Add(5*time.Minute))
				sendStream(t, tr, natPublic, natPeer, 5*time.Minute+time.Second, 1, 0, 5)
			},
			want: []wantLink{{1, "A", LinkNATPort, natSDP}},
		},
		{
			name: "exact announcement later wins over the guess",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallIDAt(natSDP, "A", tBase)
				sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)
				tr.SetCallIDAt(natPublic, "A2", tBase.Add(2*time.Second)) // e.g. an SBC re-INVITE with the public address
			},
			want: []wantLink{{1, "A2", LinkSDP, natPublic}},
		},
		{
			name: "SetCallID without a time: before any packet",
			run: func(t *testing.T, tr *Tracker) {
				tr.SetCallID(natSDP, "A")
				sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)
			},
			want: []wantLink{{1, "A", LinkNATPort, natSDP}},
		},
		{
			name: "SetCallID without a time: dated by the latest packet",
			run: func(t *testing.T, tr *Tracker) {
				sendStream(t, tr, natPeer, public, 0, 9, 0, 1) // clock = tBase
				tr.SetCallID(natSDP, "A")
				sendStream(t, tr, natPublic, natPeer, 3*time.Minute, 1, 0, 5)
			},
			want: []wantLink{{9, "", "", netip.AddrPort{}}, {1, "", "", netip.AddrPort{}}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := NewTracker(Options{})
			c.run(t, tr)
			if n := len(tr.Streams()); n != len(c.want) {
				t.Fatalf("%d streams, want %d", n, len(c.want))
			}
			for _, w := range c.want {
				r := reportBySSRC(t, tr, w.ssrc)
				if r.CallID != w.callID || r.Link != w.link || r.SDPEndpoint != w.ep {
					t.Errorf("ssrc %d: call %q link %q ep %v, want %q %q %v", w.ssrc, r.CallID, r.Link, r.SDPEndpoint, w.callID, w.link, w.ep)
				}
			}
			if got := tr.Counters().NATAmbiguous; got != c.ambiguous {
				t.Errorf("nat_ambiguous = %d, want %d", got, c.ambiguous)
			}
		})
	}
}

// TestNATLinkCodecHint: the rtpmap of the NATed SDP endpoint names the
// dynamic payload type of the guessed stream, so its jitter uses the
// right clock (unknown otherwise, see TestDynamicPTNeedsHint).
func TestNATLinkCodecHint(t *testing.T) {
	tr := NewTracker(Options{})
	tr.SetCallIDAt(natSDP, "A", tBase)
	tr.SetCodec(natSDP, 96, "opus", 48000)
	sendStream(t, tr, natPublic, natPeer, time.Second, 1, 96, 10)
	r := one(t, tr)
	if r.Codec != "opus" || r.ClockRate != 48000 || r.Link != LinkNATPort {
		t.Fatalf("codec %q clock %d link %q, want opus 48000 %s", r.Codec, r.ClockRate, r.Link, LinkNATPort)
	}
	// 960 timestamp units per 20 ms at 48 kHz: perfectly regular.
	near(t, "max jitter", r.MaxJitterMs, 0, 1e-9)
	near(t, "packet ms", r.PacketMs, 20, 1e-9)

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"link":"sdp-nat-port","sdp_endpoint":"192.168.1.10:40000"`) {
		t.Errorf("JSON does not carry the link evidence: %.200s", b)
	}
	var unlinked StreamReport
	// Every key is always present (an empty link, an empty endpoint).
	if b, _ := json.Marshal(unlinked); !strings.Contains(string(b), `"link":""`) || !strings.Contains(string(b), `"sdp_endpoint":""`) {
		t.Errorf("unlinked JSON: %.200s", b)
	}
}

func TestNATWindowOption(t *testing.T) {
	tr := NewTracker(Options{NATWindow: -1})
	tr.SetCallIDAt(natSDP, "A", tBase)
	sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)
	if r := one(t, tr); r.Link != "" || r.CallID != "" {
		t.Errorf("guess disabled, got link %q call %q", r.Link, r.CallID)
	}

	tr = NewTracker(Options{NATWindow: 10 * time.Second})
	tr.SetCallIDAt(natSDP, "A", tBase)
	sendStream(t, tr, natPublic, natPeer, 11*time.Second, 1, 0, 5)
	if r := one(t, tr); r.Link != "" {
		t.Errorf("10 s window, stream after 11 s: link %q", r.Link)
	}
}

func TestNATCandidate(t *testing.T) {
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", true},           // RFC 1918
		{"172.31.255.1", true},       // RFC 1918
		{"192.168.0.1", true},        // RFC 1918
		{"100.64.0.1", true},         // RFC 6598 CGNAT, lowest
		{"100.127.255.254", true},    // RFC 6598 CGNAT, highest
		{"100.128.0.1", false},       // just above the /10
		{"100.63.255.255", false},    // just below
		{"169.254.7.7", true},        // link-local
		{"127.0.0.1", true},          // loopback
		{"fd00::1", true},            // RFC 4193 unique local
		{"fe80::1", true},            // link-local
		{"::ffff:192.168.1.1", true}, // v4-mapped private
		{"203.0.113.5", false},       // public (documentation range, routable for our purpose)
		{"2001:db8::1", false},
		{"0.0.0.0", false}, // RFC 3264 8.4 hold, not an endpoint
	} {
		if got := natCandidate(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("natCandidate(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
}

// TestExpireForgetsAnnouncements: announcements no stream uses are
// forgotten with the streams, the port index with them; those a live
// stream uses are kept.
func TestExpireForgetsAnnouncements(t *testing.T) {
	tr := NewTracker(Options{})
	kept := netip.MustParseAddrPort("192.168.1.20:41000")
	tr.SetCallIDAt(natSDP, "A", tBase)
	tr.SetCallIDAt(kept, "B", tBase)
	sendStream(t, tr, natPublic, natPeer, time.Second, 1, 0, 5)    // guessed to natSDP, expires
	sendStream(t, tr, kept, natPeer, 10*time.Minute, 2, 0, 5)      // exact to kept, stays
	sendStream(t, tr, natPeer, natPublic, 10*time.Minute, 3, 0, 5) // too late for natSDP
	gone := tr.ExpireBefore(tBase.Add(5 * time.Minute))
	if len(gone) != 1 || gone[0].Link != LinkNATPort || gone[0].CallID != "A" {
		t.Fatalf("expired %+v", gone)
	}
	if tr.anns.lookup(natSDP) != nil {
		t.Error("announcement of an expired stream kept")
	}
	if tr.natPorts.get(natSDP.Port()) != nil {
		t.Error("port index keeps a forgotten endpoint")
	}
	if r := reportBySSRC(t, tr, 2); r.CallID != "B" || r.Link != LinkSDP {
		t.Errorf("live stream lost its link: %q %q", r.CallID, r.Link)
	}
}

// TestAddRTPAllocsNATLinked: the per-packet path of a guessed stream,
// with its extra hint lookup, stays allocation-free.
func TestAddRTPAllocsNATLinked(t *testing.T) {
	tr := NewTracker(Options{})
	tr.SetCallIDAt(natSDP, "A", tBase)
	tr.SetCodec(natSDP, 96, "opus", 48000)
	pkt := rtpBytes(t, synth{seq: 1, ts: 960, pt: 96})
	m := Meta{Time: tBase.Add(time.Second), Src: natPublic, Dst: natPeer}
	if err := tr.AddRTP(pkt, m); err != nil {
		t.Fatal(err)
	}
	if r := one(t, tr); r.Link != LinkNATPort {
		t.Fatalf("link %q", r.Link)
	}
	seq := uint16(1)
	n := testing.AllocsPerRun(200, func() {
		seq++
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		// Stay inside one series bucket: measure the per-packet path, not
		// the amortised per-second append.
		m.Time = m.Time.Add(200 * time.Microsecond)
		_ = tr.AddRTP(pkt, m)
	})
	if n != 0 {
		t.Fatalf("AddRTP allocs/packet = %v, want 0", n)
	}
}

// BenchmarkAddRTPNATLinked is BenchmarkAddRTP on a port-guessed stream
// with a dynamic payload type: the codec hint is found through the
// guessed SDP endpoint after missing on destination and source.
func BenchmarkAddRTPNATLinked(b *testing.B) {
	tr := NewTracker(Options{})
	tr.SetCallIDAt(natSDP, "A", tBase)
	tr.SetCodec(natSDP, 96, "opus", 48000)
	pkt := rtpBytes(b, synth{seq: 0, ts: 0, pt: 96})
	m := Meta{Time: tBase, Src: natPublic, Dst: natPeer}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := uint16(i)
		pkt[2], pkt[3] = byte(s>>8), byte(s)
		ts := uint32(i) * 960
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		m.Time = tBase.Add(time.Duration(i) * 20 * time.Millisecond)
		_ = tr.AddRTP(pkt, m)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	if r := tr.Streams(); len(r) != 1 || r[0].Link != LinkNATPort {
		b.Fatalf("stream not port-linked: %+v", r)
	}
}

// TestHintCacheFollowsSetCodec: a hint given after a stream started
// applies to its next packets (the per-stream cache is invalidated), and
// a payload type switch looks its own hint up.
func TestHintCacheFollowsSetCodec(t *testing.T) {
	tr := NewTracker(Options{})
	sendStream(t, tr, tSrc, tDst, 0, 1, 96, 3)
	if r := one(t, tr); r.Codec == "opus" || r.ClockRate != 0 {
		t.Fatalf("before the hint: codec %q clock %d", r.Codec, r.ClockRate)
	}
	tr.SetCodec(tDst, 96, "opus", 48000)
	tr.SetCodec(tDst, 97, "AMR-WB", 16000)
	p := synth{seq: 103, ts: 1000 + 960*3, pt: 96, ssrc: 1}
	if err := tr.AddRTP(rtpBytes(t, p), Meta{Time: tBase.Add(60 * time.Millisecond), Src: tSrc, Dst: tDst}); err != nil {
		t.Fatal(err)
	}
	if r := one(t, tr); r.Codec != "opus" || r.ClockRate != 48000 {
		t.Fatalf("after SetCodec: codec %q clock %d, want opus 48000", r.Codec, r.ClockRate)
	}
	p = synth{seq: 104, ts: 1000 + 960*4, pt: 97, ssrc: 1}
	if err := tr.AddRTP(rtpBytes(t, p), Meta{Time: tBase.Add(80 * time.Millisecond), Src: tSrc, Dst: tDst}); err != nil {
		t.Fatal(err)
	}
	if r := one(t, tr); r.Codec != "AMR-WB" || r.ClockRate != 16000 {
		t.Fatalf("after the PT switch: codec %q clock %d, want AMR-WB 16000", r.Codec, r.ClockRate)
	}
}

// TestResolveByBothEndsAndTime: which call a stream belongs to when
// several announced its endpoints.
func TestResolveByBothEndsAndTime(t *testing.T) {
	shared := netip.MustParseAddrPort("127.0.0.1:26000")
	callerA := netip.MustParseAddrPort("127.0.0.1:27000")
	callerB := netip.MustParseAddrPort("127.0.0.1:27004")
	other := netip.MustParseAddrPort("192.0.2.50:30000")
	tr := NewTracker(Options{NATWindow: -1})
	tr.SetCallIDAt(callerA, "A", tBase)
	tr.SetCallIDAt(shared, "A", tBase.Add(10*time.Millisecond))
	tr.SetCallIDAt(callerB, "B", tBase.Add(400*time.Millisecond))
	tr.SetCallIDAt(shared, "B", tBase.Add(410*time.Millisecond))
	sendStream(t, tr, callerA, shared, 20*time.Millisecond, 1, 0, 100) // A's, though B announced 26000 last
	sendStream(t, tr, shared, callerB, 420*time.Millisecond, 2, 0, 50)
	// Announced by A only before it began, by B while it flowed.
	late := netip.MustParseAddrPort("198.51.100.1:4000")
	tr.SetCallIDAt(late, "A", tBase)
	sendStream(t, tr, other, late, 100*time.Millisecond, 3, 0, 50)
	tr.SetCallIDAt(late, "B", tBase.Add(500*time.Millisecond))
	// Two calls announced one end each before it began: ambiguous.
	amb := netip.MustParseAddrPort("198.51.100.2:4000")
	tr.SetCallIDAt(amb, "A", tBase)
	tr.SetCallIDAt(amb, "B", tBase.Add(50*time.Millisecond))
	sendStream(t, tr, other, amb, 100*time.Millisecond, 4, 0, 50)
	for _, w := range []struct {
		ssrc     uint32
		call     string
		link     string
		callIDs  []string
		endpoint netip.AddrPort
	}{
		{1, "A", LinkSDP, nil, shared},
		{2, "B", LinkSDP, nil, callerB},
		{3, "A", LinkSDP, nil, late},
		{4, "B", LinkAmbiguous, []string{"B", "A"}, amb},
	} {
		r := reportBySSRC(t, tr, w.ssrc)
		if r.CallID != w.call || r.Link != w.link || strings.Join(r.CallIDs, ",") != strings.Join(w.callIDs, ",") || r.SDPEndpoint != w.endpoint {
			t.Errorf("ssrc %d: call %q link %q call_ids %v ep %v, want %q %q %v %v", w.ssrc, r.CallID, r.Link, r.CallIDs, r.SDPEndpoint, w.call, w.link, w.callIDs, w.endpoint)
		}
	}
}

// Many private endpoints announcing one port within the NAT window: the
// candidates of the port stay bounded (each SDP a bounded scan, not one
// growing with the capture), and the excess is counted.
func TestNATCandidatesBounded(t *testing.T) {
	tr := NewTracker(Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 5000
	for i := range n {
		ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, byte(i >> 8), byte(i)}), 20000)
		tr.SetCallIDAt(ep, fmt.Sprintf("call-%d", i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	if got := len(tr.natPorts.get(20000)); got > maxNATPerPort {
		t.Fatalf("%d candidates on one port, bound %d", got, maxNATPerPort)
	}
	// Every candidate is kept or counted as dropped.
	kept := len(tr.natPorts.get(20000))
	if c := tr.Counters(); c.NATCandidatesDropped != n-kept || kept < maxNATPerPort/2 {
		t.Errorf("dropped %d, kept %d, of %d", c.NATCandidatesDropped, kept, n)
	}
}
