package engine

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// TestRTPExpiryOnTick: the engine's packet-time tick finishes idle RTP
// streams (the tracker frees them), and a finished stream is not
// forgotten: it stays in the streams report and in its call's
// summary, and the summary line counts it.
func TestRTPExpiryOnTick(t *testing.T) {
	e := New(Options{RTPIdleTimeout: time.Minute})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	alice := netip.MustParseAddrPort("10.0.0.1:5060")
	bob := netip.MustParseAddrPort("10.0.0.2:5060")
	media := netip.MustParseAddrPort("10.0.0.1:4000")
	peer := netip.MustParseAddrPort("10.0.0.2:5000")
	sdp := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	invite := fmt.Sprintf("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"+
		"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: expiry-1@test\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:alice@10.0.0.1>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
	handle := func(ev *capture.Event) {
		t.Helper()
		if err := e.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	handle(&capture.Event{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: t0, Src: alice, Dst: bob, Payload: []byte(invite)})
	rtp := func(src, dst netip.AddrPort, ssrc uint32, seq uint16, at time.Time) {
		pkt := make([]byte, 12+160)
		pkt[0], pkt[1] = 0x80, 0
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		ts := uint32(seq) * 160
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
		ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: at, Src: src, Dst: dst, Payload: pkt}
		if !ev.RTP.Parse(pkt) {
			t.Fatal("not RTP")
		}
		handle(ev)
	}
	for i := range 50 {
		rtp(media, peer, 1, uint16(i), t0.Add(time.Second+time.Duration(i)*20*time.Millisecond))
	}
	if n := e.StreamCount(); n != 1 {
		t.Fatalf("%d live streams, want 1", n)
	}
	// Ten minutes later another stream: the tick finishes the first.
	other := netip.MustParseAddrPort("192.0.2.9:7000")
	for i := range 3 {
		rtp(other, peer, 2, uint16(i), t0.Add(10*time.Minute+time.Duration(i)*20*time.Millisecond))
	}
	if n := e.StreamCount(); n != 1 {
		t.Fatalf("%d live streams after the idle time, want 1 (the new one)", n)
	}
	e.Flush()
	st := e.Status()
	if st.RTP.Expired != 1 {
		t.Errorf("expired %d, want 1", st.RTP.Expired)
	}
	if !strings.Contains(st.String(), "1 RTP streams finished idle") {
		t.Errorf("summary does not say it: %s", st)
	}
	// The end of the run kept the live stream's report, not a second
	// copy of the finished one (the tracker's finished list has it).
	if len(e.final) != 1 || e.final[0].SSRC != 2 {
		t.Errorf("the end of the run kept %d reports, want the live stream's only", len(e.final))
	}
	all := e.Streams("")
	if len(all) != 2 || all[0].SSRC != 1 || all[0].Packets != 50 || all[0].CallID != "expiry-1@test" {
		t.Fatalf("streams after expiry: %+v", all)
	}
	if cs := e.Streams("expiry-1@test"); len(cs) != 1 || cs[0].Packets != 50 {
		t.Fatalf("the call's streams after expiry: %+v", cs)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) != 1 || len(calls[0].Streams) != 1 || calls[0].Streams[0].Packets != 50 {
		t.Fatalf("call summary after expiry: %+v", calls)
	}
}

// TestPendingCallsDrained: without any reader asking for stream
// summaries, the tracker's set of changed calls is drained by the tick
// once it passes maxPendingCalls, so a headless run stays bounded. Each
// call's media starts before its SDP (the SDP then links the stream, a
// change that is not a packet).
func TestPendingCallsDrained(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds 10 000 calls")
	}
	e := New(Options{})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	bob := netip.MustParseAddrPort("10.0.0.2:5060")
	n := maxPendingCalls + 10
	invite := func(i int, at time.Time) {
		a := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		pkt := make([]byte, 12+160)
		pkt[0], pkt[8], pkt[9], pkt[10], pkt[11] = 0x80, byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		rtp := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: at,
			Src: netip.AddrPortFrom(a, 4000), Dst: netip.AddrPortFrom(bob.Addr(), 6000), Payload: pkt}
		if !rtp.RTP.Parse(pkt) {
			t.Fatal("not RTP")
		}
		if err := e.Handle(rtp); err != nil {
			t.Fatal(err)
		}
		sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 %v\r\ns=-\r\nc=IN IP4 %v\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n", a, a)
		msg := fmt.Sprintf("INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP %v:5060;branch=z9hG4bK%d\r\n"+
			"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: pending-%d@test\r\nCSeq: 1 INVITE\r\n"+
			"Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", a, i, i, len(sdp), sdp)
		ev := &capture.Event{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: at,
			Src: netip.AddrPortFrom(a, 5060), Dst: bob, Payload: []byte(msg)}
		if err := e.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		invite(i, t0.Add(time.Duration(i)*50*time.Microsecond))
	}
	if p := e.rtp.PendingCalls(); p != n {
		t.Fatalf("%d calls pending before the tick, want %d", p, n)
	}
	// The next second's tick drains them before this call's SDP adds one.
	invite(n, t0.Add(2*time.Second))
	if p := e.rtp.PendingCalls(); p != 1 {
		t.Fatalf("%d calls pending after the tick, want 1 (the last call's)", p)
	}
}

