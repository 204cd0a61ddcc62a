package rtpstats

import (
	"math"
	"math/bits"
	"net/netip"
	"time"
	"unsafe"
)

// seqWindow is how many sequence numbers behind the highest one we keep
// per-packet fate for, in a bitmap (128 bytes per stream): a sequence
// number is final once it leaves the window, lost if it was never
// received. A packet arriving further back than this (about 20 s at
// 20 ms packets) is counted as late (StreamReport.Late) and stays
// counted as lost: a receiver would have played out past it long ago.
// Duplicates that old are not recognised (they count as late too).
const (
	seqWindowWords = 16
	seqWindow      = 64 * seqWindowWords
)

// streamKey identifies a stream: an SSRC change on a 5-tuple is a new stream.
type streamKey struct {
	ssrc     uint32
	src, dst netip.AddrPort
}

// seriesBucket is one interval of the time series while it is collected.
type seriesBucket struct {
	start     time.Time
	idx       int
	packets   int
	dups      int   // packets of the interval whose sequence number was already received
	maxExtLo  int64 // highest extended seq before the interval
	maxExtHi  int64
	maxJitter float64
}

// hintCache is the codec hint last resolved for a stream; SetCodec on
// one of the stream's endpoints clears ok.
type hintCache struct {
	ok bool
	pt uint8
	h  *codecHint
}

// ptCache is what ptInfo last said about a payload type and hint: a
// stream's packets carry one or two payload types, so the lookup (a
// table read or a string comparison per packet) runs when they change.
// A codecHint is never modified once made, so its address names it.
type ptCache struct {
	hint   *codecHint
	name   string
	aclock uint32 // analysis clock (ptInfo)
	clock  uint32 // clock for display, JB and DTMF
	pt     uint8
	tevent bool
	ok     bool
}

// stream is one RTP stream's state. Fields every packet reads or writes
// come first, in about the order add touches them, so that a packet
// touches as few cache lines as it can: consecutive packets belong to
// different streams, so each packet finds its stream's lines out of the
// first-level cache (and, with a few thousand live streams, out of the
// second). What only reports, expiry and linking read comes after.
type stream struct {
	// hot: every packet
	own       flow      // the flow of its 5-tuple if this stream owns it, and own.key always (flows.go)
	key       streamKey // key.ssrc: flow.find, on own's cache line; src and dst are cold
	pc        ptCache
	hint      hintCache
	pt        uint8
	eventPT   bool
	firstFast bool   // first is within ±fastSec of 1970 (sinceFirst, firstNS)
	lastFast  bool   // last is, and lastNS holds it
	clock     uint32 // clock for display/JB/DTMF (hint or table), may differ from analysis clock
	codec     string
	firstNS   int64   // first in Unix ns, when firstFast (sinceFirst)
	lastNS    int64   // last in Unix ns, when lastFast
	extTS     int64   // last extended timestamp
	maxExt    int64   // highest extended sequence number
	minExt    int64   // lowest extended sequence number received (within the window when it arrived)
	received  int     // distinct sequence numbers received
	frameMs   float64 // packet duration estimate from timestamps
	ws        wsStat
	jb        [3]jbSim // fixed 50, fixed 200, adaptive
	series    []seriesBucket
	seriesEnd time.Duration // since the first packet, where the last bucket ends (addSeries)
	events    []DTMFEvent
	cost      int64 // footprint when last counted in Tracker.liveBytes
	last      time.Time
	loss      lossPattern // its first fields are hot, the rest only on a loss

	// cold: reports, expiry, linking, rare events
	nextInFlow *stream // the next stream of the same flow (flow.head)
	first      time.Time
	pos        int            // its index in Tracker.all
	callID     string         // call the stream was linked to when it was created (exactEP or natEP)
	exactEP    netip.AddrPort // SDP endpoint the stream matched exactly when created; zero when none
	natEP      netip.AddrPort // SDP endpoint guessed by linkNAT; zero when none
	dups       int
	ooo        int
	late       int // arrived after their slot left the window
	seriesCut  int // intervals dropped after MaxSeries
	dtmf       dtmfState
	badEvents  int
	taken      int // ws.totalNr when ChangedCalls last looked
	// window is last: a packet touches one of its words.
	window [seqWindowWords]uint64
}

// streamOverhead is what a live stream costs beside its series and
// DTMF events: the struct (1 384 bytes, in a 1 408-byte size class; a
// flow lives in its first stream), its entries in the flow map, the
// stream list and the call index (measured before flows moved into
// streams: 1.93 KB per stream of 10 packets, one series bucket).
const streamOverhead = int64(unsafe.Sizeof(stream{})) + 512

// footprint is what s holds, in Go sizes, for Options.MaxLiveBytes.
func (s *stream) footprint() int64 {
	return streamOverhead + int64(cap(s.series))*int64(unsafe.Sizeof(seriesBucket{})) +
		int64(cap(s.events))*int64(unsafe.Sizeof(DTMFEvent{}))
}

