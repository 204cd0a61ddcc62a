package rtpstats

// natPorts holds the NAT candidates (natCand) of each port: a table of
// 65 536 list numbers indexed by the port itself, made with the first
// candidate, and the lists of the ports that have candidates. A map by
// port cost a hash and a probe per look, and a SIP-heavy capture looks
// up, adds and deletes a port's list for nearly every SDP endpoint (the
// media server's ports come and go with the calls), which also left the
// map's probe sequences long with deleted entries.
type natPorts struct {
	byPort *[1 << 16]int32 // index in lists + 1; 0: none
	lists  []natList       // in no order: a deleted list's place takes the last
	// spare holds emptied candidate arrays for new ports: each list was
	// an allocation.
	spare [][]natCand
}

type natList struct {
	port uint16
	// seen: a candidate was listed although its endpoint was seen on
	// the wire already (announced again after its stream began): the
	// next prune drops it, and nothing marked the port for it (see
	// Tracker.markNAT).
	seen bool
	cs   []natCand // never empty
}

// maxNATSpare bounds the emptied candidate arrays kept for new ports.
const maxNATSpare = 1024

// len is the number of ports with candidates.
func (x *natPorts) len() int { return len(x.lists) }

// get is port p's candidates (nil: none).
func (x *natPorts) get(p uint16) []natCand {
	if x.byPort == nil {
		return nil
	}
	if i := x.byPort[p]; i != 0 {
		return x.lists[i-1].cs
	}
	return nil
}

// hasSeen reports whether port p's list holds a candidate seen when it
// was listed (natList.seen).
func (x *natPorts) hasSeen(p uint16) bool {
	if x.byPort == nil {
		return false
	}
	i := x.byPort[p]
	return i != 0 && x.lists[i-1].seen
}

// set makes cs, which is not empty, port p's candidates, seen whether
// one was seen when it was listed.
func (x *natPorts) set(p uint16, cs []natCand, seen bool) {
	if x.byPort == nil {
		x.byPort = new([1 << 16]int32)
	}
	if i := x.byPort[p]; i != 0 {
		x.lists[i-1].cs, x.lists[i-1].seen = cs, seen
		return
	}
	x.lists = append(x.lists, natList{port: p, seen: seen, cs: cs})
	x.byPort[p] = int32(len(x.lists))
}

// del forgets port p's candidates (it has some); their array is kept
// for a new port (fresh).
func (x *natPorts) del(p uint16) {
	i := x.byPort[p] - 1
	if cs := x.lists[i].cs; len(x.spare) < maxNATSpare {
		x.spare = append(x.spare, cs[:0])
	}
	last := int32(len(x.lists) - 1)
	if i != last {
		x.lists[i] = x.lists[last]
		x.byPort[x.lists[i].port] = i + 1
	}
	x.lists[last] = natList{}
	x.lists = x.lists[:last]
	x.byPort[p] = 0
}

// fresh is an empty array for a new port's candidates (nil: none kept).
func (x *natPorts) fresh() []natCand {
	n := len(x.spare)
	if n == 0 {
		return nil
	}
	cs := x.spare[n-1]
	x.spare[n-1] = nil
	x.spare = x.spare[:n-1]
	return cs
}
