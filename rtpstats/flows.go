package rtpstats

import (
	"encoding/binary"
	"net/netip"
)

// epKey is an endpoint as a plain fixed-size value: netip.AddrPort holds
// a zone handle (a pointer), which makes it slower to hash and compare
// on the per-packet path. Three words and no padding, so a flowKey is
// compared as memory rather than field by field.
type epKey struct {
	hi, lo uint64
	// port | epKeyV4 (an IPv4 address, not the IPv4-mapped IPv6 one:
	// netip tells them apart too)
	pv uint64
}

const epKeyV4 = 1 << 16

func epKeyOf(ap netip.AddrPort) epKey {
	a := ap.Addr()
	if a.Is4() {
		b := a.As4() // cheaper than As16 for the common case
		return epKey{lo: uint64(binary.BigEndian.Uint32(b[:])), pv: uint64(ap.Port()) | epKeyV4}
	}
	b := a.As16()
	return epKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), uint64(ap.Port())}
}

// flowKey is a UDP 5-tuple (the protocol is always UDP) in one direction.
type flowKey struct{ src, dst epKey }

// equal is k == o without a call: the compiler compares 48 bytes
// through runtime.memequal, 60 instructions on every packet's lookup.
func (k *flowKey) equal(o *flowKey) bool {
	return (k.src.hi^o.src.hi)|(k.src.lo^o.src.lo)|(k.src.pv^o.src.pv)|
		(k.dst.hi^o.dst.hi)|(k.dst.lo^o.dst.lo)|(k.dst.pv^o.dst.pv) == 0
}

// flow holds the streams of one 5-tuple: one per SSRC, usually one,
// linked through stream.nextInFlow. The Tracker finds a packet's stream
// through the flow cache (flowOf) and a walk of these few; the codec hint
// is cached on the stream (hintCache).
//
// A flow is not allocated on its own: it is the own field of one of its
// streams (the owner), first in the stream, on the cache line that also
// holds the stream's SSRC. A lookup then loads one line for the key, the
// first stream and its SSRC, where a flow of its own was one more line,
// missed on every packet, before the stream's. Every stream's own.key
// is its 5-tuple; own.head is used only in the owner. When the owner
// leaves and others stay, the flow moves to one of them (unlink).
type flow struct {
	key  flowKey
	head *stream // the newest stream first
}

// flowCacheBits sizes the direct-mapped cache in front of Tracker.flows:
// 32768 slots of a pointer each (256 KiB; only the slots of live flows
// are ever touched). The map lookup (hashing the 48-byte key, probing,
// comparing) was about a fifth of the Tracker's per-packet work; a hit
// costs a multiply and one key comparison, a miss the lookup it saves.
// A flow misses while another live flow shares its slot: about 7 % of
// lookups with the 4096 slots this had and the ~320 concurrent streams
// of the generated captures, 1 % with 32768; at 8 000 concurrent
// streams, 86 % against 22 %.
const flowCacheBits = 15

func (k *flowKey) slot() uint64 {
	x := k.src.lo ^ k.src.hi ^ (k.dst.lo^k.dst.hi)*0xff51afd7ed558ccd ^ k.src.pv<<32 ^ k.dst.pv<<48
	return (x * 0x9e3779b97f4a7c15) >> (64 - flowCacheBits)
}

// flowOf returns the flow of k, or nil, through the cache. The cache is
// direct-mapped and a slot holds a flow of the map, checked against the
// key it carries: deleting a flow clears its slot, so the cache never
// disagrees with the map.
func (t *Tracker) flowOf(k flowKey) *flow {
	c := &t.fcache[k.slot()]
	if f := *c; f != nil && f.key.equal(&k) {
		return f
	}
	f := t.flows[k]
	if f != nil {
		*c = f
	}
	return f
}

// dropFlow deletes the flow of k from the map and the cache.
func (t *Tracker) dropFlow(k flowKey) {
	delete(t.flows, k)
	if c := &t.fcache[k.slot()]; *c != nil && (*c).key.equal(&k) {
		*c = nil
	}
}

// find returns the stream of ssrc on f, or nil.
func (f *flow) find(ssrc uint32) *stream {
	for s := f.head; s != nil; s = s.nextInFlow {
		if s.key.ssrc == ssrc {
			return s
		}
	}
	return nil
}

// remove takes s off f and reports whether f is left empty.
func (f *flow) remove(s *stream) bool {
	for p := &f.head; *p != nil; p = &(*p).nextInFlow {
		if *p == s {
			*p = s.nextInFlow
			s.nextInFlow = nil
			break
		}
	}
	return f.head == nil
}

// insert files a new stream: in its flow, in the list every reader
// iterates, and in the call index.
func (t *Tracker) insert(s *stream, k flowKey, f *flow) {
	s.own.key = k
	if f == nil {
		f = &s.own
		t.flows[k] = f
	}
	s.nextInFlow, f.head = f.head, s
	s.cost = s.footprint()
	t.liveBytes += s.cost
	s.pos = len(t.all)
	t.all = append(t.all, s)
}

// unlink removes s from its flow, the list and the call index.
func (t *Tracker) unlink(s *stream) {
	k := s.own.key
	if f := t.flows[k]; f != nil {
		switch {
		case f.remove(s):
			t.dropFlow(k)
		case f == &s.own:
			// The owner leaves, others stay: the flow moves into the
			// newest of them, in the map and in the cache.
			n := f.head
			n.own.head, s.own.head = f.head, nil
			t.flows[k] = &n.own
			if c := &t.fcache[k.slot()]; *c == f {
				*c = &n.own
			}
		}
	}
	last := len(t.all) - 1
	moved := t.all[last]
	t.all[s.pos] = moved
	moved.pos = s.pos
	t.all[last] = nil
	t.all = t.all[:last]
	t.liveBytes -= s.cost
	t.unindex(s)
}