// TestFinalReportsBuiltOnce: the end of a run builds every stream's
// report once; Streams("") answers with copies of it while the tracker
// is unchanged, and builds afresh once a packet changed it.
func TestFinalReportsBuiltOnce(t *testing.T) {
	e := New(Options{})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	src := netip.MustParseAddrPort("10.0.0.1:4000")
	dst := netip.MustParseAddrPort("10.0.0.2:5000")
	send := func(seq uint16) {
		pkt := make([]byte, 12+160)
		pkt[0], pkt[2], pkt[3], pkt[11] = 0x80, byte(seq>>8), byte(seq), 7
		ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(seq) * 20 * time.Millisecond), Src: src, Dst: dst, Payload: pkt}
		if !ev.RTP.Parse(pkt) {
			t.Fatal("not RTP")
		}
		if err := e.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 100 {
		send(uint16(i))
	}
	e.Flush()
	if e.final == nil || e.finalGen != e.rtp.Gen() {
		t.Fatal("the end of the run kept no final reports")
	}
	a := e.Streams("")
	if len(a) != 1 || a[0].Packets != 100 || len(a[0].Series) == 0 {
		t.Fatalf("streams %+v", a)
	}
	a[0].Series[0].Packets = -1 // a reader's copy
	if b := e.Streams(""); b[0].Series[0].Packets == -1 {
		t.Fatal("Streams returned the kept reports, not copies")
	}
	send(100)
	if c := e.Streams(""); c[0].Packets != 101 {
		t.Fatalf("after another packet: %d packets, want 101", c[0].Packets)
	}
}

// TestLiveStreamBudgetSaid: streams finished early to keep live streams
// inside their byte budget are counted, keep their reports and are said
// in the summary with the option that raises the budget.
func TestLiveStreamBudgetSaid(t *testing.T) {
	e := New(Options{RTP: rtpstats.Options{MaxLiveBytes: 1 << 20}})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	dst := netip.MustParseAddrPort("10.0.0.2:5000")
	const n = 2000
	for i := range n {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 4000)
		pkt := make([]byte, 12+160)
		pkt[0], pkt[11] = 0x80, 1
		ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(i) * time.Millisecond), Src: src, Dst: dst, Payload: pkt}
		if !ev.RTP.Parse(pkt) {
			t.Fatal("not RTP")
		}
		if err := e.Handle(ev); err != nil {
			t.Fatal(err)
		}
	}
	e.Flush()
	st := e.Status()
	if st.RTP.EvictedBudget == 0 || st.RTP.Evicted != st.RTP.EvictedBudget {
		t.Fatalf("counters %+v: want evictions by the budget", st.RTP)
	}
	want := fmt.Sprintf("(%d of the evicted to keep live streams inside the memory budget) (raise --max-memory)", st.RTP.EvictedBudget)
	if !strings.Contains(st.String(), want) {
		t.Errorf("summary does not say it:\n%s", st)
	}
	if got := len(e.Streams("")); got != n {
		t.Errorf("%d stream reports, want all %d (live or finished)", got, n)
	}
}

