package pcap

import "io"

// Read-ahead: the input is read on a goroutine of its own into a few
// blocks, one ahead of the one Next returns records from, so the read
// calls (the kernel's copy from the page cache, or gunzipping) run
// beside the caller's decoding instead of in its way. Each block has
// room in front for the unread end of the one before: a record that
// straddles two blocks is moved there, in front of the rest of it, and
// is whole in the next block.
const (
	aheadRoom   = maxBlockLength // the most a record needs
	aheadData   = maxBlock       // bytes read into a block
	aheadBlocks = 3              // being read, ready, in use by Next
)

type aheadBlock struct {
	buf []byte // aheadRoom of room, then the data read at buf[aheadRoom:aheadRoom+n]
	n   int
	err error // the input's error after the n bytes; the goroutine has ended
}

type readAhead struct {
	full chan aheadBlock // goroutine → Next; room for every block, so a send never waits
	free chan []byte     // Next → goroutine
	quit chan struct{}   // closed by stop
	done chan struct{}   // closed when the goroutine has ended
	cur  []byte          // the block Next's records come from, nil before the first
}

// ReadAhead starts reading the input on a goroutine of its own, a block
// ahead of Next, and returns the function that stops it and waits for
// it to end (Close stops it too). The caller owns the goroutine: it
// calls stop before it returns. Next behaves as before, and after stop
// the Reader goes on reading on the caller's goroutine. An input that
// may wait (a pipe: see OnWait) is not read ahead, since the reads that
// wait must come from Next; ReadAhead then does nothing. Calling it
// twice does nothing the second time. stop (and Close) wait for a read
// in progress to return.
func (r *Reader) ReadAhead() (stop func()) {
	if r.wait != nil || r.ra != nil || r.closed || r.inErr != nil {
		return func() {}
	}
	ra := &readAhead{
		full: make(chan aheadBlock, aheadBlocks),
		free: make(chan []byte, aheadBlocks),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range aheadBlocks {
		ra.free <- make([]byte, aheadRoom+aheadData)
	}
	r.ra = ra
	go ra.run(r.in)
	return func() { r.stopAhead() }
}

// run fills free blocks from in until in fails or stop is called. Each
// read is handed over as it returns, not gathered into a full block: a
// regular file fills the block in one read anyway, and an input that
// dribbles (a named pipe behind a wrapper, where OnWait cannot see it)
// must not have its records held back until a block's worth arrives.
func (ra *readAhead) run(in io.Reader) {
	defer close(ra.done)
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.quit:
			return
		}
		var (
			n   int
			err error
		)
		for empty := 0; n == 0 && err == nil; {
			if n, err = in.Read(buf[aheadRoom:]); n == 0 && err == nil {
				if empty++; empty >= maxEmptyReads {
					err = io.ErrNoProgress
				}
			}
		}
		ra.full <- aheadBlock{buf: buf, n: n, err: err}
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
				r.ra = nil
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
			// again.
			r.wp += copy(r.blk[r.wp:], b.buf[aheadRoom:aheadRoom+b.n])
			ra.free <- b.buf // never waits: room for every block
			continue
		}
		k := r.wp - r.rp
		copy(b.buf[aheadRoom-k:aheadRoom], r.blk[r.rp:r.wp])
		if ra.cur != nil {
			ra.free <- ra.cur
		}
		ra.cur = b.buf
		r.blk, r.rp, r.wp = b.buf, aheadRoom-k, aheadRoom+b.n
	}
	return nil
}
