package recorder

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
)

// Defaults used when an Options field is zero.
const (
	DefaultQueueLen   = 8192     // records waiting for the disk
	DefaultQueueBytes = 64 << 20 // bytes waiting for the disk
	DefaultFlushEvery = 200 * time.Millisecond
	// A slot buffer that grew beyond this is not kept for reuse, so one
	// jumbo record does not pin its size in every slot forever.
	maxKeptSlot = 64 << 10
)

// SourceCounters are what a source's capture knows of its losses, for
// the Interface Statistics Blocks of pcapng files.
type SourceCounters struct {
	Received    uint64 // packets the kernel saw (0 with HasReceived false for files)
	KernelDrop  uint64 // dropped by the kernel (ring full)
	QueueDrop   uint64 // dropped between the kernel and the decoder
	HasReceived bool
	HasKernel   bool
}

// Options configure a Recorder. Path is required; every other zero
// field has a useful default.
type Options struct {
	// Path names the output. Without rotation it is the file written;
	// with rotation each file is named STEM-NNNNNN-YYYYmmddTHHMMSSZ.EXT
	// after it (sequence number, UTC packet time of its first record).
	Path string
	// Format is sink.FormatAuto (by the extension: .pcap/.cap/.dmp
	// classic, else pcapng), sink.FormatPcap or sink.FormatPcapNG.
	Format sink.Format
	// MaxFileBytes rotates to a new file before one would exceed it (-C).
	MaxFileBytes int64
	// Interval rotates at every multiple of it in packet time, aligned
	// to the epoch so hourly files start on the hour (-G).
	Interval time.Duration
	// MaxFiles keeps at most this many files, the one being written
	// included, removing the oldest (-W). 0: no limit.
	MaxFiles int
	// MaxTotalBytes removes the oldest complete files while all files
	// together exceed it. Without MaxFileBytes, files are then rotated
	// at an eighth of it, so the ring keeps most of the budget.
	MaxTotalBytes int64
	// Gzip compresses each file once it is complete (FILE.gz).
	Gzip bool
	// Snaplen cuts records (0: whole records).
	Snaplen int
	// QueueLen and QueueBytes bound what waits for the disk.
	QueueLen   int
	QueueBytes int64
	// FlushEvery bounds, by the wall clock, how long written records
	// stay in memory buffers: a killed process loses at most that.
	FlushEvery time.Duration
	// SourceNames name the sources (interface names), by source index,
	// for pcapng interface blocks. Optional.
	SourceNames []string
	// Counters, if set, reports a source's loss counters when a pcapng
	// file is closed (Interface Statistics Blocks). It is called from
	// the recorder's goroutine and must be safe for that.
	Counters func(src int) SourceCounters
	// Perm is the mode of new files; 0 means 0600, since captures hold
	// personal data (numbers, addresses).
	Perm os.FileMode
	// Application is written as the pcapng shb_userappl.
	Application string
	// Inputs are the files the capture reads: no output may be one of
	// them.
	Inputs []string
	// Secrets are written at the start of every pcapng file (the input
	// files' Decryption Secrets Blocks; none with --strip-secrets).
	// Classic pcap cannot hold them: the caller leaves them out.
	Secrets []pcap.Secrets
}

// Stats count what the recorder did. Every record given to Write ends
// in exactly one of Packets, Dropped, Failed or Refused.
type Stats struct {
	Packets    uint64 // records written
	Bytes      uint64 // record bytes written (captured lengths)
	Dropped    uint64 // records not written: the queue to the disk was full
	Failed     uint64 // records not written: the disk refused them (write error)
	Refused    uint64 // records not written: link type a classic pcap file cannot hold
	Files      uint64 // files completed (renamed to their final name)
	Removed    uint64 // complete files removed by MaxFiles / MaxTotalBytes
	Compressed uint64 // files gzipped
	Current    string // file being written (its final name), "" when none
	LastError  string // the last I/O error, "" when none
}

