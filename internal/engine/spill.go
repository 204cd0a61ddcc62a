package engine

import (
	"fmt"
	"os"
	"sync"
)

// The spill file holds the SIP messages no capture file holds, so that
// a live capture, a pipe or a HEP listener keeps per message only its
// location (sipflow.Spiller), like a message re-read from a capture
// file, and a 24-hour run keeps every ladder inside --max-memory.
//
// It is a set of segments, each a private file: created when a message
// needs one (a run whose messages all lie in capture files creates
// none), in SpillDir with os.CreateTemp (mode 0600), and unlinked at
// once where the system allows it, so that even a killed process leaves
// nothing behind. Each segment counts the messages in it the store
// still holds: the store releases those of the calls it evicts or
// clears (sipflow.Spiller.Release), and a segment no longer appended to
// whose count reaches 0 is closed, its disk space given back. So the
// bound (SpillMax) is on the disk the messages still held need, not on
// everything spilled since the start: a day-long run whose calls come
// and go spills all day. The few messages long-lived dialogs leave in a
// segment are moved out of it (the compaction, below), so that they do
// not keep every segment.
//
// A location is slot<<slotBits | offset/spillUnit: a segment's slot,
// never 0 (so no location is), and where the message starts in it.
// Slots are taken in turn, not the lowest free one, so a location comes
// back only after every other free slot has been used: a reader that
// looked a message up before its call was dropped (the store releases
// under its lock, readers read without it) finds the slot free, a
// range past what the new segment holds, or the old file closed (all
// errors) unless some hundreds of segments were written in between;
// even then it is handed other bytes, which the store's hash check
// turns into an error (sipflow.ErrRawGone), never another message.
//
// One writer appends, releases and moves (the store's, under its lock),
// readers read concurrently. Appends go to a buffer (one per segment
// being appended: new messages, moved ones) written out when full: the
// location of a message is published before its bytes reach the file,
// so a reader asks under mu whether they have (flushed) and copies them
// from the buffer when not. A write that fails keeps the
// buffer (its messages stay readable from it) and turns the spill off:
// every later message is kept in memory by the store, and counted as
// refused. Close closes every segment (and removes those that could not
// be unlinked while open).

// DefaultSpillMax is the default bound of the spill file (--spill-max).
const DefaultSpillMax = 4 << 30

// spillUnit is the spill's granularity: each message starts at a
// multiple of it, so a uint32 location covers maxSpill, and the store's
// message record stays its size.
const spillUnit = 8

// slotBits are a location's bits for the offset in a segment (in
// spillUnits); the others name its slot.
const slotBits = 23

// spillSlots is the number of slots a location can name; slot 0 is
// never used.
const spillSlots = 1 << (32 - slotBits)

// maxSegment is the largest segment: the disk comes back a segment at
// a time, and a smaller one is given back sooner (see segmentSize).
const maxSegment = spillUnit << slotBits // 64 MiB

// minSegment is the smallest segment for a bound above it: one write
// buffer, and room for any message the store's sources produce.
const minSegment = spillBuffer

// maxSpill is the most the slots can address at once.
const maxSpill = (spillSlots - 1) * maxSegment

// spillBuffer is the bytes gathered before a write: one write per some
// hundred messages instead of one each.
const spillBuffer = 64 << 10

// SpillStats are the spill's counters.
type SpillStats struct {
	Messages int64 // messages held in the spill instead of memory, since the start
	Bytes    int64 // their bytes
	// Refused counts messages kept in memory because the spill was
	// full (SpillMax) or had failed; Errors counts the failures (file
	// not created, write failed: disk full).
	Refused, Errors int64
	// Live is the bytes of the spilled messages the store still holds;
	// Held the disk the spill holds for them now (the segments with one
	// of them, and the one being appended), at most SpillMax.
	Live, Held int64
	// Reclaimed counts the segments closed, and their bytes given back
	// to the disk, once the store had dropped every message in them.
	Reclaimed, ReclaimedBytes int64
	// Compactions counts the compactions (sparse segments marked for
	// the store to empty, plan); Moved and MovedBytes the messages (and
	// their bytes) moved for them, Compacted the segments it closed
	// (also counted in Reclaimed), MoveFailed the messages left where
	// they were because the move failed (no room, a write or read
	// failed): still readable there, their segment held.
	Compactions, Moved, MovedBytes, Compacted, MoveFailed int64
}

