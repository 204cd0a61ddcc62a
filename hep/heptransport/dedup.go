package heptransport

import (
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// dedup drops a message that several capture agents report (sngrep issue
// 428: a proxy and both endpoints each send the same SIP packet). The key
// is a hash of the payload and both addresses, not of the HEP header, which
// differs per agent (capture id, time).
//
// A copy is a duplicate only when it is the same packet seen by another
// agent: a different capture id or a different sending host, and a HEP
// capture time within tolerance of the first copy's. A retransmission
// from the same agent is a packet of its own, with its own capture time,
// and is kept (a SIP retransmission is evidence, not noise). Memory is
// bounded by max entries: a FIFO of (hash, arrival) evicts the oldest
// when full, and entries older than window (by arrival) are forgotten.
// Owned by the dispatcher goroutine; not safe for concurrent use.
type dedup struct {
	window    time.Duration
	tolerance time.Duration
	seed      maphash.Seed
	h         maphash.Hash
	seen      map[uint64]dedupSeen
	fifo      []dedupEntry
	head      int
	n         int
}

// dedupSeen is the latest copy of a message: when it arrived, when its
// agent captured it, and which agent (capture id and host) sent it.
type dedupSeen struct {
	at, captured time.Time
	agent        uint64
}

type dedupEntry struct {
	key uint64
	at  time.Time
}

func newDedup(window, tolerance time.Duration, max int) *dedup {
	d := &dedup{window: window, tolerance: tolerance, seed: maphash.MakeSeed(), seen: make(map[uint64]dedupSeen, max), fifo: make([]dedupEntry, max)}
	d.h.SetSeed(d.seed)
	return d
}

// agent identifies who sent a copy: its capture id and its host.
func agent(p *hep.Packet, peer netip.AddrPort) uint64 {
	a := peer.Addr().Unmap().As16()
	var h uint64 = uint64(p.CaptureID)
	for _, b := range a {
		h = h*1099511628211 ^ uint64(b) // FNV-style mix; collisions only merge two agents' identities
	}
	return h
}

func (d *dedup) key(p *hep.Packet) uint64 {
	d.h.Reset()
	var b [2*18 + 2]byte
	s16, t16 := p.Src.Addr().Unmap().As16(), p.Dst.Addr().Unmap().As16()
	copy(b[0:], s16[:])
	b[16], b[17] = byte(p.Src.Port()>>8), byte(p.Src.Port())
	copy(b[18:], t16[:])
	b[34], b[35] = byte(p.Dst.Port()>>8), byte(p.Dst.Port())
	b[36] = byte(p.ProtoType)
	if p.Compressed {
		b[37] = 1
	}
	d.h.Write(b[:])
	d.h.Write(p.Payload)
	return d.h.Sum64()
}

// duplicate reports whether p, arriving now from peer, is another
// agent's copy of a message seen within the window; otherwise it
// records p as the message's latest copy.
func (d *dedup) duplicate(p *hep.Packet, peer netip.AddrPort, now time.Time) bool {
	for d.n > 0 && now.Sub(d.fifo[d.head].at) > d.window {
		d.evict()
	}
	k := d.key(p)
	captured := p.Time
	if captured.IsZero() {
		captured = now // an agent that sends no time: its arrival stands in
	}
	ag := agent(p, peer)
	if s, ok := d.seen[k]; ok && now.Sub(s.at) <= d.window && s.agent != ag {
		if diff := captured.Sub(s.captured); diff <= d.tolerance && diff >= -d.tolerance {
			return true
		}
	}
	if d.n == len(d.fifo) {
		d.evict()
	}
	d.seen[k] = dedupSeen{at: now, captured: captured, agent: ag}
	d.fifo[(d.head+d.n)%len(d.fifo)] = dedupEntry{k, now}
	d.n++
	return false
}

func (d *dedup) evict() {
	e := d.fifo[d.head]
	if s, ok := d.seen[e.key]; ok && s.at.Equal(e.at) {
		delete(d.seen, e.key)
	}
	d.head = (d.head + 1) % len(d.fifo)
	d.n--
}
