package sipflow

import "net/netip"

// summaryAlloc backs the slices of the summaries one list or one chunk
// of a walk builds (IPs, Offer, Answer, SDPHistory and its media,
// Sources): a few blocks shared by the summaries instead of five to
// seven allocations for each (the end of a run over 200 000 calls built
// some 1.4 million). Each summary gets slices of its own, capped at
// their length (a reader's append copies, never writes a neighbour's
// elements). A list's blocks are its own (a kept summary keeps its
// block, some tens of KB, in memory); a walk rewinds its blocks for each
// chunk (Summaries: its consumer clones what it keeps), so a walk of any
// length allocates them once. A nil *summaryAlloc allocates each slice
// on its own (one summary's reader).
type summaryAlloc struct {
	ips   bump[netip.Addr]
	media bump[MediaSummary]
	negs  bump[Negotiation]
	// sources is withSources' list for srcSet (srcOK), built from the
	// store's names srcNames: the calls of one capture source share
	// one. It is not in a block: a walk's stays valid while the names
	// are the same slice (SetSourceNames replaces it).
	srcSet   uint64
	srcOK    bool
	sources  []string
	srcNames []string
	// scratch for the call's distinct addresses before they are copied,
	// at their count, into ips.
	scratch []netip.Addr
}

// newSummaryAlloc sizes the blocks for about calls summaries (two
// addresses and two media lines each, one negotiation), at most a walk
// chunk's worth (a negative count: a chunk's worth).
func newSummaryAlloc(calls int) *summaryAlloc {
	if calls < 0 || calls > walkChunk {
		calls = walkChunk
	}
	calls = max(calls, 1)
	return &summaryAlloc{ips: bump[netip.Addr]{block: 2 * calls}, media: bump[MediaSummary]{block: 2 * calls},
		negs: bump[Negotiation]{block: calls}}
}

// bump hands out slices of its blocks in turn, taking the next block
// (reused after a rewind, else allocated: block elements, or n when
// more) when the current one has too little left; what is left of a
// block is skipped until the next rewind.
type bump[T any] struct {
	blocks [][]T
	next   int // the block after free
	free   []T
	block  int
}

// take returns n elements (non-nil, capacity n), zero in a new block
// and as a reader left them in a rewound one: its caller writes every
// one.
func (b *bump[T]) take(n int) []T {
	if n == 0 {
		return []T{}
	}
	for n > len(b.free) {
		if b.next < len(b.blocks) {
			b.free = b.blocks[b.next]
			b.next++
			continue
		}
		b.free = make([]T, max(n, b.block))
		b.blocks = append(b.blocks, b.free)
		b.next = len(b.blocks)
	}
	s := b.free[:n:n]
	b.free = b.free[n:]
	return s
}

// rewind hands the blocks out again from the first: the slices taken
// before are no longer their holders'.
func (b *bump[T]) rewind() { b.next, b.free = 0, nil }

// rewind makes a's blocks new for the next chunk of a walk.
func (a *summaryAlloc) rewind() {
	a.ips.rewind()
	a.media.rewind()
	a.negs.rewind()
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
