package engine

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// syncEvery is the packet time between expiry sweeps: a second is finer
// than any SIP timer and costs the per-packet path nothing measurable.
const syncEvery = time.Second

// Options configure an Engine; the zero value is useful.
type Options struct {
	Capture capture.Options
	Store   sipflow.StoreOptions
	RTP     rtpstats.Options
	// Tap, when set, sees every event after the engine has handled it,
	// on the writer goroutine (a HEP forwarder running beside the UI).
	// The event is only valid during the call.
	Tap func(*capture.Event)
}

// Counters are the engine's own counts, beside the decoder's and the
// store's.
type Counters struct {
	Events      [5]int64 // by capture.Kind
	HEP         int64    // HEP packets decoded
	HEPErrors   int64    // HEP packets that failed to decode or inflate
	HEPOther    int64    // HEP packets of protocol types we do not analyse (LOG, JSON)
	HEPAttached int64    // of those, attached to a call by correlation id
	RTPErrors   int64    // RTP the tracker refused (malformed)
	RTCPErrors  int64
	Warnings    int64 // per-record problems reported by the pipeline
}

// counters is Counters as atomics: written by Run's goroutine on the
// per-packet path, read by any goroutine, without a lock.
type counters struct {
	events                                                                 [5]atomic.Int64
	hep, hepErrors, hepOther, hepAttached, rtpErrors, rtcpErrors, warnings atomic.Int64
}

func (c *counters) load() Counters {
	var out Counters
	for i := range c.events {
		out.Events[i] = c.events[i].Load()
	}
	out.HEP, out.HEPErrors, out.HEPOther, out.HEPAttached = c.hep.Load(), c.hepErrors.Load(), c.hepOther.Load(), c.hepAttached.Load()
	out.RTPErrors, out.RTCPErrors, out.Warnings = c.rtpErrors.Load(), c.rtcpErrors.Load(), c.warnings.Load()
	return out
}

// Engine owns a call store and an RTP tracker and feeds them events.
type Engine struct {
	o     Options
	store *sipflow.Store

	mu  sync.RWMutex // guards rtp: the tracker is not safe for concurrent use
	rtp *rtpstats.Tracker

	// writer-side scratch, used only by the goroutine running Run
	hepPkt   hep.Packet
	hepBuf   []byte
	nextSync time.Time
	running  atomic.Bool

	cnt  counters
	dec  atomic.Pointer[capture.Stats]
	last atomic.Int64 // latest packet time (unix ns): the engine's clock
	// records counts what the sources returned, so a reader sees
	// progress while Run is still going (the decoder's own statistics
	// arrive when Run returns).
	records atomic.Int64
}

// countingSource counts records as the pipeline pulls them.
type countingSource struct {
	capture.Source
	n *atomic.Int64
}

func (c *countingSource) Next() ([]byte, pcap.Packet, error) {
	data, p, err := c.Source.Next()
	if err == nil {
		c.n.Add(1)
	}
	return data, p, err
}

// DefaultIdleTimeout is the packet time after which a dialog with no new
// message is expired: an INVITE without a final response becomes TIMEOUT
// (RFC 3261 Timer B is 64*T1 = 32 s), a 401/407 never answered with
// credentials becomes REJECTED, and answered calls are flagged expired.
// Files and live captures reach these states alike.
const DefaultIdleTimeout = 64 * 500 * time.Millisecond

// New builds an Engine. A zero Store.IdleTimeout means
// DefaultIdleTimeout; a negative one turns expiry off.
func New(o Options) *Engine {
	if o.Store.IdleTimeout == 0 {
		o.Store.IdleTimeout = DefaultIdleTimeout
	}
	return &Engine{
		o:     o,
		store: sipflow.NewStore(o.Store),
		rtp:   rtpstats.NewTracker(o.RTP),
	}
}

// Run decodes every source and feeds the events in. warn receives
// per-record problems (may be nil). It returns at the end of input, or
// when ctx is cancelled, with the decoder's statistics.
func (e *Engine) Run(ctx context.Context, srcs []capture.Source, warn func(error)) (capture.Stats, error) {
	if !e.running.CompareAndSwap(false, true) {
		return capture.Stats{}, ErrRunning
	}
	defer e.running.Store(false)
	w := func(err error) {
		e.cnt.warnings.Add(1)
		if warn != nil {
			warn(err)
		}
	}
	counted := make([]capture.Source, len(srcs))
	for i, s := range srcs {
		counted[i] = &countingSource{Source: s, n: &e.records}
	}
	st, err := capture.Run(ctx, counted, e.o.Capture, w, e.Handle)
	e.dec.Store(&st)
	e.RefreshStreams()
	return st, err
}

