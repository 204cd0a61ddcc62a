package heptransport

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// TestSendAllocs: encode + queue copy + writer pop, once slots are warm.
func TestSendAllocs(t *testing.T) {
	s, err := NewSender(SenderOptions{To: []string{"udp:127.0.0.1:9"}, QueueSize: 4, AuthKey: "k", CaptureID: 7, NodeName: "n"})
	if err != nil {
		t.Fatal(err)
	}
	p := sipPacket(1)
	var spent []byte
	cycle := func() {
		if err := s.Send(&p); err != nil {
			t.Fatal(err)
		}
		var ok bool
		if spent, ok = s.targets[0].next(spent); !ok {
			t.Fatal("queue empty")
		}
		s.targets[0].inflight = false
	}
	for range 8 {
		cycle()
	}
	if n := testing.AllocsPerRun(500, cycle); n != 0 {
		t.Fatalf("Send + pop allocates %v times", n)
	}
}

// TestHandleAllocs: the listener's decode/auth/dedup/deliver path, with a
// new message every time (dedup inserts and evicts).
func TestHandleAllocs(t *testing.T) {
	l := &Listener{o: ListenOptions{Now: time.Now, DedupWindow: time.Second}, authKey: []byte("k")}
	dd := newDedup(time.Second, DefaultDedupTolerance, 64)
	p := sipPacket(1)
	p.AuthKey = []byte("k")
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddrPort("127.0.0.1:1234")
	var dec hep.Packet
	var calls int
	fn := func(*hep.Packet, netip.AddrPort) { calls++ }
	i := 0
	handle := func() {
		i++
		b[len(b)-3] = byte(i) // a different payload each time: no duplicate
		b[len(b)-4] = byte(i >> 8)
		l.handle(&dec, b, peer, dd, fn)
	}
	for range 200 {
		handle()
	}
	if n := testing.AllocsPerRun(1000, handle); n != 0 {
		t.Fatalf("handle allocates %v times", n)
	}
	if calls != 1201 || // AllocsPerRun runs once more to warm up
		l.Stats().Duplicates != 0 {
		t.Fatalf("calls %d, stats %+v", calls, l.Stats())
	}
}

// BenchmarkSendUDP measures encode + queue + write over UDP loopback to
// our own Listener. Packets that the kernel drops are not retried, so the
// figure is the sender's rate; delivered/op reports what arrived.
func BenchmarkSendUDP(b *testing.B) {
	l := startSink(b)
	s, err := NewSender(SenderOptions{To: []string{l.Addrs()[0]}, CaptureID: 2001, AuthKey: "myHep", QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	runSender(b, s)
	p := sipPacket(1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for s.Send(&p) == ErrQueueFull { // keep every packet: back off while the writer catches up
			time.Sleep(10 * time.Microsecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "pkts/s")
	b.ReportMetric(float64(s.Stats()[0].Dropped)/float64(b.N), "queuefull/op")
}

// BenchmarkSendTCP: encode + queue + write over TCP loopback to our own
// Listener, every packet kept until the Listener's TCP acknowledged it
// (Flush waits for that), so the figure includes the acknowledgement
// tracking; allocs/op is the whole path's.
func BenchmarkSendTCP(b *testing.B) {
	l, err := NewListener([]string{"tcp:127.0.0.1:0"}, ListenOptions{DedupWindow: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, func(*hep.Packet, netip.AddrPort) {}) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	s, err := NewSender(SenderOptions{To: []string{l.Addrs()[0]}, CaptureID: 2001, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	runSender(b, s)
	p := sipPacket(1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for s.Send(&p) == ErrQueueFull {
			time.Sleep(10 * time.Microsecond)
		}
	}
	fctx, fcancel := context.WithTimeout(context.Background(), time.Minute)
	defer fcancel()
	if err := s.Flush(fctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	st := s.Stats()[0]
	if st.Sent != uint64(b.N) || st.Unacked != 0 {
		b.Fatalf("sent %d of %d, %d unacknowledged", st.Sent, b.N, st.Unacked)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "pkts/s")
}

// BenchmarkEncode: Send's encode + queue copy without the network.
func BenchmarkEncode(b *testing.B) {
	s, err := NewSender(SenderOptions{To: []string{"udp:127.0.0.1:9"}, QueueSize: 4, CaptureID: 2001})
	if err != nil {
		b.Fatal(err)
	}
	p := sipPacket(1)
	var spent []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = s.Send(&p)
		spent, _ = s.targets[0].next(spent)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkListenerDecode: the dispatcher's per-packet work (decode, auth,
// dedup, deliver), fresh payload each time.
func BenchmarkListenerDecode(b *testing.B) {
	l := &Listener{o: ListenOptions{Now: time.Now, DedupWindow: time.Second}}
	dd := newDedup(time.Second, DefaultDedupTolerance, DefaultDedupMax)
	p := sipPacket(1)
	buf, _ := p.Marshal()
	peer := netip.MustParseAddrPort("127.0.0.1:1234")
	var dec hep.Packet
	fn := func(*hep.Packet, netip.AddrPort) {}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf[len(buf)-3], buf[len(buf)-4] = byte(i), byte(i>>8)
		l.handle(&dec, buf, peer, dd, fn)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkListenUDP: end to end over loopback, counting what the
// listener delivers per second while a sender floods it. %lost is what the
// kernel dropped because the listener fell behind.
func BenchmarkListenUDP(b *testing.B) {
	l := startSink(b)
	s, err := NewSender(SenderOptions{To: []string{l.Addrs()[0]}, QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	runSender(b, s)
	pkts := make([]hep.Packet, 256)
	for i := range pkts {
		pkts[i] = sipPacket(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for s.Send(&pkts[i%len(pkts)]) == ErrQueueFull {
			time.Sleep(10 * time.Microsecond)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = s.Flush(ctx)
	const settle = 10 * time.Millisecond
	last := l.Stats().Received
	for k := 0; k < 100; k++ { // until the listener is quiet
		time.Sleep(settle)
		n := l.Stats().Received
		if n == last {
			break
		}
		last = n
	}
	el := time.Since(start) - settle
	b.StopTimer()
	st := l.Stats()
	b.ReportMetric(float64(st.Delivered)/el.Seconds(), "delivered/s")
	b.ReportMetric(float64(uint64(b.N)-st.Delivered)/float64(b.N)*100, "%lost") // kernel drops + overruns
}

// startSink runs a UDP Listener whose fn does nothing, so benchmarks
// measure transport, not the test collector's copies.
func startSink(b *testing.B) *Listener {
	l, err := NewListener([]string{"udp:127.0.0.1:0"}, ListenOptions{DedupWindow: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, func(*hep.Packet, netip.AddrPort) {}) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return l
}
