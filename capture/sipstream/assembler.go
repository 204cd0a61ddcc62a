package sipstream

import (
	"net/netip"
	"slices"
	"time"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// Defaults used when an Options field is zero.
const (
	DefaultMaxStreamBuffer = 256 << 10       // bytes buffered per direction
	DefaultMaxStreams      = 65536           // directions tracked at once
	DefaultIdleTimeout     = 5 * time.Minute // packet time without a segment
	DefaultGapTimeout      = 5 * time.Second // packet time a hole may stay open
	DefaultMaxOutOfOrder   = 64 << 10        // bytes held beyond a hole
	DefaultMaxBuffered     = 64 << 20        // bytes held across all directions
)

const (
	// maxOutOfOrderSegments bounds the out-of-order list per direction so
	// the drain loop stays cheap even when a peer sends tiny segments.
	maxOutOfOrderSegments = 128
	// sweepInterval is how far packet time must advance between sweeps for
	// idle streams and stale holes; a full map walk per packet would be
	// O(streams) on the hot path.
	sweepInterval = time.Second
	// nonSIPScanLimit is how many bytes a stream that never showed a SIP
	// start line may feed the resynchroniser before it is written off as
	// not SIP.
	nonSIPScanLimit = 16 << 10
	// maxHTTPHeader bounds the WebSocket upgrade header block (RFC 6455 4).
	maxHTTPHeader = 8 << 10
	// releaseCap is the capacity above which an emptied buffer is given
	// back rather than kept for reuse: ordinary SIP messages stay below it
	// (no allocation in the steady state), while a direction that once
	// held an oversized message does not pin that memory for its life.
	releaseCap = 64 << 10
)

// Options configures an Assembler. The zero value is useful.
type Options struct {
	// MaxStreamBuffer bounds the bytes buffered per direction, and so the
	// largest SIP message or WebSocket message that can be delivered.
	// 0 means DefaultMaxStreamBuffer.
	MaxStreamBuffer int
	// MaxStreams bounds the directions tracked at once; segments of new
	// streams beyond it are counted in Stats.StreamsRefused and dropped.
	// 0 means DefaultMaxStreams.
	MaxStreams int
	// IdleTimeout is the packet time after which a direction with no
	// segments is flushed and forgotten. 0 means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// GapTimeout is the packet time after which a hole in the sequence
	// space (a segment the capture lost) is given up on: the data behind
	// it is resynchronised at the next SIP start line. 0 means
	// DefaultGapTimeout.
	GapTimeout time.Duration
	// MaxOutOfOrder bounds the bytes held beyond a hole before it is given
	// up on. 0 means DefaultMaxOutOfOrder.
	MaxOutOfOrder int
	// MaxBuffered bounds the memory of the buffers held across all
	// directions at once (their capacity, which is what the process
	// holds): partial messages and WebSocket fragments waiting for their
	// end, and segments held beyond a hole. When a segment takes the
	// total past it, buffers holding nothing give their capacity back
	// first; then the directions that have gone longest without a
	// segment (packet time) are evicted, oldest first, until the total is
	// 7/8 of the bound: what they had complete is emitted, the rest is discarded and
	// counted in Stats.BudgetEvictions and Stats.BudgetEvictedBytes, and
	// their next segment starts a stream mid-way (resynchronised at the
	// next start line). It should be at least MaxStreamBuffer, or one
	// large message evicts its own direction. 0 means DefaultMaxBuffered.
	MaxBuffered int
	// TLSKeys, when set, decrypts TLS streams (capture/tlsdec) instead of
	// ignoring them: the SIP (or WebSocket) inside is framed as usual and
	// emitted with Message.TLS set. Connections decrypted at once are
	// bounded by MaxStreams.
	TLSKeys *tlsdec.KeyLog
	// OnTLSSession, if set, is called when a decrypted connection ends
	// (both directions closed, expired or flushed) with what its session
	// decrypted and why records were not.
	OnTLSSession func(client, server netip.AddrPort, st tlsdec.SessionStats)
}

// Segment is one TCP segment as seen on the wire.
type Segment struct {
	Src, Dst      netip.AddrPort
	Seq           uint32
	SYN, FIN, RST bool
	// Payload aliases the caller's frame; the Assembler copies what it
	// keeps, so the caller may reuse the frame once Add returns.
	Payload []byte
	// Time is the capture time: the only clock the Assembler uses.
	Time time.Time
	// Ref is an opaque caller reference (packet number, file offset)
	// returned in Message.FirstRef/LastRef.
	Ref uint64
}

// Message is one complete SIP message.
type Message struct {
	Src, Dst netip.AddrPort
	// Payload is one complete SIP message. It aliases the Assembler's
	// buffers and is valid only until emit returns: copy to retain it.
	Payload []byte
	// Time is the time of the segment whose arrival completed the message,
	// or of the segment carrying its last byte if that is later (capture
	// clocks can step back). Messages completed by a flush, an expiry or
	// the sweep's giving up on a hole take the time of their last byte's
	// segment.
	Time time.Time
	// FirstRef and LastRef are the Refs of the first and last segments
	// carrying bytes of the message.
	FirstRef, LastRef uint64
	// WebSocket reports that the message came from a WebSocket message
	// (RFC 7118) rather than from a plain TCP byte stream.
	WebSocket bool
	// TLS reports that the message was decrypted from TLS (Options.TLSKeys).
	// FirstRef and LastRef then name the segments that completed the
	// records carrying it.
	TLS bool
}

// Stats are cumulative counters. Byte counts are payload bytes.
type Stats struct {
	Streams        uint64 // directions created (a reused 4-tuple counts again)
	ActiveStreams  int    // directions tracked now
	StreamsRefused uint64 // new directions dropped because MaxStreams was reached
	ExpiredStreams uint64 // directions flushed by IdleTimeout or ExpireBefore
	ClosedStreams  uint64 // directions closed by FIN or RST

	Messages          uint64 // SIP messages emitted (plain and WebSocket)
	WebSocketMessages uint64 // of which carried in WebSocket messages
	Bytes             uint64 // in-order payload bytes accepted

	RetransmittedSegments uint64 // segments carrying bytes already delivered
	RetransmittedBytes    uint64 // bytes already delivered, seen again
	OutOfOrderSegments    uint64 // segments buffered ahead of a hole
	Gaps                  uint64 // holes given up on (capture lost data)
	GapBytes              uint64 // sequence space skipped over those holes
	DiscardedBytes        uint64 // bytes dropped: non-SIP, TLS, unframeable, resync
	KeepAlives            uint64 // CRLF keep-alive runs skipped (RFC 5626 3.5.1)
	MissingContentLength  uint64 // messages framed with no Content-Length (taken as 0)
	BadContentLength      uint64 // messages whose Content-Length did not parse (taken as 0)
	Resyncs               uint64 // times framing was lost and a start line searched for
	BufferOverflows       uint64 // messages or headers larger than MaxStreamBuffer
	OutOfOrderOverflows   uint64 // holes given up on because MaxOutOfOrder was reached
	BudgetEvictions       uint64 // directions evicted to stay within MaxBuffered
	BudgetEvictedBytes    uint64 // buffered bytes those evictions discarded
	Buffered              int    // buffer bytes (capacity) held across all directions now
	PeakBuffered          int    // the most buffer bytes held at once

	TLSStreams    uint64 // directions recognised as TLS (ignored unless Options.TLSKeys)
	NonSIPStreams uint64 // directions recognised as neither SIP nor WebSocket

	WebSocketStreams        uint64 // directions that completed an upgrade or were recognised mid-stream
	WebSocketFrames         uint64 // frames deframed (all opcodes)
	WebSocketControlFrames  uint64 // ping, pong and close frames skipped
	WebSocketCompressed     uint64 // frames with RSV bits (permessage-deflate) not decoded
	WebSocketProtocolErrors uint64 // frames violating RFC 6455 5.2 (stream resynchronised)
	WebSocketNonSIP         uint64 // WebSocket messages that did not start with a SIP start line

	TLSSessions            uint64 // TLS connections fed to the decryptor (Options.TLSKeys)
	TLSSessionsUndecrypted uint64 // ended connections with records not decrypted (reason: OnTLSSession)
	TLSRecordsDecrypted    uint64 // records of ended connections decrypted
	TLSRecordsUndecrypted  uint64 // records of ended connections not decrypted
	TLSRefused             uint64 // TLS directions left encrypted because MaxStreams connections were being decrypted
	TLSPlaintextDropped    uint64 // plaintext bytes for a direction that had already ended
	// TLS connections evicted whole (both directions, also counted in
	// BudgetEvictions) to stay within MaxBuffered, and the bytes of
	// records split across segments (or waiting for keys) they held.
	TLSBudgetEvictions    uint64
	TLSBudgetEvictedBytes uint64
}

// flowKey identifies one direction of a TCP connection. It is comparable
// and fixed-size, so map lookups neither allocate nor hash strings.
type flowKey struct{ src, dst netip.AddrPort }

// Assembler turns TCP segments into SIP messages. It is not safe for
// concurrent use: shard by flow and give each goroutine its own Assembler.
type Assembler struct {
	maxBuf     int
	maxStreams int
	idle       time.Duration
	gapTimeout time.Duration
	maxOOO     int
	maxHeld    int // Options.MaxBuffered
	held       int // sum of stream.held over a.streams
	streams    map[flowKey]*stream
	stats      Stats
	now        time.Time // latest packet time seen
	lastSweep  time.Time
	curTime    time.Time // time of the segment being added; zero in flushes
	msg        Message   // reused so emit's argument does not escape per call
	emit       func(*Message)
	scratch    []*stream // reused by ordered

	tlsKeys    *tlsdec.KeyLog
	onTLS      func(client, server netip.AddrPort, st tlsdec.SessionStats)
	tlsConns   map[flowKey]*tlsConn // by client -> server direction
	tlsScratch []byte
	tlsRef     uint64    // segment being decrypted, for the plaintext's marks
	tlsTime    time.Time // its time
}

// New returns an Assembler configured by o.
func New(o Options) *Assembler {
	a := &Assembler{
		maxBuf:     o.MaxStreamBuffer,
		maxStreams: o.MaxStreams,
		idle:       o.IdleTimeout,
		gapTimeout: o.GapTimeout,
		maxOOO:     o.MaxOutOfOrder,
		maxHeld:    o.MaxBuffered,
		tlsKeys:    o.TLSKeys,
		onTLS:      o.OnTLSSession,
		tlsConns:   make(map[flowKey]*tlsConn),
	}
	if a.maxBuf <= 0 {
		a.maxBuf = DefaultMaxStreamBuffer
	}
	if a.maxStreams <= 0 {
		a.maxStreams = DefaultMaxStreams
	}
	if a.idle <= 0 {
		a.idle = DefaultIdleTimeout
	}
	if a.gapTimeout <= 0 {
		a.gapTimeout = DefaultGapTimeout
	}
	if a.maxOOO <= 0 {
		a.maxOOO = DefaultMaxOutOfOrder
	}
	if a.maxHeld <= 0 {
		a.maxHeld = DefaultMaxBuffered
	}
	a.streams = make(map[flowKey]*stream)
	return a
}

// Stats returns a snapshot of the counters.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.ActiveStreams = len(a.streams)
	s.Buffered = a.held
	return s
}

