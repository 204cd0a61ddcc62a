package capture

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// Source yields capture records in file order. The returned data must
// stay valid until the next call to Next on the same Source (pcap.Reader
// and live sources do this); Run relies on it to merge without copying.
// Next returns io.EOF at the end.
type Source interface {
	Next() ([]byte, pcap.Packet, error)
}

// LiveSource is a Source whose Next may block while nothing arrives (a
// network interface). Run reads each LiveSource on a goroutine of its
// own into a bounded queue, so a quiet interface never holds back a busy
// one; see Run.
type LiveSource interface {
	Source
	// NextContext is Next that gives up once ctx is done, within the
	// source's poll interval, returning ctx.Err().
	NextContext(ctx context.Context) ([]byte, pcap.Packet, error)
}

// KernelStatser is implemented by live sources whose kernel keeps
// counters (AF_PACKET's PACKET_STATISTICS). Run polls it about once a
// second from the source's reader goroutine, so it must be safe to call
// concurrently with Next.
type KernelStatser interface {
	KernelStats() (KernelStats, error)
}

// KernelStats are a live source's kernel counters, cumulative.
type KernelStats struct {
	Received uint64 // packets the kernel handed to the socket (drops included)
	Dropped  uint64 // packets the kernel dropped because the ring was full
	Freezes  uint64 // times the TPACKET_V3 ring froze its queue
}

// Wrapper is implemented by sources that wrap another (counters, progress).
// Run looks through wrappers for a LiveSource: a live source is read by
// its own goroutine, and the wrapper's Next is then not called.
type Wrapper interface {
	Unwrap() Source
}

// Namer is implemented by sources that can name themselves for status
// lines ("eth0", a file name).
type Namer interface {
	Name() string
}

// Defaults of the live merge.
const (
	// DefaultQueueLen is how many records a live source's reader may
	// queue ahead of the decoder before it drops (and counts) records.
	DefaultQueueLen = 8192
	// DefaultMergeWindow is how long (by the wall clock, the only clock
	// a live merge can wait on) Run holds a record back for a quiet live
	// source that might still deliver an earlier one.
	DefaultMergeWindow = 20 * time.Millisecond
)

// ctxCheckEvery is how many records Run decodes between looks at ctx:
// ctx.Err takes a lock, the per-record path should not.
const ctxCheckEvery = 256

// statsPollInterval is how often a live reader reads its kernel
// counters: the kernel clears them on read, and a 32-bit counter must
// not wrap between reads.
const statsPollInterval = time.Second

type head struct {
	data []byte
	p    pcap.Packet
	ok   bool
	rec  *record // the queued record behind data, for live sources
}

// record is one queued copy of a live record. A fixed set of records
// cycles between a reader and Run, so the steady state allocates nothing.
type record struct {
	buf []byte
	p   pcap.Packet
}

// liveQueue is the bounded queue between one live reader and Run.
type liveQueue struct {
	src  LiveSource
	full chan *record // reader → Run; closed when the reader ends
	free chan *record // Run → reader
	st   *SourceStatus
	err  error // why the source ended, if not io.EOF; set before full is closed

	ended bool // Run saw full closed (Run's goroutine only)
}

// Run reads every source, merges their records by capture time (the
// earliest head first, ties to the lower index; within a source, file
// order is kept even when timestamps go backwards), decodes them with
// one Decoder, and calls fn for each Event with Event.Source set to the
// source's index. The Event is reused: see Event.
//
// Live sources (LiveSource, also behind a Wrapper) are each read by a
// goroutine that Run starts and waits for, into a bounded queue of
// copies (Options.QueueLen); a record that finds the queue full is
// dropped and counted (SourceStatus.QueueDropped). Files are merged
// exactly; with a live source in the set, Run holds the earliest record
// back for at most Options.MergeWindow while a live source has nothing
// queued, then goes on without it: a quiet interface never stalls a busy
// one. A record that a late live source then delivers out of time order
// is decoded anyway and counted (Status: Reordered).
//
// Per-record problems (decode errors, and source errors other than
// io.EOF) go to warn, if not nil, and reading continues; an unsupported
// link type is warned about once per source and link type. A source
// error ends that source only. Run stops early when ctx is cancelled
// (returning ctx.Err()) or when fn returns an error (returned as is).
// At the end it flushes the decoder, so SIP messages still buffered in
// TCP streams are delivered, and returns the decoder's Stats. warn and
// fn are only ever called from Run's own goroutine.
//
// When Options.Status is set, Run publishes its counters there while it
// runs (see Status).
func Run(ctx context.Context, srcs []Source, o Options, warn func(error), fn func(*Event) error) (Stats, error) {
	if o.Pipeline {
		return runPipelined(ctx, srcs, o, warn, fn)
	}
	return run(ctx, srcs, o, warn, fn, nil)
}

