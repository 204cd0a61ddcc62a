package engine

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// The spill file holds the SIP messages no capture file holds, so that
// a live capture, a pipe or a HEP listener keeps per message only its
// location (sipflow.Spiller), like a message re-read from a capture
// file, and a 24-hour run keeps every ladder inside --max-memory.
//
// It is private to the engine: created on the first message spilled (a
// run whose messages all lie in capture files creates none), in
// SpillDir with os.CreateTemp (mode 0600), and unlinked at once where
// the system allows it, so that even a killed process leaves nothing
// behind; Close closes it (and removes it where it could not be
// unlinked while open).
//
// One writer appends (the store's, under its lock), readers read
// concurrently. Appends go to a buffer written out when full: the
// location of a message is published before its bytes reach the file,
// so a reader asks under mu whether they have (flushed) and copies them
// from the buffer when not. A write that fails keeps the buffer (its
// messages stay readable from it) and turns the spill off: every later
// message is kept in memory by the store, and counted as refused.

// DefaultSpillMax is the default bound of the spill file (--spill-max).
const DefaultSpillMax = 4 << 30

// spillUnit is the spill file's granularity: each message starts at a
// multiple of it, so a uint32 location (offset/spillUnit + 1) covers
// maxSpill, and the store's message record stays its size.
const spillUnit = 8

// maxSpill is the largest spill file a uint32 location can address.
const maxSpill = (1<<32 - 1) * spillUnit

// spillBuffer is the bytes gathered before a write: one write per some
// hundred messages instead of one each.
const spillBuffer = 64 << 10

// SpillStats are the spill file's counters.
type SpillStats struct {
	Messages int64 // messages held in the spill file instead of memory
	Bytes    int64 // their bytes
	// Refused counts messages kept in memory because the spill file was
	// full (SpillMax) or had failed; Errors counts the failures (file
	// not created, write failed: disk full).
	Refused, Errors int64
}

// spillFile implements sipflow.Spiller.
type spillFile struct {
	dir string
	max int64

	mu      sync.Mutex
	f       *os.File
	name    string // to remove at Close; "" once unlinked
	size    int64  // bytes appended, written or in buf
	flushed int64  // bytes in the file: [flushed, size) are in buf
	buf     []byte
	failed  bool // a create or write failed: refuse from then on

	messages, bytes, refused, errs atomic.Int64
}

func newSpillFile(dir string, max int64) *spillFile {
	if dir == "" {
		dir = os.TempDir()
	}
	return &spillFile{dir: dir, max: min(max, maxSpill)}
}

// Spill implements sipflow.Spiller.
func (s *spillFile) Spill(b []byte) (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pad := (spillUnit - len(b)%spillUnit) % spillUnit
	if s.failed || s.size+int64(len(b)+pad) > s.max {
		s.refused.Add(1)
		return 0, false
	}
	if s.f == nil && !s.create() {
		s.refused.Add(1)
		return 0, false
	}
	if len(s.buf)+len(b)+pad > cap(s.buf) && len(s.buf) > 0 && !s.flush() {
		s.refused.Add(1)
		return 0, false
	}
	off := s.size
	s.buf = append(s.buf, b...)
	for range pad {
		s.buf = append(s.buf, 0)
	}
	s.size += int64(len(b) + pad)
	s.messages.Add(1)
	s.bytes.Add(int64(len(b)))
	return uint32(off/spillUnit + 1), true
}

// create opens the spill file; s.mu is held.
func (s *spillFile) create() bool {
	f, err := os.CreateTemp(s.dir, "voiptool-spill-*")
	if err != nil {
		s.fail()
		return false
	}
	s.f, s.name = f, f.Name()
	if os.Remove(s.name) == nil { // readable through f until Close
		s.name = ""
	}
	s.buf = make([]byte, 0, spillBuffer)
	return true
}

// flush writes the buffer out; s.mu is held. On failure the buffer is
// kept (its messages stay readable) and the spill turned off.
func (s *spillFile) flush() bool {
	if _, err := s.f.WriteAt(s.buf, s.flushed); err != nil {
		s.fail()
		return false
	}
	s.flushed += int64(len(s.buf))
	s.buf = s.buf[:0]
	return true
}

func (s *spillFile) fail() {
	s.failed = true
	s.errs.Add(1)
}

// ReadSpill implements sipflow.Spiller.
func (s *spillFile) ReadSpill(loc uint32, n int, buf []byte) ([]byte, error) {
	off := (int64(loc) - 1) * spillUnit
	s.mu.Lock()
	if loc == 0 || n < 0 || off+int64(n) > s.size || s.f == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %d+%d", errSpillRange, off, n)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if off >= s.flushed {
		// Not written yet (the message spans no write: a flush takes
		// the whole buffer).
		copy(buf, s.buf[off-s.flushed:])
		s.mu.Unlock()
		return buf, nil
	}
	f := s.f
	s.mu.Unlock()
	// Written before the location was published; os.File.ReadAt is
	// safe beside the writer's WriteAt. Close does not run while
	// readers read (the engine is closed after its users are done).
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("engine: spill file: %w", err)
	}
	return buf, nil
}

// stats returns the counters.
func (s *spillFile) stats() SpillStats {
	return SpillStats{Messages: s.messages.Load(), Bytes: s.bytes.Load(), Refused: s.refused.Load(), Errors: s.errs.Load()}
}

// close closes the file and removes it if it could not be unlinked
// when created. Messages spilled are gone from then on.
func (s *spillFile) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		if rerr := os.Remove(s.name); err == nil {
			err = rerr
		}
		s.name = ""
	}
	s.f, s.buf, s.failed = nil, nil, true
	return err
}
