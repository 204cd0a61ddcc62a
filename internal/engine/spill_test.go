package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/testpeer"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// sameDetails checks that every call of want is in e with the same
// messages, bytes included, and transactions (TestRawReread, TestSpill).
func sameDetails(t *testing.T, e *Engine, want map[string]sipflow.CallDetail) {
	t.Helper()
	for id, w := range want {
		got, ok := e.Call(id)
		if !ok {
			t.Fatalf("call %s missing", id)
		}
		if len(got.Messages) != len(w.Messages) {
			t.Fatalf("call %s: %d messages, want %d", id, len(got.Messages), len(w.Messages))
		}
		for i := range w.Messages {
			g, wm := got.Messages[i], w.Messages[i]
			if g.RawError != "" {
				t.Errorf("call %s message %d: %s", id, i, g.RawError)
			}
			if g.Raw != wm.Raw || g.Method != wm.Method || g.Phrase != wm.Phrase || g.CSeqMethod != wm.CSeqMethod ||
				g.Meta != wm.Meta || g.Retransmission != wm.Retransmission || g.Label() != wm.Label() {
				t.Errorf("call %s message %d differs:\n got  %+v %q\n want %+v %q", id, i, g.Meta, g.Raw, wm.Meta, wm.Raw)
			}
		}
		if len(got.Transactions) != len(w.Transactions) {
			t.Errorf("call %s: %d transactions, want %d", id, len(got.Transactions), len(w.Transactions))
		}
		for j := range w.Transactions {
			if got.Transactions[j] != w.Transactions[j] {
				t.Errorf("call %s transaction %d: %+v, want %+v", id, j, got.Transactions[j], w.Transactions[j])
			}
		}
	}
}

// TestSpill: sources no file backs keep their messages in the spill
// file; every call reads back exactly what a run holding them in memory
// gives, the store holds fewer bytes, and the file is gone from the
// directory (unlinked at creation) and closed at Close.
func TestSpill(t *testing.T) {
	for _, f := range fixtureFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			mem := New(Options{})
			runFiles(t, mem, f)
			want := map[string]sipflow.CallDetail{}
			for _, c := range mem.Calls(sipflow.Filter{}, 0, -1) {
				want[c.CallID], _ = mem.Call(c.CallID)
			}
			dir := t.TempDir()
			e := New(Options{SpillMax: DefaultSpillMax, SpillDir: dir})
			runFiles(t, e, f)
			sameDetails(t, e, want)
			st := e.Status()
			if st.Spill.Messages != st.Store.Messages || st.Spill.Refused != 0 || st.Spill.Errors != 0 {
				t.Errorf("spilled %+v of %d messages", st.Spill, st.Store.Messages)
			}
			if held := mem.Store().Stats().Bytes; st.Store.Bytes >= held && held > 0 {
				t.Errorf("spilling holds %d bytes, not less than the %d held in memory", st.Store.Bytes, held)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("spill file left in %s: %v", dir, left)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if n, _ := e.spill.openSegments(); n != 0 {
				t.Errorf("%d spill segments not closed", n)
			}
			for id := range want {
				d, _ := e.Call(id)
				for i, m := range d.Messages {
					if m.Raw != "" || !strings.HasPrefix(m.RawError, sipflow.ErrRawGone.Error()) {
						t.Fatalf("call %s message %d after Close: raw %q error %q", id, i, m.Raw, m.RawError)
					}
				}
			}
		})
	}
}

// TestSpillMax: a spill file too small for the capture refuses what does
// not fit, counts it, and the store keeps those messages itself.
func TestSpillMax(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "calls-mixed.pcap")
	want := details(t, Options{}, f)
	e := New(Options{SpillMax: 2000, SpillDir: t.TempDir()})
	defer e.Close()
	runFiles(t, e, f)
	sameDetails(t, e, want)
	sp, st := e.Status().Spill, e.Store().Stats()
	if sp.Messages == 0 || sp.Refused == 0 || sp.Messages+sp.Refused != st.Messages || sp.Errors != 0 {
		t.Errorf("spill %+v for %d messages: want some spilled, the rest refused", sp, st.Messages)
	}
	if sp.Held > 2000 || sp.Bytes > sp.Held || sp.Reclaimed != 0 {
		t.Errorf("spill %+v: %d bytes held past the 2000 bound, or some released (no call was dropped)", sp, sp.Held)
	}
	if !strings.Contains(e.Status().String(), "kept in memory instead") {
		t.Errorf("summary does not say messages were refused: %s", e.Status())
	}
}

