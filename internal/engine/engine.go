package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/srtpdec"
	"github.com/voiptool/voiptool/capture/tlsdec"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/diagnose"
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
	// LendStoreShare lends what the SIP store leaves unused of
	// Store.MaxBytes to the RTP tracker's live streams and final reports
	// (rtpstats.Options.Spare): one memory budget, drawn on by whichever
	// table needs it, so an RTP-heavy capture with few calls does not
	// finish streams early and drop reports with most of it unused. The
	// store never waits for it: it evicts at its own share as before, and
	// the tracker gives back what it borrowed at its next new stream,
	// tick or report.
	LendStoreShare bool
	// RTPIdleTimeout is the packet time after which an RTP stream with
	// no new packet is finished: its final report is kept (the tracker's
	// finished list) and its state freed; RTCP reports, announcements
	// and codec hints nothing live uses go after the same time. 0 means
	// DefaultRTPIdleTimeout, negative turns it off.
	RTPIdleTimeout time.Duration
	// Diagnose holds the problem detectors' thresholds (internal/diagnose).
	Diagnose diagnose.Options
	// Tap, when set, sees every event after the engine has handled it,
	// on the writer goroutine (a HEP forwarder running beside the UI).
	// The event is only valid during the call.
	Tap func(*capture.Event)
	// OnMessage, when set, sees every SIP message the store accepted,
	// parsed once, on the writer goroutine (metrics count methods and
	// codes from it). The message is only valid during the call.
	OnMessage func(*sipflow.Message, sipflow.Meta)
	// SRTPKeys are SRTP master keys learned out of band (--srtp-key),
	// by SSRC: they decrypt that SSRC's SRTP and SRTCP wherever it is
	// sent from, before any key an SDP announces.
	SRTPKeys []srtpdec.SSRCKey
	// Files names the capture files behind Run's first sources, by
	// source index. Messages of the plain (uncompressed) ones are re-read
	// from them when a call is opened instead of being held in memory;
	// nil keeps every message in memory.
	Files []string
	// SpillMax, when > 0, bounds a private spill file that holds the SIP
	// messages no file in Files holds (live captures, pipes, HEP,
	// reassembled or decrypted payloads), so the store keeps only their
	// location (see spill.go); past it, or when the disk fails, messages
	// are kept in memory and counted (SpillStats). It bounds the disk
	// the messages the store still holds need: the space of the calls it
	// drops (evicted, cleared) is given back, a segment at a time. 0
	// keeps them all in memory. It is capped at 32 GiB (less 64 MiB).
	// Close removes the file.
	SpillMax int64
	// SpillDir is where the spill file is created; "" is os.TempDir().
	SpillDir string
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
	// SRTCP decrypted with SDES keys from the SDP (a=crypto), SRTCP that
	// failed authentication (not analysed), and a=crypto values that did
	// not parse.
	SRTCPDecrypted, SRTCPFailed, SDESBad int64
	// SDESRebound counts answers whose chosen tag moved the offerer's
	// key off the first offered line; SDESTagUnmatched answers naming a
	// tag the offer (its first sipflow.MaxCryptoAttrs lines) did not
	// carry; SDESOffersRefused offers not remembered because
	// maxSDESOffers were waiting for answers.
	SDESRebound, SDESTagUnmatched, SDESOffersRefused int64
	// SRTPDecrypted counts SRTP packets decrypted and authenticated with
	// SDES or --srtp-key keys; SRTPFailed those of keyed streams that
	// failed authentication (analysed from their headers only).
	SRTPDecrypted, SRTPFailed int64
}

// counters is Counters as atomics: written by Run's goroutine on the
// per-packet path, read by any goroutine, without a lock.
type counters struct {
	events                                                                 [5]atomic.Int64
	hep, hepErrors, hepOther, hepAttached, rtpErrors, rtcpErrors, warnings atomic.Int64
	srtcpDecrypted, srtcpFailed, sdesBad                                   atomic.Int64
	sdesRebound, sdesTagUnmatched, sdesOffersRefused                       atomic.Int64
	srtpDecrypted, srtpFailed                                              atomic.Int64
}

func (c *counters) load() Counters {
	var out Counters
	for i := range c.events {
		out.Events[i] = c.events[i].Load()
	}
	out.HEP, out.HEPErrors, out.HEPOther, out.HEPAttached = c.hep.Load(), c.hepErrors.Load(), c.hepOther.Load(), c.hepAttached.Load()
	out.RTPErrors, out.RTCPErrors, out.Warnings = c.rtpErrors.Load(), c.rtcpErrors.Load(), c.warnings.Load()
	out.SRTCPDecrypted, out.SRTCPFailed, out.SDESBad = c.srtcpDecrypted.Load(), c.srtcpFailed.Load(), c.sdesBad.Load()
	out.SDESRebound, out.SDESTagUnmatched, out.SDESOffersRefused = c.sdesRebound.Load(), c.sdesTagUnmatched.Load(), c.sdesOffersRefused.Load()
	out.SRTPDecrypted, out.SRTPFailed = c.srtpDecrypted.Load(), c.srtpFailed.Load()
	return out
}

