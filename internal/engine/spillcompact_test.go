package engine

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiptool/voiptool/sipflow"
)

// longDialog feeds a store what a production box sees: a dialog
// refreshed all the time under one Call-ID (never evicted: always the
// most recently active) beside short calls that come and go (evicted at
// the store's call limit). It returns the long dialog's messages as
// added, in order.
type longDialog struct {
	st   *sipflow.Store
	now  time.Time
	long []string
	next int // short calls made
}

const longID = "long@10.0.0.9"

func (g *longDialog) add(msg string) {
	g.now = g.now.Add(time.Millisecond)
	meta := sipflow.Meta{Time: g.now, Src: netip.MustParseAddrPort("10.0.0.9:5060"), Dst: netip.MustParseAddrPort("10.0.0.1:5060")}
	if g.st.Add([]byte(msg), meta) == nil {
		panic("not SIP: " + msg)
	}
}

// step adds an in-dialog keepalive (OPTIONS, after the INVITE that
// opens the long call) and its 200 to the long call, and short complete
// calls. (A REGISTER refreshed under one Call-ID pins segments the same
// way, but the store evicts it as a call closed long ago, and makes a
// new one: the long call keeps its messages for the test to compare.)
func (g *longDialog) step(short int) {
	n := len(g.long) / 2
	method := "OPTIONS"
	if n == 0 {
		method = "INVITE"
	}
	hdr := fmt.Sprintf("Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKlong%d\r\nFrom: <sip:9@example.com>;tag=r9\r\nTo: <sip:8@example.com>;tag=l8\r\n"+
		"Call-ID: "+longID+"\r\nCSeq: %d %s\r\nContact: <sip:9@10.0.0.9:5060>\r\nSession-Expires: 1800;refresher=uac\r\nContent-Length: 0\r\n\r\n", n, n+1, method)
	msgs := []string{method + " sip:8@10.0.0.8:5060 SIP/2.0\r\n" + hdr, "SIP/2.0 200 OK\r\n" + hdr}
	if n == 0 {
		msgs = append(msgs, "ACK sip:8@10.0.0.8:5060 SIP/2.0\r\n"+strings.Replace(strings.Replace(hdr, "1 INVITE", "1 ACK", 1), "long0", "ack0", 1))
	}
	for _, m := range msgs {
		g.add(m)
		g.long = append(g.long, m)
	}
	for range short {
		k := g.next
		g.next++
		id := fmt.Sprintf("short-%d@10.0.0.2", k)
		dlg := func(first, method string, cseq int, totag string) string {
			return first + fmt.Sprintf("Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKs%d%s\r\nFrom: <sip:2@example.com>;tag=a%d\r\nTo: <sip:3@example.com>%s\r\n"+
				"Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:2@10.0.0.2:5060>\r\nUser-Agent: test phone 1.0\r\nContent-Length: 0\r\n\r\n", k, method, k, totag, id, cseq, method)
		}
		for _, m := range []string{
			dlg("INVITE sip:3@example.com SIP/2.0\r\n", "INVITE", 1, ""),
			dlg("SIP/2.0 200 OK\r\n", "INVITE", 1, ";tag=b"),
			dlg("ACK sip:3@10.0.0.3 SIP/2.0\r\n", "ACK", 1, ";tag=b"),
			dlg("BYE sip:3@10.0.0.3 SIP/2.0\r\n", "BYE", 2, ";tag=b"),
			dlg("SIP/2.0 200 OK\r\n", "BYE", 2, ";tag=b"),
		} {
			g.add(m)
		}
	}
}

// checkLong checks that the store holds the long dialog with every
// message byte for byte.
func (g *longDialog) checkLong(t *testing.T) {
	t.Helper()
	checkLong(t, g.st, g.long)
}

// checkLong checks that st holds the long dialog with its first
// messages as in want.
func checkLong(t *testing.T, st *sipflow.Store, want []string) {
	t.Helper()
	d, ok := st.Call(longID)
	if !ok {
		t.Fatal("the long dialog was evicted")
	}
	if len(d.Messages) != len(want) {
		t.Fatalf("long dialog: %d messages, want %d", len(d.Messages), len(want))
	}
	for i, m := range d.Messages {
		if m.RawError != "" || m.Raw != want[i] {
			t.Fatalf("long dialog message %d: %q %s, want %q", i, m.Raw, m.RawError, want[i])
		}
	}
}