// Add feeds one segment. emit is called synchronously, in stream order,
// for every SIP message the segment completes (and for messages of other
// streams flushed by the idle sweep); the *Message and its Payload are
// valid only until emit returns. emit must not call back into a.
func (a *Assembler) Add(sg *Segment, emit func(*Message)) {
	a.emit = emit
	a.curTime = sg.Time
	if sg.Time.After(a.now) {
		a.now = sg.Time
	}
	if a.now.Sub(a.lastSweep) >= sweepInterval {
		a.lastSweep = a.now
		a.sweep(a.now)
	}

	k := flowKey{sg.Src, sg.Dst}
	s := a.streams[k]
	if sg.RST {
		// RST aborts both directions (RFC 9293 3.10.7); data on it is not
		// delivered to the application, so neither do we.
		if s != nil {
			a.close(s, s.nextSeq)
		}
		if r := a.streams[flowKey{sg.Dst, sg.Src}]; r != nil {
			a.close(r, r.nextSeq)
			a.settle(r)
		}
		if s != nil {
			a.settle(s)
		}
		a.curTime = time.Time{}
		return
	}
	if s != nil && s.mode != modeClosed && sg.Time.Sub(s.lastTime) > a.idle {
		// The direction went idle but the sweep has not run yet (packet
		// time jumped); treat what follows as a new stream.
		a.finish(s)
		a.forget(s)
		a.stats.ExpiredStreams++
		s = nil
	}
	seq := sg.Seq
	switch {
	case s == nil:
		if len(sg.Payload) == 0 && !sg.SYN {
			a.curTime = time.Time{}
			return
		}
		if len(a.streams) >= a.maxStreams {
			a.stats.StreamsRefused++
			a.curTime = time.Time{}
			return
		}
		s = a.newStream(k, sg)
		a.streams[k] = s
	case sg.SYN:
		if !(s.synSeen && s.isn == seq) {
			// A new connection on a reused 4-tuple.
			if s.mode != modeClosed {
				a.finish(s)
			}
			s.reset(sg)
			a.stats.Streams++
		}
	case s.mode == modeClosed:
		if len(sg.Payload) == 0 || int32(seq-s.finSeq) <= 0 {
			if len(sg.Payload) > 0 {
				a.stats.RetransmittedSegments++
				a.stats.RetransmittedBytes += uint64(len(sg.Payload))
			}
			a.curTime = time.Time{}
			return
		}
		// Data beyond the FIN: the 4-tuple was reused without a SYN in
		// the capture. Start over mid-stream.
		s.reset(sg)
		a.stats.Streams++
	}
	if sg.Time.After(s.lastTime) {
		s.lastTime = sg.Time
	}
	if sg.SYN {
		seq++ // the SYN occupies one sequence number (RFC 9293 3.4)
	}
	if len(sg.Payload) > 0 {
		a.ingest(s, seq, sg.Payload, sg.Ref, sg.Time)
	}
	if sg.FIN && s.mode != modeClosed {
		finSeq := seq + uint32(len(sg.Payload))
		if int32(finSeq-s.nextSeq) > 0 && !s.ignoring() {
			// The FIN overtook data still missing: close once the hole
			// fills (or is given up on), not now, or the late data would
			// be taken for a retransmission.
			s.finPending = true
			s.finAt = finSeq
		} else {
			a.close(s, finSeq)
		}
	}
	if s.finPending && s.mode != modeClosed && int32(s.nextSeq-s.finAt) >= 0 {
		a.close(s, s.finAt)
	}
	a.settleConn(s)
	if a.held > a.maxHeld {
		a.evict()
	}
	a.curTime = time.Time{}
	a.emit = nil
}

