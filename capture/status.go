package capture

import (
	"sync"
	"sync/atomic"
)

// Status holds the counters of a running Run, readable from any
// goroutine while it runs (the TUI header, a status line, a metrics
// exporter). Pass a *Status in Options.Status; Run resets it when it
// starts. The zero value is ready to use.
//
// Source counters are atomics written by their reader goroutines; the
// decoder's Stats are copied in by Run's goroutine every ctxCheckEvery
// records and whenever it waits for a live source, so a snapshot lags
// the decoder by at most that.
type Status struct {
	mu        sync.Mutex
	dec       Stats
	gen       uint64 // bumped on every publish, so readers can skip unchanged copies
	sources   []SourceStatus
	reordered atomic.Uint64
}

// SourceStatus counts one source of a Run.
type SourceStatus struct {
	Name string // from Namer, else empty
	Live bool   // read by its own goroutine through a queue

	Records      atomic.Uint64 // records read from the source
	QueueDropped atomic.Uint64 // live records dropped because the queue to the decoder was full
	QueueHigh    atomic.Int64  // highest queue occupancy seen

	kmu     sync.Mutex
	kernel  KernelStats
	kchange atomic.Uint64 // kernel counter reads that changed a value
}

// SourceSnapshot is a copy of one SourceStatus.
type SourceSnapshot struct {
	Name         string
	Live         bool
	Records      uint64
	QueueDropped uint64
	QueueHigh    int64
	Kernel       KernelStats
}

// Snapshot is a copy of a Status at one moment.
type Snapshot struct {
	Generation uint64 // changes whenever the decoder counters were republished
	Decoder    Stats
	Sources    []SourceSnapshot
	// Reordered counts live records decoded after a later record of
	// another source, because they reached the queue after the merge
	// window had let the later one through.
	Reordered uint64
}

// Drops sums every stage's drops: the kernel's and our queues'.
func (s Snapshot) Drops() (kernel, queue uint64) { return SourceDrops(s.Sources) }

// SourceDrops sums the sources' kernel and queue drops.
func SourceDrops(srcs []SourceSnapshot) (kernel, queue uint64) {
	for _, src := range srcs {
		kernel += src.Kernel.Dropped
		queue += src.QueueDropped
	}
	return kernel, queue
}

func (st *Status) start(srcs []Source) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.dec = Stats{}
	st.gen++
	st.sources = make([]SourceStatus, len(srcs))
	for i, s := range srcs {
		if n, ok := nameOf(s); ok {
			st.sources[i].Name = n
		}
		_, st.sources[i].Live = liveOf(s)
	}
	st.reordered.Store(0)
}

// NameOf is the name of a source (a file's path, an interface, a HEP
// listener) found through its Namer, behind any wrappers; "" when it has
// none.
func NameOf(s Source) string {
	n, _ := nameOf(s)
	return n
}

// nameOf finds a Namer in s or behind its wrappers.
func nameOf(s Source) (string, bool) {
	if n, ok := behind[Namer](s); ok {
		return n.Name(), true
	}
	return "", false
}

func (st *Status) publish(s Stats) {
	st.mu.Lock()
	st.dec = s
	st.gen++
	st.mu.Unlock()
}

func (s *SourceStatus) setKernel(k KernelStats) {
	s.kmu.Lock()
	if s.kernel != k {
		s.kernel = k
		s.kchange.Add(1)
	}
	s.kmu.Unlock()
}

// Changes grows whenever a source read a record or its kernel counters
// moved (drops on an interface that then went quiet included), and is
// unchanged otherwise: a change counter for readers that poll, cheaper
// than a Snapshot.
func (st *Status) Changes() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var n uint64
	for i := range st.sources {
		n += st.sources[i].Records.Load() + st.sources[i].kchange.Load()
	}
	return n
}

// Snapshot copies the counters.
func (st *Status) Snapshot() Snapshot {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Snapshot{Generation: st.gen, Decoder: st.dec, Reordered: st.reordered.Load()}
	out.Sources = make([]SourceSnapshot, len(st.sources))
	for i := range st.sources {
		s := &st.sources[i]
		s.kmu.Lock()
		k := s.kernel
		s.kmu.Unlock()
		out.Sources[i] = SourceSnapshot{
			Name:         s.Name,
			Live:         s.Live,
			Records:      s.Records.Load(),
			QueueDropped: s.QueueDropped.Load(),
			QueueHigh:    s.QueueHigh.Load(),
			Kernel:       k,
		}
	}
	return out
}