// TestSpillCompacts: a long-lived dialog has a message in every segment
// beside short calls that the store evicts; without the compaction no
// segment ever empties, the spill reaches its bound and refuses. With
// it, the sparse segments are emptied into the old tail: the disk held
// stays within three segments of the live bytes, nothing is refused,
// and the long dialog reads back whole.
func TestSpillCompacts(t *testing.T) {
	const bound = 512 << 10 // 8 segments of 64 KiB
	sp := newSpillFile(t.TempDir(), bound)
	defer sp.close()
	g := &longDialog{st: sipflow.NewStore(sipflow.StoreOptions{Spill: sp, MaxCalls: 20}), now: time.Unix(1e9, 0)}
	over := int64(0) // the most disk held beyond the live bytes
	for i := range 400 {
		g.step(5)
		st := sp.stats()
		over = max(over, st.Held-st.Live)
		// The live bytes, the two tails and the segment just filled
		// (compacted when the next one opens).
		if st.Held > st.Live+3*sp.segSize || st.Refused != 0 {
			t.Fatalf("step %d: spill %+v: held beyond the live bytes and three segments", i, st)
		}
	}
	st := sp.stats()
	t.Logf("spill %+v; segment %d, at most %d held beyond the live bytes", st, sp.segSize, over)
	if st.Bytes < 3*bound {
		t.Fatalf("%d bytes spilled: the run does not go round the bound", st.Bytes)
	}
	if st.Refused != 0 || st.Errors != 0 || st.MoveFailed != 0 {
		t.Errorf("spill %+v: something refused or failed", st)
	}
	if st.Compactions == 0 || st.Compacted == 0 || st.Moved == 0 || st.MovedBytes == 0 || st.Compacted > st.Reclaimed {
		t.Errorf("spill %+v: want segments compacted and counted", st)
	}
	// The long dialog is most of what is held.
	long := int64(0)
	for _, m := range g.long {
		long += int64(len(m))
	}
	if st.Live < long || st.Held > long+2*sp.segSize {
		t.Errorf("spill holds %d bytes of disk for %d live, the long dialog %d", st.Held, st.Live, long)
	}
	checkHeld(t, sp)
	g.checkLong(t)
	if g.st.Stats().Evicted < 1000 {
		t.Errorf("store %+v: the short calls were not evicted", g.st.Stats())
	}
}

// TestSpillCompactConcurrentReaders: readers open the long dialog while
// the writer moves its messages segment after segment (run with -race):
// a message moved between a reader's lookup and its read is read again
// where it went, never reported gone.
func TestSpillCompactConcurrentReaders(t *testing.T) {
	sp := newSpillFile(t.TempDir(), 256<<10)
	defer sp.close()
	sp.segSize = 8 << 10 // compactions every few steps
	g := &longDialog{st: sipflow.NewStore(sipflow.StoreOptions{Spill: sp, MaxCalls: 8}), now: time.Unix(1e9, 0)}
	g.step(0)
	var mu sync.Mutex // g.long, read by the readers
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				want := len(g.long)
				first := g.long[:want:want]
				mu.Unlock()
				d, ok := g.st.Call(longID)
				if !ok {
					t.Error("the long dialog was evicted")
					return
				}
				for i, m := range d.Messages {
					if m.RawError != "" || (i < want && m.Raw != first[i]) {
						t.Errorf("message %d of %d: %q %s", i, len(d.Messages), m.Raw, m.RawError)
						return
					}
				}
				reads.Add(1)
			}
		}()
	}
	for range 300 {
		mu.Lock()
		g.step(2)
		mu.Unlock()
		runtime.Gosched() // let the readers in
	}
	for reads.Load() < 10 && !t.Failed() {
		runtime.Gosched()
	}
	close(stop)
	wg.Wait()
	st := sp.stats()
	t.Logf("spill %+v; %d reads", st, reads.Load())
	if st.Compacted < 10 || st.Refused != 0 {
		t.Errorf("spill %+v: want many segments compacted under the readers", st)
	}
	g.checkLong(t)
}

// TestSpillCompactMovedRead: a reader looked the long dialog up, then
// the writer moved its messages and closed the segment they were in;
// the reader's first read fails and its retry reads each message where
// it went.
func TestSpillCompactMovedRead(t *testing.T) {
	h := &hookSpill{spillFile: newSpillFile(t.TempDir(), 512<<10)}
	defer h.close()
	g := &longDialog{st: sipflow.NewStore(sipflow.StoreOptions{Spill: h, MaxCalls: 20}), now: time.Unix(1e9, 0)}
	g.step(0)
	first := h.last >> slotBits
	h.before = func() { // the writer, between the lookup and the read
		for i := 0; h.segs[first] != nil; i++ {
			if i > 10000 {
				t.Fatal("the first segment never compacted")
			}
			g.step(5)
		}
	}
	checkLong(t, g.st, g.long[:len(g.long):len(g.long)])
	if h.fails == 0 {
		t.Error("no read failed: the retry was not tried")
	}
	if st := h.stats(); st.Compacted == 0 || st.Moved == 0 {
		t.Errorf("spill %+v: nothing compacted", st)
	}
}

