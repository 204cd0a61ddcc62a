package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/voiptool/voiptool/internal/testpeer"
	"github.com/voiptool/voiptool/sipflow"
)

// spillFiles are fixtures whose SIP travels every way (UDP, fragments,
// TCP, WebSocket, SCTP, HEP): without Options.Files no source is
// re-readable, as on a live capture or stdin.
func spillFiles(t *testing.T) []string {
	var files []string
	for _, f := range rawFixtures {
		files = append(files, filepath.Join("..", "..", "testdata", "pcaps", f))
	}
	for _, f := range rawCorpus {
		if p := corpusOrEmpty(t, f); p != "" {
			files = append(files, p)
		}
	}
	return files
}

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
	for _, f := range spillFiles(t) {
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
			if e.spill.f != nil {
				t.Error("spill file not closed")
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
	if sp.Bytes > 2000 {
		t.Errorf("%d bytes spilled past the 2000 bound", sp.Bytes)
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
	if s.flushed == 0 || len(s.buf) == 0 {
		t.Fatalf("flushed %d, buffered %d: want one of each", s.flushed, len(s.buf))
	}
	// The same (unlinked) file, read-only: the next write fails.
	ro, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", s.f.Fd()))
	if err != nil {
		t.Skipf("no /proc to reopen the spill file read-only: %v", err)
	}
	w := s.f
	defer w.Close()
	s.f = ro
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
