package capture

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// mediaModel is the media table as the sweep it replaced: a plain map,
// refreshed as lookupOne refreshes, expired by visiting every entry.
type mediaModel map[netip.AddrPort]mediaEntry

func (m mediaModel) lookup(ap netip.AddrPort, now int64) mediaRole {
	e, ok := m[ap]
	if !ok {
		return 0
	}
	if now-e.seen > mediaRefresh {
		e.seen = now
		m[ap] = e
	}
	return e.role
}

func (m mediaModel) expire(before int64) {
	for k, e := range m {
		if e.seen < before {
			delete(m, k)
		}
	}
}

var fuzzEndpoints = func() []netip.AddrPort {
	var eps []netip.AddrPort
	for i := range 6 {
		eps = append(eps, netip.MustParseAddrPort(fmt.Sprintf("192.0.2.%d:%d", i+1, 4000+2*i)))
	}
	for i := range 3 {
		eps = append(eps, netip.MustParseAddrPort(fmt.Sprintf("[2001:db8::%d]:%d", i+1, 5000+2*i)))
	}
	return eps
}()

// FuzzMediaExpiry: the heap-driven table answers every lookup and holds
// exactly the entries the full sweep would, whatever mix of learning,
// lookups (refreshing), forgetting, time steps and expiry; the table is
// large enough that nothing is evicted.
func FuzzMediaExpiry(f *testing.F) {
	f.Add([]byte{0, 0, 10, 1, 0, 200, 3, 0, 255, 4, 0, 0})
	f.Add([]byte{0, 1, 1, 2, 1, 0, 0, 1, 5, 3, 0, 250, 3, 0, 250, 4, 1, 0, 1, 1, 0})
	f.Add([]byte{0, 7, 0, 0, 8, 3, 1, 7, 90, 3, 0, 100, 4, 0, 0, 1, 8, 0, 3, 0, 200, 4, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var tab mediaTable
		tab.init(1 << 10)
		model := mediaModel{}
		const sec = int64(time.Second)
		now := 1000 * sec
		timeout := 20 * sec
		for i := 0; i+2 < len(ops) && i < 3*400; i += 3 {
			op, ep, arg := ops[i]%5, fuzzEndpoints[int(ops[i+1])%len(fuzzEndpoints)], ops[i+2]
			switch op {
			case 0: // learn
				role := mediaRole(arg%3 + 1)
				tab.learn(ep, role, now)
				model[ep] = mediaEntry{role: role, seen: now}
			case 1: // a packet to ep
				got, _ := tab.lookup(ep, netip.AddrPort{}, now)
				if want := model.lookup(ep, now); got != want {
					t.Fatalf("op %d: lookup %v = %v, want %v", i/3, ep, got, want)
				}
			case 2:
				tab.forget(ep)
				delete(model, ep)
			case 3: // time passes (a tenth of a second per unit)
				now += int64(arg) * sec / 10
			case 4:
				tab.expire(now - timeout)
				model.expire(now - timeout)
			}
			if tab.len() != len(model) {
				t.Fatalf("op %d: table holds %d, the sweep %d", i/3, tab.len(), len(model))
			}
			for ap, want := range model {
				if e, ok := tab.get(ap); !ok || e.role != want.role || e.seen != want.seen {
					t.Fatalf("op %d: %v = %+v %v, want %+v", i/3, ap, e, ok, want)
				}
			}
		}
		if tab.evicted != 0 {
			t.Fatalf("evicted %d from a table that never filled", tab.evicted)
		}
	})
}

// A full table makes room by evicting the endpoint seen longest ago,
// counted; one refreshed by its packets since it was learned is kept.
func TestMediaEvictsOldest(t *testing.T) {
	var tab mediaTable
	tab.init(3)
	const sec = int64(time.Second)
	a, b, c, d := fuzzEndpoints[0], fuzzEndpoints[1], fuzzEndpoints[6], fuzzEndpoints[3]
	tab.learn(a, roleRTP, 1*sec)
	tab.learn(b, roleRTP, 2*sec)
	tab.learn(c, roleRTP, 3*sec)
	tab.lookup(a, netip.AddrPort{}, 10*sec) // a's media flows: b is now the oldest
	tab.learn(d, roleRTCP, 11*sec)
	if tab.evicted != 1 || tab.len() != 3 {
		t.Fatalf("evicted %d, holding %d", tab.evicted, tab.len())
	}
	for _, ap := range []netip.AddrPort{a, c, d} {
		if _, ok := tab.get(ap); !ok {
			t.Errorf("%v evicted", ap)
		}
	}
	if _, ok := tab.get(b); ok {
		t.Errorf("%v, seen longest ago, kept", b)
	}
	if r, _ := tab.lookup(b, netip.AddrPort{}, 12*sec); r != 0 {
		t.Errorf("evicted endpoint still answers %v (cache)", r)
	}
	dec := NewDecoder(Options{})
	dec.media = tab
	if dec.Stats().MediaEvicted != 1 {
		t.Errorf("Stats.MediaEvicted = %d", dec.Stats().MediaEvicted)
	}
}
