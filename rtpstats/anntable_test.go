package rtpstats

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// checkTables fails t unless the Tracker's announcement table, NAT
// candidates and call index agree with each other: every live
// announcement is found by its endpoint and the index holds nothing
// else; every NAT candidate is a live announcement of its port, listed
// once and flagged natListed, and no other is flagged; each call lists
// exactly the endpoints with streams that it claims (callIndex), once.
// It holds between calls of the Tracker's methods.
func checkTables(t testing.TB, tr *Tracker) {
	t.Helper()
	x := &tr.anns
	live := 0
	for i := range x.slab {
		a := &x.slab[i]
		if !a.live {
			continue
		}
		live++
		if s := x.slotOf(a.ep); s != int32(i) {
			t.Fatalf("announcement of %v in slot %d is found in slot %d", a.ep, i, s)
		}
	}
	// Every live one is found in its slot above; the index holds no
	// other entry when it counts as many (slotindex tests its count).
	if live != x.len() || live+len(x.free) != len(x.slab) {
		t.Fatalf("%d live announcements, %d indexed, %d free of %d slots", live, x.len(), len(x.free), len(x.slab))
	}
	for _, s := range x.free {
		if x.slab[s].live {
			t.Fatalf("slot %d is free and live", s)
		}
	}
	listed := make(map[annRef]int)
	for i, l := range tr.natPorts.lists {
		p, cs := l.port, l.cs
		if tr.natPorts.byPort[p] != int32(i+1) {
			t.Fatalf("port %d's list is not found by its port", p)
		}
		if len(cs) == 0 || len(cs) > maxNATPerPort {
			t.Fatalf("port %d lists %d NAT candidates", p, len(cs))
		}
		for _, c := range cs {
			a := x.deref(c)
			if a == nil {
				t.Fatalf("port %d lists a forgotten announcement", p)
			}
			if a.ep.Port() != p || !a.natListed || !natCandidate(a.ep.Addr()) {
				t.Fatalf("port %d lists %v (listed %v)", p, a.ep, a.natListed)
			}
			listed[c]++
		}
	}
	if tr.natPorts.byPort != nil {
		n := 0
		for _, i := range tr.natPorts.byPort {
			if i != 0 {
				n++
			}
		}
		if n != tr.natPorts.len() {
			t.Fatalf("%d ports indexed, %d lists", n, tr.natPorts.len())
		}
	}
	x.each(func(s int32) {
		if a, n := x.at(s), listed[x.ref(s)]; n > 1 || a.natListed != (n == 1) {
			t.Fatalf("%v is listed %d times as a NAT candidate, flagged %v", a.ep, n, a.natListed)
		}
	})
	want := make(map[string][]netip.AddrPort)
	claim := func(id string, ep netip.AddrPort) {
		if !slices.Contains(want[id], ep) {
			want[id] = append(want[id], ep)
		}
	}
	for ep, ss := range tr.idx.byEP {
		if len(ss) == 0 {
			t.Fatalf("%v is indexed with no stream", ep)
		}
		if a := x.lookup(ep); a != nil {
			for _, e := range a.hist {
				claim(e.callID, ep)
			}
		}
		for _, s := range ss {
			if s.exactEP == ep || s.natEP == ep {
				claim(s.callID, ep)
			}
		}
	}
	if len(want) != len(tr.idx.callEPs) {
		t.Fatalf("%d calls indexed, %d claim endpoints with streams", len(tr.idx.callEPs), len(want))
	}
	for id, l := range tr.idx.callEPs {
		got := slices.Clone(l.eps)
		w := want[id]
		cmpEP := func(a, b netip.AddrPort) int { return a.Compare(b) }
		slices.SortFunc(got, cmpEP)
		slices.SortFunc(w, cmpEP)
		if !slices.Equal(got, w) {
			t.Fatalf("call %q lists %v, claims %v", id, l.eps, want[id])
		}
	}
}

// TestAnnTable: the table against a map through adds and deletes
// (backward-shift deletion, slot reuse, growth), IPv4 and IPv6.
func TestAnnTable(t *testing.T) {
	var x annTable
	model := make(map[netip.AddrPort]int32)
	rng := rand.New(rand.NewPCG(1, 2))
	epOf := func(i int) netip.AddrPort {
		if i%3 == 0 {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}), uint16(i>>8))
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 4000)
	}
	for step := range 200_000 {
		ep := epOf(rng.IntN(5000))
		s, ok := model[ep]
		if got := x.slotOf(ep); (got >= 0) != ok || (ok && got != s) {
			t.Fatalf("step %d: %v in slot %d, want %d (%v)", step, ep, got, s, ok)
		}
		if ok {
			r := x.ref(s)
			x.del(s)
			delete(model, ep)
			if x.deref(r) != nil {
				t.Fatalf("step %d: a reference to a forgotten announcement holds", step)
			}
			continue
		}
		h := x.hash(ep)
		pos, slot := x.find(ep, h)
		if slot >= 0 {
			t.Fatalf("step %d: %v found before it was added", step, ep)
		}
		model[ep] = x.add(ep, pos, h)
	}
	if x.len() != len(model) {
		t.Fatalf("%d announcements, want %d", x.len(), len(model))
	}
	for ep, s := range model {
		if a := x.lookup(ep); a == nil || a.ep != ep || x.slotOf(ep) != s {
			t.Fatalf("%v not in its slot %d", ep, s)
		}
	}
	if len(x.slab) > 5000 {
		t.Errorf("%d slots for at most 5000 endpoints: freed slots are not reused", len(x.slab))
	}
}

