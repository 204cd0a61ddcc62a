package rtpstats

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/internal/pcapgen"
)

// TestLossGroundTruth reads the generated capture whose dropped sequence
// numbers are known (internal/pcapgen scn_loss.go): lost must equal the
// drop list's count inside each stream's range exactly, lost_tshark must
// equal tshark's lost column (compareWithTshark checks it with every
// other tshark column), and the E-model must rate the real figure.
func TestLossGroundTruth(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	var sc pcapgen.Scenario
	for _, s := range pcapgen.Scenarios() {
		if s.Name == "rtp-loss-truth" {
			sc = s
		}
	}
	f := filepath.Join("..", "testdata", "pcaps", sc.File)
	if _, err := os.Stat(f); err != nil {
		t.Skipf("generated capture not present: %v", err)
	}
	n, got := compareWithTshark(t, f, nil)
	if n != len(sc.Want.Streams) {
		t.Fatalf("%d streams compared, scenario has %d", n, len(sc.Want.Streams))
	}
	for _, w := range sc.Want.Streams {
		r, ok := got[streamKey{w.SSRC, w.Src, w.Dst}]
		if !ok {
			t.Errorf("%#08x: not tracked", w.SSRC)
			continue
		}
		span := w.Packets - w.Duplicates + w.Missing
		if r.Lost != w.Missing || r.Duplicates != w.Duplicates || r.Late != 0 {
			t.Errorf("%#08x: lost/dups/late = %d/%d/%d, want %d/%d/0 (%s)", w.SSRC, r.Lost, r.Duplicates, r.Late, w.Missing, w.Duplicates, w.Notes)
		}
		near(t, "lost_pct", r.LostPct, float64(w.Missing)*100/float64(span), 1e-9)
		hist := 0
		for i, c := range r.LossHistogram {
			hist += c * (i + 1)
		}
		if hist != w.Missing {
			t.Errorf("%#08x: histogram %v sums to %d lost, want %d", w.SSRC, r.LossHistogram, hist, w.Missing)
		}
		if q := r.Quality; q.Ppl != r.LostPct {
			t.Errorf("%#08x: E-model rated %.3f%% loss, want the real %.3f%%", w.SSRC, q.Ppl, r.LostPct)
		}
		t.Logf("%#08x: lost %d (tshark %d), dropped %d in all: %s", w.SSRC, r.Lost, r.LostTshark, w.Dropped, w.Notes)
	}
}

// TestLateBeyondWindow: a packet delayed past the window is counted as
// late and stays lost; memory does not grow with the delay.
func TestLateBeyondWindow(t *testing.T) {
	ps := regular(0, seqWindow+200)
	late := ps[10]
	ps = append(ps[:10], ps[11:]...)
	late.at = ps[len(ps)-1].at + 1
	ps = append(ps, late)
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	if r.Lost != 1 || r.Late != 1 || r.Duplicates != 0 {
		t.Errorf("lost/late/dups = %d/%d/%d, want 1/1/0", r.Lost, r.Late, r.Duplicates)
	}
	// tshark's expected ends at the last packet's sequence number, so a
	// late last packet makes its lost wildly negative: the reason lost
	// no longer follows it.
	if want := 11 - len(ps); r.LostTshark != want {
		t.Errorf("lost_tshark %d, want %d", r.LostTshark, want)
	}
}

// TestReorderBeforeFirst: a packet older than the first one to arrive
// widens the stream's range downwards; the slots between become losses
// if they never come, and are not losses when they do.
func TestReorderBeforeFirst(t *testing.T) {
	ps := regular(100, 20)
	ps[0], ps[3] = ps[3], ps[0] // seq 103 first, 100 fourth
	ps[0].at, ps[3].at = ps[3].at, ps[0].at
	ps = drop(ps, 102) // 101 arrives, 102 never
	tr := NewTracker(Options{})
	feed(t, tr, ps)
	r := one(t, tr)
	if r.Lost != 1 || r.Packets != 19 {
		t.Errorf("lost/packets = %d/%d, want 1/19", r.Lost, r.Packets)
	}
	near(t, "lost_pct", r.LostPct, 100.0/20, 1e-9)
}
