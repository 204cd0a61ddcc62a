package capture

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// diffEndpoints are more endpoints than the small tables of the
// differential test hold, IPv4 (several sharing a cache set is likely
// with 4096 sets only by chance; the lookups exercise the cache anyway),
// IPv6 and an IPv4-mapped IPv6 twin of an IPv4 one.
var diffEndpoints = func() []netip.AddrPort {
	var eps []netip.AddrPort
	for i := range 12 {
		eps = append(eps, netip.MustParseAddrPort(fmt.Sprintf("192.0.2.%d:%d", i+1, 4000+2*i)))
	}
	for i := range 5 {
		eps = append(eps, netip.MustParseAddrPort(fmt.Sprintf("[2001:db8::%d]:%d", i+1, 5000+2*i)))
	}
	return append(eps, netip.MustParseAddrPort("[::ffff:192.0.2.1]:4000"))
}()

// mediaDiff runs one sequence of operations on the table and on
// oldMediaTable (the heap and two maps it replaced), and fails at the
// first answer, entry or count where they differ. ops are triples (op,
// endpoint, argument). Every operation happens at its own nanosecond, so
// no two entries are ever seen at the same time: the one place the two
// may differ is which of two entries seen at the same instant is
// evicted first.
func mediaDiff(t *testing.T, max int, ops []byte) {
	var tab mediaTable
	tab.init(max)
	var old oldMediaTable
	old.init(max)
	const sec = int64(time.Second)
	coarse := 1000 * sec
	timeout := 20 * sec
	for i := 0; i+2 < len(ops) && i < 3*2000; i += 3 {
		op, ep, arg := ops[i]%7, diffEndpoints[int(ops[i+1])%len(diffEndpoints)], ops[i+2]
		now := coarse + int64(i/3)
		switch op {
		case 0, 1: // learn
			role := mediaRole(arg%3 + 1)
			tab.learn(ep, role, now)
			old.learn(ep, role, now)
		case 2: // a packet to ep from another endpoint
			src := diffEndpoints[int(arg)%len(diffEndpoints)]
			got, gok := tab.lookup(ep, src, now)
			want, wok := old.lookup(ep, src, now)
			if got != want || gok != wok {
				t.Fatalf("op %d: lookup %v %v = %v %v, want %v %v", i/3, ep, src, got, gok, want, wok)
			}
		case 3:
			tab.forget(ep)
			old.forget(ep)
		case 4: // time passes (a tenth of a second per unit), or goes back
			if arg >= 240 {
				coarse -= int64(arg-240) * sec
			} else {
				coarse += int64(arg) * sec / 10
			}
		case 5, 6:
			tab.expire(now - timeout)
			old.expire(now - timeout)
		}
		if tab.len() != old.len() || tab.evicted != old.evicted {
			t.Fatalf("op %d: table holds %d (evicted %d), the old one %d (%d)", i/3, tab.len(), tab.evicted, old.len(), old.evicted)
		}
		for _, ap := range diffEndpoints {
			e, ok := tab.get(ap)
			w, wok := old.get(ap)
			if ok != wok || ok && (e.role != w.role || e.seen != w.seen) {
				t.Fatalf("op %d: %v = %+v %v, the old table %+v %v", i/3, ap, e, ok, w, wok)
			}
		}
	}
}

// FuzzMediaTableDifferential: the slab and age queue hold the same
// entries, answer the same and evict the same as the heap and maps they
// replaced, full (eviction) or not, with time going back too.
func FuzzMediaTableDifferential(f *testing.F) {
	f.Add(uint8(4), []byte{0, 0, 10, 0, 1, 0, 2, 0, 3, 0, 2, 1, 4, 0, 100, 0, 5, 1, 0, 6, 2, 5, 0, 0})
	f.Add(uint8(50), []byte{0, 7, 0, 0, 8, 3, 2, 7, 90, 4, 0, 245, 0, 9, 0, 5, 0, 0, 4, 0, 255, 4, 0, 255, 5, 0, 0})
	f.Fuzz(func(t *testing.T, max uint8, ops []byte) {
		mediaDiff(t, int(max%20)+1, ops)
	})
}

// TestMediaTableDifferential runs long random sequences through
// mediaDiff, with tables small enough to evict and large enough not to.
func TestMediaTableDifferential(t *testing.T) {
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 17))
		ops := make([]byte, 3*2000)
		for i := range ops {
			ops[i] = byte(r.UintN(256))
		}
		// Mostly small time steps, so that entries live through several
		// expiries and get refreshed.
		for i := 0; i < len(ops); i += 3 {
			if ops[i]%7 == 4 && ops[i+2] < 240 {
				ops[i+2] %= 60
			}
		}
		mediaDiff(t, []int{1, 3, 8, 64}[seed%4], ops)
	}
}
