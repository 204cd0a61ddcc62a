package sipflow

import (
	"iter"
	"net/netip"
	"slices"
)

// walkChunk is how many calls Summaries visits per read lock: the writer
// waits for at most one chunk, and a walk holds at most one chunk of
// summaries at a time.
const walkChunk = 256

// Summaries returns the summaries of the calls matching f in creation
// order (the order of Calls), for a report that writes each and forgets
// it: a walk holds one chunk of summaries at a time, never all of them
// (200 000 summaries are some 600 MB), and never holds the read lock
// while its consumer runs.
//
// The calls walked are those present when Summaries is called: it notes
// them then (a pointer each), so every range over the sequence visits
// the same calls in the same order (a text table measures its columns,
// then writes), less the ones evicted or cleared since. Until the
// sequence is dropped it keeps those calls in memory, evicted or not.
// The summary yielded, and what its slices hold (IPs, Offer, Answer,
// SDPHistory, Sources), are reused for the ones after it: Clone it to
// keep it. A walk of any length allocates its buffers once.
func (s *Store) Summaries(f Filter) iter.Seq[*CallSummary] {
	chunks := s.walk(f, 1)
	return func(yield func(*CallSummary) bool) {
		for buf := range chunks {
			for i := range buf {
				if !yield(&buf[i]) {
					return
				}
			}
		}
	}
}

// SummaryChunks is Summaries a chunk of summaries at a time (never an
// empty one), for a consumer that hands a chunk to another goroutine
// (the calls report encodes chunk N while the walk builds chunk N+1):
// two sets of blocks alternate, so a chunk, its summaries and their
// slices stay valid until the yield of the chunk after it returns, not
// only until its own yield returns. Clone a summary to keep it longer.
func (s *Store) SummaryChunks(f Filter) iter.Seq[[]CallSummary] { return s.walk(f, 2) }

// walk notes the calls present (see Summaries) and returns the sequence
// of their summaries matching f, a chunk at a time, from sets sets of
// buffers (1 or 2) used in turn: a chunk's are reused for the sets-th
// chunk yielded after it.
func (s *Store) walk(f Filter, sets int) iter.Seq[[]CallSummary] {
	calls, gone := s.noteCalls()
	return func(yield func([]CallSummary) bool) {
		var sum CallSummary
		var bufs [2][]CallSummary
		var allocs [2]*summaryAlloc
		for k := range sets {
			bufs[k] = make([]CallSummary, 0, min(walkChunk, len(calls)))
			allocs[k] = newSummaryAlloc(len(calls))
		}
		k := 0
		for start := 0; start < len(calls); start += walkChunk {
			allocs[k].rewind() // the consumer is done with the chunk that used them
			bufs[k] = s.summariesOf(calls[start:min(start+walkChunk, len(calls))], gone, f, bufs[k][:0], &sum, allocs[k])
			if len(bufs[k]) == 0 {
				continue // the same set again: the last chunk yielded is still in use
			}
			if !yield(bufs[k]) {
				return
			}
			k = (k + 1) % sets
		}
	}
}

// noteCalls returns the calls held, in creation order, and the count of
// removals then (removals): a walk over them skips those removed since
// only when it has moved.
func (s *Store) noteCalls() ([]*call, int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var calls []*call
	if s.calls.slots != nil {
		calls = make([]*call, 0, s.calls.n)
		for c := s.order.front; c != nil; c = c.ord.next {
			calls = append(calls, c)
		}
	}
	return calls, s.removals()
}

// Clone returns a copy of s that owns the slices a walk reuses (IPs,
// Offer, Answer, SDPHistory with its media, Sources), for a consumer of
// Summaries that keeps a summary past its turn. The lists the store
// shares between summaries and never changes (methods, user agents,
// codecs, legs, streams, problems) stay shared.
func (s *CallSummary) Clone() CallSummary {
	c := *s
	c.IPs = slices.Clone(s.IPs)
	c.Offer = slices.Clone(s.Offer)
	c.Answer = slices.Clone(s.Answer)
	c.Sources = slices.Clone(s.Sources)
	if s.SDPHistory != nil {
		c.SDPHistory = make([]Negotiation, len(s.SDPHistory))
		for i, n := range s.SDPHistory {
			n.Offer, n.Answer = slices.Clone(n.Offer), slices.Clone(n.Answer)
			c.SDPHistory[i] = n
		}
	}
	return c
}

// removals counts the calls ever taken out of the store (evicted or
// cleared): while it has not moved, every call noted earlier is still
// held, and a walk need not look each up by its Call-ID (a map lookup is
// most of what a filter costs per call).
func (s *Store) removals() int64 { return s.stats.Evicted + s.stats.Cleared }

// summariesOf appends the summaries of the calls that match f, under one
// read lock, skipping those no longer held (when removals moved from
// gone); sum is scratch for the filter. Their slices come from a's
// blocks, not an allocation each.
func (s *Store) summariesOf(calls []*call, gone int64, f Filter, out []CallSummary, sum *CallSummary, a *summaryAlloc) []CallSummary {
	s.mu.RLock()
	defer s.mu.RUnlock()
	check := s.removals() != gone
	all := f.IsZero()
	var ips []netip.Addr // the filter's scratch
	for _, c := range calls {
		if check && !s.calls.holds(c) {
			continue // evicted or cleared since the walk began
		}
		if !all {
			ips = c.filterInto(sum, ips)
			if !f.Match(sum) {
				continue
			}
		}
		out = append(out, CallSummary{}) // built in place: a summary is some 700 bytes
		c.fullSummaryInto(&out[len(out)-1], a)
		s.withSources(&out[len(out)-1], a)
	}
	return out
}

// CallLocations returns one call as Call does, without re-reading its
// messages from the captures: each MessageDetail has its Meta (where its
// record lies), direction, method or code, CSeq, flags and SDP, but no
// Raw, no Phrase, the method names as the store interned them and no
// transaction branches. It is for callers that want the records, not
// the messages: saving calls to a file reads each record once, at its
// location, instead of once through Call and again to copy it.
func (s *Store) CallLocations(id string) (CallDetail, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.calls.get(id)
	if !ok {
		return CallDetail{}, false
	}
	d, _ := c.detail()
	s.withSources(&d.Summary, nil)
	return d, true
}