// ExpireBefore flushes and forgets every direction whose last segment is
// older than t (packet time), emitting the messages still complete in it,
// oldest direction first.
func (a *Assembler) ExpireBefore(t time.Time, emit func(*Message)) {
	a.emit = emit
	a.curTime = time.Time{}
	for _, s := range a.ordered(func(s *stream) bool { return s.lastTime.Before(t) }) {
		if s.mode != modeClosed {
			a.finish(s)
			a.stats.ExpiredStreams++
		}
		a.forget(s)
	}
	a.emit = nil
}

// Flush ends the input: holes are given up on, complete messages emitted
// (oldest direction first), partial ones counted as discarded, and every
// direction forgotten.
func (a *Assembler) Flush(emit func(*Message)) {
	a.emit = emit
	a.curTime = time.Time{}
	for _, s := range a.ordered(func(*stream) bool { return true }) {
		if s.mode != modeClosed {
			a.finish(s)
		}
		a.forget(s)
	}
	a.emit = nil
}

// settle brings a.held up to date with what s holds now, and gives back
// an emptied buffer whose capacity an oversized message inflated. It runs
// after every change to a direction's buffers, once no emitted Payload
// aliases them any more.
func (a *Assembler) settle(s *stream) {
	if len(s.buf) == 0 && cap(s.buf) > releaseCap {
		s.buf = nil
	}
	if len(s.oooBuf) == 0 && cap(s.oooBuf) > releaseCap {
		s.oooBuf = nil
	}
	if len(s.frag) == 0 && cap(s.frag) > releaseCap {
		s.frag = nil
	}
	s.trimTLS(releaseCap)
	h := s.footprint()
	a.held += h - s.held
	s.held = h
	if a.held > a.stats.PeakBuffered {
		a.stats.PeakBuffered = a.held
	}
}

