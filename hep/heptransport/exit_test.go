//go:build linux

package heptransport

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestExitSavesUnacknowledged stops a sender whose collector stopped
// reading: packets written and not acknowledged, the one stuck in a
// write, and those still queued. With a spool they are saved to it and a
// second sender on the same spool (the next run) delivers exactly them,
// in order, to the restarted collector: what the first collector
// acknowledged (counted sent) and what it did not (saved) add up to
// everything. Without a spool they are counted as unacknowledged at exit
// or never sent, and nothing is left behind.
func TestExitSavesUnacknowledged(t *testing.T) {
	for _, spool := range []bool{false, true} {
		t.Run("spool="+strconv.FormatBool(spool), func(t *testing.T) {
			const total, readFirst = 1500, 3000
			sc := startStalled(t, readFirst)
			defer sc.ln.Close()
			addr := "tcp:" + sc.ln.Addr().String()
			dir := t.TempDir()
			// A small bound on the unacknowledged packets leaves some queued,
			// never written, at exit.
			so := SenderOptions{To: []string{addr}, UnackedMaxBytes: 32 << 10, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
			if spool {
				so.SpoolDir = dir
			}
			s, err := NewSender(so)
			if err != nil {
				t.Fatal(err)
			}
			stop := runSender(t, s)
			for i := range total {
				p := sipPacket(i)
				if err := s.Send(&p); err != nil {
					t.Fatal(err)
				}
			}
			c, ok := <-sc.conn
			if !ok {
				t.Fatal("the stalled collector did not read its first bytes")
			}
			defer c.Close()
			prev := -1
			waitFor(t, "a stalled stream", func() bool {
				n := unread(t, c)
				stable := n == prev
				prev = n
				time.Sleep(20 * time.Millisecond)
				return stable && s.Stats()[0].Unacked > 0
			})
			// The drain at exit: bounded, and it times out here.
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			err = s.Flush(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Flush on a stalled collector: %v", err)
			}
			stop()
			st := s.Stats()[0]
			left := total - st.Sent
			if st.Sent == 0 || left == 0 || st.Unacked != 0 || st.Queued != 0 || st.Dropped != 0 {
				t.Fatalf("stopped sender: %+v", st)
			}
			if !spool {
				if st.Unconfirmed == 0 || st.UnsentAtExit == 0 || st.Unconfirmed+st.UnsentAtExit != left || st.SavedAtExit != 0 {
					t.Fatalf("%d not acknowledged at exit, counted as unconfirmed %d + never sent %d: %+v", left, st.Unconfirmed, st.UnsentAtExit, st)
				}
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("no spool asked for, found %v", ents)
				}
				t.Logf("sent %d, unacknowledged at exit %d, never sent %d", st.Sent, st.Unconfirmed, st.UnsentAtExit)
				return
			}
			// Saved: what was written or queued. Packets sent before the
			// connection was up went to the spool at once and may still
			// be there, behind the saved ones.
			if st.SavedAtExit == 0 || st.SavedAtExit > left || st.Unconfirmed != 0 || st.UnsentAtExit != 0 || st.SpoolBytes == 0 {
				t.Fatalf("%d not acknowledged at exit, saved %d: %+v", left, st.SavedAtExit, st)
			}
			// The collector dies with what it never read; it comes back
			// on its port and a new run sends the spool.
			_ = c.SetLinger(0)
			c.Close()
			sc.ln.Close()
			c2 := startCollector(t, []string{addr}, ListenOptions{DedupWindow: -1})
			s2, err := NewSender(so)
			if err != nil {
				t.Fatal(err)
			}
			if st2 := s2.Stats()[0]; st2.SpoolBytes != st.SpoolBytes {
				t.Fatalf("the next run finds %d spool bytes, %d were left", st2.SpoolBytes, st.SpoolBytes)
			}
			runSender(t, s2)
			ctx, cancel = context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := s2.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the saved packets", func() bool { return uint64(c2.count()) >= left })
			time.Sleep(50 * time.Millisecond) // anything repeated would come now
			got := c2.snapshot()
			if uint64(len(got)) != left {
				t.Fatalf("the next run delivered %d packets, %d were not acknowledged", len(got), left)
			}
			for k, g := range got {
				if n := seqOf(t, g.raw); n != int(st.Sent)+k {
					t.Fatalf("the next run's packet %d has sequence %d, want %d", k, n, int(st.Sent)+k)
				}
			}
			if st2 := s2.Stats()[0]; st2.Sent != left || st2.Unspooled != left || st2.SpoolBytes != 0 {
				t.Fatalf("next run: %+v", st2)
			}
			read := frames(t, sc.read)
			t.Logf("first run: collector read %d, acknowledged %d, saved %d at exit; the next run delivered %d", len(read), st.Sent, st.SavedAtExit, len(got))
		})
	}
}

// TestSpoolSaveFront: at exit the spool drops what was read back, puts
// the saved packets in front of the rest, within its bound, and the next
// open reads exactly that, in order.
func TestSpoolSaveFront(t *testing.T) {
	dir := t.TempDir()
	a := Addr{TCP, "127.0.0.1:9061"}
	rec := func(s string) []byte { return []byte(s) }
	sp, err := openSpool(dir, a, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"r1", "r2", "r3"} {
		if err := sp.append(rec(r)); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := sp.next(nil); err != nil || string(b) != "r1" {
		t.Fatalf("next: %q %v", b, err)
	}
	n, err := sp.saveFront([][]byte{rec("u1"), rec("q1")})
	if err != nil || n != 2 {
		t.Fatalf("saveFront: %d %v", n, err)
	}
	readAll := func(max int64) []string {
		t.Helper()
		sp, err := openSpool(dir, a, max)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for sp.backlog() > 0 {
			b, err := sp.next(nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		sp.close()
		return out
	}
	if got := readAll(1024); len(got) != 4 || got[0] != "u1" || got[1] != "q1" || got[2] != "r2" || got[3] != "r3" {
		t.Fatalf("next run reads %q", got)
	}
	// Read back to the end: the spool was truncated; a bound that takes
	// two of three saved packets saves the oldest two.
	sp, err = openSpool(dir, a, 3*(spoolHdrLen+2))
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.append(rec("r4")); err != nil {
		t.Fatal(err)
	}
	if n, err := sp.saveFront([][]byte{rec("a1"), rec("a2"), rec("a3")}); err != nil || n != 2 {
		t.Fatalf("saveFront within the bound: %d %v", n, err)
	}
	if got := readAll(1024); len(got) != 3 || got[0] != "a1" || got[1] != "a2" || got[2] != "r4" {
		t.Fatalf("next run reads %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != filepath.Base(spoolName(a)) {
		t.Fatalf("spool dir holds %v", ents)
	}
}
