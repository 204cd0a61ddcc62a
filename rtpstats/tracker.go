package rtpstats

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"
)

// Meta is what the capture layer knows about a datagram.
type Meta struct {
	Time     time.Time
	Src, Dst netip.AddrPort
}

// Options configures a Tracker. The zero value gives the defaults.
type Options struct {
	// Interval is the time-series bucket width; 0 means 1 s.
	Interval time.Duration
	// MaxSeries caps the buckets kept per stream; 0 means 7200 (2 h at 1 s).
	MaxSeries int
	// Gmin is the RFC 3611 4.7.2 gap threshold; 0 means 16.
	Gmin int
	// EventPayloadType is the dynamic PT treated as telephone-event when no
	// SDP hint names it; 0 means 101 (Wireshark's rtpevent default), -1
	// disables the guess.
	EventPayloadType int
	// NoPLC rates G.711 with the "no packet-loss concealment" Bpl (4.3)
	// instead of the G.711 Appendix I PLC value (25.1).
	NoPLC bool
	// MaxStreams caps live streams. A new stream that finds the table
	// full evicts the longest-idle ones (a batch of about 1/64 of the
	// table, so a flood of new streams costs amortised constant time):
	// they are finished like expired streams (see ExpireBefore) and
	// counted in Counters.Evicted. 0 means 100000.
	MaxStreams int
	// MaxLiveBytes caps what live streams hold, counted in Go sizes (the
	// stream's state, its time series and DTMF events, its flow and
	// index entries: about 1.9 KB for a stream of a few seconds, growing
	// by 72 bytes a second of its series), together with the SDP
	// announcements and codec hints, which get a quarter of it as a
	// lower MaxAnnouncements, and the RTCP sources, an eighth as a lower
	// MaxRTCP. A new stream that would pass the streams' five eighths,
	// or the engine's tick (Expire) finding them past it, finishes the
	// longest-idle streams (by packet time) into their final reports,
	// counted in Counters.Evicted and Counters.EvictedBudget. 0 means
	// 256 MiB.
	MaxLiveBytes int64
	// MaxFinished and MaxFinishedBytes cap the final reports of expired
	// and evicted streams kept for Streams, CallStreams and
	// AppendCallBrief (bytes: the Go sizes of a report, its time series,
	// DTMF and RTCP); beyond them the oldest are dropped and counted in
	// Counters.FinishedDropped. 0 means 100000 reports and 64 MiB;
	// negative MaxFinished keeps none.
	MaxFinished      int
	MaxFinishedBytes int64
	// Spare, when set, says how many bytes of the whole memory budget
	// other tables leave unused (the engine lends the SIP store's unused
	// share). Live streams and final reports may use it beyond their own
	// shares, each what the other has not taken, and give it back as it
	// shrinks: at the next new stream, tick or report. Called on the
	// Tracker's goroutine, only when a share is full. Without it a
	// capture whose store is nearly empty would finish streams early and
	// drop reports with most of the budget unused.
	Spare func() int64
	// MaxRTCP caps the SSRCs RTCP reports are kept about; a full table
	// evicts the longest-idle ones (Counters.RTCPEvicted). 0 means
	// 100000.
	MaxRTCP int
	// MaxAnnouncements caps the SDP endpoints remembered for linking,
	// each with up to eight codec hints (and, as many again, the hints
	// of endpoints not announced or past those eight); a full table
	// forgets the oldest announcements no live stream uses, their
	// hints with them (Counters.AnnouncementsEvicted). 0 means 200000.
	MaxAnnouncements int
	// NATWindow is how long after an SDP announcement (packet time) a new
	// stream may still be linked to it by port alone when its SDP address
	// is a private one never seen on the wire (Tracker.SetCallIDAt); 0 means
	// 2 minutes, negative disables the port guess.
	NATWindow time.Duration
}

// defaultNATWindow covers ringing plus answer: media normally starts within
// seconds of the offer/answer, and a call left ringing for longer than two
// minutes is rare, while the longer the window the more likely an
// unrelated stream reuses the port.
const defaultNATWindow = 2 * time.Minute