// Engine owns a call store and an RTP tracker and feeds them events.
//
// One goroutine writes: the one running Run, or, without Run, the one
// calling Handle or AddHEP. Only it changes the store and the tracker.
// Readers (reports, the UI) take copies; what they want changed (Clear,
// fresh stream summaries in the calls) they ask for, and the writer does
// it at its next event, or the asking reader itself when no writer runs.
type Engine struct {
	o     Options
	store *sipflow.Store
	raw   *rawFiles  // re-reads messages from Options.Files; nil without them
	spill *spillFile // holds the messages no file holds; nil without Options.SpillMax

	mu  sync.RWMutex // the writer changes rtp under the write lock; readers copy under the read lock
	rtp *rtpstats.Tracker

	// writer-side scratch, used only by the writer
	hepUnwrap hep.Unwrapper
	hepMsg    hep.Message
	nextSync  int64 // packet time (Unix ns) of the next expiry sweep
	// held says the writer holds mu's write lock: Run's writer takes it
	// at the first RTP or RTCP event of a batch and keeps it to the
	// batch's end (capture.Options.OnBatchEnd), or to the first event
	// that calls out (SIP, HEP, a Tap) or sweeps, instead of a lock and
	// an unlock per packet. Readers wait at most a batch.
	held bool
	// pend counts events handled and not yet added to cnt.events, and
	// clock is the latest packet time (Unix ns), not yet published in
	// last: an atomic add and store per event were a tenth of the
	// engine's per-packet cost, and readers see both at the end of each
	// batch (publish).
	pend     [5]int64
	clock    int64
	changed  []string                // calls whose streams changed, for applyStreams
	srtp     *srtpdec.Decryptor      // SDES keys seen in SDP, created with the first
	srtpHdr  rtpstats.Fixed          // header of the last decrypted SRTP packet
	sdes     sdesOffers              // offered a=crypto lines waiting for the answer's choice
	brief    []rtpstats.StreamReport // one call's brief reports, for applyStreams
	diagIn   diagnose.Input          // diagnose's input, reused: on the heap once, not once per call
	problems []sipflow.Problem       // diagnose's findings, reused (SetProblems copies them)
	// final is every live stream's full report as the end of a run
	// built it, current while the tracker's Gen is finalGen (written
	// under mu). The finished streams' reports are not copied into it:
	// the tracker's finished list holds them inside its budget, and a
	// second copy of them was the end of a run's largest cost.
	final    []rtpstats.StreamReport
	finalGen uint64

	running atomic.Bool
	// external is set, under wmu, when Handle or AddHEP is called outside
	// Run: that caller is the writer from then on, and readers leave
	// every request to it.
	external atomic.Bool
	// wmu is held by Run for its whole run, and by a reader that serves
	// its own request while no writer runs (see serveIdle).
	wmu sync.Mutex
	req atomic.Uint32 // requests for the writer: reqClear, reqStreams
	// served counts requests the writer carried out, for Version.
	served atomic.Int64

	cnt counters
	tls tlsLog // ended TLS connections, from the capture's OnTLSSession
	// userTLSHook is the caller's OnTLSSession, which CaptureOptions
	// hands on instead of the engine's own (a re-read must not count
	// the connections again).
	userTLSHook func(client, server netip.AddrPort, st tlsdec.SessionStats)
	// capStatus receives the capture pipeline's counters (decoder, and
	// per source: records, queue and kernel drops) while Run goes.
	capStatus capture.Status
	last      atomic.Int64 // latest packet time (unix ns): the engine's clock
}

// Requests a reader can make of the writer.
const (
	reqClear   uint32 = 1 << iota // forget every call and stream
	reqStreams                    // copy stream summaries into the calls
)

// DefaultIdleTimeout is the packet time after which a dialog with no new
// message is expired: an INVITE without a final response becomes TIMEOUT
// (RFC 3261 Timer B is 64*T1 = 32 s), a 401/407 never answered with
// credentials becomes REJECTED, and answered calls are flagged expired.
// Files and live captures reach these states alike.
const DefaultIdleTimeout = 64 * 500 * time.Millisecond

// DefaultRTPIdleTimeout is the packet time after which a silent RTP
// stream is finished. Media on hold or with silence suppression pauses
// for seconds, not minutes; a stream that comes back later than this is
// reported as a second stream of the same call.
const DefaultRTPIdleTimeout = 5 * time.Minute

// New builds an Engine. A zero Store.IdleTimeout means
// DefaultIdleTimeout; a negative one turns expiry off. RTPIdleTimeout
// likewise.
func New(o Options) *Engine {
	if o.Store.IdleTimeout == 0 {
		o.Store.IdleTimeout = DefaultIdleTimeout
	}
	var raw *rawFiles
	if len(o.Files) > 0 && o.Store.Raw == nil {
		raw = &rawFiles{}
		o.Store.Raw = raw
	}
	var spill *spillFile
	if o.SpillMax > 0 && o.Store.Spill == nil {
		spill = newSpillFile(o.SpillDir, o.SpillMax)
		o.Store.Spill = spill
	}
	if o.RTPIdleTimeout == 0 {
		o.RTPIdleTimeout = DefaultRTPIdleTimeout
	}
	e := &Engine{
		raw:   raw,
		spill: spill,
		store: sipflow.NewStore(o.Store),
	}
	if o.LendStoreShare && o.RTP.Spare == nil {
		share := o.Store.MaxBytes
		if share <= 0 {
			share = sipflow.DefaultMaxBytes
		}
		o.RTP.Spare = func() int64 { return max(0, share-e.store.Stats().Bytes) }
	}
	e.rtp = rtpstats.NewTracker(o.RTP)
	// Each ended TLS connection is kept with its failure reasons (TLS);
	// a hook the caller set still runs.
	user := o.Capture.Stream.OnTLSSession
	o.Capture.Stream.OnTLSSession = func(c, s netip.AddrPort, st tlsdec.SessionStats) {
		e.tls.add(c, s, st)
		if user != nil {
			user(c, s, st)
		}
	}
	e.o = o
	e.userTLSHook = user
	for _, k := range o.SRTPKeys {
		if e.srtp == nil {
			e.srtp = srtpdec.New(srtpdec.Options{})
		}
		if e.srtp.SetSSRCKey(k.SSRC, k.Key) != nil {
			e.cnt.sdesBad.Add(1) // srtpdec.ParseKeyArg refuses what would fail here
		}
	}
	return e
}

