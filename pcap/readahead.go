package pcap

import (
	"io"
	"sync"
	"unsafe"
)

// Read-ahead: the input is read on a goroutine of its own into a few
// blocks, one ahead of the one Next returns records from, so the read
// calls (the kernel's copy from the page cache, or gunzipping) run
// beside the caller's decoding instead of in its way. Each block has
// room in front for the unread end of the one before: a record that
// straddles two blocks is moved there, in front of the rest of it, and
// is whole in the next block.
//
// A caller that keeps records past the next call to Next (a pipeline
// handing batches of them to another goroutine) may pin the block they
// lie in instead of copying them (BlockOf, Block.Retain): the block
// Next moves off while it is pinned is not read into again until the
// last pin is released; the read-ahead goes on with a spare block in
// its place (one released earlier, or a new one), so pins never stall
// the reading. At most maxPinned blocks are pinned at once: Retain
// refuses beyond, and the caller copies.
const (
	aheadRoom   = maxBlockLength // the most a record needs
	aheadData   = maxBlock       // bytes read into a block
	aheadBlocks = 3              // being read, ready, in use by Next
	// maxPinned bounds the blocks pinned at once, so the blocks made
	// for them (576 KiB each, of which the data and the end of the room
	// are touched) stay a few. A pipeline of four batches of ~220 KB
	// pins four or five.
	maxPinned = 8
)

// Block is one of the blocks a read-ahead Reader reads its input into
// (ReadAhead). Records lie in it as slices; a caller that pins the
// block (Retain) may keep those slices, on any goroutine, until it
// calls Release: the block is not read into again before.
type Block struct {
	buf []byte // aheadRoom of room, then the data read at buf[aheadRoom:]
	ra  *readAhead
	// Guarded by ra.mu.
	pins int  // Retains not yet Released
	out  bool // Next has moved off it while pinned: a spare after the last Release
}

type aheadBlock struct {
	b   *Block // data read at b.buf[aheadRoom:aheadRoom+n]
	n   int
	err error // the input's error after the n bytes; the goroutine has ended
}

type readAhead struct {
	full chan aheadBlock // goroutine → Next; room for every block, so a send never waits
	free chan *Block     // Next → goroutine; aheadBlocks of them cycle
	quit chan struct{}   // closed by stop
	done chan struct{}   // closed when the goroutine has ended
	cur  *Block          // the block Next's records come from, nil before the first

	mu     sync.Mutex
	pinned int      // blocks with pins, cur included
	spare  []*Block // released blocks that Next moved off while pinned; cap maxPinned
}

// ReadAhead starts reading the input on a goroutine of its own, a block
// ahead of Next, and returns the function that stops it and waits for
// it to end (Close stops it too). The caller owns the goroutine: it
// calls stop before it returns. Next behaves as before, and after stop
// the Reader goes on reading on the caller's goroutine. An input that
// may wait (a pipe: see OnWait) is not read ahead, since the reads that
// wait must come from Next; ReadAhead then does nothing. Calling it
// twice does nothing the second time. stop (and Close) wait for a read
// in progress to return; blocks still pinned stay as they are.
func (r *Reader) ReadAhead() (stop func()) {
	if r.wait != nil || r.ra != nil || r.closed || r.inErr != nil {
		return func() {}
	}
	ra := &readAhead{
		full:  make(chan aheadBlock, aheadBlocks),
		free:  make(chan *Block, aheadBlocks),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		spare: make([]*Block, 0, maxPinned),
	}
	for range aheadBlocks {
		ra.free <- ra.newBlock()
	}
	r.ra = ra
	go ra.run(r.in)
	return func() { r.stopAhead() }
}

func (ra *readAhead) newBlock() *Block {
	return &Block{buf: make([]byte, aheadRoom+aheadData), ra: ra}
}

// BlockOf returns the read-ahead block that data lies in, if it lies
// whole in the block Next returns records from now (so data is a record
// Next returned, or part of one, since the block was last moved to);
// otherwise (no read-ahead, or it has stopped; the first records, read
// before it started; data elsewhere) it returns nil, and data is valid
// only until the next call, as always. Pin the block with Retain before
// the next call to Next.
func (r *Reader) BlockOf(data []byte) *Block {
	ra := r.ra
	if ra == nil || ra.cur == nil || len(data) == 0 {
		return nil
	}
	// By address: noting each record Next returns instead costs Next a
	// store with a write barrier's check per record, and this also
	// tells a copy (a wrapping source's) from the record. Heap objects
	// do not move.
	b := ra.cur
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b.buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if p < base || p-base > uintptr(len(b.buf)) || uintptr(len(data)) > uintptr(len(b.buf))-(p-base) {
		return nil
	}
	return b
}