// failSpill makes the spill fail at the first compaction, before any
// message moved: the segment the moves go to cannot be created (a disk
// full, a directory gone).
type failSpill struct {
	*spillFile
	t    *testing.T
	done bool
}

func (f *failSpill) Spill(b []byte) (uint32, bool) {
	loc, ok := f.spillFile.Spill(b)
	if ok && !f.done && f.Compacting() {
		f.done = true
		if f.old != 0 {
			f.t.Fatal("an old segment already open")
		}
		f.dir = filepath.Join(f.t.TempDir(), "gone")
	}
	return loc, ok
}

// TestSpillCompactFails: a move that fails (the write, a disk full)
// leaves the message where it was, still readable, its segment held,
// and is counted.
func TestSpillCompactFails(t *testing.T) {
	f := &failSpill{spillFile: newSpillFile(t.TempDir(), 2<<20), t: t}
	defer f.close()
	g := &longDialog{st: sipflow.NewStore(sipflow.StoreOptions{Spill: f, MaxCalls: 20}), now: time.Unix(1e9, 0)}
	for i := 0; !f.done; i++ {
		if i > 10000 {
			t.Fatal("no compaction")
		}
		g.step(5)
	}
	st := f.stats()
	t.Logf("spill %+v", st)
	if st.MoveFailed != 1 || st.Errors != 1 || st.Moved != 0 || st.Compacted != 0 {
		t.Errorf("spill %+v: want one move failed, one error, nothing moved", st)
	}
	if f.Compacting() {
		t.Error("segments still marked after the walk")
	}
	g.checkLong(t) // from their segments, and the one just spilled from the buffer
	g.step(1)      // refused now: kept in memory
	if st := f.stats(); st.Refused == 0 {
		t.Errorf("spill %+v: nothing refused after the failure", st)
	}
	g.checkLong(t)
}

// TestSpillCompactSummary: the summary line says what the compaction
// did, beside the other spill counters.
func TestSpillCompactSummary(t *testing.T) {
	e := New(Options{SpillMax: 512 << 10, SpillDir: t.TempDir(), Store: sipflow.StoreOptions{MaxCalls: 20}})
	defer e.Close()
	g := &longDialog{st: e.Store(), now: time.Unix(1e9, 0)} // no Run going: the test is the writer
	for range 200 {
		g.step(5)
	}
	sp := e.Status().Spill
	want := fmt.Sprintf("; %d compactions moved %d messages (%d bytes) out of %d sparse segments", sp.Compactions, sp.Moved, sp.MovedBytes, sp.Compacted)
	if line := e.Status().String(); sp.Compacted == 0 || !strings.Contains(line, want) {
		t.Errorf("summary %q: want %q", line, want)
	}
	g.checkLong(t)
}

// timedSpill times the store's compaction walks: from the first
// message it asks about to the end.
type timedSpill struct {
	*spillFile
	walking bool
	start   time.Time
	walks   int
	took    time.Duration
}

func (s *timedSpill) Moves(loc uint32) bool {
	if !s.walking {
		s.walking, s.start = true, time.Now()
	}
	return s.spillFile.Moves(loc)
}

func (s *timedSpill) Compacted() {
	if s.walking {
		s.walking = false
		s.walks++
		s.took += time.Since(s.start)
	}
	s.spillFile.Compacted()
}

// BenchmarkSpillCompactWalk is the cost of the compaction with 10 000
// calls held (the walk is over them all): per compaction, and per
// message spilled, beside the long dialog and short calls.
func BenchmarkSpillCompactWalk(b *testing.B) {
	sp := &timedSpill{spillFile: newSpillFile(b.TempDir(), 64<<20)}
	defer sp.close()
	g := &longDialog{st: sipflow.NewStore(sipflow.StoreOptions{Spill: sp, MaxCalls: 10000}), now: time.Unix(1e9, 0)}
	for range 3000 { // 10 000 calls held
		g.step(5)
	}
	b.ResetTimer()
	for range b.N {
		g.step(5)
	}
	st := sp.stats()
	if sp.walks > 0 {
		b.ReportMetric(float64(sp.took.Nanoseconds())/float64(sp.walks), "ns/compaction")
	}
	b.ReportMetric(float64(sp.took.Nanoseconds())/float64(b.N*27), "compaction-ns/msg")
	b.ReportMetric(float64(st.Compactions), "compactions")
	if st.Compactions > 0 {
		b.ReportMetric(float64(st.Moved)/float64(st.Compactions), "moves/compaction")
	}
}