func (o *Options) fill() {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.MaxSeries <= 0 {
		o.MaxSeries = 7200
	}
	if o.Gmin <= 0 {
		o.Gmin = defaultGmin
	}
	if o.EventPayloadType == 0 {
		o.EventPayloadType = defaultEventPT
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = 100000
	}
	if o.MaxFinished == 0 {
		o.MaxFinished = 100000
	}
	if o.MaxFinishedBytes <= 0 {
		o.MaxFinishedBytes = 64 << 20
	}
	if o.MaxRTCP <= 0 {
		o.MaxRTCP = 100000
	}
	if o.MaxLiveBytes <= 0 {
		o.MaxLiveBytes = 256 << 20
	}
	if o.MaxAnnouncements <= 0 {
		o.MaxAnnouncements = 200000
	}
	// The announcements' quarter of MaxLiveBytes, as a count (never
	// below minAnnouncements: linking must keep working at any budget).
	if n := int(o.MaxLiveBytes / 4 / annBytes); n < o.MaxAnnouncements {
		o.MaxAnnouncements = max(n, minAnnouncements)
	}
	if n := int(o.MaxLiveBytes / 8 / rtcpBytes); n < o.MaxRTCP {
		o.MaxRTCP = max(n, minAnnouncements)
	}
	if o.NATWindow == 0 {
		o.NATWindow = defaultNATWindow
	}
}

type hintKey struct {
	ep netip.AddrPort
	pt uint8
}

// Tracker holds per-stream state. It is not safe for concurrent use; the
// goroutine that owns the call store owns the Tracker.
type Tracker struct {
	o Options
	// flows finds a packet's stream: one lookup by a fixed-size 5-tuple
	// key, then the flow's few SSRCs. all lists every live stream for
	// the readers that visit them all (stream.pos is its index).
	flows      map[flowKey]*flow
	fcache     *[1 << flowCacheBits]*flow
	all        []*stream
	hints      map[hintKey]*codecHint
	anns       annTable // SDP announcements by endpoint (anntable.go)
	natPorts   natPorts // non-routable announced endpoints by port, for linkNAT (natports.go)
	rtcp       rtcpState
	hdr        Fixed     // reused decode target; keeps AddRTP allocation-free
	emodel     delayMemo // the E-model's delay terms for reports
	first      time.Time // packet time of the first AddRTP/AddRTCP input
	clock      time.Time // latest packet time seen by AddRTP/AddRTCP
	malformed  int
	ambiguous  int
	natDropped int // NAT candidates forgotten at maxNATPerPort
	// annSwept is the cutoff of the last full announcement sweep (see
	// expire).
	annSwept time.Time
	// annQ and hintQ list the announcements and hints oldest first, for
	// expiry and eviction (agequeue.go).
	// An announcement's queue entry is its slot (key) and generation
	// (val): plain integers.
	annQ  ageQueue[int32, uint32]
	hintQ ageQueue[hintKey, *codecHint]
	// lastEP and lastSlot (slot+1; 0 when forgotten) are the
	// announcement SetCallIDAt or SetCodec found last: an SDP's codecs
	// follow its endpoint, and each would look it up again.
	lastEP   netip.AddrPort
	lastSlot int32
	// natDirty lists the ports whose NAT candidates may need a prune
	// (markNAT); natDirtyBits holds the same set as bits, for dedup.
	natDirty     []uint16
	natDirtyBits [1 << 16 / 64]uint64
	// names are the codec names SetCodecBytes made last (codecName).
	names     [8]string
	nameNext  int
	idx       callIndex    // streams by endpoint and endpoints by call (callindex.go)
	done      finishedList // final reports of expired and evicted streams (expire.go)
	ends      endCounters
	scratch   []int64 // eviction's sort buffer, reused
	liveBytes int64   // what live streams hold (sum of stream.cost; see Options.MaxLiveBytes)
	// annNext and hintNext are the table sizes at which roomAnn and
	// roomHint next look for entries to evict; roomPasses counts their
	// passes (the work they do).
	annNext, hintNext, roomPasses int
	gen                           uint64 // bumped by every change a report could show (Gen)
	// visits counts streams examined to answer readers (Streams,
	// CallStreams, ChangedCalls): the work done for them. Atomic because
	// readers run concurrently under a shared lock.
	visits atomic.Int64
}

