package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// fakeLive is a LiveSource fed through a channel: it blocks while the
// channel is empty, as an idle interface does.
type fakeLive struct {
	name    string
	ch      chan fakeRec
	n       int
	drained chan struct{} // closed when ch was closed and read to its end
	ks      KernelStats
	exited  atomic.Bool // NextContext returned because ctx was done
}

// fakeRec is one record with the time the "kernel" stamped it.
type fakeRec struct {
	data []byte
	ts   time.Time
}

func newFakeLive(name string, buf int) *fakeLive {
	return &fakeLive{name: name, ch: make(chan fakeRec, buf), drained: make(chan struct{})}
}

// send queues data stamped now, as the kernel stamps on arrival.
func (f *fakeLive) send(data []byte) { f.ch <- fakeRec{data, time.Now()} }

func (f *fakeLive) Name() string { return f.name }

func (f *fakeLive) Next() ([]byte, pcap.Packet, error) { return f.NextContext(context.Background()) }

func (f *fakeLive) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	select {
	case r, ok := <-f.ch:
		if !ok {
			select {
			case <-f.drained:
			default:
				close(f.drained)
			}
			return nil, pcap.Packet{}, io.EOF
		}
		f.n++
		p := pcap.Packet{Timestamp: r.ts, CaptureLength: len(r.data), Length: len(r.data), LinkType: pcap.LinkTypeEthernet, Number: f.n}
		return r.data, p, nil
	case <-ctx.Done():
		f.exited.Store(true)
		return nil, pcap.Packet{}, ctx.Err()
	}
}

func (f *fakeLive) KernelStats() (KernelStats, error) { return f.ks, nil }

// wrapped hides a source behind a Wrapper, as the engine's counters do.
type wrapped struct{ Source }

func (w wrapped) Unwrap() Source { return w.Source }

func sipFrame(t testing.TB) []byte {
	return eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(sip200)))
}

// A busy live source is decoded while a silent one never speaks: the
// merge does not wait on the quiet interface.
func TestRunLiveBusyAndSilent(t *testing.T) {
	busy := newFakeLive("eth0", 200)
	silent := newFakeLive("eth1", 1)
	frame := sipFrame(t)
	const n = 100
	for range n {
		busy.send(frame)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var st Status
	got := 0
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, []Source{silent, wrapped{busy}}, Options{Status: &st}, nil, func(ev *Event) error {
			if ev.Source != 1 {
				t.Errorf("event from source %d", ev.Source)
			}
			if !bytes.Equal(ev.Record, frame) {
				t.Errorf("Event.Record is not the frame")
			}
			got++
			if got == n {
				cancel() // every busy packet decoded while eth1 stayed silent
			}
			return nil
		})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("busy source's packets were not decoded while the other source was silent")
	}
	if got != n {
		t.Fatalf("decoded %d of %d", got, n)
	}
	// Run waited for its readers: both saw the cancellation.
	if !silent.exited.Load() || !busy.exited.Load() {
		t.Errorf("reader goroutines did not end with Run: silent %v busy %v", silent.exited.Load(), busy.exited.Load())
	}
	snap := st.Snapshot()
	if len(snap.Sources) != 2 || snap.Sources[1].Name != "eth0" || !snap.Sources[1].Live || snap.Sources[1].Records != n {
		t.Errorf("sources %+v", snap.Sources)
	}
	if snap.Decoder.SIP != n {
		t.Errorf("published decoder SIP = %d, want %d", snap.Decoder.SIP, n)
	}
}