// Recorder writes records to rotating files; see the package doc.
type Recorder struct {
	o      Options
	format sink.Format

	mu       sync.RWMutex // Write holds it shared; Close exclusively, to flip closed
	closed   bool
	full     chan *slot
	free     chan *slot
	queued   atomic.Int64 // bytes waiting in full
	closing  chan struct{}
	finished chan struct{} // closed when Run has closed every file
	started  atomic.Bool

	packets, bytes, dropped, failed, refused atomic.Uint64
	files, removed, compressed               atomic.Uint64
	perSrcDrop                               []atomic.Uint64 // Dropped+Failed per source, for isb_osdrop

	smu     sync.Mutex // guards current, lastErr
	current string
	lastErr string

	// The writer goroutine's own state.
	w        *fileWriter
	seq      int
	boundary time.Time // packet time at which the current file rotates (Interval)
	done     []doneFile
}

type slot struct {
	src  int
	p    pcap.Packet
	data []byte
}

type doneFile struct {
	path string
	size int64
}

// New checks the options and prepares the recorder; the first file is
// created when the first record arrives, so an idle capture leaves no
// empty file. The output directory must exist and be writable: New
// tries it now, so a bad path fails before capturing starts.
func New(o Options) (*Recorder, error) {
	if o.Path == "" {
		return nil, fmt.Errorf("%w: empty", ErrBadPath)
	}
	if o.MaxFileBytes < 0 || o.MaxTotalBytes < 0 || o.MaxFiles < 0 || o.Interval < 0 {
		return nil, ErrBadSize
	}
	if o.MaxTotalBytes > 0 && o.MaxFileBytes == 0 {
		o.MaxFileBytes = max(o.MaxTotalBytes/8, 64<<10)
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.Perm == 0 {
		o.Perm = 0o600
	}
	f := o.Format
	if f == sink.FormatAuto {
		f = sink.FormatFor(o.Path)
	}
	if err := sink.CheckOutput(o.Path, o.Inputs); err != nil {
		return nil, err
	}
	// Try the directory now, with the same flags the real files get.
	probe, err := sink.CreateTemp(o.Path, o.Perm)
	if err != nil {
		return nil, fmt.Errorf("recorder: %s: %w", o.Path, err)
	}
	probe.Close()
	os.Remove(probe.Name())

	r := &Recorder{
		o:          o,
		format:     f,
		full:       make(chan *slot, o.QueueLen),
		free:       make(chan *slot, o.QueueLen),
		closing:    make(chan struct{}),
		finished:   make(chan struct{}),
		perSrcDrop: make([]atomic.Uint64, max(len(o.SourceNames), 1)),
	}
	for range o.QueueLen {
		r.free <- new(slot)
	}
	return r, nil
}

// WriteRecord queues one record of source src (sink.RecordSink); it
// copies data and never blocks. It returns ErrDropped when the record
// was dropped (queue full, or the recorder closed), which Stats counts.
func (r *Recorder) WriteRecord(src int, p pcap.Packet, data []byte) error {
	if !r.Write(src, p, data) {
		return ErrDropped
	}
	return nil
}

// Counts reports the recorder as a sink: written, and not written for
// any reason (dropped, failed, refused). Stats has the detail.
func (r *Recorder) Counts() sink.Counts {
	return sink.Counts{Written: r.packets.Load(), Failed: r.dropped.Load() + r.failed.Load() + r.refused.Load()}
}

// Write is WriteRecord reporting success as a bool.
func (r *Recorder) Write(src int, p pcap.Packet, data []byte) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		r.drop(src, &r.dropped)
		return false
	}
	if r.queued.Load()+int64(len(data)) > r.o.QueueBytes {
		r.drop(src, &r.dropped)
		return false
	}
	select {
	case s := <-r.free:
		s.src, s.p = src, p
		s.data = append(s.data[:0], data...)
		r.queued.Add(int64(len(data)))
		r.full <- s // never blocks: as many slots as the channel holds
		return true
	default:
		r.drop(src, &r.dropped)
		return false
	}
}

