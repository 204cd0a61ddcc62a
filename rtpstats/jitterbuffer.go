package rtpstats

import "math"

// Jitter-buffer simulation parameters.
const (
	// ramjeeAlpha is the smoothing weight of Ramjee, Kurose, Towsley &
	// Schulzrinne, "Adaptive playout mechanisms for packetized audio
	// applications in wide-area networks" (INFOCOM 1994), algorithm 1.
	ramjeeAlpha = 0.998002
	// ramjeeK is that algorithm's safety factor: playout = d + 4v.
	ramjeeK = 4
	// adaptiveMinMs / adaptiveMaxMs bound the adaptive buffer depth, like
	// the limits of common softphone buffers.
	adaptiveMinMs = 20
	adaptiveMaxMs = 300
)

// jbSim simulates a receiver jitter buffer on the packets of one stream and
// counts the packets that arrive after their playout time ("late", which
// the E-model treats as lost).
//
// Fixed buffers: the first packet of a talkspurt (the stream's first
// packet, or one with the marker bit) is played depthMs after it arrives;
// every later packet i of the talkspurt is due at that playout time plus
// (ts_i − ts_first)/clock. A packet arriving after its due time is late.
// The buffer is assumed large enough never to overflow.
//
// Adaptive buffer: Ramjee et al. algorithm 1 keeps an exponentially
// weighted estimate d of the relative one-way delay n_i = arrival − ts/clock
// and v of its deviation; the playout delay d + 4v (relative to the fastest
// delay seen, clamped to [20, 300] ms) is applied at each talkspurt start,
// and also immediately after a late packet (spike handling), since
// continuous streams without marker bits would otherwise never adapt.
type jbSim struct {
	// a fixed buffer touches only these
	offset   float64 // playout deadline = tsMs + offset
	depthMs  float64 // fixed depth; 0 = adaptive
	late     int
	anchored bool
	inited   bool
	// adaptive state
	d, v     float64
	base     float64 // smallest relative delay seen
	sumDepth float64
	n        int
}

func (j *jbSim) add(arrMs, tsMs float64, talkspurt bool) {
	rel := arrMs - tsMs
	if j.depthMs > 0 {
		j.addFixed(rel, talkspurt)
		j.sumDepth += j.depthMs
		j.n++
		return
	}
	j.addAdaptive(rel, talkspurt)
}

// addFixed is add for a fixed buffer, given the packet's arrival
// relative to its timestamp (arrMs - tsMs). It keeps no mean depth: a
// fixed buffer's is its depth (meanDepthMs).
func (j *jbSim) addFixed(rel float64, talkspurt bool) {
	if !j.anchored || talkspurt {
		j.offset = rel + j.depthMs
		j.anchored = true
	}
	if rel > j.offset {
		j.late++
	}
}

// addAdaptive is add for the adaptive buffer.
func (j *jbSim) addAdaptive(rel float64, talkspurt bool) {
	if !j.inited {
		j.d, j.v, j.base, j.inited = rel, 0, rel, true
	} else {
		j.d = ramjeeAlpha*j.d + (1-ramjeeAlpha)*rel
		j.v = ramjeeAlpha*j.v + (1-ramjeeAlpha)*math.Abs(j.d-rel)
		j.base = min(j.base, rel) // builtin min: math.Min's NaN and ±0 rules, inlined
	}
	depth := min(max(j.d-j.base+ramjeeK*j.v, adaptiveMinMs), adaptiveMaxMs)
	if !j.anchored || talkspurt {
		j.offset = rel + depth
		j.anchored = true
	}
	if rel > j.offset {
		j.late++
		j.offset = rel + depth
		return
	}
	// The delay this buffer adds is how long an on-time packet waits.
	j.sumDepth += j.offset - rel
	j.n++
}

// meanDepthMs is the average buffering delay the simulation applied.
func (j *jbSim) meanDepthMs() float64 {
	if j.n == 0 {
		return j.depthMs
	}
	if j.depthMs > 0 {
		return j.depthMs
	}
	return j.sumDepth / float64(j.n)
}
