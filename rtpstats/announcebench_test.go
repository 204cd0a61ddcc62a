package rtpstats

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// sdpCalls feeds a Tracker what the engine gives it for a SIP-only
// capture like the 200 000-call generated one: per call an offer from a
// private address of its own on port 40000 and an answer from one media
// server address on a port of its own, each with its codecs, calls at
// perSec a second of packet time and the engine's Expire once a second
// with a five-minute cutoff.
type sdpCalls struct {
	tr     *Tracker
	perSec int64
	n      int64
	next   time.Time
	ids    []string // Call-IDs, made beforehand: the engine's string(m.CallID) is its cost, not the Tracker's
}

func newSDPCalls(tr *Tracker, perSec int64, calls int) *sdpCalls {
	c := &sdpCalls{tr: tr, perSec: perSec}
	for i := range calls {
		c.ids = append(c.ids, fmt.Sprintf("large-%07d@voiptool.test", i))
	}
	return c
}

var (
	codecPCMU  = []byte("PCMU")
	codecPCMA  = []byte("PCMA")
	codecEvent = []byte("telephone-event")
)

func (c *sdpCalls) call() {
	at := tBase.Add(time.Duration(c.n * int64(time.Second) / c.perSec))
	if !at.Before(c.next) {
		c.tr.Expire(at.Add(-5 * time.Minute))
		c.next = at.Add(time.Second)
	}
	id := c.ids[c.n%int64(len(c.ids))]
	n := uint32(c.n)
	offer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 10, byte(n >> 8), byte(n)}), 40000)
	c.tr.SetCallIDAt(offer, id, at)
	c.tr.SetCodecBytes(offer, 0, codecPCMU, 8000)
	c.tr.SetCodecBytes(offer, 8, codecPCMA, 8000)
	c.tr.SetCodecBytes(offer, 101, codecEvent, 8000)
	answer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(10000+2*(n%20000)))
	at = at.Add(100 * time.Millisecond)
	c.tr.SetCallIDAt(answer, id, at)
	c.tr.SetCodecBytes(answer, 0, codecPCMU, 8000)
	c.tr.SetCodecBytes(answer, 101, codecEvent, 8000)
	c.n++
}

// BenchmarkAnnounceCalls announces 200 000 calls' SDP (ns/op is per
// round; see ns/call) at 20 calls a second, as the generated SIP-only
// capture has them: the announcements expire by packet time.
func BenchmarkAnnounceCalls(b *testing.B) {
	const calls = 200_000
	c := newSDPCalls(nil, 20, calls)
	b.ReportAllocs()
	for b.Loop() {
		c.tr, c.n, c.next = NewTracker(Options{}), 0, time.Time{}
		for range calls {
			c.call()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*calls), "ns/call")
}