// Counters reports what a Tracker skipped or saw outside streams.
type Counters struct {
	Malformed int `json:"malformed"` // AddRTP inputs that failed to parse
	// Expired counts streams finished because no packet came for the
	// idle time (ExpireBefore); Evicted those finished early because
	// the table was full (Options.MaxStreams). Their final reports stay
	// in Streams until FinishedDropped counts them out (Options.MaxFinished).
	Expired         int `json:"expired"`
	Evicted         int `json:"evicted"`
	FinishedDropped int `json:"finished_dropped"`
	// EvictedBudget counts the evictions (also in Evicted) made because
	// live streams held Options.MaxLiveBytes, not MaxStreams.
	EvictedBudget int `json:"evicted_budget"`
	// RTCPExpired and RTCPEvicted count SSRCs whose RTCP reports were
	// forgotten (idle with no live stream; table full at Options.MaxRTCP);
	// RTCPReportersEvicted, reporters beyond maxReporters on one SSRC.
	RTCPExpired          int `json:"rtcp_expired"`
	RTCPEvicted          int `json:"rtcp_evicted"`
	RTCPReportersEvicted int `json:"rtcp_reporters_evicted"`
	// AnnouncementsEvicted counts SDP endpoints forgotten early because
	// the table was full (Options.MaxAnnouncements).
	AnnouncementsEvicted int `json:"announcements_evicted"`
	RTCPPackets          int `json:"rtcp_packets"` // RTCP packets decoded (compound members)
	RTCPErrors           int `json:"rtcp_errors"`  // RTCP members that failed to decode
	RTCPApp              int `json:"rtcp_app"`     // APP packets (counted, not interpreted)
	// NATAmbiguous counts new streams left unlinked because more than one
	// live private SDP endpoint announced their port.
	NATAmbiguous int `json:"nat_ambiguous"`
	// NATCandidatesDropped counts private SDP endpoints forgotten as NAT
	// candidates because more than maxNATPerPort shared a port.
	NATCandidatesDropped int `json:"nat_candidates_dropped"`
}

// Gen is a change counter: it moves with every input that can change a
// report (packets, SDP announcements and codecs, expiry), so a writer
// that built reports can tell whether they are still current.
func (t *Tracker) Gen() uint64 { return t.gen }

// Counters returns the skip and RTCP counters.
func (t *Tracker) Counters() Counters {
	return Counters{Malformed: t.malformed,
		Expired: t.ends.expired, Evicted: t.ends.evicted, FinishedDropped: t.done.dropped, EvictedBudget: t.ends.evictedBudget,
		RTCPExpired: t.rtcp.expired, RTCPEvicted: t.rtcp.evicted, RTCPReportersEvicted: t.rtcp.reportersEvicted,
		AnnouncementsEvicted: t.ends.annEvicted,
		RTCPPackets:          t.rtcp.packets, RTCPErrors: t.rtcp.errors, RTCPApp: t.rtcp.app,
		NATAmbiguous: t.ambiguous, NATCandidatesDropped: t.natDropped}
}

// NewTracker returns an empty Tracker.
func NewTracker(o Options) *Tracker {
	o.fill()
	return &Tracker{
		o:      o,
		flows:  make(map[flowKey]*flow),
		fcache: new([1 << flowCacheBits]*flow),
		hints:  make(map[hintKey]*codecHint),
		rtcp:   newRTCPState(o.MaxRTCP),
		done:   finishedList{maxN: o.MaxFinished, maxBytes: o.MaxFinishedBytes},
		idx:    newCallIndex(),
	}
}

// SetCodec records an SDP a=rtpmap hint: RTP to or from ep with payload
// type pt carries codec name at clock Hz. Like Wireshark's SDP-created
// conversations, the hint applies to packets whose destination, or failing
// that source, is ep. It affects streams created afterwards and packets of
// existing streams from now on.
func (t *Tracker) SetCodec(ep netip.AddrPort, pt uint8, name string, clock int) {
	t.setCodec(ep, pt, name, nil, clock)
}

// SetCodecBytes is SetCodec for a codec name in the caller's buffer (an
// SDP parse), which it does not retain: the name is copied only when no
// recent hint had it (codec names repeat: PCMU, PCMA, telephone-event),
// so an SDP's hints allocate nothing but their entries.
func (t *Tracker) SetCodecBytes(ep netip.AddrPort, pt uint8, name []byte, clock int) {
	t.setCodec(ep, pt, "", name, clock)
}

