package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

const basicCallID = "8d3f0b2a-1c4e-4f6a-9b7d-0e2c4a6b8d01"

func pcapPath(name string) string { return filepath.Join("..", "..", "testdata", "pcaps", name) }

// original decodes a capture with the project's decoder: the payloads a
// replay must send.
func original(t *testing.T, name string) []capture.Event {
	t.Helper()
	r, err := pcap.Open(pcapPath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var evs []capture.Event
	_, err = capture.Run(context.Background(), []capture.Source{r}, capture.Options{}, nil, func(ev *capture.Event) error {
		e := *ev
		e.Payload = append([]byte(nil), ev.Payload...)
		e.Record = nil
		evs = append(evs, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

type datagram struct {
	from netip.AddrPort
	b    []byte
}

// sinkUDP is a loopback UDP receiver that keeps what it gets.
type sinkUDP struct {
	c    *net.UDPConn
	mu   sync.Mutex
	got  []datagram
	done chan struct{}
}

func listenUDP(t *testing.T) *sinkUDP {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(8 << 20)
	s := &sinkUDP{c: c, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, datagram{from, append([]byte(nil), buf[:n]...)})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-s.done })
	return s
}

func (s *sinkUDP) addr() netip.AddrPort { return s.c.LocalAddr().(*net.UDPAddr).AddrPort() }

// wait returns what arrived once n datagrams did, or after a second.
func (s *sinkUDP) wait(n int) []datagram {
	deadline := time.Now().Add(time.Second)
	for {
		s.mu.Lock()
		k := len(s.got)
		s.mu.Unlock()
		if k >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]datagram(nil), s.got...)
}

func TestReplayEverythingToOneTarget(t *testing.T) {
	orig := original(t, "basic-call.pcap")
	dst := listenUDP(t)
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Loops: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Sent != int64(len(orig)) || sum.Counts.SendErrors != 0 || len(sum.Targets) != 1 || sum.Targets[0].Packets != int64(len(orig)) {
		t.Fatalf("sent %d of %d, errors %d, targets %+v", sum.Counts.Sent, len(orig), sum.Counts.SendErrors, sum.Targets)
	}
	got := dst.wait(len(orig))
	if len(got) != len(orig) {
		t.Fatalf("received %d of %d", len(got), len(orig))
	}
	// Unchanged payloads, in capture order, one local socket per
	// original source endpoint.
	socketOf := map[netip.AddrPort]netip.AddrPort{}
	for i, d := range got {
		if !bytes.Equal(d.b, orig[i].Payload) {
			t.Fatalf("datagram %d differs from the capture's payload", i)
		}
		if s, ok := socketOf[orig[i].Src]; ok && s != d.from {
			t.Fatalf("%s sent from %s and %s", orig[i].Src, s, d.from)
		}
		socketOf[orig[i].Src] = d.from
	}
	if sum.Counts.Sockets != len(socketOf) {
		t.Errorf("sockets %d, distinct sources %d", sum.Counts.Sockets, len(socketOf))
	}
	if sum.Runs != 1 || sum.Calls != -1 || sum.Lateness.Count != 0 {
		t.Errorf("runs %d calls %d paced departures %d", sum.Runs, sum.Calls, sum.Lateness.Count)
	}
}

func TestReplayRewriteCallerSide(t *testing.T) {
	dst := listenUDP(t)
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Loops: 1,
		CallIDs: []string{"8d3f0b"}, Side: SideCaller, Rewrite: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// caller: INVITE, ACK, BYE and its RTP/RTCP; callee: 100, 180, 200, 200
	orig := original(t, "basic-call.pcap")
	caller := netip.MustParseAddr("192.168.1.10")
	var wantSent, notSel int64
	for _, e := range orig {
		var m sipflow.Message
		if e.Kind == capture.KindSIP && (m.Unmarshal(e.Payload) != nil || string(m.CallID) != basicCallID) {
			notSel++
			continue
		}
		if e.Src.Addr() == caller {
			wantSent++
		}
	}
	if sum.Counts.Sent != wantSent || sum.Counts.Skipped != notSel || sum.Calls != 1 ||
		sum.Counts.OtherSide != int64(len(orig))-wantSent-notSel {
		t.Fatalf("counts %+v, want sent %d skipped %d", sum.Counts, wantSent, notSel)
	}
	got := dst.wait(int(wantSent))
	var invite sipflow.Message
	var mediaPort uint16
	sipFrom := netip.AddrPort{}
	rtpFrom := map[netip.AddrPort]int{}
	for _, d := range got {
		var m sipflow.Message
		if m.Unmarshal(d.b) != nil {
			rtpFrom[d.from]++
			continue
		}
		sipFrom = d.from
		if m.IsMethod("INVITE") {
			invite = m
			if !m.HasSDP || len(m.SDP.Media) == 0 {
				t.Fatal("INVITE lost its SDP")
			}
			mediaPort = m.SDP.Media[0].Port
			ep, _ := m.SDP.Endpoint(0)
			if ep.Addr() != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("SDP c= %s", ep.Addr())
			}
			if m.ContentLength != len(m.Body) {
				t.Errorf("Content-Length %d, body %d", m.ContentLength, len(m.Body))
			}
		}
		if m.Request {
			if string(m.RequestURI.Host) != "127.0.0.1" || m.RequestURI.Port != dst.addr().Port() {
				t.Errorf("%s Request-URI %s", m.Method, m.RequestURI.Raw)
			}
			if v := m.Via[0]; string(v.Host) != d.from.Addr().String() || v.Port != d.from.Port() {
				t.Errorf("%s Via %s, sent from %s", m.Method, v.Raw, d.from)
			}
		}
	}
	if invite.Raw == nil {
		t.Fatal("no INVITE received")
	}
	if c := invite.Contact[0].URI; string(c.Host) != sipFrom.Addr().String() || c.Port != sipFrom.Port() {
		t.Errorf("Contact %s, SIP socket %s", c.Raw, sipFrom)
	}
	// the caller's RTP leaves from the socket its SDP announced
	rtpSrc := netip.AddrPortFrom(sipFrom.Addr(), mediaPort)
	if rtpFrom[rtpSrc] == 0 {
		t.Errorf("no RTP from the SDP's port %d (sources %v)", mediaPort, rtpFrom)
	}
}

func TestReplayNewIDsAndRTPBases(t *testing.T) {
	dst := listenUDP(t)
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Loops: 2,
		CallIDs: []string{basicCallID}, Rewrite: true, NewIDs: true, NewRTP: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := dst.wait(int(sum.Counts.Sent))
	if sum.Runs != 2 || int64(len(got)) != sum.Counts.Sent {
		t.Fatalf("runs %d, got %d of %d", sum.Runs, len(got), sum.Counts.Sent)
	}
	// original per-SSRC sequence and timestamp steps
	type step struct{ seq, ts uint32 }
	steps := map[uint32][]step{}
	last := map[uint32][2]uint32{}
	for _, e := range original(t, "basic-call.pcap") {
		if e.Kind != capture.KindRTP {
			continue
		}
		s := e.RTP.SSRC
		if l, ok := last[s]; ok {
			steps[s] = append(steps[s], step{uint32(uint16(uint32(e.RTP.SequenceNumber) - l[0])), e.RTP.Timestamp - l[1]})
		}
		last[s] = [2]uint32{uint32(e.RTP.SequenceNumber), e.RTP.Timestamp}
	}
	callIDs := map[string]bool{}
	gotSteps := map[uint32][]step{}
	gotLast := map[uint32][2]uint32{}
	for _, d := range got {
		var m sipflow.Message
		if m.Unmarshal(d.b) == nil {
			callIDs[string(m.CallID)] = true
			continue
		}
		if len(d.b) < 12 || d.b[0]>>6 != 2 || d.b[1]&0x7f >= 72 && d.b[1]&0x7f <= 76 {
			continue // RTCP
		}
		ssrc := binary.BigEndian.Uint32(d.b[8:])
		seq, ts := uint32(binary.BigEndian.Uint16(d.b[2:])), binary.BigEndian.Uint32(d.b[4:])
		if _, ok := steps[ssrc]; ok {
			t.Fatalf("original SSRC %08x sent", ssrc)
		}
		if l, ok := gotLast[ssrc]; ok {
			gotSteps[ssrc] = append(gotSteps[ssrc], step{uint32(uint16(seq - l[0])), ts - l[1]})
		}
		gotLast[ssrc] = [2]uint32{seq, ts}
	}
	if len(callIDs) != 2 || callIDs[basicCallID] {
		t.Errorf("Call-IDs sent %v: want two new ones", callIDs)
	}
	if len(gotSteps) != 2*len(steps) {
		t.Fatalf("%d streams sent, want %d (new SSRCs per run)", len(gotSteps), 2*len(steps))
	}
	// every new stream repeats one original stream's steps exactly (loss
	// gaps and timestamp spacing kept)
	for ns, gs := range gotSteps {
		found := false
		for _, os := range steps {
			if len(os) == len(gs) && equalSteps(os, gs) {
				found = true
			}
		}
		if !found {
			t.Errorf("stream %08x: steps match no original stream", ns)
		}
	}
}

func equalSteps[T comparable](a, b []T) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReplayRefusesUnmappedDestinations(t *testing.T) {
	dst := listenUDP(t)
	m := Map{From: ap("10.0.0.1:0"), To: dst.addr()} // the PBX side only
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, Maps: []Map{m}, Loops: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var toPBX, other int64
	for _, e := range original(t, "basic-call.pcap") {
		if e.Dst.Addr() == m.From.Addr() {
			toPBX++
		} else {
			other++
		}
	}
	if sum.Counts.Sent != toPBX || sum.Counts.Refused != other || len(dst.wait(int(toPBX))) != int(toPBX) {
		t.Fatalf("sent %d refused %d, want %d and %d", sum.Counts.Sent, sum.Counts.Refused, toPBX, other)
	}
	_, err = Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: ap("255.255.255.255:5060")}, nil)
	if !errors.Is(err, ErrBroadcast) {
		t.Fatalf("broadcast target: %v", err)
	}
	_, err = Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}}, nil)
	if !errors.Is(err, ErrNoTarget) {
		t.Fatalf("no target: %v", err)
	}
	_, err = Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), CallIDs: []string{"nope"}}, nil)
	if !errors.Is(err, ErrNoCalls) {
		t.Fatalf("unknown call: %v", err)
	}
}