// TestSpillWriteFails: a write that fails (disk full) counts the error,
// refuses the later messages, and keeps the ones spilled readable: those
// written from the file, those still buffered from the buffer.
func TestSpillWriteFails(t *testing.T) {
	s := newSpillFile(t.TempDir(), DefaultSpillMax)
	defer s.close()
	msgs := [][]byte{bytes.Repeat([]byte("a"), spillBuffer-100), bytes.Repeat([]byte("b"), 200)}
	var locs []uint32
	for i, m := range msgs { // the second flushes the first
		loc, ok := s.Spill(m)
		if !ok {
			t.Fatalf("message %d refused", i)
		}
		locs = append(locs, loc)
	}
	seg := s.segs[s.cur]
	if seg.flushed == 0 || len(s.buf) == 0 {
		t.Fatalf("flushed %d, buffered %d: want one of each", seg.flushed, len(s.buf))
	}
	// The same (unlinked) file, read-only: the next write fails.
	ro, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", seg.f.Fd()))
	if err != nil {
		t.Skipf("no /proc to reopen the spill file read-only: %v", err)
	}
	w := seg.f
	defer w.Close()
	seg.f = ro
	if _, ok := s.Spill(bytes.Repeat([]byte("c"), spillBuffer)); ok {
		t.Fatal("a message spilled though the write failed")
	}
	if _, ok := s.Spill([]byte("later")); ok {
		t.Fatal("a message spilled after the write failed")
	}
	if st := s.stats(); st.Errors != 1 || st.Refused != 2 || st.Messages != 2 {
		t.Errorf("stats %+v, want 1 error, 2 refused, 2 spilled", st)
	}
	for i, loc := range locs {
		b, err := s.ReadSpill(loc, len(msgs[i]), nil)
		if err != nil || !bytes.Equal(b, msgs[i]) {
			t.Errorf("message %d after the failure: %d bytes, %v", i, len(b), err)
		}
	}
	if _, err := s.ReadSpill(locs[1]+100000, 10, nil); err == nil {
		t.Error("a location never spilled read without error")
	}
}

// TestSpillConcurrentReaders: readers open calls while the writer
// spills (run with -race); each message read is the one spilled.
func TestSpillConcurrentReaders(t *testing.T) {
	files := []string{filepath.Join("..", "..", "testdata", "pcaps", "calls-mixed.pcap"), filepath.Join("..", "..", "testdata", "pcaps", "tcp-multi-message.pcap")}
	e := New(Options{SpillMax: DefaultSpillMax, SpillDir: t.TempDir()})
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
				d, _ := e.Call(c.CallID)
				for i, m := range d.Messages {
					if m.RawError != "" || !strings.Contains(m.Raw, c.CallID) {
						t.Errorf("call %s message %d: %q %s", c.CallID, i, m.Raw, m.RawError)
						return
					}
				}
			}
		}
	}()
	for range 20 {
		if _, err := e.Run(context.Background(), testpeer.Sources(t, files...), nil); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	if e.Status().Spill.Messages == 0 {
		t.Error("nothing spilled")
	}
}

// TestSpillAllocs: spilling a message is on the per-packet path and
// allocates nothing (the buffer is made once, with the file).
func TestSpillAllocs(t *testing.T) {
	s := newSpillFile(t.TempDir(), DefaultSpillMax)
	defer s.close()
	msg := bytes.Repeat([]byte("m"), 415)
	s.Spill(msg)
	if n := testing.AllocsPerRun(2000, func() { s.Spill(msg) }); n != 0 {
		t.Errorf("Spill allocs = %v, want 0", n)
	}
}

// BenchmarkSpill is the writer's cost per message: an append to the
// buffer, a write per 64 KiB.
func BenchmarkSpill(b *testing.B) {
	s := newSpillFile(b.TempDir(), 1<<40)
	defer s.close()
	msg := bytes.Repeat([]byte("m"), 415) // sip200k's mean message
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		s.Spill(msg)
	}
}

// openSegments is the number of segments open, and the bytes their
// files hold on disk.
func (s *spillFile) openSegments() (n int, disk int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		if seg == nil {
			continue
		}
		n++
		if fi, err := seg.f.Stat(); err == nil {
			disk += fi.Size()
		}
	}
	return n, disk + int64(len(s.buf)+len(s.obuf))
}