// Run decodes every source and feeds the events in; its goroutine is the
// writer until it returns. warn receives per-record problems (may be
// nil). It returns at the end of input, or when ctx is cancelled, with
// the decoder's statistics, after copying the stream summaries into the
// calls.
func (e *Engine) Run(ctx context.Context, srcs []capture.Source, warn func(error)) (capture.Stats, error) {
	if !e.running.CompareAndSwap(false, true) {
		return capture.Stats{}, ErrRunning
	}
	e.wmu.Lock()
	e.Bind(srcs)
	w := func(err error) {
		e.cnt.warnings.Add(1)
		if warn != nil {
			e.unlockW() // on the writer's goroutine: the caller's code may read
			warn(err)
		}
	}
	co := e.o.Capture
	co.Status = &e.capStatus
	if user := co.OnBatchEnd; user != nil {
		co.OnBatchEnd = func() {
			e.batchEnd()
			user()
		}
	} else {
		co.OnBatchEnd = e.batchEnd
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = sourceLabel(capture.NameOf(s))
	}
	e.store.SetSourceNames(names)
	fn := e.handle
	if !co.Pipeline {
		// Run reads the next record on this goroutine, and a source
		// whose Next blocks (stdin from a pipe) would keep the lock from
		// readers while it waits: the lock goes with each event, as with
		// Handle. The pipeline's batches end before it waits for more.
		fn = func(ev *capture.Event) error {
			err := e.handle(ev)
			e.batchEnd()
			return err
		}
	}
	st, err := capture.Run(ctx, srcs, co, w, fn)
	e.batchEnd()
	e.serve()
	e.applyStreams(true)
	e.served.Add(1)
	e.wmu.Unlock()
	e.running.Store(false)
	// A request made after the last serve, while wmu was still held.
	e.serveIdle()
	return st, err
}