// run is Run on the caller's goroutine. idle, when set, is called before
// run waits for a live source (the pipeline hands on what it holds).
func run(ctx context.Context, srcs []Source, o Options, warn func(error), fn func(*Event) error, idle func()) (Stats, error) {
	d := NewDecoder(o)
	batchEnd := o.OnBatchEnd
	if batchEnd == nil {
		batchEnd = func() {}
	}
	defer batchEnd()
	st := o.Status
	if st == nil {
		st = new(Status)
	}
	st.start(srcs)
	heads := make([]head, len(srcs))
	queues := make([]*liveQueue, len(srcs))
	live := make([]bool, len(srcs))
	var (
		fnErr   error
		cur     int
		curData []byte // the record being decoded; nil while flushing
		curNum  int    // its record number
		warned  map[[2]uint32]bool
		last    time.Time // time of the last record decoded, for Reordered
	)

	// Live readers: owned here, cancelled and waited for on every return.
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Records read from files, not yet added to their sources' status:
	// an atomic add per record cost more than the record's merge, so
	// they are published with the decoder's counters (publish).
	unpub := make([]uint64, len(srcs))
	publish := func() {
		for i, n := range unpub {
			if n != 0 {
				st.sources[i].Records.Add(n)
				unpub[i] = 0
			}
		}
		st.publish(d.Stats())
	}
	defer func() {
		cancel()
		wg.Wait()
		publish()
	}()
	notify := make(chan struct{}, 1)
	qlen := o.QueueLen
	if qlen <= 0 {
		qlen = DefaultQueueLen
	}
	window := o.MergeWindow
	if window <= 0 {
		window = DefaultMergeWindow
	}
	// handOn ends the consumer's batch, publishes the counters and hands
	// on the pipeline's partial batch: before any wait whose end nobody
	// knows.
	handOn := func() {
		batchEnd()
		publish()
		if idle != nil {
			idle()
		}
	}
	// A capture read from a pipe (tcpdump -w - | voiptool open - --hep-to
	// …) waits inside Next for what nobody has sent yet: what was decoded
	// before is handed on first, as before a live source's wait, or it
	// would sit in a batch until more traffic came.
	for _, s := range srcs {
		if _, ok := liveOf(s); ok {
			continue
		}
		if w, ok := waiterOf(s); ok && w.OnWait(handOn) {
			defer w.OnWait(nil)
		}
	}
	nlive := 0
	for i, s := range srcs {
		ls, ok := liveOf(s)
		if !ok {
			continue
		}
		nlive++
		q := &liveQueue{
			src:  ls,
			full: make(chan *record, qlen),
			free: make(chan *record, qlen),
			st:   &st.sources[i],
		}
		for range qlen {
			q.free <- new(record)
		}
		queues[i], live[i] = q, true
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.read(rctx, notify)
		}()
	}

	// into[i] is srcs[i] when it is a pcap.Reader, which can read a
	// record's Packet into place (NextInto). Only the Reader itself: a
	// type embedding one to change Next would have NextInto promoted,
	// and its Next bypassed.
	into := make([]*pcap.Reader, len(srcs))
	for i, s := range srcs {
		if !live[i] {
			into[i], _ = s.(*pcap.Reader)
		}
	}
	emit := func(ev *Event) {
		if fnErr != nil {
			return
		}
		ev.Source = cur
		ev.Record = nil
		if curData != nil && ev.Packet.Number == curNum {
			// Only the record being decoded is in hand: an event held
			// back and delivered now (the RTP heuristic's first
			// packets) or completed by the final flush has none.
			ev.Record = curData
		}
		fnErr = fn(ev)
	}
	// advance fills heads[i]; for a live source it reports false when
	// nothing is queued yet (the source is still running).
	advance := func(i int) bool {
		if live[i] {
			q := queues[i]
			if old := heads[i].rec; old != nil {
				q.free <- old // never blocks: as many slots as records
			}
			heads[i] = head{}
			if q.ended {
				return true
			}
			select {
			case r, ok := <-q.full:
				if !ok {
					q.ended = true // heads[i] stays empty from now on
					if q.err != nil && warn != nil {
						warn(q.err)
					}
					return true
				}
				heads[i] = head{data: r.buf, p: r.p, ok: true, rec: r}
				return true
			default:
				return false
			}
		}
		h := &heads[i]
		var (
			data []byte
			err  error
		)
		if in := into[i]; in != nil {
			data, err = in.NextInto(&h.p) // in place: no copy of the Packet
		} else {
			data, h.p, err = srcs[i].Next()
		}
		if err != nil {
			heads[i] = head{}
			if !errors.Is(err, io.EOF) && warn != nil {
				warn(err)
			}
			return true
		}
		unpub[i]++
		// Field by field: building a head and copying it stalled on
		// reading back what had just been stored.
		h.data, h.ok, h.rec = data, true, nil
		return true
	}
	pending := make([]bool, len(srcs)) // live source with nothing queued
	for i := range srcs {
		pending[i] = !advance(i)
	}
	var timer *time.Timer
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			batchEnd()
			if err := ctx.Err(); err != nil {
				return d.Stats(), err
			}
			publish()
		}
		waiting := false
		if nlive > 0 {
			for i := range pending {
				if pending[i] {
					pending[i] = !advance(i)
				}
				if pending[i] {
					waiting = true
				}
			}
		}
		best := -1
		for i := range heads {
			if heads[i].ok && (best < 0 || heads[i].p.Timestamp.Before(heads[best].p.Timestamp)) {
				best = i
			}
		}
		if best < 0 && !waiting {
			break
		}
		if waiting {
			// A live source has nothing queued. Hold the earliest record
			// back until it is MergeWindow old by the wall clock (a live
			// record's time is the kernel's wall clock), or until a
			// reader queues something, then look again. With nothing to
			// decode at all, wait for a reader.
			hold := best < 0
			var tc <-chan time.Time
			if best >= 0 {
				if wait := time.Until(heads[best].p.Timestamp.Add(window)); wait > 0 {
					hold = true
					if timer == nil {
						timer = time.NewTimer(wait)
						defer timer.Stop()
					} else {
						timer.Reset(wait) // Go 1.23+ timers: no stale tick to drain
					}
					tc = timer.C
				}
			}
			if hold {
				handOn()
				select {
				case <-ctx.Done():
					return d.Stats(), ctx.Err()
				case <-notify:
				case <-tc:
				}
				continue
			}
		}
		cur = best
		h := &heads[best] // overwritten by advance, after the decode
		curData, curNum = h.data, h.p.Number
		if o.OnRecord != nil {
			batchEnd() // the hook may wait (a pacer)
			o.OnRecord(best, h.p, h.data)
		}
		if nlive > 0 {
			// Only a live source's records can come out of time order.
			if live[best] && h.p.Timestamp.Before(last) {
				st.reordered.Add(1)
			}
			if h.p.Timestamp.After(last) {
				last = h.p.Timestamp
			}
		}
		if err := d.decode(h.data, &h.p, emit); err != nil && warn != nil {
			if errors.Is(err, ErrUnsupportedLinkType) {
				k := [2]uint32{uint32(best), uint32(h.p.LinkType)}
				if !warned[k] {
					if warned == nil {
						warned = make(map[[2]uint32]bool)
					}
					warned[k] = true
					warn(err)
				}
			} else {
				warn(err)
			}
		}
		if fnErr != nil {
			return d.Stats(), fnErr
		}
		pending[best] = !advance(best)
	}
	if err := ctx.Err(); err != nil && nlive > 0 {
		// The live readers end when ctx is done, so the merge can run
		// out of records before its own look at ctx: that is a
		// cancellation too, not the end of the input.
		return d.Stats(), err
	}
	cur, curData = 0, nil
	d.Flush(emit)
	return d.Stats(), fnErr
}

