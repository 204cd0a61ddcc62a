package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/internal/agequeue"
	"github.com/voiptool/voiptool/internal/slotindex"
	"github.com/voiptool/voiptool/sipflow"
)

// mediaRole is what an SDP-learned endpoint receives.
type mediaRole uint8

const (
	roleRTP  mediaRole = iota + 1
	roleRTCP           // port+1 (RFC 3550 11) or a=rtcp (RFC 3605)
	roleMux            // RTP and RTCP on one port (a=rtcp-mux, RFC 5761)
)

// mediaRefresh is how stale an entry's time may get before a packet
// refreshes it: writing the entry on every RTP packet costs more than the
// precision is worth.
const mediaRefresh = int64(time.Second)

// The cache in front of the index is set-associative: 4096 sets of
// four 16-byte slots, one cache line each (256 KiB; only the sets of
// live endpoints are touched). A packet looks up its destination (and,
// when that is not learned, its source). A direct-mapped cache answers a
// key only while no other live key shares its slot: with the 4096 slots
// it had, 5.0 % of the lookups of the 3.2 M-packet generated capture
// (~320 concurrent streams) went to the map, against 0.2 % now (the
// first packets of each endpoint); at 8 000 concurrent streams the
// direct-mapped cache would answer one lookup in seven, four ways of
// 4096 sets about 85 % (a set thrashes only once five live keys share
// it).
const (
	mediaSetBits = 12
	mediaWays    = 4
)

// epKey is an endpoint as a plain comparable value: netip.AddrPort holds
// a zone handle, which makes it slower to hash on the per-packet path.
type epKey struct {
	hi, lo uint64
	port   uint16
}

func keyOf(ap netip.AddrPort) epKey {
	b := ap.Addr().As16()
	return epKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), ap.Port()}
}

// mediaKey is an endpoint as a plain comparable value, one key type for
// both families (netip.AddrPort holds a zone handle, which makes it
// slower to hash): an IPv6 endpoint's address and port, an IPv4 one's
// key4 in lo with mediaKeyV4 in port, which no port reaches (an IPv4
// address and its IPv4-mapped IPv6 form stay two endpoints, as netip
// has them). Three words, no padding: hashed as one block of memory.
type mediaKey struct {
	hi, lo uint64
	port   uint64
}

const mediaKeyV4 = 1 << 16

func mediaKeyOf(ap netip.AddrPort) mediaKey {
	if k, ok := key4(ap); ok {
		return mediaKey{lo: k, port: mediaKeyV4}
	}
	b := ap.Addr().As16()
	return mediaKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), uint64(ap.Port())}
}

// mediaEntry is one learned endpoint, in the table's slab.
type mediaEntry struct {
	key  mediaKey
	seen int64 // packet time (Unix ns, see unixNano) of the SDP or the last packet to or from it
	// gen tells this entry's queue item from the items of entries that
	// held the slot before (the slot's generation, bumped when freed).
	gen  uint32
	role mediaRole // 0: a free slot
}

// mediaRef is an entry's item in the age queue: its slot and generation.
type mediaRef struct {
	slot int32
	gen  uint32
}

// mediaSlot caches the index's answer for one IPv4 key, found or not: tag
// is the key, the role (0: not learned) and slotValid; seen mirrors the
// entry's. A key's answer can only be in its own set: whatever changes
// the key's entry (learn, forget, expiry) updates or drops it there, and
// the cache can never disagree with the index.
type mediaSlot struct {
	tag  uint64
	seen int64
}

// mediaSet is one set of the cache: a cache line.
type mediaSet [mediaWays]mediaSlot

// The fields of mediaSlot.tag. key4 fills the low 48 bits.
const (
	slotKeyMask   = 1<<48 - 1
	slotRoleShift = 48
	slotValid     = 1 << 63
)

func (s *mediaSlot) role() mediaRole { return mediaRole(s.tag >> slotRoleShift) }

// mediaTable holds endpoints learned from SDP. Keys are fixed-size
// values, so lookups on the RTP path do not allocate; a set-associative
// cache in front of the index answers IPv4 endpoints, because the map
// lookup was the largest single cost of classifying an RTP packet
// (BenchmarkDecodeVsFloor).
//
// The entries live in a slab (slots reused through a free list), found
// by one hash index from key to slot (mediaIndex). Expiry and eviction take the entry seen
// longest ago from an age queue of (slot, generation, time) items
// (internal/agequeue): a sweep of every entry once a second of packet
// time cost a seventh of a SIP-heavy run, and when the table is full the
// endpoint seen longest ago makes room for a new one (counted) instead
// of the new call's media going unrecognised. A packet refreshes an
// entry's seen in the slab only; its item, still carrying the older
// time, is queued again at the entry's time when it surfaces. An item
// names its entry by slot, so a surfacing item costs no index lookup, and
// an entry costs the index two writes in its life (learned, removed).
type mediaTable struct {
	idx     mediaIndex // slot by key
	slab    []mediaEntry
	free    []int32 // free slots of slab
	max     int
	due     agequeue.Queue[mediaRef]
	evicted int // Stats.MediaEvicted
	// cache is allocated on its own, so that each set is one cache line
	// (a large allocation starts on a page).
	cache *[1 << mediaSetBits]mediaSet
}

