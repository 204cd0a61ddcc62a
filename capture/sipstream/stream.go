package sipstream

import (
	"time"
	"unsafe"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// mode is what a direction has been recognised as carrying.
type mode uint8

const (
	modeNew    mode = iota // nothing classified yet
	modeSIP                // plain SIP framed by Content-Length (RFC 3261 18.3)
	modeHTTP               // HTTP seen; waiting for the upgrade header block
	modeWS                 // WebSocket frames (RFC 6455 5)
	modeTLS                // encrypted: ignored
	modeNonSIP             // something else: ignored
	modeClosed             // FIN/RST seen: a tombstone
)

// prevUnknown marks stream.prev as not known.
const prevUnknown = -1

// mark records that the buffered bytes up to absolute offset end came from
// the segment ref captured at t.
type mark struct {
	end uint64
	ref uint64
	t   time.Time
}

// oooSeg is a segment held beyond a hole; its bytes live in stream.oooBuf.
type oooSeg struct {
	seq    uint32
	off, n int
	ref    uint64
	t      time.Time
}

// stream is the state of one direction.
type stream struct {
	key      flowKey
	mode     mode
	synced   bool // buf[0] is a message (or frame) boundary
	midStart bool // no SYN seen: the first byte is arbitrary
	sawSIP   bool
	synSeen  bool
	isn      uint32
	nextSeq  uint32 // next in-order sequence number expected
	finSeq   uint32 // sequence number of the FIN (tombstones)
	// finPending: a FIN arrived ahead of missing data; close at finAt.
	finPending bool
	finAt      uint32
	lastTime   time.Time
	// held is what this direction counts in Assembler.held (its
	// footprint when last settled).
	held int

	buf   []byte // in-order bytes not yet consumed
	base  uint64 // absolute stream offset of buf[0]
	marks []mark
	skip  int // in-order bytes still to drop (an oversized message)
	kaRun bool
	// prev is the stream byte before buf[0], or prevUnknown after a hole
	// or at a mid-stream start; a message boundary counts as LF. The
	// resynchroniser needs it so its answer does not depend on where
	// segments happened to end.
	prev int16
	// scanned counts bytes dropped by the resynchroniser before any SIP
	// was seen: the non-SIP detector for mid-stream starts.
	scanned int

	ooo      []oooSeg
	oooBuf   []byte
	oooBytes int
	gapSince time.Time

	// WebSocket message reassembly (RFC 6455 5.4).
	frag         []byte
	fragging     bool
	fragDrop     bool // current fragmented message is being dropped
	fragFirstRef uint64

	// TLS decryption (Options.TLSKeys): the connection, this direction's
	// side in it, whether its bytes are ciphertext for the session, and
	// whether the session left plaintext in buf to frame.
	tls         *tlsConn
	tlsDir      tlsdec.Direction
	tlsCipher   bool
	tlsHandover bool // classify found TLS: move buf to the session after the framing loop
}

// reset (re)initialises s for a stream starting with sg, keeping buffer
// capacity.
func (s *stream) reset(sg *Segment) {
	*s = stream{
		key:  s.key,
		held: s.held, // a.held still counts it: settle corrects both

		buf:    s.buf[:0],
		marks:  s.marks[:0],
		ooo:    s.ooo[:0],
		oooBuf: s.oooBuf[:0],
		frag:   s.frag[:0],
	}
	s.lastTime = sg.Time
	if sg.SYN {
		s.synSeen = true
		s.isn = sg.Seq
		s.nextSeq = sg.Seq + 1
		s.synced = true
		s.prev = '\n'
	} else {
		// Captures start mid-call: accept the first byte we see and let
		// the resynchroniser find a start line.
		s.nextSeq = sg.Seq
		s.midStart = true
		s.prev = prevUnknown
	}
}

// footprint is the memory s's buffers hold, as counted against
// Options.MaxBuffered.
func (s *stream) footprint() int {
	n := cap(s.buf) + cap(s.oooBuf) + cap(s.frag) +
		cap(s.marks)*int(unsafe.Sizeof(mark{})) + cap(s.ooo)*int(unsafe.Sizeof(oooSeg{}))
	if c := s.tls; c != nil {
		// What its TLS session holds for it (a record split across
		// segments, records waiting for keys), and what it holds for the
		// other direction once that one left.
		n += c.sess.Held(s.tlsDir)
		if c.dirs[s.tlsDir^1] == nil {
			n += c.sess.Held(s.tlsDir ^ 1)
		}
	}
	return n
}

// trimTLS gives back the emptied buffers of capacity above keep that
// its TLS session holds on its account (footprint).
func (s *stream) trimTLS(keep int) {
	if c := s.tls; c != nil {
		c.sess.Trim(s.tlsDir, keep)
		if c.dirs[s.tlsDir^1] == nil {
			c.sess.Trim(s.tlsDir^1, keep)
		}
	}
}

// release drops buffers of a closed stream; a tombstone needs none.
func (s *stream) release() {
	s.buf, s.marks, s.ooo, s.oooBuf, s.frag = nil, nil, nil, nil, nil
	s.oooBytes = 0
	s.fragging = false
}

// markAt returns the ref and time of the segment that carried absolute
// offset off.
func (s *stream) markAt(off uint64) (uint64, time.Time) {
	for i := range s.marks {
		if s.marks[i].end > off {
			return s.marks[i].ref, s.marks[i].t
		}
	}
	if n := len(s.marks); n > 0 {
		return s.marks[n-1].ref, s.marks[n-1].t
	}
	return 0, time.Time{}
}

func (s *stream) refAt(off uint64) uint64 {
	r, _ := s.markAt(off)
	return r
}

// ignoring reports whether the direction's bytes are not worth buffering.
func (s *stream) ignoring() bool {
	return s.mode == modeTLS || s.mode == modeNonSIP
}

// ingest places p (starting at seq) into the stream.
func (a *Assembler) ingest(s *stream, seq uint32, p []byte, ref uint64, t time.Time) {
	if s.ignoring() {
		// Track the sequence space loosely and drop: no buffering growth.
		if d := int32(seq - s.nextSeq); d >= 0 {
			s.nextSeq = seq + uint32(len(p))
		}
		a.stats.DiscardedBytes += uint64(len(p))
		return
	}
	d := int32(seq - s.nextSeq) // serial arithmetic (RFC 1982) across 2^32
	switch {
	case d < 0:
		a.stats.RetransmittedSegments++
		over := uint64(-int64(d))
		if over >= uint64(len(p)) {
			a.stats.RetransmittedBytes += uint64(len(p))
			return
		}
		a.stats.RetransmittedBytes += over
		p = p[over:]
	case d > 0:
		a.bufferOutOfOrder(s, seq, p, ref, t)
		return
	}
	a.appendInOrder(s, p, ref, t)
	a.drainOutOfOrder(s)
	a.process(s)
}

// appendInOrder appends bytes that start exactly at s.nextSeq.
func (a *Assembler) appendInOrder(s *stream, p []byte, ref uint64, t time.Time) {
	s.nextSeq += uint32(len(p))
	a.stats.Bytes += uint64(len(p))
	if s.tlsCipher {
		a.feedTLS(s, p, ref, t)
		return
	}
	a.appendPlain(s, p, ref, t)
}

// appendPlain appends the next bytes to frame: the stream's own, or the
// plaintext its TLS session decrypted.
func (a *Assembler) appendPlain(s *stream, p []byte, ref uint64, t time.Time) {
	if s.skip > 0 {
		n := min(s.skip, len(p))
		s.skip -= n
		p = p[n:]
		s.base += uint64(n)
		// A completed skip ends exactly at a message boundary.
		s.prev = prevUnknown
		if s.skip == 0 {
			s.prev = '\n'
		}
		a.stats.DiscardedBytes += uint64(n)
		if len(p) == 0 {
			return
		}
	}
	s.buf = append(s.buf, p...)
	end := s.base + uint64(len(s.buf))
	if n := len(s.marks); n > 0 && s.marks[n-1].ref == ref {
		s.marks[n-1].end = end
		return
	}
	s.marks = append(s.marks, mark{end: end, ref: ref, t: t})
}

func (a *Assembler) bufferOutOfOrder(s *stream, seq uint32, p []byte, ref uint64, t time.Time) {
	// A retransmission of a segment already held.
	for i := range s.ooo {
		o := &s.ooo[i]
		if int32(seq-o.seq) >= 0 && int32((seq+uint32(len(p)))-(o.seq+uint32(o.n))) <= 0 {
			a.stats.RetransmittedSegments++
			a.stats.RetransmittedBytes += uint64(len(p))
			return
		}
	}
	if len(s.ooo) >= maxOutOfOrderSegments || s.oooBytes+len(p) > a.maxOOO {
		// The hole is not going to fill in time: the capture lost it.
		a.stats.OutOfOrderOverflows++
		if len(s.ooo) == 0 {
			a.skipTo(s, seq)
		} else {
			a.resolveGap(s)
		}
		a.process(s)
		if s.ignoring() || s.mode == modeClosed {
			return
		}
		if d := int32(seq - s.nextSeq); d <= 0 {
			a.ingest(s, seq, p, ref, t)
			return
		}
		if len(s.ooo) >= maxOutOfOrderSegments || s.oooBytes+len(p) > a.maxOOO {
			a.skipTo(s, seq)
			a.ingest(s, seq, p, ref, t)
			return
		}
	}
	if len(s.ooo) == 0 {
		s.gapSince = t
		s.oooBuf = s.oooBuf[:0]
	} else if len(s.oooBuf)+len(p) > 2*a.maxOOO {
		s.compactOutOfOrder()
	}
	a.stats.OutOfOrderSegments++
	off := len(s.oooBuf)
	s.oooBuf = append(s.oooBuf, p...)
	s.ooo = append(s.ooo, oooSeg{seq: seq, off: off, n: len(p), ref: ref, t: t})
	s.oooBytes += len(p)
}

// compactOutOfOrder moves the held segments to the front of oooBuf: with
// two holes, partial drains leave dead bytes that would otherwise let the
// arena grow without bound.
func (s *stream) compactOutOfOrder() {
	// Insertion sort by offset (at most maxOutOfOrderSegments entries) so
	// each copy moves bytes towards the front without overwriting a live
	// entry.
	for i := 1; i < len(s.ooo); i++ {
		for j := i; j > 0 && s.ooo[j].off < s.ooo[j-1].off; j-- {
			s.ooo[j], s.ooo[j-1] = s.ooo[j-1], s.ooo[j]
		}
	}
	w := 0
	for i := range s.ooo {
		o := &s.ooo[i]
		copy(s.oooBuf[w:], s.oooBuf[o.off:o.off+o.n])
		o.off = w
		w += o.n
	}
	s.oooBuf = s.oooBuf[:w]
}

// drainOutOfOrder appends held segments that the in-order data now reaches.
func (a *Assembler) drainOutOfOrder(s *stream) {
	for len(s.ooo) > 0 {
		found := false
		for i := 0; i < len(s.ooo); i++ {
			o := s.ooo[i]
			d := int32(o.seq - s.nextSeq)
			if d > 0 {
				continue
			}
			found = true
			s.ooo[i] = s.ooo[len(s.ooo)-1]
			s.ooo = s.ooo[:len(s.ooo)-1]
			s.oooBytes -= o.n
			p := s.oooBuf[o.off : o.off+o.n]
			over := uint64(-int64(d))
			if over >= uint64(len(p)) {
				a.stats.RetransmittedBytes += uint64(len(p))
				break
			}
			if over > 0 {
				a.stats.RetransmittedBytes += over
			}
			a.appendInOrder(s, p[over:], o.ref, o.t)
			break
		}
		if !found {
			return
		}
	}
	s.oooBuf = s.oooBuf[:0]
	s.oooBytes = 0
}

// skipTo gives up on the bytes between s.nextSeq and seq: whatever partial
// message is buffered cannot complete, and framing must be found again.
func (a *Assembler) skipTo(s *stream, seq uint32) {
	if s.tlsCipher {
		s.tls.sess.Gap(s.tlsDir) // record boundaries and sequence numbers are lost
	}
	missing := seq - s.nextSeq
	a.stats.Gaps++
	a.stats.Resyncs++
	a.stats.GapBytes += uint64(missing)
	a.stats.DiscardedBytes += uint64(len(s.buf))
	s.base += uint64(len(s.buf)) + uint64(missing)
	s.buf = s.buf[:0]
	s.marks = s.marks[:0]
	s.nextSeq = seq
	s.skip = 0
	s.kaRun = false
	s.prev = prevUnknown
	s.synced = false
	if s.fragging {
		s.fragging = false
		s.frag = s.frag[:0]
	}
	s.fragDrop = false
	if s.mode == modeHTTP || s.mode == modeNew {
		// Whatever the stream started with is lost: classify afresh from
		// an arbitrary byte.
		s.mode = modeNew
		s.midStart = true
	}
}

// resolveGap skips the hole before the earliest held segment and drains.
func (a *Assembler) resolveGap(s *stream) {
	if len(s.ooo) == 0 {
		return
	}
	first := s.ooo[0].seq
	for _, o := range s.ooo[1:] {
		if int32(o.seq-first) < 0 {
			first = o.seq
		}
	}
	a.skipTo(s, first)
	a.drainOutOfOrder(s)
	if len(s.ooo) > 0 {
		s.gapSince = s.lastTime
	}
}

// finish flushes s at the end of its life: holes are skipped, complete
// messages emitted, and the remainder counted as discarded.
func (a *Assembler) finish(s *stream) {
	// Messages completed here were not completed by the segment being
	// added (if any): they take the time of their own last segment.
	saved := a.curTime
	a.curTime = time.Time{}
	defer func() { a.curTime = saved }()
	for i := 0; len(s.ooo) > 0 && i <= maxOutOfOrderSegments; i++ {
		a.resolveGap(s)
		a.process(s)
	}
	a.process(s)
	a.stats.DiscardedBytes += uint64(len(s.buf) + len(s.frag))
	s.base += uint64(len(s.buf))
	s.buf = s.buf[:0]
	s.marks = s.marks[:0]
	s.frag = s.frag[:0]
	s.fragging = false
	if s.tlsCipher && s.finPending && int32(s.finAt-s.nextSeq) > 0 {
		s.tls.sess.Gap(s.tlsDir) // bytes before the FIN never came
	}
	a.detachTLS(s)
}

// process frames as much of s.buf as possible and compacts it.
func (a *Assembler) process(s *stream) {
	pos := 0
	// Every pass either consumes bytes or changes state towards one that
	// does; the bound only guards against a bug turning into a hang.
	for guard := 0; guard < len(s.buf)+16; guard++ {
		if pos >= len(s.buf) {
			break
		}
		b := s.buf[pos:]
		var n int
		var again bool
		switch s.mode {
		case modeNew:
			n, again = a.classify(s, b)
		case modeSIP:
			if s.synced {
				n, again = a.frameSIP(s, b, s.base+uint64(pos))
			} else {
				prev := s.prev
				if pos > 0 {
					prev = int16(s.buf[pos-1])
				}
				n, again = a.resyncSIP(s, b, prev)
			}
		case modeHTTP:
			n, again = a.upgrade(s, b)
		case modeWS:
			if s.synced {
				n, again = a.frameWS(s, b, s.base+uint64(pos))
			} else {
				n, again = a.resyncWS(s, b)
			}
		default:
			a.stats.DiscardedBytes += uint64(len(b))
			n = len(b)
		}
		pos += n
		if n == 0 && !again {
			break
		}
	}
	if s.tlsHandover {
		s.tlsHandover = false
		a.handoverTLS(s, pos)
		return
	}
	if pos == 0 {
		a.enforceLimit(s)
		return
	}
	s.prev = int16(s.buf[pos-1])
	rest := copy(s.buf, s.buf[pos:])
	s.buf = s.buf[:rest]
	s.base += uint64(pos)
	// Drop marks wholly consumed.
	i := 0
	for i < len(s.marks) && s.marks[i].end <= s.base {
		i++
	}
	if i > 0 {
		m := copy(s.marks, s.marks[i:])
		s.marks = s.marks[:m]
	}
	a.enforceLimit(s)
}

// enforceLimit keeps a direction within MaxStreamBuffer whatever the
// framing state: the per-mode framers handle the normal cases, this is
// the backstop.
func (a *Assembler) enforceLimit(s *stream) {
	if len(s.buf) <= a.maxBuf {
		return
	}
	a.stats.BufferOverflows++
	a.stats.DiscardedBytes += uint64(len(s.buf))
	s.prev = int16(s.buf[len(s.buf)-1])
	s.base += uint64(len(s.buf))
	s.buf = s.buf[:0]
	s.marks = s.marks[:0]
	s.synced = false
}