// TestAnnTableClustering: endpoints whose bits differ only where a
// weak mix would ignore them (a run of IPv6 addresses on one port, a
// run of ports on one address) spread over the index: the hash is
// seeded (maphash), so probes stay short for any set of keys a sender
// may choose.
func TestAnnTableClustering(t *testing.T) {
	for _, tc := range []struct {
		name string
		ep   func(i int) netip.AddrPort
	}{
		{"v6 high word", func(i int) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 4: byte(i >> 8), 5: byte(i)}), 5004)
		}},
		{"ports", func(i int) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(i))
		}},
	} {
		var x annTable
		const n = 20000
		for i := range n {
			ep := tc.ep(i)
			h := x.hash(ep)
			pos, _ := x.find(ep, h)
			x.add(ep, pos, h)
		}
		if longest := x.idx.LongestRun(); longest > 200 {
			t.Errorf("%s: a run of %d occupied positions among %d keys", tc.name, longest, n)
		}
	}
}

// TestTablesConsistent drives a Tracker with SDP, codecs, streams and
// ticks on a small set of endpoints (private ones sharing ports, so NAT
// candidates pile up and are pruned; media server ports announced by
// call after call), and checks its tables after every step: under a
// small MaxAnnouncements (eviction passes), and with a long idle time
// and NAT window (full candidate lists).
func TestTablesConsistent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		o       Options
		private int           // private addresses announced
		idle    time.Duration // the tick expires what is older
		want    func(Counters, *Tracker) bool
	}{
		{"evictions", Options{MaxAnnouncements: 40, MaxStreams: 30, NATWindow: 20 * time.Second}, 120, 30 * time.Second,
			func(c Counters, _ *Tracker) bool { return c.AnnouncementsEvicted > 0 && c.Evicted > 0 }},
		{"nat lists", Options{MaxAnnouncements: 2000, NATWindow: 10 * time.Minute}, 2000, 10 * time.Minute,
			func(c Counters, _ *Tracker) bool { return c.NATCandidatesDropped > 0 && c.NATAmbiguous > 0 }},
	} {
		for _, seed := range []uint64{1, 2, 3} {
			rng := rand.New(rand.NewPCG(seed, 7))
			tr := NewTracker(tc.o)
			ep := func(media bool) netip.AddrPort {
				r := rng.IntN(3)
				if media && r == 0 && rng.IntN(4) != 0 {
					r = 2 // media seldom comes from a private address, which takes it off the candidates
				}
				switch r {
				case 0: // private, few ports: NAT candidates pile up
					i := rng.IntN(tc.private)
					return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(4000+2*rng.IntN(2)))
				case 1: // a media server's ports
					return netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 5}), uint16(30000+2*rng.IntN(20)))
				}
				return netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(rng.IntN(8))}), uint16(4000+2*rng.IntN(2)))
			}
			now := tBase
			pkt := 0
			for step := range 4000 {
				now = now.Add(time.Duration(rng.IntN(400)) * time.Millisecond)
				switch r := rng.IntN(10); {
				case r < 5:
					e := ep(false)
					tr.SetCallIDAt(e, fmt.Sprintf("call-%d", rng.IntN(60)), now)
					tr.SetCodecBytes(e, 0, codecPCMU, 8000)
					if rng.IntN(4) == 0 {
						tr.SetCodecBytes(e, 101, codecEvent, 8000)
					}
				case r < 9:
					src, dst := ep(true), ep(true)
					pkt++
					b := rtpBytes(t, synth{ssrc: uint32(1 + rng.IntN(6)), seq: uint16(pkt), ts: uint32(pkt) * 160})
					if err := tr.AddRTP(b, Meta{Time: now, Src: src, Dst: dst}); err != nil {
						t.Fatal(err)
					}
				default:
					tr.Expire(now.Add(-tc.idle))
				}
				if step%7 == 0 || step < 500 {
					checkTables(t, tr)
				}
				if step%500 != 0 {
					continue
				}
				rs := tr.Streams()
				for range min(len(rs), 10) { // a sample: CallStreams costs the streams on a call's endpoints
					r := rs[rng.IntN(len(rs))]
					if r.CallID == "" {
						continue
					}
					same := func(c StreamReport) bool { return c.SSRC == r.SSRC && c.Src == r.Src && c.Dst == r.Dst }
					if !slices.ContainsFunc(tr.CallStreams(r.CallID), same) {
						t.Fatalf("%s seed %d step %d: stream %v→%v of %q not among its call's streams", tc.name, seed, step, r.Src, r.Dst, r.CallID)
					}
				}
			}
			if c := tr.Counters(); !tc.want(c, tr) {
				t.Errorf("%s seed %d: the bounds were not reached: %+v", tc.name, seed, c)
			}
			tr.ExpireBefore(now.Add(time.Hour))
			checkTables(t, tr)
			if tr.anns.len() != 0 || len(tr.idx.callEPs) != 0 || tr.natPorts.len() != 0 {
				t.Fatalf("after expiring everything: %d announcements, %d calls, %d ports", tr.anns.len(), len(tr.idx.callEPs), tr.natPorts.len())
			}
		}
	}
}

// TestAnnounceNoAlloc: once the tables have their size, a SIP-only
// capture's SDP (an offer from a new private endpoint, an answer from
// the media server, their codecs) and the tick that forgets the old
// ones allocate nothing: the slots, their history and hint arrays, the
// NAT candidate lists and the queues are reused.
func TestAnnounceNoAlloc(t *testing.T) {
	const calls = 20_000
	c := newSDPCalls(NewTracker(Options{}), 20, calls)
	for range calls {
		c.call()
	}
	if n := testing.AllocsPerRun(5000, c.call); n != 0 {
		t.Errorf("allocations per call = %v", n)
	}
	checkTables(t, c.tr)
}