// waiter is a source whose Next may wait for input that has not been
// sent yet although it is no LiveSource: a capture read from a pipe
// (pcap.Reader.OnWait). Run hands on what it holds before such a wait.
type waiter interface {
	OnWait(fn func()) bool
}

// waiterOf finds a waiter in s or behind its wrappers.
func waiterOf(s Source) (waiter, bool) { return behind[waiter](s) }

// liveOf finds a LiveSource in s or behind its wrappers.
func liveOf(s Source) (LiveSource, bool) { return behind[LiveSource](s) }

// behind finds a T in s or behind its wrappers.
func behind[T any](s Source) (T, bool) {
	for range 16 { // wrappers nest a few deep at most; a cycle must not hang
		if t, ok := s.(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

// read is a live source's reader goroutine: it copies each record into
// a free slot and queues it, and drops (counting) what finds no free
// slot, since blocking here would only move the drop into the kernel,
// where it could no longer be told apart from a burst. It ends when the
// source does or ctx is done, closing q.full.
func (q *liveQueue) read(ctx context.Context, notify chan<- struct{}) {
	wake := func() {
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	defer wake() // Run may be waiting for this source: tell it it ended
	defer close(q.full)
	if ks, ok := q.src.(KernelStatser); ok {
		// The kernel's counters are read on a timer of their own, not
		// between packets: an interface that goes quiet after a burst
		// must still show the burst's drops within a second, and a
		// reader blocked in NextContext reads nothing. The poller is
		// owned here: stopped and waited for before the reader ends,
		// with one last read so the summary has the final figures.
		stop := make(chan struct{})
		done := make(chan struct{})
		go pollKernel(ks, q.st, stop, done)
		defer func() {
			close(stop)
			<-done
		}()
	}
	for {
		data, p, err := q.src.NextContext(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return
			}
			q.err = err // read by Run after full is closed
			return
		}
		q.st.Records.Add(1)
		select {
		case r := <-q.free:
			r.buf = append(r.buf[:0], data...)
			r.p = p
			q.full <- r
			if n := int64(len(q.full)); n > q.st.QueueHigh.Load() {
				q.st.QueueHigh.Store(n)
			}
			wake()
		default:
			q.st.QueueDropped.Add(1)
		}
	}
}

// pollKernel reads a live source's kernel counters every
// statsPollInterval until stop is closed, then once more, and closes
// done.
func pollKernel(ks KernelStatser, st *SourceStatus, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	poll := func() {
		if k, err := ks.KernelStats(); err == nil {
			st.setKernel(k)
		}
	}
	t := time.NewTicker(statsPollInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			poll()
		case <-stop:
			poll()
			return
		}
	}
}
