package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"time"

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
// refreshes it: writing the map on every RTP packet costs more than the
// precision is worth.
const mediaRefresh = int64(time.Second)

// The cache in front of the IPv4 map is set-associative: 4096 sets of
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

type mediaEntry struct {
	role mediaRole
	seen int64 // packet time (Unix ns, see unixNano) of the SDP or the last packet to or from it
	// queued is the time the entry's element in the expiry heap carries
	// (at most seen): an element with another time is a leftover of a
	// forgotten entry, dropped when it surfaces.
	queued int64
}

// mediaDue is one element of the expiry heap: an endpoint and the time
// it was last known to be seen. Lookups refresh seen in the map only;
// the element is brought up to date when it surfaces, so the per-packet
// path never touches the heap.
type mediaDue struct {
	k   epKey // an IPv4 endpoint's key4 sits in lo, v4 set
	v4  bool
	due int64
}

// mediaSlot caches the map's answer for one IPv4 key, found or not: tag
// is the key, the role (0: not learned) and slotValid; seen mirrors the
// entry's. A key's answer can only be in its own set: whatever changes
// the key's entry (learn, forget, expiry) updates or drops it there, and
// the cache can never disagree with the map.
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
// values, so lookups on the RTP path do not allocate; IPv4 endpoints get
// a uint64 key, which Go's maps hash fastest, and a direct-mapped cache
// in front of the map, because the map lookup was the largest single
// cost of classifying an RTP packet (BenchmarkDecodeVsFloor).
//
// Expiry and eviction go through a min-heap of (endpoint, time) kept
// beside the maps: a sweep of every entry once a second of packet time
// cost a seventh of a SIP-heavy run, and when the table is full the
// endpoint seen longest ago makes room for a new one (counted) instead of
// the new call's media going unrecognised.
type mediaTable struct {
	m4      map[uint64]mediaEntry
	m6      map[epKey]mediaEntry
	max     int
	due     []mediaDue // min-heap by due
	evicted int        // Stats.MediaEvicted
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
	t.m4 = make(map[uint64]mediaEntry)
	t.m6 = make(map[epKey]mediaEntry)
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

// set is the cache set of an IPv4 key (Fibonacci hashing).
func (t *mediaTable) set(k uint64) *mediaSet {
	return &t.cache[(k*0x9e3779b97f4a7c15)>>(64-mediaSetBits)]
}

func (t *mediaTable) len() int { return len(t.m4) + len(t.m6) }

func (t *mediaTable) get(ap netip.AddrPort) (mediaEntry, bool) {
	if k, ok := key4(ap); ok {
		e, ok := t.m4[k]
		return e, ok
	}
	e, ok := t.m6[keyOf(ap)]
	return e, ok
}

func (t *mediaTable) learn(ap netip.AddrPort, role mediaRole, now int64) {
	if k, ok := key4(ap); ok {
		old, had := t.m4[k]
		if !had && !t.room(now) {
			return
		}
		e := mediaEntry{role: role, seen: now, queued: old.queued}
		if !had {
			e.queued = now
			t.push(mediaDue{k: epKey{lo: k}, v4: true, due: now})
		}
		t.m4[k] = e
		t.uncache(k)
		return
	}
	k := keyOf(ap)
	old, had := t.m6[k]
	if !had && !t.room(now) {
		return
	}
	e := mediaEntry{role: role, seen: now, queued: old.queued}
	if !had {
		e.queued = now
		t.push(mediaDue{k: k, due: now})
	}
	t.m6[k] = e
}

// room makes room for one more entry, evicting the one seen longest ago
// when the table is full; it fails only when every element left is a
// leftover and nothing could be evicted (never, while the maps are full).
func (t *mediaTable) room(now int64) bool {
	for t.len() >= t.max && len(t.due) > 0 {
		d := t.pop()
		e, ok := t.entry(d)
		switch {
		case !ok || e.queued != d.due:
			// a forgotten entry's leftover
		case e.seen > d.due:
			t.requeue(d, e) // refreshed since: not the oldest after all
		default:
			t.remove(d)
			t.evicted++
		}
	}
	return t.len() < t.max
}

// expire removes every entry not seen since before.
func (t *mediaTable) expire(before int64) {
	for len(t.due) > 0 && t.due[0].due < before {
		d := t.pop()
		e, ok := t.entry(d)
		switch {
		case !ok || e.queued != d.due:
		case e.seen >= before:
			t.requeue(d, e)
		default:
			t.remove(d)
		}
	}
}

func (t *mediaTable) entry(d mediaDue) (mediaEntry, bool) {
	if d.v4 {
		e, ok := t.m4[d.k.lo]
		return e, ok
	}
	e, ok := t.m6[d.k]
	return e, ok
}

// requeue brings a refreshed entry's element up to its time.
func (t *mediaTable) requeue(d mediaDue, e mediaEntry) {
	d.due, e.queued = e.seen, e.seen
	if d.v4 {
		t.m4[d.k.lo] = e
	} else {
		t.m6[d.k] = e
	}
	t.push(d)
}

func (t *mediaTable) remove(d mediaDue) {
	if d.v4 {
		delete(t.m4, d.k.lo)
		t.uncache(d.k.lo)
		return
	}
	delete(t.m6, d.k)
}

func (t *mediaTable) push(d mediaDue) {
	t.due = append(t.due, d)
	h := t.due
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].due <= h[i].due {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *mediaTable) pop() mediaDue {
	h := t.due
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].due < h[c].due {
			c++
		}
		if h[i].due <= h[c].due {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	t.due = h
	return top
}

func (t *mediaTable) forget(ap netip.AddrPort) {
	if k, ok := key4(ap); ok {
		delete(t.m4, k)
		t.uncache(k)
		return
	}
	delete(t.m6, keyOf(ap))
}

// lookup finds the endpoint a datagram goes to, or else comes from
// (symmetric RTP, RFC 4961), and refreshes it.
func (t *mediaTable) lookup(dst, src netip.AddrPort, now int64) (mediaRole, bool) {
	if len(t.m4) == 0 && len(t.m6) == 0 {
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
		k6 := keyOf(ap)
		e, ok := t.m6[k6]
		if !ok {
			return 0
		}
		if now-e.seen > mediaRefresh {
			e.seen = now
			t.m6[k6] = e
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
		// Not cached: the map's answer goes first in the set, and the
		// way cached longest ago goes.
		e := t.m4[k] // zero role when absent: cached as "not learned" too
		copy(st[1:], st[:mediaWays-1])
		st[0] = mediaSlot{tag: k | uint64(e.role)<<slotRoleShift | slotValid, seen: e.seen}
		s = &st[0]
	}
	role := s.role()
	if role != 0 && now-s.seen > mediaRefresh {
		// The map holds the time expire reads; the slot mirrors it.
		s.seen = now
		e := t.m4[k] // once a second per endpoint: keeps its heap time
		e.seen = now
		t.m4[k] = e
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
		if len(msg) >= 4 && string(msg[len(msg)-4:]) == "\r\n\r\n" && bytes.Index(msg, []byte("\r\n\r\n")) == len(msg)-4 {
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