func TestReplayStopsOnCancel(t *testing.T) {
	dst := listenUDP(t)
	ctx, cancel := context.WithCancel(context.Background())
	var progress []Progress
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	sum, err := Run(ctx, Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Speed: 1, Loops: 0,
		Progress: func(p Progress) { progress = append(progress, p) }, ProgressEvery: 50 * time.Millisecond}, nil)
	if err != nil || !sum.Cancelled {
		t.Fatalf("err %v cancelled %v", err, sum.Cancelled)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopped after %s", d)
	}
	if sum.Counts.Sent == 0 || sum.Counts.Sent >= 375 {
		t.Errorf("sent %d before the cancel", sum.Counts.Sent)
	}
	if len(progress) < 2 || progress[0].Runs != 0 || progress[0].ETA != -1 {
		t.Errorf("progress %+v", progress)
	}
}

func TestReplayTCPOneConnectionPerConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	streams := map[string][]byte{} // by connection, once it is closed
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				b, _ := io.ReadAll(c)
				c.Close()
				mu.Lock()
				streams[c.RemoteAddr().String()] = b
				mu.Unlock()
			}()
		}
	}()
	to := ln.Addr().(*net.TCPAddr).AddrPort()
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("tcp-multi-message.pcap")}, To: to, Loops: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.AddrPort][]byte{}
	n := 0
	for _, e := range original(t, "tcp-multi-message.pcap") {
		if e.Kind == capture.KindSIP {
			want[e.Src] = append(want[e.Src], e.Payload...)
			n++
		}
	}
	// Run closed its connections: the reads end
	for i := 0; i < 200; i++ {
		mu.Lock()
		k := len(streams)
		mu.Unlock()
		if k >= len(want) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if sum.Counts.Sent != int64(n) || sum.Targets[0].Transport != "tcp" || len(streams) != len(want) {
		t.Fatalf("sent %d of %d, targets %+v, %d connections for %d", sum.Counts.Sent, n, sum.Targets, len(streams), len(want))
	}
	for _, w := range want {
		found := false
		for _, s := range streams {
			found = found || bytes.Equal(s, w)
		}
		if !found {
			t.Errorf("no connection carried the %d bytes of one original direction", len(w))
		}
	}
}

