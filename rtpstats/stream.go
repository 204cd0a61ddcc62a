package rtpstats

import (
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

type stream struct {
	key       streamKey
	flow      flowKey // its entry in Tracker.flows
	pos       int     // its index in Tracker.all
	first     time.Time
	firstNS   int64 // first in Unix ns, when firstFast (sinceFirst)
	firstFast bool
	last      time.Time
	callID    string         // call the stream was linked to when it was created (exactEP or natEP)
	exactEP   netip.AddrPort // SDP endpoint the stream matched exactly when created; zero when none
	natEP     netip.AddrPort // SDP endpoint guessed by linkNAT; zero when none
	hint      hintCache
	pt        uint8
	codec     string
	clock     uint32 // clock for display/JB/DTMF (hint or table), may differ from analysis clock
	eventPT   bool
	frameMs   float64 // packet duration estimate from timestamps
	ws        wsStat
	extTS     int64 // last extended timestamp
	maxExt    int64 // highest extended sequence number
	minExt    int64 // lowest extended sequence number received (within the window when it arrived)
	received  int   // distinct sequence numbers received
	dups      int
	ooo       int
	late      int // arrived after their slot left the window
	loss      lossPattern
	jb        [3]jbSim // fixed 50, fixed 200, adaptive
	series    []seriesBucket
	seriesCut int // intervals dropped after MaxSeries
	dtmf      dtmfState
	events    []DTMFEvent
	badEvents int
	taken     int   // ws.totalNr when ChangedCalls last looked
	cost      int64 // footprint when last counted in Tracker.liveBytes
	// window is last: a packet touches one or two of its words, and the
	// per-packet scalars above stay on their own cache lines.
	window [seqWindowWords]uint64
}

// streamOverhead is what a live stream costs beside its series and
// DTMF events: the struct (1 344 bytes, in a 1 408-byte size class),
// its flow, its entries in the flow map, the stream list and the call
// index (measured: 1.93 KB per stream of 10 packets, one series bucket).
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

// sinceFirst is now.Sub(s.first). Packet times carry no monotonic
// reading, and without one time.Time.Sub checks for overflow with an Add
// and an Equal: a tenth of what a packet cost here. Between times of the
// years 1834 to 2106 (every classic pcap timestamp) the difference of
// their Unix nanoseconds is the same value, exactly.
func (s *stream) sinceFirst(now time.Time) time.Duration {
	if s.firstFast && fastTime(now) {
		return time.Duration(now.UnixNano() - s.firstNS)
	}
	return now.Sub(s.first)
}

// firstExt is the lowest extended sequence number received: slots before
// it are outside the stream's range and not losses.
func (s *stream) firstExt() int64 { return s.minExt }

// flushLoss returns the loss pattern as if every pending slot in the window
// were final now (received if seen, lost if not).
func (s *stream) flushLoss() lossPattern {
	l := s.loss
	for x := s.maxExt - seqWindow + 1; x <= s.maxExt; x++ {
		if x < s.firstExt() {
			continue
		}
		w, m := s.bit(x)
		if s.window[w]&m != 0 {
			l.received(1)
		} else {
			l.lostN(1)
		}
	}
	return l
}

// add processes one RTP packet. payload aliases the caller's buffer and is
// only read.
func (s *stream) add(h *Fixed, pkt []byte, now time.Time, o *Options, hint *codecHint) {
	name, aclock, tevent := ptInfo(h.PayloadType, hint, o.EventPayloadType)
	clock := aclock
	if hint != nil && hint.clock != 0 {
		clock = hint.clock
	}
	if clock == 0 && tevent {
		clock = 8000 // RFC 4733 default rate
	}
	if !s.ws.started {
		s.first = now
		s.firstNS, s.firstFast = now.UnixNano(), fastTime(now)
		s.pt, s.codec, s.clock, s.eventPT = h.PayloadType, name, clock, tevent
		s.extTS = int64(h.Timestamp)
		s.maxExt = int64(h.SequenceNumber)
		s.minExt = s.maxExt
	} else {
		// Unwrap the 32-bit timestamp relative to the previous packet.
		s.extTS += int64(int32(h.Timestamp - uint32(s.extTS)))
	}
	if !tevent && h.PayloadType != ptCN && h.PayloadType != ptCNOld {
		// Report the media codec, not CN or DTMF interleaved with it.
		s.pt, s.codec, s.clock = h.PayloadType, name, clock
	}
	since := s.sinceFirst(now)
	nowMs := float64(since) / float64(time.Millisecond)
	prevTS := s.ws.seqTimestamp
	wasStarted := s.ws.started
	s.ws.analyse(h.SequenceNumber, s.extTS, h.PayloadType, h.Marker, nowMs, aclock, tevent)
	if now.After(s.last) || s.last.IsZero() {
		s.last = now
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
		talk := h.Marker
		for i := range s.jb {
			s.jb[i].add(nowMs, tsMs, talk)
		}
	}
	s.addSeries(since, o, dup)
}

// addSeries counts the packet that arrived since after the stream's
// first in its time-series interval.
func (s *stream) addSeries(since time.Duration, o *Options, dup bool) {
	iv := o.Interval
	idx := int(since / iv)
	if idx < 0 {
		idx = 0
	}
	n := len(s.series)
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