func (r *Recorder) drop(src int, c *atomic.Uint64) {
	c.Add(1)
	if src >= 0 && src < len(r.perSrcDrop) {
		r.perSrcDrop[src].Add(1)
	}
}

// Run writes queued records until Close is called or ctx is done, then
// writes what is still queued, closes the current file (renaming it to
// its final name) and returns. The owner starts it once and waits for
// it. The returned error is the first I/O error, if any; records it
// cost are in Stats.Failed.
func (r *Recorder) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("recorder: Run called twice")
	}
	defer close(r.finished)
	var firstErr error
	note := func(err error) {
		if err == nil {
			return
		}
		if firstErr == nil {
			firstErr = err
		}
		r.smu.Lock()
		r.lastErr = err.Error()
		r.smu.Unlock()
	}
	tick := time.NewTicker(r.o.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case s := <-r.full:
			note(r.put(s))
		case <-tick.C:
			if r.w != nil {
				note(r.w.flush())
			}
		case <-r.closing:
			note(r.drain())
			return firstErr
		case <-ctx.Done():
			r.mu.Lock()
			r.closed = true
			r.mu.Unlock()
			note(r.drain())
			return firstErr
		}
	}
}

// drain writes what is queued and closes the current file.
func (r *Recorder) drain() error {
	var first error
	for {
		select {
		case s := <-r.full:
			if err := r.put(s); err != nil && first == nil {
				first = err
			}
			continue
		default:
		}
		break
	}
	if err := r.finish(false); err != nil && first == nil {
		first = err
	}
	return first
}

// Close stops accepting records, waits until Run has written the queue
// and closed the files, and returns. Records given to Write afterwards
// are dropped and counted. If Run was never started, Close only stops
// accepting records.
func (r *Recorder) Close() error {
	r.mu.Lock()
	already := r.closed
	r.closed = true
	r.mu.Unlock()
	if !already {
		close(r.closing)
	}
	if r.started.Load() {
		<-r.finished
	}
	return nil
}

// Stats returns the counters; safe from any goroutine.
func (r *Recorder) Stats() Stats {
	r.smu.Lock()
	cur, last := r.current, r.lastErr
	r.smu.Unlock()
	return Stats{
		Packets: r.packets.Load(), Bytes: r.bytes.Load(),
		Dropped: r.dropped.Load(), Failed: r.failed.Load(), Refused: r.refused.Load(),
		Files: r.files.Load(), Removed: r.removed.Load(), Compressed: r.compressed.Load(),
		Current: cur, LastError: last,
	}
}

// put writes one slot, rotating first when the record's time or size
// asks for it, and recycles the slot.
func (r *Recorder) put(s *slot) error {
	defer func() {
		r.queued.Add(-int64(len(s.data)))
		if cap(s.data) > maxKeptSlot {
			s.data = nil
		}
		r.free <- s
	}()
	data := s.data
	if r.o.Snaplen > 0 && len(data) > r.o.Snaplen {
		data = data[:r.o.Snaplen]
	}
	if r.w != nil && r.needRotate(s.p.Timestamp, len(data)) {
		if err := r.finish(true); err != nil {
			r.drop(s.src, &r.failed)
			return err
		}
	}
	if r.w == nil {
		if err := r.open(s.p); err != nil {
			r.drop(s.src, &r.failed)
			return err
		}
	}
	err := r.w.write(s.src, s.p, data)
	switch {
	case errors.Is(err, ErrLinkType):
		r.refused.Add(1)
		return nil // counted; not an I/O error
	case err != nil:
		r.drop(s.src, &r.failed)
		return err
	}
	r.packets.Add(1)
	r.bytes.Add(uint64(len(data)))
	return nil
}

func (r *Recorder) needRotate(t time.Time, n int) bool {
	if r.o.Interval > 0 && !t.Before(r.boundary) {
		return true
	}
	if r.o.MaxFileBytes > 0 && r.w.records > 0 && r.w.size()+int64(n)+32 > r.o.MaxFileBytes {
		return true
	}
	return false
}

