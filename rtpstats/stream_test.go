package rtpstats

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
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

// TestFlowOwnerLeaves: a flow lives inside its first stream; when that
// stream ends while others of the 5-tuple go on, the flow moves to one
// of them and their packets still find their streams (through the map
// and through the cache), and the table empties when the last one ends.
func TestFlowOwnerLeaves(t *testing.T) {
	tr := NewTracker(Options{})
	send := func(ssrc uint32, seq uint16, at time.Duration) {
		t.Helper()
		p := rtpBytes(t, synth{seq: seq, ts: uint32(seq) * 160, pt: 8, ssrc: ssrc})
		if err := tr.AddRTP(p, Meta{Time: tBase.Add(at), Src: tSrc, Dst: tDst}); err != nil {
			t.Fatal(err)
		}
	}
	send(1, 0, 0) // the owner
	send(2, 0, 10*time.Second)
	send(3, 0, 10*time.Second)
	k := flowKey{epKeyOf(tSrc), epKeyOf(tDst)}
	if f := tr.flows[k]; f == nil || f.find(1) == nil || f != &f.find(1).own {
		t.Fatalf("flow %+v: not in the first stream", f)
	}
	if got := tr.ExpireBefore(tBase.Add(5 * time.Second)); len(got) != 1 || got[0].SSRC != 1 {
		t.Fatalf("expired %+v, want SSRC 1", got)
	}
	f := tr.flows[k]
	if f == nil || f.find(1) != nil || f.find(2) == nil || f.find(3) == nil || f != &f.find(2).own && f != &f.find(3).own {
		t.Fatalf("after the owner left: flow %+v", f)
	}
	if tr.flowOf(k) != f {
		t.Fatal("the cache still names the old flow")
	}
	for seq := range uint16(3) {
		send(2, seq+1, 11*time.Second)
		send(3, seq+1, 11*time.Second)
		tr.fcache[k.slot()] = nil // every other packet through the map
	}
	if tr.Len() != 2 {
		t.Fatalf("%d live streams, want 2", tr.Len())
	}
	for _, r := range tr.Streams() {
		if want := map[uint32]int{1: 1, 2: 4, 3: 4}[r.SSRC]; r.Packets != want {
			t.Errorf("SSRC %d: %d packets, want %d", r.SSRC, r.Packets, want)
		}
	}
	tr.ExpireBefore(tBase.Add(time.Minute))
	if tr.Len() != 0 || len(tr.flows) != 0 {
		t.Fatalf("%d streams, %d flows left", tr.Len(), len(tr.flows))
	}
	if c := tr.fcache[k.slot()]; c != nil {
		t.Fatal("the cache keeps a dropped flow")
	}
}
