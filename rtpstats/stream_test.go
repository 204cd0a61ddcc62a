package rtpstats

import (
	"math/rand/v2"
	"testing"
)

// flushLossBySlot is flushLoss as it was written first, one slot at a
// time: the reference the run-length walk must equal.
func flushLossBySlot(s *stream) lossPattern {
	l := s.loss
	for x := s.maxExt - seqWindow + 1; x <= s.maxExt; x++ {
		if x < s.firstExt() {
			continue
		}
		w, m := s.bit(x)
		if s.window[w]&m != 0 {
			l.received(1)
		} else {
			l.lostN(1)
		}
	}
	return l
}

// TestFlushLossRuns: the run-length walk of the window gives the pattern
// the slot-by-slot one gives, for windows of every density, ranges that
// start inside the window or wrap below zero, and a pattern already
// carrying history.
func TestFlushLossRuns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		s := newStream(streamKey{}, []int{1, 2, 16, 100}[i%4])
		s.ws.started = true
		s.maxExt = r.Int64N(5000) - 1000
		s.minExt = s.maxExt - r.Int64N(2*seqWindow)
		density := r.Float64()
		for w := range s.window {
			for b := range 64 {
				if r.Float64() < density {
					s.window[w] |= 1 << b
				}
			}
		}
		if i%3 == 0 { // some history before the window
			s.loss.received(r.IntN(40))
			s.loss.lostN(r.IntN(5))
			s.loss.received(r.IntN(3))
		}
		if got, want := s.flushLoss(), flushLossBySlot(s); got != want {
			t.Fatalf("case %d (max %d, min %d, gmin %d): runs %+v, slots %+v", i, s.maxExt, s.minExt, s.loss.gmin, got, want)
		}
	}
}
