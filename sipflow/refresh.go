package sipflow

import (
	"slices"
	"sync"
)

// ProblemFunc decides one call's problems from its summary (as Summaries
// yields it: valid only during the call). It appends them to dst and
// returns the list with a verdict. A function is used by one goroutine
// at a time, so it may keep scratch of its own.
type ProblemFunc func(dst []Problem, sum *CallSummary) ([]Problem, Verdict)

// Verdict is what RefreshProblems does with a call after its ProblemFunc.
type Verdict uint8

const (
	// Keep leaves the call as it is.
	Keep Verdict = iota
	// Set gives the call the problems returned (nothing is written when
	// they equal those it has).
	Set
	// Defer leaves the call to the caller: its Call-ID is in the list
	// RefreshProblems returns.
	Defer
)

// refreshWindow is how many chunks per goroutine RefreshProblems lets
// be decided ahead of the one it writes: enough that no goroutine waits
// for the writer, few enough that the chunks' results stay small.
const refreshWindow = 2

// RefreshProblems decides the problems of every call held (those present
// when it is called, in creation order, as Summaries walks them) on
// workers goroutines: the caller's and workers-1 of its own, which it
// waits for. newFn makes one ProblemFunc per goroutine. The problems are
// written on the caller's goroutine, a chunk of calls per write lock and
// in creation order, so the store still has one writer and the result
// does not depend on which goroutine decided what. It returns the
// Call-IDs of the calls deferred, in creation order.
//
// It is the end of a run's diagnosis of every call, which on a SIP-only
// capture of 200 000 calls was a fifth of a second on one goroutine
// while the other had nothing left to do: the summaries are built and
// the detectors run on both, and only the writes are the writer's.
// Only the store's writer calls it.
func (s *Store) RefreshProblems(workers int, newFn func() ProblemFunc) []string {
	calls, gone := s.noteCalls()
	n := (len(calls) + walkChunk - 1) / walkChunk
	workers = max(1, min(workers, n))
	// Chunk i is decided into slots[i%len(slots)] while fewer than
	// len(slots) chunks wait to be written: work hands out chunk
	// numbers, each slot's done says its chunk is decided.
	slots := make([]refreshSlot, refreshWindow*workers)
	for i := range slots {
		slots[i].done = make(chan struct{}, 1)
	}
	work := make(chan int, len(slots))
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(work) // before Wait: the goroutines end when it is drained
	for range workers - 1 {
		d := s.newRefresher(newFn())
		wg.Go(func() {
			for i := range work {
				d.decide(calls, i, gone, &slots[i%len(slots)])
			}
		})
	}
	own := s.newRefresher(newFn())
	var deferred []string
	next := 0
	for i := range n {
		for ; next < n && next < i+len(slots); next++ {
			work <- next
		}
		sl := &slots[i%len(slots)]
		// While chunk i is not decided, or the lock is not to be had
		// (the other goroutine builds summaries under the read lock),
		// the caller decides chunks itself; it waits only when there is
		// nothing else to do.
		ready := false
		for {
			if !ready {
				select {
				case <-sl.done:
					ready = true
				default:
				}
			}
			if ready && s.mu.TryLock() {
				break
			}
			select {
			case j := <-work:
				own.decide(calls, j, gone, &slots[j%len(slots)])
				continue
			default:
			}
			if ready {
				s.mu.Lock()
				break
			}
			select {
			case <-sl.done:
				ready = true
			case j := <-work:
				own.decide(calls, j, gone, &slots[j%len(slots)])
			}
		}
		deferred = s.applyRefresh(sl, gone, deferred) // unlocks
	}
	return deferred
}

// refreshSlot holds one chunk's verdicts: the calls to set with their
// problems (lists cut from one array, copied by the write) and the
// calls deferred.
type refreshSlot struct {
	set      []*call
	ends     []int // set[k]'s problems end at flat[ends[k]], and begin where set[k-1]'s end
	flat     []Problem
	deferred []*call
	done     chan struct{}
}

// refresher is one goroutine's scratch: the chunk's summaries, their
// slices' blocks, the problem list and its function.
type refresher struct {
	s    *Store
	fn   ProblemFunc
	sums []CallSummary
	held []*call // the calls behind sums
	a    *summaryAlloc
	ps   []Problem
}

func (s *Store) newRefresher(fn ProblemFunc) *refresher {
	return &refresher{s: s, fn: fn, a: newSummaryAlloc(walkChunk)}
}

// decide builds the summaries of chunk i of calls under one read lock,
// runs the function over them without it and leaves the verdicts in sl.
func (d *refresher) decide(calls []*call, i int, gone int64, sl *refreshSlot) {
	chunk := calls[i*walkChunk : min((i+1)*walkChunk, len(calls))]
	d.a.rewind()
	d.sums, d.held = d.sums[:0], d.held[:0]
	s := d.s
	s.mu.RLock()
	check := s.removals() != gone
	for _, c := range chunk {
		if check && !s.calls.holds(c) {
			continue // evicted or cleared since the walk began
		}
		d.sums = append(d.sums, CallSummary{})
		c.fullSummaryInto(&d.sums[len(d.sums)-1], d.a)
		s.withSources(&d.sums[len(d.sums)-1], d.a)
		d.held = append(d.held, c)
	}
	s.mu.RUnlock()
	sl.set, sl.ends, sl.flat, sl.deferred = sl.set[:0], sl.ends[:0], sl.flat[:0], sl.deferred[:0]
	for k := range d.sums {
		sum := &d.sums[k]
		var v Verdict
		d.ps, v = d.fn(d.ps[:0], sum)
		switch {
		case v == Defer:
			sl.deferred = append(sl.deferred, d.held[k])
		case v == Set && !slices.Equal(d.ps, sum.Problems):
			sl.set = append(sl.set, d.held[k])
			sl.flat = append(sl.flat, d.ps...)
			sl.ends = append(sl.ends, len(sl.flat))
		}
	}
	sl.done <- struct{}{}
}

// applyRefresh writes the problems of a decided chunk, under the write
// lock the caller took (it unlocks it), and appends the Call-IDs the
// chunk deferred to deferred.
func (s *Store) applyRefresh(sl *refreshSlot, gone int64, deferred []string) []string {
	check := s.removals() != gone
	start := 0
	for k, c := range sl.set {
		ps := sl.flat[start:sl.ends[k]]
		start = sl.ends[k]
		if check && !s.calls.holds(c) {
			continue
		}
		s.setProblems(c, ps)
	}
	s.mu.Unlock()
	for _, c := range sl.deferred {
		deferred = append(deferred, c.id)
	}
	return deferred
}