func newStream(k streamKey, gmin int) *stream {
	s := &stream{key: k}
	s.loss.gmin = gmin
	s.jb[0].depthMs = 50
	s.jb[1].depthMs = 200
	return s
}

func (s *stream) bit(e int64) (word int, mask uint64) {
	i := uint64(e) % seqWindow
	return int(i / 64), 1 << (i % 64)
}

// advance moves the window so that e becomes the highest sequence number,
// finalizing the fate of sequence numbers that fall out of it.
func (s *stream) advance(e int64) {
	d := e - s.maxExt
	lo := s.maxExt - seqWindow + 1 // oldest in window before the move
	n := d
	if n > seqWindow {
		n = seqWindow
	}
	for i := int64(0); i < n; i++ {
		x := lo + i
		w, m := s.bit(x)
		if s.window[w]&m != 0 {
			s.loss.received(1)
			s.window[w] &^= m
		} else if x >= s.firstExt() {
			s.loss.lostN(1)
		}
	}
	if d > seqWindow {
		// Everything between the old window and the new one was never seen.
		s.loss.lostN(int(d - seqWindow))
	}
	s.maxExt = e
}

// fastSec bounds the times whose differences sinceFirst takes in int64
// nanoseconds: two times within ±fastSec of 1970 are less than 2^63 ns
// apart.
const fastSec = 1 << 32 // about 136 years

func fastTime(t time.Time) bool { u := t.Unix(); return u > -fastSec && u < fastSec }

// unixFast is t in Unix nanoseconds and whether t is within ±fastSec of
// 1970, where the difference of two such values is exact (sinceFirst).
func unixFast(t time.Time) (int64, bool) {
	u := t.Unix()
	return u*int64(time.Second) + int64(t.Nanosecond()), u > -fastSec && u < fastSec
}

// sinceFirst is now.Sub(s.first). Packet times carry no monotonic
// reading, and without one time.Time.Sub checks for overflow with an Add
// and an Equal: a tenth of what a packet cost here. Between times of the
// years 1834 to 2106 (every classic pcap timestamp) the difference of
// their Unix nanoseconds is the same value, exactly.
func (s *stream) sinceFirst(now time.Time) time.Duration {
	ns, fast := unixFast(now)
	return s.sinceFirstNS(now, ns, fast)
}

// sinceFirstNS is sinceFirst for a caller that has unixFast(now) already.
func (s *stream) sinceFirstNS(now time.Time, ns int64, fast bool) time.Duration {
	if s.firstFast && fast {
		return time.Duration(ns - s.firstNS)
	}
	return now.Sub(s.first)
}

// firstExt is the lowest extended sequence number received: slots before
// it are outside the stream's range and not losses.
func (s *stream) firstExt() int64 { return s.minExt }

// flushLoss returns the loss pattern as if every pending slot in the window
// were final now (received if seen, lost if not). It hands the pattern
// runs of slots, a word of the window at a time: received(n) and lostN(n)
// are n calls with 1 (lostN's for Gmin >= 1, which Options.fill makes
// sure of), and a report used to spend 1024 calls per stream here.
func (s *stream) flushLoss() lossPattern {
	l := s.loss
	for x := max(s.maxExt-seqWindow+1, s.firstExt()); x <= s.maxExt; {
		i := uint64(x) % seqWindow
		word := s.window[i/64] >> (i % 64)
		got := word&1 != 0
		if got {
			word = ^word
		}
		// The run of equal bits from x, within this word and the window.
		n := min(int64(bits.TrailingZeros64(word)), int64(64-i%64), s.maxExt-x+1)
		if got {
			l.received(int(n))
		} else {
			l.lostN(int(n))
		}
		x += n
	}
	return l
}

// ptInfo is ptInfo(pt, hint, eventPT) with the clock add uses beside
// the analysis clock, remembered for the last payload type and hint.
func (s *stream) ptInfo(pt uint8, hint *codecHint, eventPT int) *ptCache {
	c := &s.pc
	if c.ok && c.pt == pt && c.hint == hint {
		return c
	}
	name, aclock, tevent := ptInfo(pt, hint, eventPT)
	clock := aclock
	if hint != nil && hint.clock != 0 {
		clock = hint.clock
	}
	if clock == 0 && tevent {
		clock = 8000 // RFC 4733 default rate
	}
	*c = ptCache{hint: hint, name: name, aclock: aclock, clock: clock, pt: pt, tevent: tevent, ok: true}
	return c
}