// checkHeld checks the spill's disk within its bound: the counter, and
// the segments' files themselves.
func checkHeld(t *testing.T, s *spillFile) {
	t.Helper()
	st := s.stats()
	n, disk := s.openSegments()
	if st.Held > s.max || disk != st.Held || int64(n) > s.max/s.segSize+2 { // the tails partly filled
		t.Errorf("spill holds %d bytes (%d counted) in %d segments of %d, bound %d", disk, st.Held, n, s.segSize, s.max)
	}
}

// TestSpillReclaims: the store drops calls (its memory budget evicts
// them, or the list is cleared) and the spill gives their segments back,
// so it goes on spilling past its bound without refusing, its disk
// within the bound, and the calls held read back whole. Without the
// release the bound is spent once and the rest refused.
func TestSpillReclaims(t *testing.T) {
	const bound = 512 << 10
	data := largeCapture(t, 3000, 0)
	run := func(t *testing.T, e *Engine, data []byte) {
		r, err := pcap.NewReader(bytes.NewReader(data), "pipe") // nothing to re-read from
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, e *Engine) {
		sp := e.Status().Spill
		t.Logf("spill %+v, segment %d", sp, e.spill.segSize)
		if sp.Refused != 0 || sp.Errors != 0 || sp.Bytes <= 2*bound || sp.Reclaimed == 0 {
			t.Errorf("spill %+v: want over %d bytes spilled, segments reclaimed, nothing refused", sp, 2*bound)
		}
		if sp.Bytes > sp.ReclaimedBytes+sp.Held || sp.Live > sp.Held {
			t.Errorf("spill %+v: more spilled than held and reclaimed", sp)
		}
		checkHeld(t, e.spill)
		if line := e.Status().String(); !strings.Contains(line, fmt.Sprintf("%d bytes given back in %d segments", sp.ReclaimedBytes, sp.Reclaimed)) {
			t.Errorf("summary does not say what was given back: %s", line)
		}
		for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
			d, _ := e.Call(c.CallID)
			for i, m := range d.Messages {
				if m.RawError != "" || !strings.Contains(m.Raw, c.CallID) {
					t.Fatalf("call %s message %d: %q %s", c.CallID, i, m.Raw, m.RawError)
				}
			}
		}
	}
	t.Run("evicted", func(t *testing.T) {
		e := New(Options{SpillMax: bound, SpillDir: t.TempDir(), Store: sipflow.StoreOptions{MaxBytes: 64 << 10}})
		defer e.Close()
		run(t, e, data)
		if st := e.Status().Store; st.Evicted < 2000 {
			t.Fatalf("%d calls evicted: the budget does not bite", st.Evicted)
		}
		check(t, e)
	})
	t.Run("cleared", func(t *testing.T) {
		e := New(Options{SpillMax: bound, SpillDir: t.TempDir()})
		defer e.Close()
		part := largeCapture(t, 100, 0)
		for range 8 {
			run(t, e, part)
			checkHeld(t, e.spill)
			e.Clear() // no Run going: served at once
		}
		run(t, e, part)
		if st := e.Status().Store; st.Cleared != 800 || st.Calls != 100 {
			t.Fatalf("store %+v: want 800 calls cleared, 100 held", st)
		}
		check(t, e)
	})
}

// TestSpillSlotsInTurn: a segment the store holds nothing of is closed
// once no longer appended, a location in it is then an error, and its
// slot comes back only after every other one was used.
func TestSpillSlotsInTurn(t *testing.T) {
	s := newSpillFile(t.TempDir(), DefaultSpillMax)
	defer s.close()
	a, b := bytes.Repeat([]byte("a"), 60), bytes.Repeat([]byte("b"), 60)
	s.segSize = padded(len(a)) // a segment per message
	locA, ok := s.Spill(a)
	if !ok {
		t.Fatal("refused")
	}
	s.Release(locA, len(a)) // still appended to: stays
	if got, err := s.ReadSpill(locA, len(a), nil); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("released message of the current segment: %q %v", got, err)
	}
	prev, ok := s.Spill(b) // ends a's segment: closed
	if !ok {
		t.Fatal("refused")
	}
	if _, err := s.ReadSpill(locA, len(a), nil); !errors.Is(err, errSpillRange) {
		t.Errorf("a location in a closed segment read: %v", err)
	}
	for i := 1; ; i++ {
		loc, ok := s.Spill(b)
		if !ok {
			t.Fatalf("message %d refused", i)
		}
		s.Release(prev, len(b))
		prev = loc
		if loc == locA {
			if i < spillSlots-2 {
				t.Errorf("location %#x back after %d segments, want %d", loc, i, spillSlots-2)
			}
			break
		}
		if i > spillSlots {
			t.Fatal("the first slot never came back")
		}
	}
	if st := s.stats(); st.Reclaimed != spillSlots-1 || st.Held != s.segSize || st.Live != int64(len(b)) {
		t.Errorf("stats %+v: want %d segments reclaimed, one held", st, spillSlots-1)
	}
}

