package rtpstats

import (
	"math/rand/v2"
	"net/netip"
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

// TestFlowKeyEqual: the flow cache's comparison is ==, for keys that
// differ in any one word and for IPv4 against IPv4-mapped IPv6.
func TestFlowKeyEqual(t *testing.T) {
	a := flowKey{epKeyOf(netip.MustParseAddrPort("192.0.2.1:4000")), epKeyOf(netip.MustParseAddrPort("[2001:db8::2]:5000"))}
	keys := []flowKey{a,
		{epKeyOf(netip.MustParseAddrPort("[::ffff:192.0.2.1]:4000")), a.dst}, // mapped: another endpoint
		{epKeyOf(netip.MustParseAddrPort("192.0.2.1:4001")), a.dst},
		{a.dst, a.src},
	}
	for w := range 6 { // one word flipped at a time
		k := a
		words := []*uint64{&k.src.hi, &k.src.lo, &k.src.pv, &k.dst.hi, &k.dst.lo, &k.dst.pv}
		*words[w] ^= 1 << (w * 7)
		keys = append(keys, k)
	}
	for i := range keys {
		for j := range keys {
			if got, want := keys[i].equal(&keys[j]), keys[i] == keys[j]; got != want {
				t.Errorf("keys %d and %d: equal %v, == %v", i, j, got, want)
			}
		}
	}
}