// spillFile implements sipflow.Spiller.
type spillFile struct {
	dir     string
	max     int64
	segSize int64 // bytes a segment takes before the next one is opened

	mu   sync.Mutex
	segs []*spillSeg // by slot, nil when free; made with the first segment
	next int         // where the search for a free slot starts
	// The segments being appended (tails), 0 when none: cur takes the
	// messages spilled, old those a compaction moves (so the messages
	// that outlived a segment are kept apart from the new ones, most of
	// which go soon: old segments stay dense, and new ones empty or turn
	// sparse). buf and obuf are their bytes from flushed on.
	cur, old  int
	buf, obuf []byte
	// failed: a create or write failed, or the spill was closed: refuse
	// from then on
	failed bool
	st     SpillStats

	// The compaction (compact). Writer only, like Spill and Release:
	// read by the store's writer without mu.
	moving  [spillSlots]bool // the segments being emptied
	nmoving int              // how many
	moveBuf []byte           // Move's read buffer
}

// spillSeg is one segment of the spill.
type spillSeg struct {
	f       *os.File
	name    string // to remove at close; "" once unlinked
	size    int64  // bytes appended, written or in buf
	flushed int64  // bytes in the file: [flushed, size) are in buf
	live    int    // messages in it the store holds
	liveB   int64  // and their bytes
}

func newSpillFile(dir string, bound int64) *spillFile {
	if dir == "" {
		dir = os.TempDir()
	}
	bound = min(bound, maxSpill)
	return &spillFile{dir: dir, max: bound, segSize: segmentSize(bound), next: 1}
}

// segmentSize is the segment size for bound: an eighth of it, so that
// a segment a long call pins costs little of the bound, within
// [minSegment, maxSegment] and never past the bound itself.
func segmentSize(bound int64) int64 {
	s := min(max(bound/8, minSegment), maxSegment, bound)
	return s / spillUnit * spillUnit
}

// padded is the room a message of n bytes takes.
func padded(n int) int64 { return int64(n+spillUnit-1) / spillUnit * spillUnit }

// Spill implements sipflow.Spiller.
func (s *spillFile) Spill(b []byte) (uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	loc, ok := s.append(b, tailNew)
	if !ok {
		s.st.Refused++
		return 0, false
	}
	s.st.Messages++
	s.st.Bytes += int64(len(b))
	return loc, true
}

// Tails, for append, room, retire, open and flush.
const (
	tailNew = iota
	tailOld
)

// tail returns the slot and buffer of tail k.
func (s *spillFile) tail(k int) (*int, *[]byte) {
	if k == tailOld {
		return &s.old, &s.obuf
	}
	return &s.cur, &s.buf
}

// isTail reports whether slot is being appended.
func (s *spillFile) isTail(slot int) bool { return slot == s.cur || slot == s.old }

// append adds b to tail k; s.mu is held.
func (s *spillFile) append(b []byte, k int) (uint32, bool) {
	n := padded(len(b))
	if !s.room(n, k) {
		return 0, false
	}
	cur, buf := s.tail(k)
	if len(*buf)+int(n) > cap(*buf) && len(*buf) > 0 && !s.flush(k) {
		return 0, false
	}
	seg := s.segs[*cur]
	off := seg.size
	*buf = append(*buf, b...)
	for range int(n) - len(b) {
		*buf = append(*buf, 0)
	}
	seg.size += n
	seg.live++
	seg.liveB += int64(len(b))
	s.st.Held += n
	s.st.Live += int64(len(b))
	return uint32(*cur<<slotBits | int(off/spillUnit)), true
}

// room makes tail k a segment with room for n more bytes, within the
// bound; s.mu is held.
func (s *spillFile) room(n int64, k int) bool {
	if s.failed || n > s.segSize {
		return false
	}
	cur, _ := s.tail(k)
	if *cur != 0 && s.segs[*cur].size+n > s.segSize && !s.retire(k) {
		return false
	}
	if s.st.Held+n > s.max {
		return false
	}
	return *cur != 0 || s.open(k)
}

// retire ends tail k's segment: written out, and closed at once when
// the store holds none of its messages; s.mu is held.
func (s *spillFile) retire(k int) bool {
	cur, buf := s.tail(k)
	if len(*buf) > 0 && !s.flush(k) {
		return false
	}
	slot := *cur
	*cur = 0
	if s.segs[slot].live == 0 {
		s.drop(slot)
	}
	return true
}