// mediaReplayer is a replayer ready to send basic-call.pcap's first RTP
// packet, unpaced, with new RTP bases, to a loopback sink.
func mediaReplayer(tb testing.TB, dst netip.AddrPort) (*replayer, *capture.Event) {
	r0, err := pcap.Open(pcapPath("basic-call.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	defer r0.Close()
	var rtp *capture.Event
	errFound := errors.New("found")
	capture.Run(context.Background(), []capture.Source{r0}, capture.Options{}, nil, func(ev *capture.Event) error {
		if ev.Kind != capture.KindRTP {
			return nil
		}
		e := *ev
		e.Payload = append([]byte(nil), ev.Payload...)
		e.Record = nil
		rtp = &e
		return errFound
	})
	o := &Options{To: dst, Rewrite: true, NewRTP: true, MaxSockets: 4, Bind: netip.MustParseAddr("127.0.0.1")}
	r := &replayer{o: o, pacer: pace.New(pace.Options{}), allowed: map[netip.Addr]bool{}, targets: map[targetKey]*TargetCount{},
		media: map[netip.AddrPort]mediaRef{}, streams: map[uint32]*rtpBase{}, byID: map[string]*live{}}
	r.socks = newSockets(o.Bind, o.MaxSockets, nil)
	tb.Cleanup(r.socks.close)
	if err := r.handle(context.Background(), rtp); err != nil {
		tb.Fatal(err)
	}
	return r, rtp
}

// TestMediaPathAllocs: sending an RTP packet, with new RTP bases, costs
// no allocation once its socket and stream exist.
func TestMediaPathAllocs(t *testing.T) {
	dst := listenUDP(t)
	r, rtp := mediaReplayer(t, dst.addr())
	ctx := context.Background()
	n := testing.AllocsPerRun(200, func() {
		if err := r.handle(ctx, rtp); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("allocs per RTP packet = %v", n)
	}
	if r.c.Sent != 202 || r.c.SendErrors != 0 {
		t.Fatalf("sent %d errors %d", r.c.Sent, r.c.SendErrors)
	}
}

// BenchmarkMediaPath is the unpaced cost of one RTP packet: attribution,
// new bases, the socket write.
func BenchmarkMediaPath(b *testing.B) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r, rtp := mediaReplayer(b, c.LocalAddr().(*net.UDPAddr).AddrPort())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.handle(ctx, rtp); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReplayFilterSelectsCallsAndMedia(t *testing.T) {
	dst := listenUDP(t)
	f, err := sipflow.ParseFilter("type=CALL")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Loops: 1, Filter: f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// the call's 7 SIP messages, 358 RTP and 4 RTCP; REGISTER and OPTIONS
	// dialogs (6 messages) skipped
	if sum.Calls != 1 || sum.Counts.Sent != 369 || sum.Counts.Skipped != 6 || sum.Counts.Unattributed != 0 {
		t.Fatalf("calls %d counts %+v", sum.Calls, sum.Counts)
	}
	f, _ = sipflow.ParseFilter("method=OPTIONS")
	sum, err = Run(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, To: dst.addr(), Loops: 1, Filter: f,
		CallIDs: []string{basicCallID}}, nil)
	if !errors.Is(err, ErrNoCalls) {
		t.Fatalf("--call and a filter it does not match: %v, %+v", err, sum.Counts)
	}
}

func TestReplayTCPRewrite(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type conn struct {
		remote netip.AddrPort
		b      []byte
	}
	got := make(chan conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				b, _ := io.ReadAll(c)
				c.Close()
				got <- conn{c.RemoteAddr().(*net.TCPAddr).AddrPort(), b}
			}()
		}
	}()
	sum, err := Run(context.Background(), Options{Files: []string{pcapPath("tcp-multi-message.pcap")}, To: ln.Addr().(*net.TCPAddr).AddrPort(),
		Loops: 1, Rewrite: true, Side: SideCaller}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Sent != 3 || sum.Counts.Sockets < 1 {
		t.Fatalf("counts %+v", sum.Counts)
	}
	var c conn
	select {
	case c = <-got:
	case <-time.After(2 * time.Second):
		t.Fatal("no connection")
	}
	// INVITE, ACK and BYE, each whole, on one connection, naming it
	var methods []string
	for rest := c.b; len(rest) > 0; {
		var m sipflow.Message
		if err := m.Unmarshal(rest); err != nil {
			t.Fatalf("%v in %q", err, rest)
		}
		methods = append(methods, string(m.Method))
		v := m.Via[0]
		if string(v.Transport) != "TCP" || string(v.Host) != c.remote.Addr().String() || v.Port != c.remote.Port() {
			t.Errorf("%s Via %s, connection from %s", m.Method, v.Raw, c.remote)
		}
		end := sipflow.Offset(rest, m.Body) + len(m.Body)
		if len(m.Body) == 0 {
			end = bytes.Index(rest, []byte("\r\n\r\n")) + 4
		}
		rest = rest[end:]
	}
	if len(methods) != 3 || methods[0] != "INVITE" || methods[1] != "ACK" || methods[2] != "BYE" {
		t.Fatalf("methods %v", methods)
	}
}
