package sipflow

import "net/netip"

// summaryAlloc backs the slices of the summaries one list or one chunk
// of a walk builds (IPs, Offer, Answer, SDPHistory and its media,
// Sources): a few blocks shared by the summaries instead of five to
// seven allocations for each (the end of a run over 200 000 calls built
// some 1.4 million). Each summary gets slices of its own, capped at
// their length (a reader's append copies, never writes a neighbour's
// elements), and a block is never reused once handed out, so a copy of
// a summary stays valid however long it is kept; a kept summary keeps
// its block (a chunk's worth, some tens of KB) in memory. A nil
// *summaryAlloc allocates each slice on its own (one summary's reader).
type summaryAlloc struct {
	ips   bump[netip.Addr]
	media bump[MediaSummary]
	negs  bump[Negotiation]
	// sources is withSources' list for srcSet (srcOK): the calls of one
	// capture source share one. The names it was built from are the
	// store's under the one read lock the alloc is used in.
	srcSet  uint64
	srcOK   bool
	sources []string
	// scratch for the call's distinct addresses before they are copied,
	// at their count, into ips.
	scratch []netip.Addr
}

// newSummaryAlloc sizes the blocks for about calls summaries (two
// addresses and two media lines each, one negotiation), at most a walk
// chunk's worth count: a walk chunk's worth).
func newSummaryAlloc(calls int) *summaryAlloc {
	if calls < 0 || calls > walkChunk {
		calls = walkChunk
	}
	calls = max(calls, 1)
	return &summaryAlloc{ips: bump[netip.Addr]{block: 2 * calls}, media: bump[MediaSummary]{block: 2 * calls},
		negs: bump[Negotiation]{block: calls}}
}

// bump hands out slices of a block, allocating the next block (block
// elements, or n when more) when the current one has too little left;
// what is left of the old block is not used again.
type bump[T any] struct {
	free  []T
	block int
}

// take returns n zeroed elements (non-nil, capacity n).
func (b *bump[T]) take(n int) []T {
	if n == 0 {
		return []T{}
	}
	if n > len(b.free) {
		b.free = make([]T, max(n, b.block))
	}
	s := b.free[:n:n]
	b.free = b.free[n:]
	return s
}

func (a *summaryAlloc) mediaN(n int) []MediaSummary {
	if a == nil {
		return make([]MediaSummary, n)
	}
	return a.media.take(n)
}

func (a *summaryAlloc) negsN(n int) []Negotiation {
	if a == nil {
		return make([]Negotiation, n)
	}
	return a.negs.take(n)
}