// sourceLabel is how a call names a source it was seen on: a fanout
// member ("eth0#2") is its interface, since the kernel's hash, not the
// network, chose the socket.
func sourceLabel(name string) string {
	if i := strings.LastIndexByte(name, '#'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

// Bind tells an engine fed through Handle which sources the caller's
// capture.Run reads (Run binds its own): the messages of those named in
// Options.Files are then kept as a location in the file and re-read
// when a call is opened, not copied into memory (or the spill). It is
// called before the first Handle.
func (e *Engine) Bind(srcs []capture.Source) {
	if e.raw != nil {
		e.raw.bind(e.o.Files, srcs)
	}
}

// Handle feeds one event; its caller becomes the writer (see Engine), so
// it is for a caller that runs its own capture loop instead of Run (and
// must not be called while Run runs). It is the per-packet path: RTP
// costs a map lookup in the tracker and nothing else here.
func (e *Engine) Handle(ev *capture.Event) error {
	e.claim()
	err := e.handle(ev)
	e.batchEnd() // no batches here: every event is one
	return err
}

// lockW takes mu's write lock for the writer unless it holds it (see
// held).
func (e *Engine) lockW() {
	if !e.held {
		e.mu.Lock()
		e.held = true
	}
}

// unlockW lets go of mu's write lock if the writer holds it: before
// anything that takes mu itself or calls out to code that may read.
func (e *Engine) unlockW() {
	if e.held {
		e.held = false
		e.mu.Unlock()
	}
}

// publish makes the writer's pending counts and clock visible to
// readers.
func (e *Engine) publish() {
	for k, n := range e.pend {
		if n != 0 {
			e.cnt.events[k].Add(n)
			e.pend[k] = 0
		}
	}
	if e.clock > e.last.Load() {
		e.last.Store(e.clock)
	}
}

// batchEnd ends the writer's batch: readers get the lock and see the
// counts (capture.Options.OnBatchEnd; Handle and AddHEPMessage after
// each event).
func (e *Engine) batchEnd() {
	e.unlockW()
	e.publish()
}

// claim makes the caller of Handle or AddHEP the writer for good. The
// flag is set under wmu so that a reader serving its own request (which
// holds wmu) has finished before the first event is handled.
func (e *Engine) claim() {
	if !e.external.Load() {
		e.wmu.Lock()
		e.external.Store(true)
		e.wmu.Unlock()
	}
}

func (e *Engine) handle(ev *capture.Event) error {
	if e.req.Load() != 0 {
		e.serve()
	}
	if int(ev.Kind) < len(e.pend) {
		e.pend[ev.Kind]++
	}
	if ev.Kind != capture.KindHEP {
		// HEP carries the agent's clock, not ours: its calls keep that
		// clock (Meta.Time, and the store's own expiry on Add compares
		// within it), and it must not move the capture clock.
		e.tick(ev.Time)
	}
	switch ev.Kind {
	case capture.KindSIP:
		e.unlockW() // the store's hooks (OnMessage) may read
		m := e.addSIP(ev.Payload, ev.SIP, sipflow.Meta{
			Time:      ev.Time,
			Src:       ev.Src,
			Dst:       ev.Dst,
			Transport: ev.Transport,
			Source:    ev.Source,
			Frame:     ev.Packet.Number,
			Offset:    ev.Packet.Offset,
			Record:    ev.Packet,

			PayloadOffset: payloadOffset(ev),
		})
		if ev.SIP == nil {
			// The decoder learns the SDP's media from the store's parse
			// (see capture.Event.SIP) rather than parsing it again.
			ev.SIP = m
		}
	case capture.KindRTP:
		// The header capture decoded: each packet is parsed once (again
		// only when SRTP decryption shows its padding).
		h, pkt := &ev.RTP, ev.Payload
		if e.srtp != nil && e.srtp.HasKey(ev.Src, ev.RTP.SSRC) {
			h, pkt = e.decryptRTP(ev)
		}
		e.lockW()
		e.rtp.AddFixed(h, pkt, rtpstats.Meta{Time: ev.Time, Src: ev.Src, Dst: ev.Dst})
	case capture.KindRTCP:
		e.addRTCP(ev.Payload, ev.Time, ev.Src, ev.Dst)
	case capture.KindHEP:
		e.unlockW()
		e.addHEP(ev)
	}
	if e.o.Tap != nil {
		e.unlockW() // the tap may read the engine
		e.o.Tap(ev)
	}
	return nil
}

// decryptRTP decrypts and authenticates the SRTP packet of ev (its SSRC
// or source has a key), so the tracker reads the plain payload (DTMF
// events, silence) and the real padding. A packet that fails
// authentication is counted and handed on as its header alone:
// statistics are computed from headers, as without keys, and nothing
// reads its ciphertext as media. It allocates nothing: the plaintext
// aliases the decryptor's buffer until the next packet.
func (e *Engine) decryptRTP(ev *capture.Event) (*rtpstats.Fixed, []byte) {
	plain, err := e.srtp.RTP(ev.Time, ev.Src, ev.Payload)
	if err == nil && e.srtpHdr.Unmarshal(plain) != nil {
		err = srtpdec.ErrMalformed // authenticated, yet not RTP: a sender's bug
	}
	if err != nil {
		e.cnt.srtpFailed.Add(1)
		e.srtpHdr = ev.RTP
		e.srtpHdr.PaddingSize = 0 // read from the ciphertext's last byte: meaningless
		return &e.srtpHdr, ev.Payload[:min(int(ev.RTP.HeaderLength), len(ev.Payload))]
	}
	e.cnt.srtpDecrypted.Add(1)
	return &e.srtpHdr, plain
}

func (e *Engine) addRTCP(b []byte, t time.Time, src, dst netip.AddrPort) {
	if e.srtp != nil {
		// SRTCP of a call whose SDP carried SDES keys: decrypt and
		// authenticate first, so its reports are read. RTCP without a
		// key is plain RTCP; one that fails authentication is counted
		// and not analysed (its body is ciphertext).
		plain, err := e.srtp.RTCP(t, src, b)
		switch {
		case err == nil:
			e.cnt.srtcpDecrypted.Add(1)
			b = plain
		case errors.Is(err, srtpdec.ErrNoKey):
		default:
			e.cnt.srtcpFailed.Add(1)
			return
		}
	}
	e.lockW()
	err := e.rtp.AddRTCP(b, rtpstats.Meta{Time: t, Src: src, Dst: dst})
	if err != nil {
		e.cnt.rtcpErrors.Add(1)
	}
}

// payloadOffset is where the event's payload lies whole in its record,
// as sent, or 0: reassembled, decrypted or unwrapped payloads are not
// bytes of one record.
func payloadOffset(ev *capture.Event) int32 {
	l := &ev.Layers
	if l.Reassembled != 0 || l.Payload <= 0 {
		return 0
	}
	if ev.Record != nil {
		end := int(l.Payload) + len(ev.Payload)
		if end > len(ev.Record) || !bytes.Equal(ev.Record[l.Payload:end], ev.Payload) {
			return 0
		}
	}
	return l.Payload
}

// addSIP stores the message and tells the tracker what the SDP says:
// which call owns each media endpoint, and which codec each dynamic
// payload type carries there. It returns the store's parse (nil when the
// store refused the message), valid until the next message.
//
// parsed, when not nil, is raw already decoded (capture.Event.SIP).
func (e *Engine) addSIP(raw []byte, parsed *sipflow.Message, meta sipflow.Meta) *sipflow.Message {
	var m *sipflow.Message
	if parsed != nil {
		m = e.store.AddParsed(parsed, meta)
	} else {
		m = e.store.Add(raw, meta)
	}
	if m != nil && e.o.OnMessage != nil {
		e.o.OnMessage(m, meta)
	}
	if m == nil || !m.HasSDP {
		return m
	}
	callID := string(m.CallID)
	sdp := &m.SDP
	e.sdesKeys(m, meta.Time)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range sdp.Media {
		ep, ok := sdp.Endpoint(i)
		if !ok {
			continue
		}
		e.rtp.SetCallIDAt(ep, callID, meta.Time)
		for _, r := range sdp.Media[i].RTPMaps {
			e.rtp.SetCodecBytes(ep, r.PT, r.Encoding, int(r.Clock))
		}
	}
	return m
}

// sdesKeys binds the SDES keys an SDP announces (RFC 4568: a side's
// a=crypto protects what that side sends) to the media's RTP and RTCP
// endpoints, which are where its packets come from with symmetric RTP.
//
// An offer may list several a=crypto lines; the answerer picks one by
// its tag and answers with its own key under the same tag (RFC 4568
// 5.1.2, 7.1.2). So an offer's first line is bound provisionally and its
// lines remembered (sdes.go); the answer binds its own line to the
// answerer's endpoints and rebinds the offerer's endpoints to the offered
// line whose tag it chose.
func (e *Engine) sdesKeys(m *sipflow.Message, t time.Time) {
	sdp := &m.SDP
	for i := range sdp.Media {
		md := &sdp.Media[i]
		if md.NCrypto == 0 {
			continue
		}
		ep, okEP := sdp.Endpoint(i)
		rtcpEP, okRTCP := sdp.RTCPEndpoint(i)
		if !okEP {
			continue
		}
		var keys [sipflow.MaxCryptoAttrs]srtpdec.Key
		n := 0
		for j := 0; j < min(md.NCrypto, sipflow.MaxCryptoAttrs); j++ {
			k, err := srtpdec.ParseCrypto(string(md.CryptoAttrs[j]))
			if err != nil {
				e.cnt.sdesBad.Add(1)
				continue
			}
			keys[n] = k
			n++
		}
		if n == 0 {
			continue
		}
		if e.srtp == nil {
			e.srtp = srtpdec.New(srtpdec.Options{})
		}
		bind := func(src, rtcp netip.AddrPort, hasRTCP bool, k srtpdec.Key) {
			_ = e.srtp.SetSourceKey(src, k) // a key that parsed has a suite and lengths pion accepts
			if hasRTCP {
				_ = e.srtp.SetSourceKey(rtcp, k)
			}
		}
		ok := offerKey{callID: string(m.CallID), media: i}
		if o := e.sdes.answered(ok, ep, m, t); o != nil {
			// An answer: its first line is the answerer's key, and its
			// tag names the offered line the offerer now sends with.
			bind(ep, rtcpEP, okRTCP, keys[0])
			if k, found := o.byTag(keys[0].Tag); found {
				bind(o.rtp, o.rtcp, o.hasRTCP, k)
				if k.Tag != o.keys[0].Tag {
					e.cnt.sdesRebound.Add(1)
				}
			} else {
				e.cnt.sdesTagUnmatched.Add(1)
			}
			continue
		}
		bind(ep, rtcpEP, okRTCP, keys[0])
		if !e.sdes.offer(ok, sdesOffer{rtp: ep, rtcp: rtcpEP, hasRTCP: okRTCP, keys: keys, n: n, t: t}) {
			e.cnt.sdesOffersRefused.Add(1)
		}
	}
}

// addHEP unwraps a HEP packet found in a capture: the inner SIP
// becomes an ordinary message with the inner addresses and times.
func (e *Engine) addHEP(ev *capture.Event) {
	m := &e.hepMsg
	if err := e.hepUnwrap.Decode(ev.Payload, ev.Time, m); err != nil {
		e.cnt.hepErrors.Add(1)
		return
	}
	e.addHEPMessage(m, ev.Source, ev.Packet)
}

// AddHEP feeds one decoded HEP packet, from a HEP listener; its caller
// becomes the writer (see Engine), so it must call it from one goroutine.
// rec is the capture record that carried it (only Number set, Offset -1,
// for a listener); fallback is the time used when the packet carries
// none.
func (e *Engine) AddHEP(p *hep.Packet, source int, rec pcap.Packet, fallback time.Time) {
	m := &e.hepMsg
	if err := e.hepUnwrap.Unwrap(p, fallback, m); err != nil {
		e.cnt.hepErrors.Add(1)
		return
	}
	e.AddHEPMessage(m, source, rec)
}

// AddHEPMessage feeds a HEP packet a collector has already unwrapped
// (hep.Unwrapper), so the payload is inflated once; same rules as AddHEP.
// A collector has no capture clock of its own: the agents' times are the
// packet times.
func (e *Engine) AddHEPMessage(m *hep.Message, source int, rec pcap.Packet) {
	e.claim()
	if e.req.Load() != 0 {
		e.serve()
	}
	e.tick(m.Time)
	e.addHEPMessage(m, source, rec)
	e.batchEnd()
}

func (e *Engine) addHEPMessage(m *hep.Message, source int, rec pcap.Packet) {
	e.cnt.hep.Add(1)
	if m.IsSIP() {
		e.pend[capture.KindSIP]++
		e.addSIP(m.Payload, nil, sipflow.Meta{
			Time:          m.Time,
			Src:           m.Src,
			Dst:           m.Dst,
			Transport:     sipflow.TransportOf(m.Protocol),
			Source:        source,
			Frame:         rec.Number,
			Offset:        rec.Offset,
			Record:        rec,
			CorrelationID: string(m.CorrelationID),
		})
		return
	}
	// RTCP-JSON (5), LOG (100) and the rest are reports about calls,
	// not traffic to analyse: attached to the call their correlation
	// id names (agents put the Call-ID there), shown in its ladder.
	e.cnt.hepOther.Add(1)
	if len(m.CorrelationID) > 0 && e.store.AddEvent(string(m.CorrelationID), sipflow.CallEvent{
		Time: m.Time, Kind: HEPEventPrefix + m.Type.String(), Detail: string(m.Payload[:min(len(m.Payload), sipflow.MaxEventDetail)]),
	}) {
		e.cnt.hepAttached.Add(1)
	}
}

// HEPEventPrefix starts the CallEvent.Kind of reports attached from HEP
// ("hep LOG", "hep RTCP-JSON").
const HEPEventPrefix = "hep "

// tick advances the engine's clock and, once per syncEvery of packet
// time, expires idle dialogs and RTP streams (the one clock: packet
// time).
func (e *Engine) tick(t time.Time) {
	ns := t.UnixNano()
	if ns > e.clock {
		e.clock = ns
	}
	if ns < e.nextSync {
		return
	}
	e.nextSync = ns + int64(syncEvery)
	// The sweep takes mu, and its summaries (applyStreams) read the
	// clock from last.
	e.batchEnd()
	if e.o.Store.IdleTimeout > 0 {
		e.store.ExpireBefore(t.Add(-e.o.Store.IdleTimeout))
	}
	if e.o.RTPIdleTimeout > 0 {
		e.mu.Lock()
		e.rtp.Expire(t.Add(-e.o.RTPIdleTimeout))
		e.mu.Unlock()
	}
	if e.rtp.PendingCalls() > maxPendingCalls {
		// Nobody asked for stream summaries (a headless live run): the
		// tracker's set of changed calls is drained into the store
		// before it grows without bound.
		e.applyStreams(false)
	}
}

// maxPendingCalls bounds the calls whose stream summaries wait for a
// reader's RequestStreams (see tick).
const maxPendingCalls = 10000

// Flush is for a writer that feeds the engine itself (Handle, AddHEP):
// at the end of its input it copies the stream summaries into the calls
// and decides every call's problems, as Run does before it returns.
// Only that writer may call it.
func (e *Engine) Flush() {
	e.claim()
	e.serve()
	e.applyStreams(true)
	e.served.Add(1)
}

// RequestStreams asks the writer to copy a short summary of each stream
// into its call (codec, loss, jitter, MOS for the call list and the calls
// report), for the calls whose streams changed since the last copy. The
// writer does it at its next event, or the caller at once when no writer
// runs; Run does it anyway before it returns. The cost is the streams
// (a visit each) plus a brief report per stream of the changed calls,
// so a reader asks at its own pace (the UI twice a second).
func (e *Engine) RequestStreams() { e.request(reqStreams) }

// Clear asks the writer to forget every call and stream seen so far (the
// UI's "clear list" on a live source); counters keep their totals. Until
// the writer gets to it (its next event; at once when no writer runs)
// ClearPending is true.
func (e *Engine) Clear() { e.request(reqClear) }

// ClearPending reports whether a Clear is waiting for the writer.
func (e *Engine) ClearPending() bool { return e.req.Load()&reqClear != 0 }

// ServeRequests carries out readers' pending requests (stream summaries,
// Clear) now. Only the writer's goroutine may call it: a hook of the
// writer that waits (capture.Options.OnRecord holding a record back, as
// open --realtime's pacer does) lets readers be served meanwhile.
func (e *Engine) ServeRequests() { e.serve() }

func (e *Engine) request(r uint32) {
	e.req.Or(r)
	e.serveIdle()
}

// serveIdle carries out pending requests on the caller's goroutine when
// no writer runs: Run is not running (wmu free) and nobody has called
// Handle or AddHEP. Otherwise the writer serves them.
func (e *Engine) serveIdle() {
	if e.external.Load() || e.req.Load() == 0 || !e.wmu.TryLock() {
		return
	}
	defer e.wmu.Unlock()
	if !e.external.Load() {
		e.serve()
	}
}

// serve carries out the pending requests; only the writer (or a reader
// holding wmu while no writer runs) calls it.
func (e *Engine) serve() {
	r := e.req.Swap(0)
	if r == 0 {
		return
	}
	e.batchEnd() // serving takes mu and reads the clock
	changed := false
	if r&reqClear != 0 {
		e.store.Clear()
		e.mu.Lock()
		e.rtp = rtpstats.NewTracker(e.o.RTP)
		e.final = nil // its Gen starts again
		e.mu.Unlock()
		changed = true
	}
	if r&reqStreams != 0 && e.applyStreams(false) {
		changed = true
	}
	if changed {
		// Only a change moves Version: a reader that asks for summaries
		// whenever Version moved must not keep itself busy.
		e.served.Add(1)
	}
}

// applyStreams copies the summaries of the changed calls' streams into
// the store and reports whether there were any. Writer only: it reads the
// tracker without the lock, which only excludes readers from its writes.
func (e *Engine) applyStreams(all bool) bool {
	e.mu.Lock()
	e.changed = e.rtp.ChangedCalls(e.changed[:0])
	e.mu.Unlock()
	var st []sipflow.Stream
	// At the end of a run every live stream's full report is built once:
	// the calls' summaries are cut from it (with their finished streams'
	// kept reports), and Streams("") answers with copies of it and of
	// the finished reports until the tracker changes (the report built
	// once). What it holds is bounded by the live streams' budget
	// (rtpstats.Options.MaxLiveBytes): a report costs less than its
	// stream.
	var byCall map[string][]int
	var final []rtpstats.StreamReport
	if all {
		final = e.rtp.LiveStreams()
		byCall = make(map[string][]int)
		for i := range final {
			final[i].Owners(func(id string) { byCall[id] = append(byCall[id], i) })
		}
	}
	// brief fills e.brief with id's reports, brief as AppendCallBrief's.
	brief := func(id string) {
		if all {
			e.brief = e.brief[:0]
			for _, i := range byCall[id] {
				e.brief = append(e.brief, final[i])
			}
			e.brief = e.rtp.AppendFinishedBrief(e.brief, id)
			rtpstats.SortReports(e.brief) // in Streams' order, as AppendCallBrief sorts
		} else {
			e.brief = e.rtp.AppendCallBrief(e.brief[:0], id)
		}
	}
	// store copies the summaries of e.brief into id's call and decides
	// its problems.
	store := func(id string) {
		st = st[:0]
		for _, r := range e.brief {
			st = append(st, sipflow.Stream{
				Src: r.Src, Dst: r.Dst, SSRC: r.SSRC, Codec: r.Codec,
				Packets: r.Packets, Lost: r.Lost, JitterMS: r.MaxJitterMs, MOS: r.MOS, Link: r.Link,
			})
		}
		e.store.SetStreams(id, st) // copies st
		if sum, ok := e.store.Summary(id); ok {
			e.diagnose(&sum, e.brief)
		}
	}
	for _, id := range e.changed {
		brief(id)
		store(id)
	}
	if all {
		// The end of a run: signalling-only problems (no ACK, timeout,
		// auth loops) and those that need time to pass are decided for
		// every call, not only those whose media changed. The calls with
		// no stream, before nor now (all of them on a capture without
		// RTP), need the detectors alone: the store runs them on both
		// goroutines (RefreshProblems). The others, whose streams the
		// writer copies in (store), are deferred to it, in creation
		// order.
		done := make(map[string]bool, len(e.changed))
		for _, id := range e.changed {
			done[id] = true
		}
		in := diagnose.Input{Now: time.Unix(0, e.last.Load()), MediaSeen: e.rtp.Len() > 0}
		rest := e.store.RefreshProblems(e.finalWorkers(), func() sipflow.ProblemFunc {
			in := in // each goroutine's own: the detectors keep a pointer to it
			return func(dst []sipflow.Problem, sum *sipflow.CallSummary) ([]sipflow.Problem, sipflow.Verdict) {
				switch id := sum.CallID; {
				case done[id]:
					return dst, sipflow.Keep
				case len(sum.Streams) > 0 || len(byCall[id]) > 0 || e.rtp.HasFinished(id):
					return dst, sipflow.Defer // streams before or now
				}
				in.Call = *sum
				dst = diagnose.AppendCall(dst, &in, e.o.Diagnose)
				in.Call = sipflow.CallSummary{} // holds the summary's slices, reused for the next
				return dst, sipflow.Set
			}
		})
		for _, id := range rest {
			brief(id)
			store(id)
		}
		clear(e.brief) // shares final's slices: not kept beyond the call
		e.mu.Lock()
		e.final, e.finalGen = final, e.rtp.Gen()
		e.mu.Unlock()
	}
	return len(e.changed) > 0
}

// finalWorkers is how many goroutines the end of a run's diagnosis runs
// on: two when the run decoded on a second one (capture.Options.Pipeline,
// --workers 2), else one.
func (e *Engine) finalWorkers() int {
	if e.o.Capture.Pipeline {
		return 2
	}
	return 1
}

// diagnose runs the problem detectors over one call with its streams and
// stores what they find in its summary, when it changed.
// Its input and list are the engine's own (diagIn, problems): the
// detectors keep a pointer to the input, which put a 700-byte copy of
// every call on the heap. Only the writer, or a reader serving a request
// while none runs, gets here.
func (e *Engine) diagnose(c *sipflow.CallSummary, streams []rtpstats.StreamReport) {
	in := &e.diagIn
	*in = diagnose.Input{Call: *c, Streams: streams, Now: time.Unix(0, e.last.Load()), MediaSeen: e.rtp.Len() > 0}
	e.problems = diagnose.AppendCall(e.problems[:0], in, e.o.Diagnose)
	if !slices.Equal(e.problems, c.Problems) {
		e.store.SetProblems(c.CallID, e.problems) // only a change takes the store's write lock
	}
	*in = diagnose.Input{} // holds no summary's or report's slices beyond the call
}

// Close releases what the engine holds outside the heap: the spill
// file (removed; its messages are gone from the store's calls from then
// on) and the capture files opened to re-read messages. Call it when
// no reader needs the calls any more, after Run returned.
func (e *Engine) Close() error {
	var err error
	if e.spill != nil {
		err = e.spill.close()
	}
	if e.raw != nil {
		if rerr := e.raw.close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Store is the call store; its methods are safe for concurrent readers.
func (e *Engine) Store() *sipflow.Store { return e.store }

// StreamCount is the number of RTP streams tracked now.
func (e *Engine) StreamCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rtp.Len()
}

// Calls returns copies of the matching calls (limit < 0: all).
func (e *Engine) Calls(f sipflow.Filter, offset, limit int) []sipflow.CallSummary {
	return e.store.Calls(f, offset, limit)
}

// Call returns one call with its messages.
func (e *Engine) Call(id string) (sipflow.CallDetail, bool) { return e.store.Call(id) }

// Streams returns the RTP streams of a call, or every stream when
// callID is empty. A call's streams are found through the tracker's
// per-call index: the cost is that call's streams, not all of them.
func (e *Engine) Streams(callID string) []rtpstats.StreamReport {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if callID == "" {
		if e.final != nil && e.finalGen == e.rtp.Gen() {
			out := make([]rtpstats.StreamReport, 0, len(e.final)+e.rtp.FinishedLen())
			for i := range e.final {
				out = append(out, e.final[i].Clone())
			}
			out = e.rtp.AppendFinished(out)
			rtpstats.SortReports(out)
			return out
		}
		return e.rtp.Streams()
	}
	return e.rtp.CallStreams(callID)
}

// StreamSeq yields every RTP stream's report in Streams("")'s order.
// After a run (the reports built once, nothing changed since) it yields
// the engine's own reports, not copies: writing them out then costs no
// second copy of every report, which was the peak of a run under
// --max-memory. It holds the engine's read lock until the walk ends, so
// the writer waits: use it once the run is over, and call nothing of the
// engine's from the loop. Otherwise it walks a copy, like Streams.
func (e *Engine) StreamSeq() iter.Seq[*rtpstats.StreamReport] {
	return func(yield func(*rtpstats.StreamReport) bool) {
		e.mu.RLock()
		if e.final == nil || e.finalGen != e.rtp.Gen() {
			e.mu.RUnlock()
			all := e.Streams("")
			for i := range all {
				if !yield(&all[i]) {
					return
				}
			}
			return
		}
		defer e.mu.RUnlock()
		refs := make([]*rtpstats.StreamReport, 0, len(e.final)+e.rtp.FinishedLen())
		for i := range e.final {
			refs = append(refs, &e.final[i])
		}
		refs = e.rtp.AppendFinishedRefs(refs)
		rtpstats.SortReportRefs(refs)
		for _, r := range refs {
			if !yield(r) {
				return
			}
		}
	}
}

// Related returns the details of the calls and, with related, of every
// leg reachable from them through the store's links, in discovery order.
func (e *Engine) Related(ids []string, related bool) []sipflow.CallDetail {
	seen := map[string]bool{}
	var out []sipflow.CallDetail
	queue := append([]string(nil), ids...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		d, ok := e.store.Call(id)
		if !ok {
			continue
		}
		out = append(out, d)
		if related {
			for _, l := range d.Summary.Legs {
				queue = append(queue, l.CallID)
			}
		}
	}
	return out
}

// CaptureOptions are the decoder options the engine runs with, for a
// reader that decodes the same files again (saving a call's packets).
func (e *Engine) CaptureOptions() capture.Options {
	o := e.o.Capture
	o.Status = nil                        // a re-read has its own
	o.Stream.OnTLSSession = e.userTLSHook // and does not count TLS connections again
	return o
}

// Status is everything the engine counts, for headers and summaries: one
// snapshot, safe to take from any goroutine while Run goes.
type Status struct {
	Records int64 // records read so far, over all sources
	// Decoder are the decoder's counters (fragments, TLS streams,
	// heuristic drops...): published by Run every few hundred records
	// while it runs, final once it has returned.
	Decoder capture.Stats
	// Sources are each input's counters: records, and for live
	// interfaces the kernel's and our queue's drops.
	Sources []capture.SourceSnapshot
	// Reordered counts live records decoded out of time order (they
	// reached the merge after its window).
	Reordered uint64
	Store     sipflow.Stats
	RTP       rtpstats.Counters
	Engine    Counters
	Spill     SpillStats
	Clock     time.Time // latest packet time seen
	Running   bool      // Run is going
	// StreamVisits counts streams the tracker examined to answer
	// queries (per-call streams, summaries) since the last Clear: the
	// work done for readers.
	StreamVisits int64
	// Version is Version() when the snapshot was taken.
	Version int64
	// TLSReasons says why ended TLS connections were not fully
	// decrypted, with session counts ("no key 3, gap 1"); the sessions
	// themselves are in Engine.TLS.
	TLSReasons string
}

// Version is a change counter: it grows whenever anything a reader can
// see may have changed (a record read, an event handled, a request
// served) and is unchanged otherwise, so a reader polls it and takes a
// Status or a page of calls only when it moved. It costs a few atomic
// loads and nothing on the writer's side.
func (e *Engine) Version() int64 {
	v := int64(e.capStatus.Changes()) + e.served.Load() + e.cnt.hep.Load()
	for i := range e.cnt.events {
		v += e.cnt.events[i].Load()
	}
	return v
}

// Status returns a copy of every counter.
func (e *Engine) Status() Status {
	s := Status{Version: e.Version(), Running: e.running.Load()}
	cs := e.capStatus.Snapshot()
	s.Decoder, s.Sources, s.Reordered = cs.Decoder, cs.Sources, cs.Reordered
	for _, src := range cs.Sources {
		s.Records += int64(src.Records)
	}
	s.Store = e.store.Stats()
	e.mu.RLock()
	s.RTP = e.rtp.Counters()
	s.StreamVisits = e.rtp.Visits()
	e.mu.RUnlock()
	s.Engine = e.cnt.load()
	if e.spill != nil {
		s.Spill = e.spill.stats()
	}
	s.TLSReasons = e.tls.reasonsLine()
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
	if st := s.Decoder.Stream; st.TLSSessions > 0 {
		line += fmt.Sprintf("; %d TLS connections decrypted, %d of them not fully", st.TLSSessions, st.TLSSessionsUndecrypted)
		if s.TLSReasons != "" {
			line += " (" + s.TLSReasons + ")"
		}
	} else if s.Decoder.TLSStreams > 0 {
		// Said here too, so a capture of SIP over TLS does not just look
		// empty.
		line += fmt.Sprintf("; %d TCP directions carry TLS (encrypted SIP, not decoded)", s.Decoder.TLSStreams)
	}
	if s.Store.Evicted > 0 {
		// A cap that bites is said, with the option that raises it.
		line += fmt.Sprintf("; %d dialogs evicted by the store's limits (%d still active; raise --max-calls or --max-memory)", s.Store.Evicted, s.Store.EvictedActive)
	}
	if sp := s.Spill; sp.Messages+sp.Refused+sp.Errors > 0 {
		if sp.Reclaimed == 0 {
			line += fmt.Sprintf("; %d SIP messages (%d bytes) held in the spill file", sp.Messages, sp.Bytes)
		} else {
			// The calls dropped gave their space back: what is left is
			// what the bound (--spill-max) is spent on.
			line += fmt.Sprintf("; %d SIP messages (%d bytes) spilled, %d bytes of them still held in the spill file (%d bytes of disk; %d bytes given back in %d segments as their calls were dropped)",
				sp.Messages, sp.Bytes, sp.Live, sp.Held, sp.ReclaimedBytes, sp.Reclaimed)
		}
		if sp.Compactions > 0 {
			// Sparse segments emptied: the messages long dialogs kept
			// there were moved, so the segments could be given back.
			line += fmt.Sprintf("; %d compactions moved %d messages (%d bytes) out of %d sparse segments",
				sp.Compactions, sp.Moved, sp.MovedBytes, sp.Compacted)
			if sp.MoveFailed > 0 {
				line += fmt.Sprintf(" (%d left in place, the move failed)", sp.MoveFailed)
			}
		}
		if sp.Refused+sp.Errors > 0 {
			// Kept in memory instead, inside the store's budget.
			line += fmt.Sprintf(", %d kept in memory instead (%d spill file errors; raise --spill-max or free --spill-dir)", sp.Refused, sp.Errors)
		}
	}
	if r := s.RTP; r.Evicted+r.Expired+r.FinishedDropped > 0 {
		// Finished streams keep their final reports; what the bounded
		// list of them dropped is lost, and said.
		line += fmt.Sprintf("; %d RTP streams finished idle, %d evicted at the stream limit, %d final reports dropped", r.Expired, r.Evicted, r.FinishedDropped)
		if r.EvictedBudget > 0 {
			// Finished early, their reports kept: a live stream that goes
			// on is reported as a second stream from there.
			line += fmt.Sprintf(" (%d of the evicted to keep live streams inside the memory budget)", r.EvictedBudget)
		}
		if r.FinishedDropped > 0 || r.EvictedBudget > 0 {
			line += " (raise --max-memory)"
		}
	}
	r := s.RTP
	for _, c := range []struct {
		n    int
		what string
	}{
		{r.RTCPEvicted, "RTCP sources evicted"},
		{r.RTCPReportersEvicted, "RTCP reporters evicted"},
		{r.AnnouncementsEvicted, "SDP endpoints forgotten at their limit"},
		{r.NATCandidatesDropped, "NAT candidates forgotten (over 64 private endpoints on one port)"},
	} {
		if c.n > 0 {
			line += fmt.Sprintf("; %d %s", c.n, c.what)
		}
	}
	if n, f := s.Engine.SRTPDecrypted, s.Engine.SRTPFailed; n+f > 0 {
		line += fmt.Sprintf("; %d SRTP packets decrypted, %d failed authentication", n, f)
	}
	if n, f := s.Engine.SRTCPDecrypted, s.Engine.SRTCPFailed; n+f > 0 {
		line += fmt.Sprintf("; %d SRTCP packets decrypted with SDES keys, %d failed authentication", n, f)
	}
	if s.Engine.SDESBad > 0 {
		line += fmt.Sprintf("; %d a=crypto keys that did not parse", s.Engine.SDESBad)
	}
	if s.Engine.SDESTagUnmatched > 0 {
		line += fmt.Sprintf("; %d SDES answers chose a crypto tag their offer did not carry (the offer's first key kept)", s.Engine.SDESTagUnmatched)
	}
	if s.Engine.SDESOffersRefused > 0 {
		line += fmt.Sprintf("; %d SDES offers not remembered (table full): their answers' choice of key not followed", s.Engine.SDESOffersRefused)
	}
	return line
}