// settleConn settles s and, when TLS is decrypted, the other direction
// of its connection: a record one direction completes can release
// plaintext into the other's buffer.
func (a *Assembler) settleConn(s *stream) {
	a.settle(s)
	if a.tlsKeys != nil {
		if r := a.streams[flowKey{s.key.dst, s.key.src}]; r != nil {
			a.settle(r)
		}
	}
}

// forget removes s (already finished or closed) from the table and from
// the held total.
func (a *Assembler) forget(s *stream) {
	a.held -= s.held
	s.held = 0
	delete(a.streams, s.key)
	if a.tlsKeys != nil {
		if r := a.streams[flowKey{s.key.dst, s.key.src}]; r != nil {
			a.settle(r)
		}
	}
}

// evict brings the bytes held across all directions back under the
// budget: the directions that went longest without a segment (packet
// time) go first, each flushed as an idle expiry would (complete
// messages emitted, the rest discarded) and forgotten. It stops at 7/8 of
// the budget so that a flood does not pay for a sort on every segment.
func (a *Assembler) evict() {
	low := a.maxHeld - a.maxHeld/8
	// Buffers holding nothing keep their capacity for the next message;
	// giving it back costs an allocation later and loses nothing.
	for _, s := range a.streams {
		if s.held == 0 {
			continue
		}
		if len(s.buf) == 0 {
			s.buf = nil
		}
		if len(s.marks) == 0 {
			s.marks = nil
		}
		if len(s.ooo) == 0 {
			s.ooo, s.oooBuf = nil, nil
		}
		if len(s.frag) == 0 {
			s.frag = nil
		}
		s.trimTLS(0)
		a.settle(s)
	}
	saved := a.curTime
	a.curTime = time.Time{}
	for _, s := range a.ordered(func(s *stream) bool { return s.held > 0 }) {
		if a.held <= low {
			break
		}
		if a.streams[s.key] != s {
			continue // evicted with the other direction of its TLS connection
		}
		c := s.tls
		var peer *stream
		if c != nil {
			peer = c.dirs[s.tlsDir^1]
		}
		a.evictOne(s)
		if c != nil {
			// A session's partial record cannot be completed once one of
			// its directions is gone, and the other direction would carry
			// it: the connection goes whole.
			if peer != nil && a.streams[peer.key] == peer {
				a.evictOne(peer)
			}
			a.stats.TLSBudgetEvictions++
			a.stats.TLSBudgetEvictedBytes += uint64(c.sess.Pending(tlsdec.ClientToServer) + c.sess.Pending(tlsdec.ServerToClient))
		}
	}
	a.curTime = saved
}

