package rtpstats

import "math"

// Flags set per packet by the Wireshark-compatible analysis; names follow
// STAT_FLAG_* in ui/tap-rtp-analysis.h.
const (
	flagFirst = 1 << iota
	flagMarker
	flagWrongSeq
	flagPTChange
	flagPTCN
	flagFollowPTCN
	flagWrongTimestamp
	flagTEvent
)

const (
	seqMod = 1 << 16
	// seqWrapHeuristic: a previous sequence number this far above the
	// current one is read as a wrap with the wrapping packets lost
	// (Wireshark issue 5958), not as a massively late packet.
	seqWrapHeuristic = 0xFF00
	// jitterGain is the RFC 3550 A.8 smoothing: J += (|D| - J)/16.
	jitterGain = 16
)

// wsStat reproduces the per-stream state of Wireshark's
// rtppacket_analyse (ui/tap-rtp-analysis.c as shipped in Wireshark 4.0,
// the tshark we validate against) field for field, so that packets, lost,
// deltas, jitter and skew equal `tshark -z rtp,streams`. Times are in
// milliseconds relative to the stream's first packet.
//
// Points where 4.0 differs from later Wireshark and that the corpus test
// pins down: "in time sequence" means within half the 32-bit timestamp
// range after the FIRST packet's timestamp; the expected arrival is the
// last in-time packet's arrival plus the nominal time since the last
// packet that had a known clock, so telephone-event packets (clock 0)
// move the arrival reference but not the nominal one and inflate the
// jitter of the voice packet after them, exactly as tshark reports; and
// out-of-time packets update neither delta nor jitter.
type wsStat struct {
	started  bool
	flags    int
	startSeq int
	stopSeq  int
	seqNum   int
	cycles   int
	under    bool
	sequence int // "wrong sequence" events

	seqTimestamp int64   // extended timestamp of the last in-time packet (not used by Wireshark's math; the stream uses it for ptime)
	firstTS      uint32  // Wireshark measures nominal time from the first packet's timestamp
	startMs      float64 // arrival of the first packet
	timeMs       float64
	pt           uint8
	regPT        int

	delta, jitter, diff  float64
	maxDelta, minDelta   float64
	meanDelta            float64
	maxJitter, minJitter float64
	meanJitter           float64
	skew, maxSkew        float64
	lastNominal          float64
	totalNr              int
	clockRate            uint32
}

// analyse is rtppacket_analyse. extTS is the unwrapped RTP timestamp,
// nowMs the arrival time in ms, clock the analysis clock (0 = unknown).
func (s *wsStat) analyse(seq uint16, extTS int64, pt uint8, marker bool, nowMs float64, clock uint32, tevent bool) {
	sq := int(seq)
	if !s.started {
		s.started = true
		s.startSeq, s.stopSeq, s.seqNum = sq, sq, sq
		s.seqTimestamp = extTS
		s.firstTS = uint32(extTS)
		s.startMs = nowMs
		s.timeMs = nowMs
		s.pt = pt
		s.regPT = int(pt)
		s.minDelta, s.minJitter = -1, -1
		s.totalNr = 1
		s.flags = flagFirst
		if marker {
			s.flags |= flagMarker
		}
		return
	}
	s.flags = 0
	ts := uint32(extTS)
	inTime := (s.firstTS <= ts && ts-s.firstTS < 0x80000000) ||
		(s.firstTS > ts && uint64(s.firstTS)+uint64(0xFFFFFFFF-ts) < 0x80000000)
	if !inTime {
		s.flags |= flagWrongTimestamp
	}
	// Sequence cycle counting, verbatim from Wireshark including its
	// acknowledged approximations.
	switch {
	case sq < s.startSeq && inTime && !s.under:
		s.cycles++
		s.under = true
	case sq == 0 && s.stopSeq == seqMod-1 && inTime && !s.under:
		s.cycles++
		s.under = true
	case sq > s.startSeq && inTime && s.under:
		s.under = false
	}
	switch {
	case inTime && s.seqNum+1 == sq:
		s.seqNum = sq
	case inTime && s.seqNum == seqMod-1 && sq == 0:
		s.seqNum = sq
	case inTime && (s.seqNum+1 < sq || s.seqNum-sq > seqWrapHeuristic):
		s.seqNum = sq
		s.sequence++
		s.flags |= flagWrongSeq
	case s.seqNum+1 > sq:
		s.sequence++
		s.flags |= flagWrongSeq
	}
	if pt == ptCN || pt == ptCNOld {
		s.flags |= flagPTCN
	}
	if s.pt == ptCN || s.pt == ptCNOld {
		s.flags |= flagFollowPTCN
	}
	if pt != s.pt {
		s.flags |= flagPTChange
	}
	s.pt = pt
	if tevent {
		s.flags |= flagTEvent
	}

	var curJitter, curDiff float64
	if inTime {
		arrival := nowMs - s.startMs
		nominal := float64(uint32(extTS) - s.firstTS)
		if clock != 0 && clock/1000 != 0 {
			s.clockRate = clock
			// Wireshark divides by the integer clock/1000 (44100 Hz -> 44).
			nominal /= float64(clock / 1000)
			expected := s.timeMs + (nominal - s.lastNominal)
			curDiff = math.Abs(nowMs - expected)
			curJitter = (15*s.jitter + curDiff) / jitterGain
			s.delta = nowMs - s.timeMs
			s.jitter = curJitter
			s.diff = curDiff
			s.lastNominal = nominal
			s.skew = nominal - arrival
			if math.Abs(s.skew) > math.Abs(s.maxSkew) {
				s.maxSkew = s.skew
			}
		} else {
			s.delta = nowMs - s.timeMs
		}
	}
	if marker {
		s.flags |= flagMarker
	}
	if s.flags&(flagFirst|flagMarker|flagPTCN|flagWrongTimestamp|flagFollowPTCN) == 0 {
		if s.delta > s.maxDelta {
			s.maxDelta = s.delta
		}
		if s.minDelta == -1 || s.delta < s.minDelta {
			s.minDelta = s.delta
		}
		// Wireshark divides by total_nr (packets so far, all kinds), not
		// by the number of regular deltas; kept for tshark parity.
		s.meanDelta = (s.meanDelta*float64(s.totalNr-1) + s.delta) / float64(s.totalNr)
		if clock != 0 && clock/1000 != 0 {
			if s.jitter > s.maxJitter {
				s.maxJitter = s.jitter
			}
			s.meanJitter = (s.meanJitter*float64(s.totalNr-1) + curJitter) / float64(s.totalNr)
			if s.minJitter == -1 || s.jitter < s.minJitter {
				s.minJitter = s.jitter
			}
		}
	}
	if s.flags&flagPTCN == 0 {
		s.regPT = int(s.pt)
	}
	if inTime {
		s.timeMs = nowMs
		s.seqTimestamp = extTS
	}
	s.stopSeq = sq
	s.totalNr++
}

// expected is Wireshark's packet_expected: last minus first sequence
// number plus one, with counted cycles.
func (s *wsStat) expected() int {
	if !s.started {
		return 0
	}
	return s.stopSeq + s.cycles*seqMod - s.startSeq + 1
}