func (r *Recorder) rotating() bool {
	return r.o.MaxFileBytes > 0 || r.o.Interval > 0 || r.o.MaxFiles > 0
}

// nameFor is the final name of the file whose first record is p.
func (r *Recorder) nameFor(p pcap.Packet) string {
	if !r.rotating() {
		return r.o.Path
	}
	ext := filepath.Ext(r.o.Path)
	stem := strings.TrimSuffix(r.o.Path, ext)
	return fmt.Sprintf("%s-%06d-%s%s", stem, r.seq, p.Timestamp.UTC().Format("20060102T150405Z"), ext)
}

func (r *Recorder) open(p pcap.Packet) error {
	r.seq++
	final := r.nameFor(p)
	if err := sink.CheckOutput(final, r.o.Inputs); err != nil {
		return err
	}
	f, err := sink.CreateTemp(final, r.o.Perm)
	if err != nil {
		return fmt.Errorf("recorder: %s: %w", final, err)
	}
	w, err := newFileWriter(f, final, r.format, r.o)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("recorder: %s: %w", final, err)
	}
	r.w = w
	if r.o.Interval > 0 {
		r.boundary = p.Timestamp.Truncate(r.o.Interval).Add(r.o.Interval)
	}
	r.smu.Lock()
	r.current = final
	r.smu.Unlock()
	return nil
}

// finish completes the current file: statistics blocks, flush, close,
// rename to the final name, then gzip and the ring limits. rotating
// says another file follows, which the limits must leave room for.
func (r *Recorder) finish(rotating bool) error {
	w := r.w
	if w == nil {
		return nil
	}
	r.w = nil
	r.smu.Lock()
	r.current = ""
	r.smu.Unlock()
	// The file is valid without its statistics blocks; a write error
	// here shows again at close.
	_ = w.writeStats(r.o.Counters, r.perSrcDrop)
	err := w.close()
	if err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("recorder: %s: %w", w.final, err)
	}
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("recorder: %s: %w", w.final, err)
	}
	r.files.Add(1)
	path, size := w.final, w.size()
	if r.o.Gzip {
		if gz, n, err := r.compress(path); err == nil {
			path, size = gz, n
			r.compressed.Add(1)
		} else {
			err = fmt.Errorf("recorder: gzip %s: %w", path, err)
			r.smu.Lock()
			r.lastErr = err.Error()
			r.smu.Unlock()
		}
	}
	r.done = append(r.done, doneFile{path, size})
	r.enforce(rotating)
	return nil
}

// enforce removes the oldest complete files beyond MaxFiles (leaving
// room for the next file when a rotation is under way) or MaxTotalBytes.
func (r *Recorder) enforce(rotating bool) {
	var total int64
	for _, d := range r.done {
		total += d.size
	}
	keep := r.o.MaxFiles
	if rotating {
		keep--
	}
	for len(r.done) > 0 {
		over := r.o.MaxFiles > 0 && len(r.done) > keep
		over = over || (r.o.MaxTotalBytes > 0 && total > r.o.MaxTotalBytes)
		if !over {
			return
		}
		old := r.done[0]
		r.done = r.done[1:]
		total -= old.size
		if err := os.Remove(old.path); err == nil || errors.Is(err, os.ErrNotExist) {
			r.removed.Add(1)
		}
	}
}

// compress writes path.gz through a temporary file, then removes path.
func (r *Recorder) compress(path string) (string, int64, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	out, err := sink.CreateTemp(path, r.o.Perm)
	if err != nil {
		return "", 0, err
	}
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = out.Sync()
	}
	st, serr := out.Stat()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = serr
	}
	gz := path + ".gz"
	if err == nil {
		err = sink.CheckOutput(gz, r.o.Inputs)
	}
	if err == nil {
		err = os.Rename(out.Name(), gz)
	}
	if err != nil {
		os.Remove(out.Name())
		return "", 0, err
	}
	os.Remove(path)
	return gz, st.Size(), nil
}

// A Recorder is a record sink: the capture pipeline hands it records as it hands them to any file writer.
var _ sink.RecordSink = (*Recorder)(nil)