// evictOne flushes s as an idle expiry would, forgets it and counts it.
func (a *Assembler) evictOne(s *stream) {
	before := a.stats.DiscardedBytes
	if s.mode != modeClosed {
		a.finish(s)
	}
	a.forget(s)
	a.stats.BudgetEvictions++
	a.stats.BudgetEvictedBytes += a.stats.DiscardedBytes - before
}

// ordered returns the streams matching keep, sorted by last activity and
// then by addresses, in a reused slice: map order is random, and output
// must not depend on it.
func (a *Assembler) ordered(keep func(*stream) bool) []*stream {
	a.scratch = a.scratch[:0]
	for _, s := range a.streams {
		if keep(s) {
			a.scratch = append(a.scratch, s)
		}
	}
	slices.SortFunc(a.scratch, func(x, y *stream) int {
		if c := x.lastTime.Compare(y.lastTime); c != 0 {
			return c
		}
		if c := x.key.src.Compare(y.key.src); c != 0 {
			return c
		}
		return x.key.dst.Compare(y.key.dst)
	})
	return a.scratch
}

// sweep expires idle directions and gives up on holes older than the gap
// timeout, by packet time.
func (a *Assembler) sweep(now time.Time) {
	idleBefore := now.Add(-a.idle)
	gapBefore := now.Add(-a.gapTimeout)
	saved := a.curTime
	a.curTime = time.Time{}
	due := a.ordered(func(s *stream) bool {
		return s.lastTime.Before(idleBefore) ||
			len(s.ooo) > 0 && s.gapSince.Before(gapBefore) ||
			s.finPending && s.mode != modeClosed && s.lastTime.Before(gapBefore)
	})
	for _, s := range due {
		switch {
		case s.lastTime.Before(idleBefore):
			if s.mode != modeClosed {
				a.finish(s)
				a.stats.ExpiredStreams++
			}
			a.forget(s)
		case len(s.ooo) > 0:
			a.resolveGap(s)
			a.process(s)
			if s.finPending && int32(s.nextSeq-s.finAt) >= 0 {
				a.close(s, s.finAt)
			}
			a.settleConn(s)
		default:
			a.close(s, s.finAt)
			a.settleConn(s)
		}
	}
	a.curTime = saved
}

