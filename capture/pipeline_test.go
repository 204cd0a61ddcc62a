package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// trace renders everything fn and warn saw, in order, with every byte
// they were handed: the pipelined Run must produce the same string.
func trace(t *testing.T, paths []string, o Options) (string, Stats) {
	t.Helper()
	var srcs []Source
	for _, p := range paths {
		r, err := pcap.Open(p)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		defer r.Close()
		srcs = append(srcs, r)
	}
	var b strings.Builder
	st, err := Run(context.Background(), srcs, o, func(err error) {
		fmt.Fprintf(&b, "warn %v\n", err)
	}, func(ev *Event) error {
		fmt.Fprintf(&b, "%v %v %v %v>%v src=%d pkt=%+v vlan=%d tun=%v rtp=%+v layers=%+v\n  payload=%x\n  record=%x\n",
			ev.Kind, ev.Transport, ev.Time.UnixNano(), ev.Src, ev.Dst, ev.Source, ev.Packet, ev.VLAN, ev.Tunnel, ev.RTP, ev.Layers, ev.Payload, ev.Record)
		return nil
	})
	if err != nil {
		t.Fatalf("Run %v: %v", paths, err)
	}
	return b.String(), st
}

// The pipeline changes where decoding runs, nothing else: on every
// generated capture and every corpus file (merged in pairs too), the
// events, their bytes, the warnings, their order and the statistics are
// those of the plain Run. Small batches force many hand-overs.
func TestPipelineSameEvents(t *testing.T) {
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	if len(files) < 10 {
		t.Fatalf("only %d generated captures", len(files))
	}
	if !testing.Short() {
		if _, err := os.Stat(corpusDir); err == nil {
			files = append(files, corpusFiles(t)...)
		}
	}
	var sets [][]string
	for i, f := range files {
		sets = append(sets, []string{f})
		if i > 0 && i%5 == 0 {
			sets = append(sets, []string{files[i-1], f})
		}
	}
	events := 0
	for _, set := range sets {
		plain, st1 := trace(t, set, Options{})
		piped, st2 := trace(t, set, Options{Pipeline: true})
		if plain != piped {
			t.Errorf("%v: pipelined events differ\nplain:\n%.2000s\npiped:\n%.2000s", set, plain, piped)
		}
		if st1 != st2 {
			t.Errorf("%v: stats differ\nplain %+v\npiped %+v", set, st1, st2)
		}
		events += strings.Count(plain, "\n  record=")
	}
	if events < 1000 {
		t.Errorf("only %d events compared", events)
	}
}

