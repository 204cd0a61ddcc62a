package sipflow

// releaseSpilled hands c's spilled messages back to the Spiller as the
// store drops c (evicted, cleared), so that the spill holds only what
// the store holds and its bound is not spent on calls long gone.
func (s *Store) releaseSpilled(c *call) {
	if s.opt.Spill == nil {
		return
	}
	for i := range c.extra {
		if x := &c.extra[i]; x.spill != 0 {
			s.opt.Spill.Release(x.spill, int(c.nOf(&c.msgs[x.msg])))
		}
	}
}

// SpillCompactor is a Spiller that can empty the parts of its space
// holding few messages the store still holds, so that a long-lived
// dialog (a phone re-registering under one Call-ID for hours, OPTIONS
// keepalives, SUBSCRIBE/NOTIFY) does not pin every part it has a
// message in. The Spiller picks the parts; only the store knows which
// messages lie where, so the store walks its calls and has each message
// in those parts moved (compactSpill). Called by the store's writer
// only, like Spill and Release.
type SpillCompactor interface {
	// Compacting reports whether parts are to be emptied: checked after
	// each message spilled, so it must be cheap.
	Compacting() bool
	// Moves reports whether loc lies in a part being emptied.
	Moves(loc uint32) bool
	// Move copies the n-byte message at loc to where messages are
	// appended, releases loc and returns the new location; false leaves
	// the message at loc, still readable (the Spiller counts it).
	Move(loc uint32, n int) (uint32, bool)
	// Compacted ends the walk: parts not emptied are no longer to be.
	Compacted()
}

// compactSpill moves the messages lying in the parts the Spiller wants
// emptied; s.mu is held (the writer, at the end of add). Cost: it walks
// every call held and its spilled messages (an interface call each),
// stopping once the parts are empty; the Spiller asks for it at most
// once per part it opens (internal/engine: once per segment, an eighth
// of --spill-max up to 64 MiB: some 200 000 messages between two walks
// by default, 200 at the smallest, 64 KiB), so a walk's calls are
// spread over a segment's messages: with 10 000 calls held and 8 MiB
// segments (--spill-max 64MiB), under one call per message spilled.
// Measured (internal/engine BenchmarkSpillCompactWalk, those numbers):
// 3.3-5 ms per compaction, most of it the moves (some 2 200 messages
// read back and appended, 1.5 us each), about 120 ns per message
// spilled, some 4% of the per-message cost there. A tiny --spill-max
// beside many calls held walks more often for each message.
// A reader that looked a message up before it moved retries under the
// read lock (rereadMoved).
func (s *Store) compactSpill() {
	sc := s.compactor
	defer sc.Compacted()
	for c := s.order.front; c != nil && sc.Compacting(); c = c.ord.next {
		for i := range c.extra {
			x := &c.extra[i]
			if x.spill == 0 || !sc.Moves(x.spill) {
				continue
			}
			loc, ok := sc.Move(x.spill, int(c.nOf(&c.msgs[x.msg])))
			if !ok {
				return // the message stays where it is; the spill is full or failed
			}
			x.spill = loc
		}
	}
}

// rereadMoved retries the read of c's spilled message i that failed
// with err: the writer may have moved it (compactSpill) and given its
// old place back between the reader's lookup and its read. Under the
// read lock its location is current and stays so, so a message the
// store still holds reads back; one dropped since keeps err.
func (s *Store) rereadMoved(c *call, i int, meta *Meta, src *msgSource, err error, buf []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if cur, ok := s.calls.get(c.id); !ok || cur != c || i >= len(c.msgs) {
		return nil, err
	}
	x := c.extraOf(i)
	if x.spill == 0 || x.spill == src.spill {
		return nil, err
	}
	moved := *src
	moved.spill = x.spill
	return reread(nil, s.opt.Spill, meta, &moved, s.seed, buf)
}