// A reader that finds the queue full drops and counts; nothing is lost
// without a counter. Kernel counters reach the status.
func TestRunLiveQueueDrops(t *testing.T) {
	src := newFakeLive("eth0", 1000)
	src.ks = KernelStats{Received: 1005, Dropped: 5, Freezes: 1}
	frame := sipFrame(t)
	const n = 1000
	for range n {
		src.send(frame)
	}
	close(src.ch)
	var st Status
	decoded := 0
	_, err := Run(context.Background(), []Source{src}, Options{Status: &st, QueueLen: 4}, nil, func(ev *Event) error {
		if decoded == 0 {
			<-src.drained // hold the decoder until the reader has read everything
		}
		decoded++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap := st.Snapshot()
	s := snap.Sources[0]
	if s.Records != n || s.QueueDropped == 0 || uint64(decoded)+s.QueueDropped != n {
		t.Errorf("records %d, decoded %d, queue dropped %d: want decoded+dropped = %d", s.Records, decoded, s.QueueDropped, n)
	}
	if s.QueueHigh > 4 {
		t.Errorf("queue high water %d above its bound 4", s.QueueHigh)
	}
	if s.Kernel != src.ks {
		t.Errorf("kernel stats %+v, want %+v", s.Kernel, src.ks)
	}
	k, q := snap.Drops()
	if k != 5 || q != s.QueueDropped {
		t.Errorf("Drops() = %d, %d", k, q)
	}
}

// Live records are merged by time within the window: two interfaces
// that speak alternately come out in time order. The window is wide so
// that a loaded machine's scheduling delays stay inside it; the test
// still ends at once, since a queued record wakes the merge.
func TestRunLiveMergeOrder(t *testing.T) {
	a, b := newFakeLive("a", 10), newFakeLive("b", 10)
	frame := sipFrame(t)
	var order []int
	var last time.Time
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), []Source{a, b}, Options{MergeWindow: 2 * time.Second}, nil, func(ev *Event) error {
			if ev.Time.Before(last) {
				t.Errorf("out of order")
			}
			last = ev.Time
			order = append(order, ev.Source)
			return nil
		})
		done <- err
	}()
	for i := range 6 {
		if i%2 == 0 {
			a.send(frame)
		} else {
			b.send(frame)
		}
		time.Sleep(2 * time.Millisecond) // distinct kernel-like timestamps
	}
	close(a.ch)
	close(b.ch)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 0, 1, 0, 1}
	if len(order) != len(want) {
		t.Fatalf("order %v", order)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

// A file and a live source together: the file is read exactly, the
// live source through its queue, and Status is readable meanwhile.
func TestRunLiveWithFileAndConcurrentStatus(t *testing.T) {
	live := newFakeLive("lo", 100)
	frame := sipFrame(t)
	file := &sliceSource{}
	for i := range 50 {
		p := pkt(pcap.LinkTypeEthernet, i+1, frame)
		file.frames = append(file.frames, frame)
		file.pkts = append(file.pkts, p)
	}
	for range 50 {
		live.send(frame)
	}
	close(live.ch)
	var st Status
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() { // a UI reading the status while Run goes on
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
				_ = st.Snapshot()
			}
		}
	}()
	counts := [2]int{}
	_, err := Run(context.Background(), []Source{file, live}, Options{Status: &st}, nil, func(ev *Event) error {
		counts[ev.Source]++
		return nil
	})
	close(stop)
	<-readerDone
	if err != nil {
		t.Fatal(err)
	}
	if counts != [2]int{50, 50} {
		t.Errorf("events per source %v", counts)
	}
	if s := st.Snapshot(); s.Sources[0].Live || !s.Sources[1].Live || s.Sources[0].Records != 50 {
		t.Errorf("snapshot %+v", s.Sources)
	}
}

// idleKernel is a live source that never delivers a record while its
// kernel counters move: an interface that dropped a burst, then went
// quiet.
type idleKernel struct {
	drops atomic.Uint64
}

func (*idleKernel) Name() string { return "eth9" }

func (*idleKernel) Next() ([]byte, pcap.Packet, error) { return nil, pcap.Packet{}, io.EOF }

func (*idleKernel) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	<-ctx.Done()
	return nil, pcap.Packet{}, ctx.Err()
}

func (k *idleKernel) KernelStats() (KernelStats, error) {
	d := k.drops.Load()
	return KernelStats{Received: d, Dropped: d}, nil
}

// Kernel drops on a quiet interface reach the status (and move its
// change counter) without any record arriving: the counters are read on
// a timer, not between packets.
func TestRunLiveKernelStatsWhileIdle(t *testing.T) {
	src := &idleKernel{}
	var st Status
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, []Source{src}, Options{Status: &st}, nil, func(*Event) error { return nil })
		done <- err
	}()
	defer func() {
		cancel()
		<-done
	}()
	before := st.Changes()
	src.drops.Store(7)
	deadline := time.Now().Add(5 * statsPollInterval)
	for {
		snap := st.Snapshot()
		if len(snap.Sources) == 1 && snap.Sources[0].Kernel.Dropped == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel drops not seen within %v of an idle capture: %+v", 5*statsPollInterval, snap.Sources)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.Changes() == before {
		t.Error("the change counter did not move with the kernel counters")
	}
}