// Handle feeds one event. It is the per-packet path: RTP costs a map
// lookup in the tracker and nothing else here.
func (e *Engine) Handle(ev *capture.Event) error {
	if int(ev.Kind) < len(e.cnt.events) {
		e.cnt.events[ev.Kind].Add(1)
	}
	if ev.Kind != capture.KindHEP {
		// HEP carries the agent's clock, not ours: its calls keep that
		// clock (Meta.Time, and the store's own expiry on Add compares
		// within it), and it must not move the capture clock.
		e.tick(ev.Time)
	}
	switch ev.Kind {
	case capture.KindSIP:
		e.addSIP(ev.Payload, sipflow.Meta{
			Time:      ev.Time,
			Src:       ev.Src,
			Dst:       ev.Dst,
			Transport: ev.Transport,
			Source:    ev.Source,
			Frame:     ev.Packet.Number,
			Offset:    ev.Packet.Offset,
			Record:    ev.Packet,
		})
	case capture.KindRTP:
		e.mu.Lock()
		// The header capture decoded: each packet is parsed once.
		e.rtp.AddFixed(&ev.RTP, ev.Payload, rtpstats.Meta{Time: ev.Time, Src: ev.Src, Dst: ev.Dst})
		e.mu.Unlock()
	case capture.KindRTCP:
		e.addRTCP(ev.Payload, ev.Time, ev.Src, ev.Dst)
	case capture.KindHEP:
		e.addHEP(ev)
	}
	if e.o.Tap != nil {
		e.o.Tap(ev)
	}
	return nil
}

func (e *Engine) addRTCP(b []byte, t time.Time, src, dst netip.AddrPort) {
	e.mu.Lock()
	err := e.rtp.AddRTCP(b, rtpstats.Meta{Time: t, Src: src, Dst: dst})
	e.mu.Unlock()
	if err != nil {
		e.cnt.rtcpErrors.Add(1)
	}
}

// addSIP stores the message and tells the tracker what the SDP says:
// which call owns each media endpoint, and which codec each dynamic
// payload type carries there.
func (e *Engine) addSIP(raw []byte, meta sipflow.Meta) {
	m := e.store.Add(raw, meta)
	if m == nil || !m.HasSDP {
		return
	}
	callID := string(m.CallID)
	sdp := &m.SDP
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range sdp.Media {
		ep, ok := sdp.Endpoint(i)
		if !ok {
			continue
		}
		e.rtp.SetCallIDAt(ep, callID, meta.Time)
		for _, r := range sdp.Media[i].RTPMaps {
			e.rtp.SetCodec(ep, r.PT, string(r.Encoding), int(r.Clock))
		}
	}
}

// addHEP unwraps a HEP packet found in a capture: the inner SIP
// becomes an ordinary message with the inner addresses and times.
func (e *Engine) addHEP(ev *capture.Event) {
	p := &e.hepPkt
	if err := p.Unmarshal(ev.Payload); err != nil {
		e.cnt.hepErrors.Add(1)
		return
	}
	e.addHEPPacket(p, ev.Source, ev.Packet, ev.Time)
}

// AddHEP feeds one decoded HEP packet, from a capture or from a HEP
// listener (which must call it from one goroutine: the engine has one
// writer). rec is the capture record that carried it (only Number set,
// Offset -1, for a listener); fallback is the time used when the packet
// carries none.
func (e *Engine) AddHEP(p *hep.Packet, source int, rec pcap.Packet, fallback time.Time) {
	// A collector has no capture clock of its own: the agents' times are
	// the packet times.
	t := p.Time
	if t.IsZero() {
		t = fallback
	}
	e.tick(t)
	e.addHEPPacket(p, source, rec, fallback)
}

func (e *Engine) addHEPPacket(p *hep.Packet, source int, rec pcap.Packet, fallback time.Time) {
	payload := p.Payload
	if p.Compressed {
		out, err := p.Decompress(e.hepBuf[:0])
		if err != nil {
			e.cnt.hepErrors.Add(1)
			return
		}
		e.hepBuf = out
		payload = out
	}
	e.cnt.hep.Add(1)
	t := p.Time
	if t.IsZero() {
		t = fallback
	}
	switch p.ProtoType {
	case hep.ProtoSIP:
		e.cnt.events[capture.KindSIP].Add(1)
		e.addSIP(payload, sipflow.Meta{
			Time:          t,
			Src:           p.Src,
			Dst:           p.Dst,
			Transport:     sipflow.TransportOf(p.Protocol),
			Source:        source,
			Frame:         rec.Number,
			Offset:        rec.Offset,
			Record:        rec,
			CorrelationID: string(p.CorrelationID),
		})
	default:
		// RTCP-JSON (5), LOG (100) and the rest are reports about calls,
		// not traffic to analyse: attached to the call their correlation
		// id names (agents put the Call-ID there), shown in its ladder.
		e.cnt.hepOther.Add(1)
		if len(p.CorrelationID) > 0 && e.store.AddEvent(string(p.CorrelationID), sipflow.CallEvent{
			Time: t, Kind: HEPEventPrefix + p.ProtoType.String(), Detail: string(payload[:min(len(payload), sipflow.MaxEventDetail)]),
		}) {
			e.cnt.hepAttached.Add(1)
		}
	}
}