// open creates a segment in the next free slot and makes it tail k's;
// s.mu is held.
func (s *spillFile) open(k int) bool {
	if s.segs == nil {
		s.segs = make([]*spillSeg, spillSlots)
	}
	cur, buf := s.tail(k)
	if *buf == nil {
		*buf = make([]byte, 0, spillBuffer)
	}
	slot := 0
	for i := range spillSlots - 1 {
		if k := 1 + (s.next-1+i)%(spillSlots-1); s.segs[k] == nil {
			slot = k
			break
		}
	}
	if slot == 0 { // every slot holds a message of a call held
		return false
	}
	f, err := os.CreateTemp(s.dir, "voiptool-spill-*")
	if err != nil {
		s.fail()
		return false
	}
	seg := &spillSeg{f: f, name: f.Name()}
	if os.Remove(seg.name) == nil { // readable through f until closed
		seg.name = ""
	}
	s.segs[slot], *cur, s.next = seg, slot, slot%(spillSlots-1)+1
	if k == tailNew {
		s.plan()
	}
	return true
}

// drop closes the segment in slot, which the store holds no message
// of, and frees the slot; s.mu is held. A reader that has just taken
// its file gets an error from ReadAt.
func (s *spillFile) drop(slot int) {
	seg := s.segs[slot]
	s.segs[slot] = nil
	if s.moving[slot] {
		s.moving[slot] = false
		s.nmoving--
	}
	s.st.Held -= seg.size
	s.st.Reclaimed++
	s.st.ReclaimedBytes += seg.size
	err := seg.f.Close()
	if seg.name != "" {
		if rerr := os.Remove(seg.name); err == nil {
			err = rerr
		}
	}
	if err != nil {
		s.st.Errors++ // the space may not have come back; the spill goes on
	}
}

// flush writes tail k's buffer out to its segment; s.mu is held. On
// failure the buffer is kept (its messages stay readable) and the spill
// turned off.
func (s *spillFile) flush(k int) bool {
	cur, buf := s.tail(k)
	seg := s.segs[*cur]
	if _, err := seg.f.WriteAt(*buf, seg.flushed); err != nil {
		s.fail()
		return false
	}
	seg.flushed += int64(len(*buf))
	*buf = (*buf)[:0]
	return true
}

func (s *spillFile) fail() {
	s.failed = true
	s.st.Errors++
}

// Release implements sipflow.Spiller: the store no longer holds the n
// bytes at loc. Locations of segments already closed (by close) are
// ignored.
func (s *spillFile) Release(loc uint32, n int) {
	slot := int(loc >> slotBits)
	s.mu.Lock()
	defer s.mu.Unlock()
	if slot >= len(s.segs) || s.segs[slot] == nil || s.segs[slot].live == 0 {
		return
	}
	s.release(slot, n)
}

// release forgets an n-byte message of the segment in slot; s.mu is
// held.
func (s *spillFile) release(slot, n int) {
	seg := s.segs[slot]
	seg.live--
	seg.liveB -= int64(n)
	s.st.Live -= int64(n)
	if seg.live == 0 && !s.isTail(slot) {
		s.drop(slot)
	}
}

// The compaction. A segment is given back once the store holds none of
// its messages, but a long-lived dialog (a phone re-registering under
// one Call-ID for hours, OPTIONS keepalives, SUBSCRIBE/NOTIFY, a long
// call with session refreshes) has a message in many segments and keeps
// each one: after some hours no segment empties, the spill reaches its
// bound and refuses. So when a segment is opened for new messages
// (plan), the segments whose messages still held take little of them
// are marked, and the store has those messages moved
// (sipflow.SpillCompactor) to the old tail, which empties the marked
// segments and closes them. Moved messages go apart from new ones (the
// old tail): they have outlived a segment and mostly live on, so old
// segments stay dense, while new ones empty or turn sparse as their
// calls go; the disk held stays near the live bytes plus the two tails.
//
// The rule: a segment is sparse when its live bytes are below a quarter
// of its size, or below a half once the bound leaves no room for
// another segment after the new one (then it is that or refuse soon).
// Moving a segment writes at most a quarter (a half) of it to give the
// whole back: at most a third (all) more writes than the messages
// themselves, and none for calls that come and go. The sparsest go
// first, as long as their bytes fit in the room the bound leaves (the
// moves need it before the segments they empty are given back). It is
// planned only when a segment is opened for new messages, so the
// store's walk over its calls runs at most once per segment filled.