// When fn fails, Run returns its error and the decoding goroutine has
// ended (no goroutine left behind), even with batches in flight.
func TestPipelineStopsOnError(t *testing.T) {
	errStop := errors.New("stop")
	before := runtime.NumGoroutine()
	r, err := pcap.Open("../testdata/pcaps/rtp-impaired.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	_, err = Run(context.Background(), []Source{r}, Options{Pipeline: true}, nil, func(ev *Event) error {
		n++
		if n == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Run = %v, want errStop", err)
	}
	if n != 3 {
		t.Errorf("fn called %d times after failing at 3", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after Run, %d before", g, before)
	}
}

// A live record is handed on as soon as the decoder would wait for the
// next one: a quiet interface's SIP is not held in a half-full batch.
// Each record is sent only after the previous one's event arrived, so a
// batch that waited to fill would stall this test.
func TestPipelineLiveNotHeldBack(t *testing.T) {
	src := newFakeLive("eth0", 1)
	frame := sipFrame(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []byte, 1)
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, []Source{src}, Options{Pipeline: true}, nil, func(ev *Event) error {
			got <- bytes.Clone(ev.Payload)
			return nil
		})
		done <- err
	}()
	for i := range 5 {
		src.send(frame)
		select {
		case p := <-got:
			if !bytes.HasPrefix(p, []byte("SIP/2.0 200")) {
				t.Fatalf("event %d payload %q", i, p)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d not delivered while the source was quiet", i)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
}

// Once warm, a batch copies and parses without allocating: the copies go
// into its buffer, the parsed SIP into the slot's reused message.
func TestPipelineBatchAllocs(t *testing.T) {
	frame := sipFrame(t)
	d := NewDecoder(Options{})
	var evs []Event
	if err := d.Decode(frame, pcap.Packet{Timestamp: time.Unix(1, 0), CaptureLength: len(frame), Length: len(frame), LinkType: pcap.LinkTypeEthernet, Number: 1}, func(ev *Event) {
		ev.Record = frame
		evs = append(evs, *ev)
	}); err != nil || len(evs) != 1 {
		t.Fatalf("decode: %v, %d events", err, len(evs))
	}
	b := newPipeBatch()
	fill := func() {
		b.reset()
		for !b.full() {
			b.add(&evs[0], false, nil)
		}
	}
	fill() // warm: the messages' slices grow once
	if n := testing.AllocsPerRun(20, fill); n != 0 {
		t.Errorf("a batch of %d SIP events allocates %.1f times", len(b.evs), n)
	}
	if b.nmsg != pipeMsgs || len(b.evs) != pipeMsgs {
		t.Errorf("a batch of SIP holds %d events, %d parsed, want %d", len(b.evs), b.nmsg, pipeMsgs)
	}
	if it := &b.evs[len(b.evs)-1]; it.SIP == nil || string(it.SIP.Raw) != string(it.Payload) || &it.Payload[0] != &it.Record[it.Layers.Payload] {
		t.Errorf("last event: SIP parsed %v, payload not shared with its record copy", it.SIP != nil)
	}
}

// OnBatchEnd comes on fn's goroutine between events, often enough that
// a consumer holding a lock across them lets readers in within a batch,
// and last after the final event, with and without the pipeline.
func TestOnBatchEnd(t *testing.T) {
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	for _, pipe := range []bool{false, true} {
		total, ends, run, longest, after := 0, 0, 0, 0, false
		for _, f := range files {
			r, err := pcap.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			o := Options{Pipeline: pipe, OnBatchEnd: func() { ends++; run = 0; after = true }}
			_, err = Run(context.Background(), []Source{r}, o, nil, func(*Event) error {
				total++
				run++
				longest = max(longest, run)
				after = false
				return nil
			})
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !after {
				t.Errorf("pipeline %v, %s: no OnBatchEnd after the last event", pipe, f)
			}
		}
		// Without the pipeline a record yields a few events at most.
		if limit := max(pipeEvents, 4*ctxCheckEvery); longest > limit {
			t.Errorf("pipeline %v: %d events without an OnBatchEnd (limit %d)", pipe, longest, limit)
		}
		if total < 1000 || ends < total/max(pipeEvents, ctxCheckEvery) {
			t.Errorf("pipeline %v: %d batch ends for %d events", pipe, ends, total)
		}
	}
}

// A capture read from a pipe (tcpdump -w - | voiptool open -) is no live
// source, yet its reads wait for packets nobody has sent: what was read
// before such a wait reaches the consumer without waiting for more, with
// the pipeline and without it.
func TestPipeNotHeldBack(t *testing.T) {
	frame := sipFrame(t)
	for _, pipe := range []bool{true, false} {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		w, err := pcap.NewWriter(pw, pcap.WriterOptions{LinkType: pcap.LinkTypeEthernet})
		if err != nil {
			t.Fatal(err)
		}
		write := func(i int) {
			t.Helper()
			p := pcap.Packet{Timestamp: time.Unix(1e9+int64(i), 0), CaptureLength: len(frame), Length: len(frame)}
			if err := w.WritePacket(p, frame); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		write(0)
		r, err := pcap.NewReader(pr, "pipe")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 4)
		done := make(chan error, 1)
		var batchEnds atomic.Int64
		go func() {
			_, err := Run(context.Background(), []Source{r}, Options{Pipeline: pipe, OnBatchEnd: func() { batchEnds.Add(1) }}, nil, func(ev *Event) error {
				got <- bytes.Clone(ev.Payload)
				return nil
			})
			done <- err
		}()
		for i := range 3 {
			if i > 0 {
				write(i)
			}
			select {
			case p := <-got:
				if !bytes.HasPrefix(p, []byte("SIP/2.0 200")) {
					t.Fatalf("pipeline %v: event %d payload %q", pipe, i, p)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("pipeline %v: packet %d held back while the pipe was quiet", pipe, i)
			}
		}
		if batchEnds.Load() == 0 {
			t.Errorf("pipeline %v: no batch ended before the waits", pipe)
		}
		pw.Close()
		if err := <-done; err != nil {
			t.Fatalf("pipeline %v: Run: %v", pipe, err)
		}
		pr.Close()
	}
}

// Warnings keep their places among the events across the pipeline's
// batches (they are kept apart from the events in a batch): a warning
// between two events, at a batch's start and after its last event.
func TestPipelineWarningsInPlace(t *testing.T) {
	good, bad := sipFrame(t), eth(0x0800, []byte{0x45, 0, 0, 40}) // IPv4 cut inside its header
	mk := func() *sliceSource {
		s := &sliceSource{}
		for i := range 3000 {
			f := good
			if i%7 == 3 || i%256 == 0 || i%300 == 299 {
				f = bad
			}
			s.frames = append(s.frames, f)
			s.pkts = append(s.pkts, pcap.Packet{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(f), Length: len(f), LinkType: pcap.LinkTypeEthernet, Number: i + 1})
		}
		return s
	}
	run := func(o Options) (string, int) {
		var b strings.Builder
		warns := 0
		_, err := Run(context.Background(), []Source{mk()}, o, func(err error) {
			warns++
			fmt.Fprintf(&b, "warn %v\n", err)
		}, func(ev *Event) error {
			fmt.Fprintf(&b, "%v %d\n", ev.Kind, ev.Packet.Number)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return b.String(), warns
	}
	plain, warns := run(Options{})
	piped, _ := run(Options{Pipeline: true})
	if warns < 400 {
		t.Fatalf("only %d warnings", warns)
	}
	if plain != piped {
		t.Errorf("pipelined order differs\nplain:\n%.1000s\npiped:\n%.1000s", plain, piped)
	}
}

// A file is read ahead on a goroutine the pipeline owns: when fn fails
// early in a file several blocks long, that goroutine has ended by the
// time Run returns, and the Reader still yields the rest of the file,
// record by record, read on the caller's goroutine.
func TestPipelineReadAheadStops(t *testing.T) {
	frames, pkts := benchCapture(20, 1000)
	path := filepath.Join(t.TempDir(), "ahead.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, f, frames, pkts)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	errStop := errors.New("stop")
	n := 0
	if _, err := Run(context.Background(), []Source{r}, Options{Pipeline: true}, nil, func(ev *Event) error {
		if n++; n == 2000 {
			return errStop
		}
		return nil
	}); !errors.Is(err, errStop) {
		t.Fatalf("Run = %v", err)
	}
	// Run has waited for the read-ahead, but a goroutine that signalled
	// its end (a deferred close) counts until it has returned: give it a
	// moment, as TestPipelineStopsOnError does; one left running fails.
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after Run, %d before", g, before)
	}
	read := r.Stats().Packets
	if read >= len(frames) {
		t.Fatalf("the pipeline read all %d records before stopping", read)
	}
	for i := read; i < len(frames); i++ {
		data, p, err := r.Next()
		if err != nil || p.Number != i+1 || !bytes.Equal(data, frames[i]) {
			t.Fatalf("record %d after Run: %v, number %d, equal %v", i+1, err, p.Number, bytes.Equal(data, frames[i]))
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}
}

// A batch leaves a SIP message without a body unparsed when told to
// share (its consumer parses it) and parses every other one, handing
// the parse back in the decoder's event too: the decoder learns media
// from a body's SDP (learnSDP), never from a message without one.
func TestPipeBatchShare(t *testing.T) {
	bye := []byte("BYE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nCall-ID: share-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
	sdp := "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	invite := []byte(fmt.Sprintf("INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK2\r\nCall-ID: share-1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp))
	for _, tc := range []struct {
		name   string
		msg    []byte
		share  bool
		parsed bool
	}{
		{"BYE shared", bye, true, false},
		{"BYE kept", bye, false, true},
		{"INVITE shared", invite, true, true},
		{"INVITE kept", invite, false, true},
	} {
		b := newPipeBatch()
		ev := Event{Kind: KindSIP, Payload: tc.msg}
		b.add(&ev, tc.share, nil)
		got := b.evs[0].SIP
		if (got != nil) != tc.parsed {
			t.Errorf("%s: batch's SIP %v; want parsed %v", tc.name, got != nil, tc.parsed)
			continue
		}
		// The decoder's event has the parse, or for a message left to
		// the consumer one with no SDP: learnSDP reads nothing more.
		if tc.parsed && ev.SIP != got || !tc.parsed && (ev.SIP == nil || ev.SIP.HasSDP || ev.SIP == got) {
			t.Errorf("%s: decoder's SIP %p, batch's %p", tc.name, ev.SIP, got)
			continue
		}
		if got != nil && (string(got.CallID) != "share-1" || got.HasSDP != (&tc.msg[0] == &invite[0])) {
			t.Errorf("%s: parsed Call-ID %q, SDP %v", tc.name, got.CallID, got.HasSDP)
		}
	}
}

// Through Run's pipeline, with a consumer sometimes slower than the
// decoder and sometimes idle: every SIP event left unparsed has no body,
// and every parse handed over is the one the consumer would make.
func TestPipelineSharedParse(t *testing.T) {
	files := []string{"../testdata/pcaps/calls-mixed.pcap", "../testdata/pcaps/problems-signalling.pcap", "../testdata/pcaps/tcp-multi-message.pcap"}
	var srcs []Source
	for _, f := range files {
		r, err := pcap.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		srcs = append(srcs, r)
	}
	var left, parsed, n int
	var fresh sipflow.Message
	_, err := Run(context.Background(), srcs, Options{Pipeline: true}, nil, func(ev *Event) error {
		if ev.Kind != KindSIP {
			return nil
		}
		if n++; n%7 == 0 {
			time.Sleep(time.Millisecond) // let batches queue up now and then
		}
		if ev.SIP == nil {
			left++
			if !headersOnly(ev.Payload) {
				t.Errorf("packet %d: a message with a body was left unparsed", ev.Packet.Number)
			}
			return nil
		}
		parsed++
		if err := fresh.Unmarshal(ev.Payload); err != nil {
			t.Errorf("packet %d: handed a parse of what does not parse: %v", ev.Packet.Number, err)
		} else if a, b := fmt.Sprintf("%+v", fresh), fmt.Sprintf("%+v", *ev.SIP); a != b {
			// Printed: a reused message's empty slices are not nil.
			t.Errorf("packet %d: the handed parse differs from a fresh one", ev.Packet.Number)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if parsed == 0 || n < 20 {
		t.Errorf("%d SIP events, %d parsed, %d left to the consumer", n, parsed, left)
	}
	t.Logf("%d SIP events: %d parsed by the decoder, %d left to the consumer", n, parsed, left)
}