// key4 packs an IPv4 endpoint: address in the high bits, port low.
func key4(ap netip.AddrPort) (uint64, bool) {
	a := ap.Addr()
	if !a.Is4() {
		return 0, false
	}
	b := a.As4()
	return uint64(binary.BigEndian.Uint32(b[:]))<<16 | uint64(ap.Port()), true
}

func (t *mediaTable) init(max int) {
	t.max = max
	t.cache = new([1 << mediaSetBits]mediaSet)
}

// uncache drops the cached answer for k, if its set holds one.
func (t *mediaTable) uncache(k uint64) {
	st := t.set(k)
	for i := range st {
		if st[i].tag&(slotValid|slotKeyMask) == k|slotValid {
			st[i].tag = 0
		}
	}
}

// uncacheKey is uncache for an IPv4 key; other keys are never cached.
func (t *mediaTable) uncacheKey(k mediaKey) {
	if k.port == mediaKeyV4 {
		t.uncache(k.lo)
	}
}

// set is the cache set of an IPv4 key (Fibonacci hashing).
func (t *mediaTable) set(k uint64) *mediaSet {
	return &t.cache[(k*0x9e3779b97f4a7c15)>>(64-mediaSetBits)]
}

func (t *mediaTable) len() int { return t.idx.Len() }

// slotOf is k's slot in the slab.
func (t *mediaTable) slotOf(k mediaKey) (int32, bool) {
	_, i, ok := t.idx.find(k, t.idx.hash(k), t.slab)
	return i, ok
}

func (t *mediaTable) get(ap netip.AddrPort) (mediaEntry, bool) {
	i, ok := t.slotOf(mediaKeyOf(ap))
	if !ok {
		return mediaEntry{}, false
	}
	return t.slab[i], true
}

func (t *mediaTable) learn(ap netip.AddrPort, role mediaRole, now int64) {
	k := mediaKeyOf(ap)
	h := t.idx.hash(k)
	pos, i, ok := t.idx.find(k, h, t.slab)
	if ok {
		// Known: its item keeps the time it was queued with, and is
		// queued again at seen when it surfaces.
		e := &t.slab[i]
		e.role, e.seen = role, now
		t.uncacheKey(k)
		return
	}
	if t.len() >= t.max {
		if !t.room() {
			return
		}
		pos, _, _ = t.idx.find(k, h, t.slab) // evictions moved the index's entries
	}
	i = slotindex.Take(&t.slab, &t.free)
	e := &t.slab[i]
	e.key, e.seen, e.role = k, now, role
	t.idx.Insert(pos, h, i)
	t.due.Push(mediaRef{i, e.gen}, now)
	t.uncacheKey(k)
	if t.due.Len() > 2*t.len()+1024 {
		// Items of forgotten entries (a port moved to T.38 and back,
		// again and again) wait for their time to surface; they must not
		// grow the queue past its table meanwhile.
		t.due.Compact(t.live)
	}
}

// live reports whether r is its entry's item, not a forgotten entry's.
func (t *mediaTable) live(r mediaRef) bool { return t.slab[r.slot].gen == r.gen }

// room makes room for one more entry, evicting the one seen longest ago
// when the table is full; it fails only when every item left is a
// leftover and nothing could be evicted (never, while the table is full).
// Of entries seen at the same time, the one learned first goes.
func (t *mediaTable) room() bool {
	for t.len() >= t.max {
		it, ok := t.due.Pop()
		if !ok {
			break
		}
		switch e := &t.slab[it.Val.slot]; {
		case e.gen != it.Val.gen:
			// a forgotten entry's leftover
		case e.seen > it.Due:
			t.due.Push(it.Val, e.seen) // refreshed since: not the oldest after all
		default:
			t.remove(it.Val.slot)
			t.evicted++
		}
	}
	return t.len() < t.max
}

// expire removes every entry not seen since before.
func (t *mediaTable) expire(before int64) {
	for {
		it, ok := t.due.Peek()
		if !ok || it.Due >= before {
			return
		}
		t.due.Pop()
		switch e := &t.slab[it.Val.slot]; {
		case e.gen != it.Val.gen:
		case e.seen >= before:
			t.due.Push(it.Val, e.seen)
		default:
			t.remove(it.Val.slot)
		}
	}
}