// TestStoreShareLent: with LendStoreShare, what the store leaves unused
// of its share keeps the same streams live that TestLiveStreamBudgetSaid
// finishes early; without it they are evicted (the same input).
func TestStoreShareLent(t *testing.T) {
	for _, lend := range []bool{false, true} {
		e := New(Options{LendStoreShare: lend, Store: sipflow.StoreOptions{MaxBytes: 64 << 20}, RTP: rtpstats.Options{MaxLiveBytes: 1 << 20}})
		t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
		dst := netip.MustParseAddrPort("10.0.0.2:5000")
		const n = 2000
		for i := range n {
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 4000)
			pkt := make([]byte, 12+160)
			pkt[0], pkt[11] = 0x80, 1
			ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: t0.Add(time.Duration(i) * time.Millisecond), Src: src, Dst: dst, Payload: pkt}
			if !ev.RTP.Parse(pkt) {
				t.Fatal("not RTP")
			}
			if err := e.Handle(ev); err != nil {
				t.Fatal(err)
			}
		}
		e.Flush()
		st := e.Status()
		if evicted := st.RTP.Evicted != 0; evicted == lend {
			t.Errorf("LendStoreShare %v: %d streams evicted, %d live", lend, st.RTP.Evicted, e.StreamCount())
		}
	}
}

// TestStreamSeqEqualsStreams: the walk over the engine's own reports
// yields what Streams("") copies, in the same order, both for the
// reports of a finished run (live streams' final reports merged with the
// kept reports of streams finished early) and mid-run (a copy).
func TestStreamSeqEqualsStreams(t *testing.T) {
	collect := func(e *Engine) []rtpstats.StreamReport {
		var out []rtpstats.StreamReport
		for r := range e.StreamSeq() {
			out = append(out, r.Clone())
		}
		return out
	}
	both := false
	for _, name := range []string{"calls-shared-media.pcap", "rtp-impaired.pcap", "problems-media-a.pcap", "problems-media-b.pcap", "rtp-loss-truth.pcap"} {
		e := New(Options{RTPIdleTimeout: time.Second})
		runFiles(t, e, filepath.Join("..", "..", "testdata", "pcaps", name))
		if len(e.final) > 0 && e.rtp.FinishedLen() > 0 {
			both = true
		}
		want, got := e.Streams(""), collect(e)
		if len(want) == 0 {
			t.Fatalf("%s: no streams", name)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: StreamSeq differs from Streams(\"\") (%d and %d reports)", name, len(got), len(want))
		}
		// Stop early: the read lock is released (a writer can go on).
		for range e.StreamSeq() {
			break
		}
		e.mu.Lock()
		e.mu.Unlock()
	}
	if !both {
		t.Fatal("no capture had both live streams' and finished streams' reports: the merge went untested")
	}
	// Mid-run (the tracker changed since the final reports): a copy.
	e := New(Options{})
	src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:5000")
	pkt := make([]byte, 12+160)
	pkt[0], pkt[11] = 0x80, 7
	ev := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: time.Unix(1e9, 0), Src: src, Dst: dst, Payload: pkt}
	if !ev.RTP.Parse(pkt) {
		t.Fatal("not RTP")
	}
	if err := e.Handle(ev); err != nil {
		t.Fatal(err)
	}
	if got, want := collect(e), e.Streams(""); len(got) != 1 || !reflect.DeepEqual(got, want) {
		t.Fatalf("mid-run: %d reports, differ from Streams", len(got))
	}
}