// add processes one RTP packet. payload aliases the caller's buffer and is
// only read.
func (s *stream) add(h *Fixed, pkt []byte, now time.Time, o *Options, hint *codecHint) {
	pc := s.ptInfo(h.PayloadType, hint, o.EventPayloadType)
	aclock, clock, tevent := pc.aclock, pc.clock, pc.tevent
	ns, fast := unixFast(now)
	wasStarted := s.ws.started
	if !wasStarted {
		s.first = now
		s.firstNS, s.firstFast = ns, fast
		s.pt, s.codec, s.clock, s.eventPT = h.PayloadType, pc.name, clock, tevent
		s.extTS = int64(h.Timestamp)
		s.maxExt = int64(h.SequenceNumber)
		s.minExt = s.maxExt
	} else {
		// Unwrap the 32-bit timestamp relative to the previous packet.
		s.extTS += int64(int32(h.Timestamp - uint32(s.extTS)))
	}
	media := !tevent && h.PayloadType != ptCN && h.PayloadType != ptCNOld
	if media && (s.pt != h.PayloadType || s.clock != clock ||
		len(s.codec) != len(pc.name) || unsafe.StringData(s.codec) != unsafe.StringData(pc.name)) {
		// Report the media codec, not CN or DTMF interleaved with it.
		// (Written only when it changes, which the name's address
		// tells without comparing bytes: storing a string has a write
		// barrier to check.)
		s.pt, s.codec, s.clock = h.PayloadType, pc.name, clock
	}
	since := s.sinceFirstNS(now, ns, fast)
	nowMs := float64(since) / float64(time.Millisecond)
	prevTS := s.ws.seqTimestamp
	s.ws.analyse(h.SequenceNumber, s.extTS, h.PayloadType, h.Marker, nowMs, aclock, tevent)
	// now.After(s.last) || s.last.IsZero(), in Unix ns where exact.
	if s.lastFast && fast {
		if ns > s.lastNS {
			s.last, s.lastNS = now, ns
		}
	} else if now.After(s.last) || s.last.IsZero() {
		s.last, s.lastNS, s.lastFast = now, ns, fast
	}

	// Sequence bookkeeping with a 16-bit-wrap-aware extended number.
	e := s.maxExt + int64(int16(h.SequenceNumber-uint16(s.maxExt)))
	if !wasStarted {
		e = s.maxExt
	}
	dup := false
	switch {
	case e > s.maxExt || !wasStarted:
		if wasStarted {
			s.advance(e)
		}
		w, m := s.bit(e)
		s.window[w] |= m
		s.received++
	case s.maxExt-e >= seqWindow:
		s.ooo++
		s.late++ // too old to place: its slot was already final
	default:
		w, m := s.bit(e)
		if s.window[w]&m != 0 {
			s.dups++
			dup = true
		} else {
			s.window[w] |= m
			s.received++
			if e < s.maxExt {
				s.ooo++
			}
			if e < s.minExt {
				// Reordered before the first packet: the range grows
				// down, and the slots between become candidates (all
				// still in the window, since e is).
				s.minExt = e
			}
		}
	}

	// Packet duration from consecutive in-order media packets.
	if wasStarted && clock != 0 && !tevent && s.ws.flags&(flagWrongSeq|flagWrongTimestamp|flagPTCN) == 0 {
		if dts := s.extTS - prevTS; dts > 0 {
			s.frameMs = float64(dts) * 1000 / float64(clock)
		}
	}
	if tevent {
		if !s.dtmf.add(h.Payload(pkt), h.Timestamp, now, clock, &s.events) {
			s.badEvents++
		}
	} else if clock != 0 && h.PayloadType != ptCN && h.PayloadType != ptCNOld {
		tsMs := float64(s.extTS) * 1000 / float64(clock)
		rel := nowMs - tsMs // jbSim.add's arrival relative to the timestamp
		s.jb[0].addFixed(rel, h.Marker)
		s.jb[1].addFixed(rel, h.Marker)
		s.jb[2].addAdaptive(rel, h.Marker)
	}
	s.addSeries(since, o, dup)
}

// addSeries counts the packet that arrived since after the stream's
// first in its time-series interval. seriesEnd spares the per-packet
// division: a packet before the last bucket's end belongs to that
// bucket (or, reordered, to none earlier that is still open).
func (s *stream) addSeries(since time.Duration, o *Options, dup bool) {
	n := len(s.series)
	if n == 0 || since >= s.seriesEnd {
		iv := o.Interval
		idx := int(since / iv)
		if idx < 0 {
			idx = 0
		}
		if n == 0 || idx > s.series[n-1].idx {
			if n >= o.MaxSeries {
				s.seriesCut++
				return
			}
			lo := s.maxExt - 1
			if n > 0 {
				lo = s.series[n-1].maxExtHi
			}
			s.series = append(s.series, seriesBucket{start: s.first.Add(time.Duration(idx) * iv), idx: idx, maxExtLo: lo, maxExtHi: lo})
			n++
			s.seriesEnd = math.MaxInt64 // past the last interval time.Duration holds
			if idx < math.MaxInt64/int(iv)-1 {
				s.seriesEnd = time.Duration(idx+1) * iv
			}
		}
	}
	b := &s.series[n-1]
	b.packets++
	if dup {
		b.dups++
	}
	if s.maxExt > b.maxExtHi {
		b.maxExtHi = s.maxExt
	}
	if s.ws.jitter > b.maxJitter {
		b.maxJitter = s.ws.jitter
	}
}