// hookSpill runs before, once, as a reader starts to read, and notes
// the last location spilled and what each read returned.
type hookSpill struct {
	*spillFile
	before  func()
	last    uint32
	readErr error
	read    []byte
	fails   int // reads that failed
}

func (h *hookSpill) Spill(b []byte) (uint32, bool) {
	loc, ok := h.spillFile.Spill(b)
	h.last = loc
	return loc, ok
}

func (h *hookSpill) ReadSpill(loc uint32, n int, buf []byte) ([]byte, error) {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	b, err := h.spillFile.ReadSpill(loc, n, buf)
	h.read, h.readErr = bytes.Clone(b), err
	if err != nil {
		h.fails++
	}
	return b, err
}

// TestSpillStaleRead: a reader looked a call up, then the writer dropped
// it and spilled until the message's location held another message of
// the same length; the reader gets an error, not that message (the
// spill cannot tell, the store's hash check does).
func TestSpillStaleRead(t *testing.T) {
	msg := func(id string) []byte {
		return []byte("INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n" +
			"From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: " + id + "\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	}
	h := &hookSpill{spillFile: newSpillFile(t.TempDir(), DefaultSpillMax)}
	defer h.close()
	h.segSize = padded(len(msg("stale-a000"))) // a segment per message
	st := sipflow.NewStore(sipflow.StoreOptions{Spill: h, MaxCalls: 1})
	meta := sipflow.Meta{Time: time.Unix(1e9, 0), Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060")}
	st.Add(msg("stale-a000"), meta)
	locA := h.last
	h.before = func() { // the writer, between the lookup and the read
		st.Clear()
		for i := 0; i == 0 || h.last != locA; i++ {
			if i > spillSlots {
				t.Fatal("the location never came back")
			}
			st.Add(msg(fmt.Sprintf("stale-b%03d", i)), meta) // evicts the one before
		}
	}
	d, ok := st.Call("stale-a000")
	if !ok {
		t.Fatal("call missing")
	}
	if h.readErr != nil || len(h.read) != len(msg("stale-a000")) || !strings.Contains(string(h.read), "stale-b") {
		t.Fatalf("the reused location read %q, %v: want another message's bytes", h.read, h.readErr)
	}
	if m := d.Messages[0]; m.Raw != "" || !strings.HasPrefix(m.RawError, sipflow.ErrRawGone.Error()) {
		t.Errorf("stale read gave %q, error %q", m.Raw, m.RawError)
	}
}

// TestSpillConcurrentReclaim: readers open calls while the writer
// spills, evicts and gives segments back, their slots reused many times
// over (run with -race); a message read is the one spilled, or, its
// call dropped meanwhile, an error.
func TestSpillConcurrentReclaim(t *testing.T) {
	data := largeCapture(t, 3000, 0)
	e := New(Options{SpillMax: 256 << 10, SpillDir: t.TempDir(), Store: sipflow.StoreOptions{MaxBytes: 32 << 10}})
	defer e.Close()
	e.spill.segSize = 4 << 10 // the slots come round every 2 MiB
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var read, gone int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
				d, _ := e.Call(c.CallID)
				for i, m := range d.Messages {
					switch {
					case strings.HasPrefix(m.RawError, sipflow.ErrRawGone.Error()):
						gone++
					case m.RawError != "" || !strings.Contains(m.Raw, c.CallID):
						t.Errorf("call %s message %d: %q %s", c.CallID, i, m.Raw, m.RawError)
						return
					default:
						read++
					}
				}
			}
		}
	}()
	r, err := pcap.NewReader(bytes.NewReader(data), "pipe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil {
		t.Fatal(err)
	}
	cancel()
	wg.Wait()
	sp := e.Status().Spill
	t.Logf("%d messages read, %d gone meanwhile; spill %+v", read, gone, sp)
	if read == 0 || sp.Reclaimed < 2*spillSlots || sp.Refused != 0 {
		t.Errorf("%d read; spill %+v: want the slots round twice, nothing refused", read, sp)
	}
	checkHeld(t, e.spill)
}