// Retain pins b: it is not read into again until Release is called as
// many times as Retain succeeded. It must be called on the Reader's
// goroutine before the next call to Next, for the block BlockOf
// returned. It reports false, pinning nothing, when b is no longer the
// block Next reads from or maxPinned blocks are pinned already: then
// the caller copies what it keeps.
func (b *Block) Retain() bool {
	ra := b.ra
	if ra.cur != b {
		return false
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if b.pins == 0 {
		if ra.pinned >= maxPinned {
			return false
		}
		ra.pinned++
	}
	b.pins++
	return true
}

// Release undoes one Retain; the records in b must not be used after
// the last. It may be called on any goroutine, also after the Reader
// has stopped reading ahead or been closed.
func (b *Block) Release() {
	ra := b.ra
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if b.pins <= 0 {
		panic("pcap: Block released more often than retained")
	}
	if b.pins--; b.pins > 0 {
		return
	}
	ra.pinned--
	if b.out {
		b.out = false
		ra.spare = append(ra.spare, b) // within cap: see retire
	}
}

// retire hands b, which Next has moved off, back to the goroutine; a
// pinned block stays out, and a spare (or a new block) goes in its
// place. Blocks beyond the aheadBlocks that cycle are made only while
// none is spare, so there are never more of them than blocks out, and
// those are pinned: the spares never outnumber maxPinned.
func (ra *readAhead) retire(b *Block) {
	ra.mu.Lock()
	if b.pins == 0 {
		ra.mu.Unlock()
		ra.free <- b // never waits: room for every block
		return
	}
	b.out = true
	var s *Block
	if n := len(ra.spare); n > 0 {
		s, ra.spare[n-1] = ra.spare[n-1], nil
		ra.spare = ra.spare[:n-1]
	}
	ra.mu.Unlock()
	if s == nil {
		s = ra.newBlock()
	}
	ra.free <- s
}

// run fills free blocks from in until in fails or stop is called. Each
// read is handed over as it returns, not gathered into a full block: a
// regular file fills the block in one read anyway, and an input that
// dribbles (a named pipe behind a wrapper, where OnWait cannot see it)
// must not have its records held back until a block's worth arrives.
func (ra *readAhead) run(in io.Reader) {
	defer close(ra.done)
	for {
		var b *Block
		select {
		case b = <-ra.free:
		case <-ra.quit:
			return
		}
		var (
			n   int
			err error
		)
		for empty := 0; n == 0 && err == nil; {
			if n, err = in.Read(b.buf[aheadRoom:]); n == 0 && err == nil {
				if empty++; empty >= maxEmptyReads {
					err = io.ErrNoProgress
				}
			}
		}
		ra.full <- aheadBlock{b: b, n: n, err: err}
		if err != nil {
			return
		}
	}
}

func (r *Reader) stopAhead() {
	if r.ra == nil {
		return
	}
	select {
	case <-r.ra.quit:
	default:
		close(r.ra.quit)
	}
	<-r.ra.done
}

// fillAhead is fill while the input is read ahead: each block that
// arrives takes the unread bytes in front of its data.
func (r *Reader) fillAhead(n int) error {
	ra := r.ra
	for r.wp-r.rp < n {
		if r.inErr != nil {
			return r.inErr
		}
		var b aheadBlock
		select {
		case b = <-ra.full:
		case <-ra.done:
			select {
			case b = <-ra.full:
			default:
				// Stopped: the input is the caller's again.
				r.leaveAhead()
				return r.fill(n)
			}
		}
		if b.err != nil {
			r.inErr = b.err
		}
		if ra.cur != nil && len(r.blk)-r.wp >= b.n {
			// A short read (gunzip hands over what one step made) goes
			// after the unread bytes: moving those in front of each
			// short block instead would copy a big record again and
			// again. Pinned records lie before them: untouched.
			r.wp += copy(r.blk[r.wp:], b.b.buf[aheadRoom:aheadRoom+b.n])
			ra.free <- b.b // never waits: room for every block
			continue
		}
		k := r.wp - r.rp
		copy(b.b.buf[aheadRoom-k:aheadRoom], r.blk[r.rp:r.wp])
		if ra.cur != nil {
			ra.retire(ra.cur)
		}
		ra.cur = b.b
		r.blk, r.rp, r.wp = b.b.buf, aheadRoom-k, aheadRoom+b.n
	}
	return nil
}

// leaveAhead ends reading ahead once its goroutine has: fill reads into
// r.blk from now on, in place, so a pinned block leaves its unread bytes
// to a new one and stays out (garbage once released).
func (r *Reader) leaveAhead() {
	ra := r.ra
	r.ra = nil
	cur := ra.cur
	if cur == nil {
		return
	}
	ra.cur = nil
	ra.mu.Lock()
	pinned := cur.pins > 0
	ra.mu.Unlock()
	if !pinned {
		return
	}
	blk := make([]byte, len(r.blk))
	r.wp = copy(blk, r.blk[r.rp:r.wp])
	r.rp, r.blk = 0, blk
}