func (t *Tracker) setCodec(ep netip.AddrPort, pt uint8, name string, nameB []byte, clock int) {
	t.gen++
	if clock < 0 {
		clock = 0
	}
	var h *codecHint
	a := t.annOf(ep)
	if a != nil {
		// Kept with the announcement (see announcement.hints).
		if h = a.hint(pt); h == nil && len(a.hints) < maxAnnHints {
			if a.hints == nil {
				// Room for a usual offer's payload types at once.
				a.hints = make([]annHint, 0, annHintsCap)
			}
			a.hints = append(a.hints, annHint{pt: pt})
			h = &a.hints[len(a.hints)-1].h
			if len(t.hints) > 0 {
				t.dropHint(hintKey{ep, pt}) // made before the announcement: this one replaces it
			}
		}
	}
	if h == nil {
		h = t.tableHint(ep, pt, a)
	}
	if nameB != nil {
		name = t.codecName(h.name, nameB)
	}
	h.name, h.clock = name, uint32(clock)
	// Only streams on ep can resolve this hint (by destination, source
	// or NAT endpoint, all three indexed): their caches are dropped, and
	// every other stream's cache stays valid (they also hold pointers to
	// hints that an append above may have moved). A global generation
	// was bumped by every SDP instead, which on a busy capture
	// re-resolved every stream's hint (three map lookups) every few
	// packets.
	for _, s := range t.idx.byEP[ep] {
		s.hint.ok = false
	}
}

// tableHint is the hint for pt on ep in Tracker.hints, made if need be:
// for an endpoint with no announcement (SetCodec before SetCallIDAt) or
// with maxAnnHints already. It expires by its own time, and not before
// its endpoint's announcement.
func (t *Tracker) tableHint(ep netip.AddrPort, pt uint8, a *announcement) *codecHint {
	at := t.clock
	if a != nil && a.at.After(at) {
		at = a.at // the SDP's own time, from SetCallIDAt
	}
	k := hintKey{ep, pt}
	h := t.hints[k]
	if h == nil {
		t.roomHint()
		h = &codecHint{at: at}
		t.hints[k] = h
		t.queueHint(k, h)
	} else if h.at.UnixNano() != at.UnixNano() {
		h.at = at // renewed: filed again for expiry
		t.queueHint(k, h)
	}
	return h
}

// dropHint deletes k from Tracker.hints (its queue entry goes stale).
func (t *Tracker) dropHint(k hintKey) { delete(t.hints, k) }

// annOf is ep's announcement (nil if none), through the one-entry
// cache (lastSlot).
func (t *Tracker) annOf(ep netip.AddrPort) *announcement {
	if t.lastSlot != 0 && t.lastEP == ep {
		return t.anns.at(t.lastSlot - 1)
	}
	s := t.anns.slotOf(ep)
	if s < 0 {
		return nil
	}
	t.lastEP, t.lastSlot = ep, s+1
	return t.anns.at(s)
}

// codecName returns b as a string: prev (the hint's name before) or one
// of the last few names made when equal, else a copy, remembered in
// their place.
func (t *Tracker) codecName(prev string, b []byte) string {
	if prev == string(b) {
		return prev
	}
	for _, n := range t.names {
		if n == string(b) {
			return n
		}
	}
	n := string(b)
	t.names[t.nameNext%len(t.names)] = n
	t.nameNext++
	return n
}

// SetCallID labels streams to or from ep with a SIP Call-ID. The
// announcement time, which bounds the NAT port guess (see Options.NATWindow),
// is taken as the latest packet time the Tracker has seen, or the time of
// its first packet if it has seen none yet; SetCallIDAt is exact and
// should be preferred.
func (t *Tracker) SetCallID(ep netip.AddrPort, callID string) {
	t.SetCallIDAt(ep, callID, t.clock)
}

