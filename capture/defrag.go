package capture

import (
	"net/netip"
	"slices"
	"time"
)

// fragKey identifies a datagram under reassembly: RFC 791 3.2 (source,
// destination, protocol, identification) and RFC 8200 4.5 (source,
// destination, identification).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragPart struct{ off, end int }

type fragDatagram struct {
	buf   []byte
	parts []fragPart
	total int // length of the whole payload, -1 until the last fragment arrives
	first time.Time
	rec   int // record number of the first fragment seen (Layers.FirstRecord)
}

// maxFragParts bounds the fragments kept per datagram (overlap attacks).
const maxFragParts = 64

// defragger reassembles IPv4 and IPv6 fragments. Unfragmented packets
// never reach it, so the common path costs nothing; fragments are copied
// (they must outlive their record).
type defragger struct {
	m   map[fragKey]*fragDatagram
	max int
	out []byte // the reassembled payload handed on; reused
}

func (f *defragger) init(max int) {
	f.m = make(map[fragKey]*fragDatagram)
	f.max = max
}

// add stores one fragment's payload at byte offset off and returns the
// whole payload once every byte from 0 to the end of the last fragment is
// present. The result aliases the defragger's buffer until the next add.
func (f *defragger) add(d *Decoder, k fragKey, off int, more bool, data []byte) ([]byte, bool) {
	end := off + len(data)
	if end > maxIPDatagram {
		d.stats.FragmentsDropped++
		return nil, false
	}
	dg := f.m[k]
	if dg == nil {
		if len(f.m) >= f.max {
			// Full: make room by evicting the datagram waiting longest
			// (by packet time), never by refusing the newcomer. A flood of
			// first fragments that never complete must not shut out a
			// real fragmented INVITE; each eviction is counted.
			f.evictOldest()
			d.stats.FragmentsEvicted++
		}
		dg = &fragDatagram{total: -1, first: d.now, rec: d.ev.Packet.Number}
		f.m[k] = dg
	}
	if len(dg.parts) >= maxFragParts {
		d.stats.FragmentsDropped++
		return nil, false
	}
	if !more {
		if dg.total >= 0 && dg.total != end {
			d.stats.FragmentsDropped++ // two different ends: keep the first
			return nil, false
		}
		dg.total = end
	}
	if end > len(dg.buf) {
		dg.buf = append(dg.buf, make([]byte, end-len(dg.buf))...)
	}
	copy(dg.buf[off:end], data)
	dg.parts = append(dg.parts, fragPart{off, end})
	if dg.total < 0 {
		return nil, false
	}
	slices.SortFunc(dg.parts, func(a, b fragPart) int { return a.off - b.off })
	covered := 0
	for _, p := range dg.parts {
		if p.off > covered {
			return nil, false // hole
		}
		covered = max(covered, p.end)
	}
	if covered < dg.total {
		return nil, false
	}
	f.out = append(f.out[:0], dg.buf[:dg.total]...)
	d.ev.Layers.FirstRecord, d.ev.Layers.LastRecord = dg.rec, d.ev.Packet.Number
	delete(f.m, k)
	d.stats.Reassembled++
	return f.out, true
}

// evictOldest drops the datagram whose first fragment is oldest. The
// table is small (Options.MaxFragDatagrams), so a scan is cheaper than
// keeping an order.
func (f *defragger) evictOldest() {
	var oldest fragKey
	var at time.Time
	found := false
	for k, dg := range f.m {
		if !found || dg.first.Before(at) {
			oldest, at, found = k, dg.first, true
		}
	}
	if found {
		delete(f.m, oldest)
	}
}

// expire drops datagrams started before the cut-off (or all of them) and
// returns how many were dropped.
func (f *defragger) expire(before time.Time, all bool) int {
	n := 0
	for k, dg := range f.m {
		if all || dg.first.Before(before) {
			delete(f.m, k)
			n++
		}
	}
	return n
}