// HEPEventPrefix starts the CallEvent.Kind of reports attached from HEP
// ("hep LOG", "hep RTCP-JSON").
const HEPEventPrefix = "hep "

// tick advances the engine's clock and, once per syncEvery of packet
// time, expires idle dialogs.
func (e *Engine) tick(t time.Time) {
	if t.UnixNano() > e.last.Load() {
		e.last.Store(t.UnixNano())
	}
	if t.Before(e.nextSync) {
		return
	}
	e.nextSync = t.Add(syncEvery)
	if e.o.Store.IdleTimeout > 0 {
		e.store.ExpireBefore(t.Add(-e.o.Store.IdleTimeout))
	}
}

// RefreshStreams copies a short per-stream summary into each call, so the
// call list and the calls report show codec, loss and MOS. It costs a
// report of every stream, so it runs when someone looks: at the end of
// Run, and when a reader (the UI) asks, at its own pace. Safe beside Run.
func (e *Engine) RefreshStreams() {
	e.mu.RLock()
	reps := e.rtp.Streams()
	e.mu.RUnlock()
	byCall := make(map[string][]sipflow.Stream)
	for i := range reps {
		r := &reps[i]
		if r.CallID == "" {
			continue
		}
		byCall[r.CallID] = append(byCall[r.CallID], sipflow.Stream{
			Src: r.Src, Dst: r.Dst, SSRC: r.SSRC, Codec: r.Codec,
			Packets: r.Packets, Lost: r.Lost, JitterMS: r.MaxJitterMs, MOS: r.MOS, Link: r.Link,
		})
	}
	for id, st := range byCall {
		e.store.SetStreams(id, st)
	}
}

// Clear forgets every call and stream seen so far (the UI's "clear
// list" on a live source); counters keep their totals. Safe beside Run:
// the store and the tracker are replaced under their locks.
func (e *Engine) Clear() {
	e.store.Clear()
	e.mu.Lock()
	e.rtp = rtpstats.NewTracker(e.o.RTP)
	e.mu.Unlock()
}

// Store is the call store; its methods are safe for concurrent readers.
func (e *Engine) Store() *sipflow.Store { return e.store }

// Calls returns copies of the matching calls (limit < 0: all).
func (e *Engine) Calls(f sipflow.Filter, offset, limit int) []sipflow.CallSummary {
	return e.store.Calls(f, offset, limit)
}

// Call returns one call with its messages.
func (e *Engine) Call(id string) (sipflow.CallDetail, bool) { return e.store.Call(id) }

// Streams returns the RTP streams of a call, or every stream when
// callID is empty.
func (e *Engine) Streams(callID string) []rtpstats.StreamReport {
	e.mu.RLock()
	all := e.rtp.Streams()
	e.mu.RUnlock()
	if callID == "" {
		return all
	}
	out := all[:0]
	for _, r := range all {
		if r.CallID == callID {
			out = append(out, r)
		}
	}
	return out
}

// Status is everything the engine counts, for headers and summaries.
type Status struct {
	Records int64         // records read so far, over all sources
	Decoder capture.Stats // complete once Run has returned
	Store   sipflow.Stats
	RTP     rtpstats.Counters
	Engine  Counters
	Clock   time.Time // latest packet time seen
}

// Status returns a copy of every counter.
func (e *Engine) Status() Status {
	s := Status{Records: e.records.Load()}
	if d := e.dec.Load(); d != nil {
		s.Decoder = *d
	}
	s.Store = e.store.Stats()
	e.mu.RLock()
	s.RTP = e.rtp.Counters()
	e.mu.RUnlock()
	s.Engine = e.cnt.load()
	if ns := e.last.Load(); ns != 0 {
		s.Clock = time.Unix(0, ns).UTC()
	}
	return s
}

// String summarises the status in one line for stderr.
func (s Status) String() string {
	line := fmt.Sprintf("%d packets, %d SIP, %d RTP, %d RTCP, %d HEP; %d dialogs; %d warnings",
		s.Records, s.Engine.Events[capture.KindSIP], s.Engine.Events[capture.KindRTP],
		s.Engine.Events[capture.KindRTCP], s.Engine.Events[capture.KindHEP], s.Store.Calls, s.Engine.Warnings)
	if s.Decoder.TLSStreams > 0 {
		// Said here too, so a capture of SIP over TLS does not just look
		// empty.
		line += fmt.Sprintf("; %d TCP directions carry TLS (encrypted SIP, not decoded)", s.Decoder.TLSStreams)
	}
	return line
}