// SetCallIDAt labels streams to or from ep with a SIP Call-ID announced in
// an SDP body at packet time at (the time of the SIP message; zero means
// "before the first packet"). Streams whose destination or source is ep
// are linked exactly (Link "sdp"), including streams that began before
// the announcement; the latest announcement of ep wins.
//
// A new stream that matches no announced endpoint is linked by port
// (Link "sdp-nat-port") to an endpoint announcing its destination or
// source port only when all of these hold: the endpoint's address is
// private, CGNAT, link-local or loopback (RFC 1918, RFC 4193, RFC 6598,
// RFC 3927, RFC 4291), no stream has used it as its own address, the
// stream's first packet is at most Options.NATWindow after the
// announcement and not before it, and exactly one endpoint qualifies.
// Several candidates leave the stream unlinked and count in
// Counters.NATAmbiguous. The guess is made once, at the stream's first
// packet, and brings the endpoint's SetCodec hints with it.
func (t *Tracker) SetCallIDAt(ep netip.AddrPort, callID string, at time.Time) {
	t.gen++
	var slot int32
	fresh := false
	if t.lastSlot != 0 && t.lastEP == ep {
		slot = t.lastSlot - 1
	} else {
		// One hash and one probe find ep or where it goes.
		h := t.anns.hash(ep)
		var pos int
		if pos, slot = t.anns.find(ep, h); slot < 0 {
			if t.roomAnn() {
				pos, _ = t.anns.find(ep, h) // the pass moved positions
			}
			slot, fresh = t.anns.add(ep, pos, h), true
		}
		t.lastEP, t.lastSlot = ep, slot+1
	}
	a := t.anns.at(slot)
	renewed := fresh || a.at.UnixNano() != at.UnixNano() // the queue's stamp
	streams := len(t.idx.byEP[ep]) > 0
	if a.callID != callID && streams {
		// Streams linked through ep by announcement change hands: both
		// calls' summaries must be recomputed. Only streams on ep (by
		// source, destination or NAT endpoint) resolve through it: with
		// none, nothing changes hands, and touching every call of a
		// SIP-only capture made the engine recompute 10 000 calls'
		// summaries at a time (ChangedCalls) for nothing.
		t.idx.touch(a.callID)
		t.idx.touch(callID)
	}
	a.callID, a.at = callID, at
	if renewed {
		t.queueAnn(slot)
	}
	if streams {
		// The call index lists an endpoint only while streams are on
		// it (see callIndex).
		t.idx.announce(callID, ep)
	}
	if old := a.remember(callID, at); streams && old != "" && old != callID && !t.linkedBy(old, ep) {
		// The call left ep's history: its claim on ep goes too, or the
		// index of a busy media server's port would grow for ever.
		t.idx.unannounce(old, ep)
	}
	if a.natListed || t.o.NATWindow < 0 || !natCandidate(ep.Addr()) {
		// Listed already: no candidate is ever a forgotten announcement
		// of ep's outside the tick and the eviction pass, which prune
		// them (forgetAnn marks their ports), so ep's candidate entry,
		// if any, is this announcement's.
		return
	}
	p := ep.Port()
	eps := t.natPorts.get(p)
	if len(eps) >= maxNATPerPort {
		// Pruned only when full: a prune reads every candidate's
		// announcement, and doing it on every SDP was 7 % of a
		// 20 000-call SIP-only run (64 lookups per endpoint on a port
		// every call offers). Forgotten and out-of-window candidates
		// are skipped where they are read (linkNAT prunes first).
		eps = t.pruneNAT(p, t.clock)
	}
	if len(eps) >= maxNATPerPort {
		// A port many private endpoints announce within the window
		// (a busy media server behind NAT, a SIP-only load test) could
		// never be a single NAT candidate anyway: keep the newest, and
		// every SDP costs a bounded scan instead of one that grows with
		// the capture (it was quadratic: 88 % of the CPU of a 20 000-call
		// SIP-only run). The newest half is kept, so the next prune
		// (64 reads) comes after as many new endpoints, not the next.
		keep := maxNATPerPort/2 - 1
		t.natDropped += len(eps) - keep
		for _, c := range eps[:len(eps)-keep] {
			t.anns.at(c.slot).natListed = false // pruned above: not forgotten
		}
		n := copy(eps, eps[len(eps)-keep:])
		eps = eps[:n]
	}
	if eps == nil {
		eps = t.natPorts.fresh()
	}
	a.natListed = true
	t.natPorts.set(p, append(eps, t.anns.ref(slot)), a.seen || t.natPorts.hasSeen(p))
}

// maxNATPerPort bounds the NAT candidates remembered for one port.
const maxNATPerPort = 64

// linkedBy reports whether a live stream is tied to callID through ep
// by its own link (exactEP or natEP, made when it began), which keeps
// ep among the call's endpoints after the announcement history forgot
// the call.
func (t *Tracker) linkedBy(callID string, ep netip.AddrPort) bool {
	for _, s := range t.idx.byEP[ep] {
		if s.callID == callID && (s.exactEP == ep || s.natEP == ep) {
			return true
		}
	}
	return false
}

// cachedHint is hint, remembered per stream: a stream's endpoints never
// change, so the answer only changes with the payload type or a SetCodec
// on one of its endpoints (which drops the cache). It saves up to three
// map lookups with 40-byte keys per packet.
func (t *Tracker) cachedHint(s *stream, m *Meta, pt uint8) *codecHint {
	c := &s.hint
	if !c.ok || c.pt != pt {
		*c = hintCache{ok: true, pt: pt, h: t.hint(s, m, pt)}
	}
	return c.h
}

