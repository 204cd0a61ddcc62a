package capture

import (
	"net/netip"
	"testing"
	"time"
)

// mediaLearner is what the media benchmarks drive, the table and
// oldMediaTable alike.
type mediaLearner interface {
	learn(ap netip.AddrPort, role mediaRole, now int64)
	expire(before int64)
}

// mediaCalls feeds a table the SDP endpoints of calls, as a SIP-only
// capture does: each call's offer and answer each announce an RTP
// endpoint and its RTCP port (four endpoints a call), calls come at
// perSec a second of packet time, and expiry runs once a second of
// packet time with DefaultMediaTimeout. The endpoints never repeat.
type mediaCalls struct {
	tab    mediaLearner
	perSec int64
	n      int64 // calls so far
	next   int64 // packet time of the next expiry
}

func (c *mediaCalls) call() {
	now := 1_700_000_000*int64(time.Second) + c.n*int64(time.Second)/c.perSec
	if now >= c.next {
		c.tab.expire(now - int64(DefaultMediaTimeout))
		c.next = now + int64(time.Second)
	}
	n := uint32(c.n)
	for side := range uint32(2) {
		// 10/8 addresses, one per call side, a port from 10000 up.
		a := netip.AddrFrom4([4]byte{10, byte(n >> 15), byte(n >> 7), byte(n<<1 | side)})
		p := uint16(10000 + 2*(n%20000))
		c.tab.learn(netip.AddrPortFrom(a, p), roleRTP, now)
		c.tab.learn(netip.AddrPortFrom(a, p+1), roleRTCP, now)
	}
	c.n++
}

// BenchmarkMediaLearn learns 200 000 calls' SDP endpoints a round
// (ns/op is per round; see ns/call), into the table and into the heap
// and two maps it replaced (old): at 25 calls a second the default table
// holds every endpoint for its timeout (30 000 live), at 100 it is full
// and evicts.
func BenchmarkMediaLearn(b *testing.B) {
	const calls = 200_000
	for _, rate := range []int64{25, 100} {
		for _, impl := range []string{"new", "old"} {
			b.Run(impl+"/"+map[int64]string{25: "expiring", 100: "evicting"}[rate], func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var tab mediaLearner
					if impl == "new" {
						t := new(mediaTable)
						t.init(DefaultMaxMedia)
						tab = t
					} else {
						t := new(oldMediaTable)
						t.init(DefaultMaxMedia)
						tab = t
					}
					c := mediaCalls{tab: tab, perSec: rate}
					for range calls {
						c.call()
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls), "ns/call")
			})
		}
	}
}

// Learning, expiring and evicting endpoints allocates nothing once the
// table has grown to its size.
func TestMediaLearnNoAlloc(t *testing.T) {
	for _, rate := range []int64{25, 100} {
		tab := new(mediaTable)
		tab.init(DefaultMaxMedia)
		c := mediaCalls{tab: tab, perSec: rate}
		for range 100_000 {
			c.call()
		}
		if n := testing.AllocsPerRun(20_000, c.call); n != 0 {
			t.Errorf("%d calls a second: %v allocations per call", rate, n)
		}
		if rate == 100 && tab.evicted == 0 {
			t.Error("the full table evicted nothing")
		}
		if rate == 25 && tab.evicted != 0 {
			t.Errorf("the table evicted %d under its size", tab.evicted)
		}
	}
}