// close flushes s as if the input ended and keeps it as a tombstone so
// late retransmissions of its bytes are not mistaken for a new stream.
func (a *Assembler) close(s *stream, finSeq uint32) {
	if s.mode == modeClosed {
		return
	}
	a.finish(s)
	s.release()
	s.mode = modeClosed
	s.finSeq = finSeq
	a.stats.ClosedStreams++
}

func (a *Assembler) newStream(k flowKey, sg *Segment) *stream {
	s := &stream{key: k}
	s.reset(sg)
	a.stats.Streams++
	return s
}

// emitMessage hands p to the caller. firstRef is the Ref of the segment
// carrying its first byte; end is the absolute stream offset just past its
// last byte, which gives LastRef and Time.
func (a *Assembler) emitMessage(s *stream, p []byte, firstRef uint64, end uint64, ws bool) {
	lastRef, t := s.markAt(end - 1)
	if a.curTime.After(t) {
		t = a.curTime
	}
	a.msg = Message{
		Src:       s.key.src,
		Dst:       s.key.dst,
		Payload:   p,
		Time:      t,
		FirstRef:  firstRef,
		LastRef:   lastRef,
		WebSocket: ws,
		TLS:       s.tls != nil,
	}
	a.stats.Messages++
	if ws {
		a.stats.WebSocketMessages++
	}
	s.sawSIP = true
	if a.emit != nil {
		a.emit(&a.msg)
	}
	a.msg.Payload = nil
}