func (t *Tracker) hint(s *stream, m *Meta, pt uint8) *codecHint {
	if t.anns.len() == 0 && len(t.hints) == 0 {
		return nil
	}
	if h := t.epHint(m.Dst, pt); h != nil {
		return h
	}
	if h := t.epHint(m.Src, pt); h != nil {
		return h
	}
	if s.natEP.IsValid() {
		return t.epHint(s.natEP, pt)
	}
	return nil
}

// epHint is the hint for pt on ep: kept with ep's announcement, else in
// Tracker.hints. A payload type of an endpoint is in one place only
// (setCodec), so the order of the two looks does not matter.
func (t *Tracker) epHint(ep netip.AddrPort, pt uint8) *codecHint {
	if a := t.anns.lookup(ep); a != nil {
		if h := a.hint(pt); h != nil {
			return h
		}
	}
	if len(t.hints) == 0 {
		return nil
	}
	return t.hints[hintKey{ep, pt}]
}

// AddRTP parses pkt as RTP and updates its stream. It does not retain pkt.
// After a stream exists, AddRTP allocates nothing (except amortised growth
// of the time series and DTMF lists).
func (t *Tracker) AddRTP(pkt []byte, m Meta) error {
	t.gen++
	t.tick(m.Time)
	h := &t.hdr
	if err := h.Unmarshal(pkt); err != nil {
		t.malformed++
		return fmt.Errorf("rtp from %v: %w", m.Src, err)
	}
	t.add(h, pkt, m)
	return nil
}

// AddFixed is AddRTP for a packet pkt whose header h was already decoded
// by Fixed.Parse or Fixed.Unmarshal: package capture classifies RTP with
// the same decoder and hands its header over, so each packet is decoded
// once. Neither h nor pkt is retained.
func (t *Tracker) AddFixed(h *Fixed, pkt []byte, m Meta) {
	t.gen++
	t.tick(m.Time)
	t.add(h, pkt, m)
}

func (t *Tracker) add(h *Fixed, pkt []byte, m Meta) {
	fk := flowKey{epKeyOf(m.Src), epKeyOf(m.Dst)}
	f := t.flowOf(fk)
	var s *stream
	if f != nil {
		s = f.find(h.SSRC)
	}
	if s == nil {
		if len(t.all) >= t.o.MaxStreams {
			t.evictIdle(false)
			f = t.flowOf(fk) // eviction may have emptied and deleted it
		}
		if t.liveBytes+streamOverhead > t.streamBytes() {
			t.trimLive(streamOverhead)
			f = t.flowOf(fk)
		}
		s = newStream(streamKey{ssrc: h.SSRC, src: m.Src, dst: m.Dst}, t.o.Gmin)
		t.insert(s, fk, f)
		t.linkNAT(s, m.Time)
		t.index(s)
	}
	s.add(h, pkt, m.Time, &t.o, t.cachedHint(s, &m, h.PayloadType))
	if c := s.footprint(); c != s.cost {
		// The series or the DTMF list grew (a new interval, an event):
		// a few loads and a compare per packet keep the count exact.
		t.liveBytes += c - s.cost
		s.cost = c
	}
}

// Streams returns a report for every stream, ordered by start time then
// key. Reports are copies: nothing in them aliases Tracker state.
//
// Streams that expired or were evicted are there too, with the final
// report made when they ended (an expired stream is finished, not
// forgotten), as long as Options.MaxFinished keeps them.
func (t *Tracker) Streams() []StreamReport {
	out := make([]StreamReport, 0, len(t.all)+t.done.len())
	for _, s := range t.all {
		out = append(out, t.report(s, true))
	}
	t.visits.Add(int64(len(t.all)))
	out = t.done.appendAll(out)
	sortReports(out)
	return out
}

// sortReports orders reports by start time, then by key (unique per
// stream, so the order is total). slices.SortFunc does not allocate,
// which matters to callers that sort a call's few streams many times.
func sortReports(r []StreamReport) {
	slices.SortFunc(r, func(a, b StreamReport) int { return compareReports(&a, &b) })
}

// compareReports is Streams' order: by start time, then SSRC, source and
// destination.
func compareReports(a, b *StreamReport) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if a.SSRC != b.SSRC {
		return cmp.Compare(a.SSRC, b.SSRC)
	}
	if c := a.Src.Compare(b.Src); c != 0 {
		return c
	}
	return a.Dst.Compare(b.Dst)
}
