package rtpstats

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestCallStreamsMatchesStreams is differential: for random mixes of
// announcements (exact, re-announced by another call, private ones for
// the NAT guess) and streams starting before and after them, CallStreams
// and AppendCallBrief of every call hold exactly the streams Streams labels
// with that call (CallID, or among CallIDs), in the same order; and ChangedCalls names every call
// whose streams changed.
func TestCallStreamsMatchesStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		tr := NewTracker(Options{})
		ep := func() netip.AddrPort {
			a := netip.AddrFrom4([4]byte{byte([]int{10, 192, 203}[rng.IntN(3)]), 0, 0, byte(1 + rng.IntN(4))})
			return netip.AddrPortFrom(a, uint16(4000+2*rng.IntN(5)))
		}
		calls := []string{"a", "b", "c", "d"}
		at := time.Duration(0)
		for step := 0; step < 40; step++ {
			at += time.Duration(rng.IntN(3000)) * time.Millisecond
			if rng.IntN(3) == 0 {
				tr.SetCallIDAt(ep(), calls[rng.IntN(len(calls))], tBase.Add(at))
				continue
			}
			sendStream(t, tr, ep(), ep(), at, uint32(1+rng.IntN(6)), 0, 1+rng.IntN(3))
		}
		changed := tr.ChangedCalls(nil)
		all := tr.Streams()
		for _, id := range calls {
			var want []StreamReport
			for _, r := range all {
				// A stream several calls negotiated at both ends (B2BUA
				// media bypass) belongs to each; an ambiguous link to its
				// best guess only.
				if r.CallID == id || r.Link != LinkAmbiguous && slices.Contains(r.CallIDs, id) {
					want = append(want, r)
				}
			}
			got, brief := tr.CallStreams(id), tr.AppendCallBrief(nil, id)
			if len(got) != len(want) || len(brief) != len(want) {
				t.Fatalf("round %d call %s: CallStreams %d AppendCallBrief %d, Streams says %d", round, id, len(got), len(brief), len(want))
			}
			for i := range want {
				w, g, b := want[i], got[i], brief[i]
				key := func(r StreamReport) string {
					return fmt.Sprint(r.SSRC, r.Src, r.Dst, r.Link, r.SDPEndpoint, r.Packets, r.Lost, r.MOS, r.MaxJitterMs)
				}
				if key(g) != key(w) || key(b) != key(w) || len(g.Series) != len(w.Series) || b.Series != nil {
					t.Fatalf("round %d call %s stream %d:\n got   %s\n brief %s\n want  %s", round, id, i, key(g), key(b), key(w))
				}
			}
			if len(want) > 0 && !slices.Contains(changed, id) {
				t.Errorf("round %d: call %s has streams but ChangedCalls %v misses it", round, id, changed)
			}
		}
		if again := tr.ChangedCalls(nil); len(again) != 0 {
			t.Errorf("round %d: ChangedCalls with nothing new = %v", round, again)
		}
	}
}

// TestCallStreamsVisits: finding the streams of one call among many
// examines that call's streams, not all of them.
func TestCallStreamsVisits(t *testing.T) {
	tr := NewTracker(Options{})
	const n = 200
	for i := 0; i < n; i++ {
		a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 4000)
		b := netip.AddrPortFrom(netip.MustParseAddr("10.9.9.9"), uint16(10000+2*i))
		id := fmt.Sprint("call", i)
		tr.SetCallIDAt(a, id, tBase)
		tr.SetCallIDAt(b, id, tBase)
		sendStream(t, tr, a, b, 0, uint32(2*i+1), 0, 2)
		sendStream(t, tr, b, a, 0, uint32(2*i+2), 0, 2)
	}
	v0 := tr.Visits()
	for i := 0; i < n; i++ {
		if got := tr.CallStreams(fmt.Sprint("call", i)); len(got) != 2 {
			t.Fatalf("call %d: %d streams, want 2", i, len(got))
		}
	}
	// Each stream is listed under both endpoints of its call.
	if v := tr.Visits() - v0; v > 4*n {
		t.Errorf("%d calls of 2 streams visited %d streams, want at most %d", n, v, 4*n)
	}
	tr.ChangedCalls(nil)
	sendStream(t, tr, netip.MustParseAddrPort("10.1.0.7:4000"), netip.MustParseAddrPort("10.9.9.9:10014"), time.Second, 15, 0, 1)
	if got := tr.ChangedCalls(nil); !slices.Equal(got, []string{"call7"}) {
		t.Errorf("ChangedCalls after one packet of call7 = %v", got)
	}
}

// A call's endpoints are listed and forgotten without an allocation once
// the index has lists to spare: a SIP-only capture does both for every
// call.
func TestCallIndexAnnounceNoAlloc(t *testing.T) {
	x := newCallIndex()
	ids := []string{"call-a", "call-b", "call-c"}
	eps := []netip.AddrPort{netip.MustParseAddrPort("10.10.0.1:40000"), netip.MustParseAddrPort("10.0.0.1:10000"), netip.MustParseAddrPort("[2001:db8::1]:5004")}
	cycle := func() {
		for _, id := range ids {
			for _, ep := range eps {
				x.announce(id, ep)
			}
		}
		for _, id := range ids {
			for _, ep := range eps {
				x.unannounce(id, ep)
			}
		}
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("allocations per cycle = %v", n)
	}
	if len(x.callEPs) != 0 {
		t.Errorf("%d calls still indexed", len(x.callEPs))
	}
	x.announce("call-a", eps[0])
	x.announce("call-a", eps[1])
	x.announce("call-a", eps[0])
	x.announce("call-a", eps[2])
	x.unannounce("call-a", eps[1])
	if got := x.callEPs["call-a"].eps; !slices.Equal(got, []netip.AddrPort{eps[0], eps[2]}) {
		t.Errorf("call-a lists %v", got)
	}
}