// plan marks the sparse segments to empty; s.mu is held, s.cur was just
// opened.
func (s *spillFile) plan() {
	if s.nmoving > 0 {
		return // a compaction not walked yet
	}
	open := 0
	for _, seg := range s.segs {
		if seg != nil {
			open++
		}
	}
	near := int64(open+1)*s.segSize > s.max
	budget := s.max - s.st.Held
	for {
		best := 0
		var bestB int64
		for slot, seg := range s.segs {
			if seg == nil || s.isTail(slot) || s.moving[slot] {
				continue
			}
			need := seg.liveB + int64(seg.live)*spillUnit // padded at most
			sparse := seg.liveB*4 < seg.size || near && seg.liveB*2 < seg.size
			if !sparse || need > budget {
				continue
			}
			if best == 0 || need < bestB {
				best, bestB = slot, need
			}
		}
		if best == 0 {
			break
		}
		s.moving[best] = true
		s.nmoving++
		budget -= bestB
	}
	if s.nmoving > 0 {
		s.st.Compactions++
	}
}

// Compacting implements sipflow.SpillCompactor.
func (s *spillFile) Compacting() bool { return s.nmoving > 0 }

// Moves implements sipflow.SpillCompactor.
func (s *spillFile) Moves(loc uint32) bool { return s.moving[loc>>slotBits] }

// Move implements sipflow.SpillCompactor.
func (s *spillFile) Move(loc uint32, n int) (uint32, bool) {
	// Read without mu like a reader: only the writer (here) drops a
	// segment, so the bytes stay.
	b, err := s.ReadSpill(loc, n, s.moveBuf)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.st.MoveFailed++
		return 0, false
	}
	s.moveBuf = b[:0]
	to, ok := s.append(b, tailOld)
	if !ok {
		s.st.MoveFailed++
		return 0, false
	}
	s.st.Moved++
	s.st.MovedBytes += int64(n)
	slot := int(loc >> slotBits)
	s.release(slot, n)
	if s.segs[slot] == nil {
		s.st.Compacted++ // its last message moved (not dropped with its call)
	}
	return to, true
}

// Compacted implements sipflow.SpillCompactor: the segments not emptied
// (a move failed) keep their messages and are no longer marked.
func (s *spillFile) Compacted() {
	if s.nmoving == 0 {
		return
	}
	s.moving = [spillSlots]bool{}
	s.nmoving = 0
}

// ReadSpill implements sipflow.Spiller.
func (s *spillFile) ReadSpill(loc uint32, n int, buf []byte) ([]byte, error) {
	slot, off := int(loc>>slotBits), int64(loc&(1<<slotBits-1))*spillUnit
	s.mu.Lock()
	var seg *spillSeg
	if slot < len(s.segs) {
		seg = s.segs[slot]
	}
	if seg == nil || n < 0 || off+int64(n) > seg.size {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: slot %d, %d+%d", errSpillRange, slot, off, n)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if off >= seg.flushed {
		// Not written yet (only a tail has such bytes, and a message
		// spans no write: a flush takes the whole buffer).
		tb := s.buf
		if slot == s.old {
			tb = s.obuf
		}
		copy(buf, tb[off-seg.flushed:])
		s.mu.Unlock()
		return buf, nil
	}
	f := seg.f
	s.mu.Unlock()
	// Written before the location was published; os.File.ReadAt is
	// safe beside the writer's WriteAt, and returns an error once the
	// segment is closed (dropped since, or the spill closed).
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("engine: spill file: %w", err)
	}
	return buf, nil
}

// stats returns the counters.
func (s *spillFile) stats() SpillStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// close closes the segments and removes those that could not be
// unlinked when created. Messages spilled are gone from then on.
func (s *spillFile) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for slot, seg := range s.segs {
		if seg == nil {
			continue
		}
		if cerr := seg.f.Close(); err == nil {
			err = cerr
		}
		if seg.name != "" {
			if rerr := os.Remove(seg.name); err == nil {
				err = rerr
			}
		}
		s.segs[slot] = nil
	}
	s.cur, s.old, s.buf, s.obuf, s.failed = 0, 0, nil, nil, true
	return err
}
