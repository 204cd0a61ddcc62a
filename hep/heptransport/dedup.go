package heptransport

import (
	"hash/maphash"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// dedup drops a message that several capture agents report (sngrep issue
// 428: a proxy and both endpoints each send the same SIP packet). The key
// is a hash of the payload and both addresses, not of the HEP header, which
// differs per agent (capture id, time). Memory is bounded by max entries:
// a FIFO of (hash, arrival) evicts the oldest when full. Owned by the
// dispatcher goroutine; not safe for concurrent use.
type dedup struct {
	window time.Duration
	seed   maphash.Seed
	h      maphash.Hash
	seen   map[uint64]time.Time
	fifo   []dedupEntry
	head   int
	n      int
}

type dedupEntry struct {
	key uint64
	at  time.Time
}

func newDedup(window time.Duration, max int) *dedup {
	d := &dedup{window: window, seed: maphash.MakeSeed(), seen: make(map[uint64]time.Time, max), fifo: make([]dedupEntry, max)}
	d.h.SetSeed(d.seed)
	return d
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

// duplicate reports whether p was seen within the window before now, and
// records it otherwise.
func (d *dedup) duplicate(p *hep.Packet, now time.Time) bool {
	for d.n > 0 && now.Sub(d.fifo[d.head].at) > d.window {
		d.evict()
	}
	k := d.key(p)
	if at, ok := d.seen[k]; ok && now.Sub(at) <= d.window {
		return true
	}
	if d.n == len(d.fifo) {
		d.evict()
	}
	d.seen[k] = now
	d.fifo[(d.head+d.n)%len(d.fifo)] = dedupEntry{k, now}
	d.n++
	return false
}

func (d *dedup) evict() {
	e := d.fifo[d.head]
	if at, ok := d.seen[e.key]; ok && at.Equal(e.at) {
		delete(d.seen, e.key)
	}
	d.head = (d.head + 1) % len(d.fifo)
	d.n--
}