// remove forgets the entry in slot i, which goes to the free list.
func (t *mediaTable) remove(i int32) {
	e := &t.slab[i]
	if pos, _, ok := t.idx.find(e.key, t.idx.hash(e.key), t.slab); ok {
		t.idx.Remove(pos)
	}
	t.uncacheKey(e.key)
	e.gen++
	e.role = 0
	t.free = append(t.free, i)
}

func (t *mediaTable) forget(ap netip.AddrPort) {
	if i, ok := t.slotOf(mediaKeyOf(ap)); ok {
		t.remove(i)
	}
}

// lookup finds the endpoint a datagram goes to, or else comes from
// (symmetric RTP, RFC 4961), and refreshes it.
func (t *mediaTable) lookup(dst, src netip.AddrPort, now int64) (mediaRole, bool) {
	if t.idx.Len() == 0 {
		return 0, false
	}
	if r := t.lookupOne(dst, now); r != 0 {
		return r, true
	}
	if r := t.lookupOne(src, now); r != 0 {
		return r, true
	}
	return 0, false
}

// lookupOne answers for one endpoint: its role, or 0 when not learned.
func (t *mediaTable) lookupOne(ap netip.AddrPort, now int64) mediaRole {
	k, ok := key4(ap)
	if !ok {
		i, ok := t.slotOf(mediaKeyOf(ap))
		if !ok {
			return 0
		}
		e := &t.slab[i]
		if now-e.seen > mediaRefresh {
			e.seen = now
		}
		return e.role
	}
	st := t.set(k)
	var s *mediaSlot
	for i := range st {
		if st[i].tag&(slotValid|slotKeyMask) == k|slotValid {
			s = &st[i]
			break
		}
	}
	if s == nil {
		// Not cached: the index's answer goes first in the set, and the
		// way cached longest ago goes.
		var e mediaEntry // zero role when absent: cached as "not learned" too
		if i, ok := t.slotOf(mediaKey{lo: k, port: mediaKeyV4}); ok {
			e = t.slab[i]
		}
		copy(st[1:], st[:mediaWays-1])
		st[0] = mediaSlot{tag: k | uint64(e.role)<<slotRoleShift | slotValid, seen: e.seen}
		s = &st[0]
	}
	role := s.role()
	if role != 0 && now-s.seen > mediaRefresh {
		// The slab holds the time expire reads; the slot mirrors it.
		s.seen = now
		if i, ok := t.slotOf(mediaKey{lo: k, port: mediaKeyV4}); ok { // once a second per endpoint
			t.slab[i].seen = now
		}
	}
	return role
}

// learnSDP learns the media endpoints of a SIP message's SDP body (RFC
// 8866 5.7 c=, 5.14 m=; RFC 3605 a=rtcp with its address; RFC 5761
// a=rtcp-mux), found and parsed by sipflow, the one SIP and SDP parser
// (a multipart body's application/sdp part too). It runs once the
// message's event was delivered: when the consumer parsed the message
// and left it in the event (Event.SIP, Run's pipeline), its SDP is read
// from there; otherwise the decoder's Message is reused (no allocation
// once its slices have grown).
func (d *Decoder) learnSDP(msg []byte) {
	m := d.ev.SIP
	d.ev.SIP = nil
	if m == nil {
		if headersOnly(msg) {
			return // the header block ends the message: no body (BYE, most responses)
		}
		m = &d.sip
		if m.UnmarshalBody(msg) != nil {
			return
		}
	}
	if !m.HasSDP {
		return
	}
	for i := range m.SDP.Media {
		d.learnMedia(&m.SDP, i)
	}
}

// learnMedia learns (or, for a non-RTP profile, forgets) the endpoints
// of media i.
func (d *Decoder) learnMedia(s *sipflow.SDP, i int) {
	md := &s.Media[i]
	switch string(md.Type) {
	case "audio", "video", "image", "text": // media that can carry RTP
	default:
		return
	}
	rtp, ok := s.Endpoint(i)
	if !ok || rtp.Addr().IsUnspecified() {
		return // disabled stream or hold with 0.0.0.0 (RFC 3264 8.4)
	}
	if !bytes.Contains(md.Proto, []byte("RTP/")) {
		// Only RTP profiles (RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF ...):
		// a re-INVITE moving a port from audio to T.38 (m=image udptl)
		// ends RTP there.
		d.media.forget(rtp)
		if rtp.Port() < 65535 {
			d.media.forget(netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1))
		}
		return
	}
	rtcp, _ := s.RTCPEndpoint(i)
	if md.RTCPMux && rtcp == rtp {
		d.media.learn(rtp, roleMux, d.nowNS)
		return
	}
	d.media.learn(rtp, roleRTP, d.nowNS)
	// Port 0: RTP on 65535 has no port+1.
	if rtcp.Port() != 0 && rtcp != rtp && rtcp.Addr().IsValid() && !rtcp.Addr().IsUnspecified() {
		d.media.learn(rtcp, roleRTCP, d.nowNS)
	}
}
