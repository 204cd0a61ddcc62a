package capture

import (
	"bytes"
	"context"
	"sync"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// The pipeline's batches: a batch is handed on when it holds
// pipeEvents events, pipeMsgs parsed SIP messages or pipeBytes bytes of
// records and payloads (pinned or copied), or when the decoder is about
// to wait for a live source. pipeDepth batches cycle between the two goroutines, so
// the steady state allocates nothing and the decoder is at most that
// many batches ahead. A hand-over usually wakes the consumer, which
// waits for the decoder on RTP (the futex calls and the scheduler's
// spinning were a tenth of the CPU of an RTP-heavy run at 256 events a
// batch; 1024 cut the context switches by half and the CPU by ~5%).
// SIP batches stay at 256 messages: each slot's parsed message is
// 1.8 KB with its grown slices.
const (
	pipeEvents = 1024
	pipeMsgs   = 256
	pipeBytes  = 256 << 10
	pipeDepth  = 4
	// pipePins is the most read-ahead blocks a batch pins: pipeBytes
	// span two or three 256 KiB blocks; beyond, it copies.
	pipePins = 4
	// maxReadAhead is the most file sources read ahead (see
	// runPipelined).
	maxReadAhead = 4
)

// pipeBatch holds events whose Record and Payload stay valid until the
// consumer is done with the batch: the decoder's buffers and a source's
// are reused at once. A record read ahead by a pcap.Reader stays where
// it is, in the Reader's block, which the batch pins (pcap.Block, at
// most pipePins of them; the consumer releases them when it hands the
// batch back): no copy, and the read-ahead reads into other blocks
// meanwhile. Every other record, and a payload that does not lie in its
// record (reassembled, decrypted, defragmented), is copied into buf (a
// payload lying in its record shares the record's). Copying every
// record cost the decoding goroutine, the busier one, 6-10 % of its CPU
// on an RTP-heavy capture (3.2 M packets, profiled); on one goroutine,
// with no consumer reading the copies, ~2 % (BenchmarkPipeBatchRead).
// Warnings are kept apart, each with the number of events before it:
// most batches have none, and an error beside every event made each
// slot bigger and reset a walk over all of them.
// A SIP event's message is parsed on the decoding goroutine (add): the
// parse is the largest part of what the store does with a message, so
// the writer's share of a SIP-heavy capture shrinks by as much. Then the
// decoder is the busier of the two (on 200 000 SIP-only calls it ran
// 95 % of the time, the writer 55 %), so a message without a body, which
// the decoder does not need parsed, is left to the writer whenever it
// has no batch waiting: the two share the parses by how busy they are.
type pipeBatch struct {
	evs   []Event
	warns []pipeWarn
	buf   []byte
	size  int // bytes of records and payloads held, copied or pinned
	pins  [pipePins]*pcap.Block
	npin  int
	// msgs hold the batch's parsed SIP (Event.SIP points into it), made
	// with the first SIP event: an RTP-only run's batches stay small for
	// the collector to scan. Each message keeps its grown slices.
	msgs []sipflow.Message
	nmsg int
	// noBody is what the decoder's event gets for a message left to the
	// consumer: a zero Message (no SDP); never written.
	noBody sipflow.Message
}

// pipeWarn is a warning that came after the batch's first at events.
type pipeWarn struct {
	at  int
	err error
}

// newPipeBatch makes a batch; buf is made by the first copy (keep): a
// batch of pinned records has no use for it.
func newPipeBatch() *pipeBatch {
	return &pipeBatch{evs: make([]Event, 0, pipeEvents)}
}

// reset empties the batch, releasing its blocks. The events are
// overwritten by the next use (what they point to is this batch's own
// buffer and messages, or blocks released here); the warnings are
// dropped so the errors can be collected.
func (b *pipeBatch) reset() {
	b.release()
	clear(b.warns)
	b.evs, b.warns, b.buf, b.nmsg, b.size = b.evs[:0], b.warns[:0], b.buf[:0], 0, 0
}

// release unpins the batch's blocks: its events' records must not be
// read after.
func (b *pipeBatch) release() {
	for i := range b.npin {
		b.pins[i].Release()
		b.pins[i] = nil
	}
	b.npin = 0
}

// pin reports whether blk holds for the batch: pinned before, or now.
// A batch meets one or two blocks, each for hundreds of records in a
// row: add looks at the last itself.
func (b *pipeBatch) pin(blk *pcap.Block) bool {
	for i := b.npin - 1; i >= 0; i-- {
		if b.pins[i] == blk {
			return true
		}
	}
	if b.npin == pipePins || !blk.Retain() {
		return false
	}
	b.pins[b.npin] = blk
	b.npin++
	return true
}

func (b *pipeBatch) warn(err error) {
	b.warns = append(b.warns, pipeWarn{at: len(b.evs), err: err})
}

// keep copies p into the batch's buffer. Slices handed out earlier stay
// valid when append moves the buffer: they keep the old array alive
// until the batch is reset, and only the current array is reused.
func (b *pipeBatch) keep(p []byte) []byte {
	if b.buf == nil {
		b.buf = make([]byte, 0, pipeBytes+pipeBytes/4)
	}
	n := len(b.buf)
	b.size += len(p)
	b.buf = append(b.buf, p...)
	return b.buf[n:len(b.buf):len(b.buf)]
}

// add copies ev into the next slot; evs never grows past pipeEvents
// (full hands the batch on first). blk, if not nil, is the read-ahead
// block ev.Record lies in: the record stays there if the batch can pin
// it, and is copied otherwise. A SIP message is parsed here unless
// share is set and its header block ends it: the decoder needs the parse
// only for an SDP body (learnSDP), and the consumer parses what is left
// unparsed (Event.SIP nil) itself. Either way ev.SIP (the decoder's
// event) tells learnSDP what there is to learn.
func (b *pipeBatch) add(ev *Event, share bool, blk *pcap.Block) {
	b.evs = b.evs[:len(b.evs)+1]
	it := &b.evs[len(b.evs)-1]
	*it = *ev
	rec, p := ev.Record, ev.Payload
	switch {
	case rec == nil:
	case blk != nil && (b.npin > 0 && b.pins[b.npin-1] == blk || b.pin(blk)):
		b.size += len(rec) // as if copied: batches span as many bytes as before
	default:
		it.Record = b.keep(rec)
	}
	switch off := int(ev.Layers.Payload); {
	case len(p) == 0:
	case rec != nil && off >= 0 && off+len(p) <= len(rec) && &rec[off] == &p[0]:
		it.Payload = it.Record[off : off+len(p) : off+len(p)]
	default:
		it.Payload = b.keep(p)
	}
	if it.Kind != KindSIP {
		return
	}
	if share && headersOnly(it.Payload) {
		// Left to the consumer (it.SIP nil). The decoder's event gets
		// a message with no SDP, so learnSDP does not scan the bytes
		// for a body again.
		ev.SIP = &b.noBody
		return
	}
	if b.msgs == nil {
		b.msgs = make([]sipflow.Message, pipeMsgs) // never grows: pointers into it stay put
	}
	if m := &b.msgs[b.nmsg]; m.Unmarshal(it.Payload) == nil {
		b.nmsg++
		// Handed back in the decoder's event too: it learns the SDP's
		// media from this parse (learnSDP) instead of its own.
		it.SIP, ev.SIP = m, m
	}
}

// headersOnly reports whether the SIP message p ends with its header
// block: no body, so no SDP (BYE, ACK, most responses).
func headersOnly(p []byte) bool {
	return len(p) >= 4 && string(p[len(p)-4:]) == "\r\n\r\n" && bytes.Index(p, []byte("\r\n\r\n")) == len(p)-4
}

// readAheader is a file source that can read its input on a goroutine
// of its own (pcap.Reader.ReadAhead), stopped by the function returned,
// and tell which of its blocks a record lies in (pcap.Reader.BlockOf).
type readAheader interface {
	ReadAhead() (stop func())
	BlockOf(data []byte) *pcap.Block
}

func (b *pipeBatch) full() bool {
	return len(b.evs)+len(b.warns) >= pipeEvents || b.size >= pipeBytes || b.nmsg >= pipeMsgs
}

// runPipelined is Run with Options.Pipeline: run decodes on a goroutine
// owned here, and fn and warn are called on the caller's goroutine, in
// the order run produced them. When fn fails, the decoder is cancelled
// and waited for before returning.
func runPipelined(ctx context.Context, srcs []Source, o Options, warn func(error), fn func(*Event) error) (Stats, error) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *pipeBatch, pipeDepth)
	free := make(chan *pipeBatch, pipeDepth)
	for range pipeDepth {
		free <- newPipeBatch()
	}
	var (
		st     Stats
		runErr error
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(full)
		cur := <-free
		// ahead[i] is source i when it reads ahead, so that its
		// records can stay in its blocks (see pipeBatch).
		var ahead []readAheader
		// send hands the batch on and, unless last, takes a free one. It
		// fails only when the consumer has gone (pctx cancelled); cur is
		// nil from then on and nothing more is kept.
		send := func(last bool) error {
			if cur == nil {
				return pctx.Err()
			}
			if len(cur.evs) == 0 && len(cur.warns) == 0 {
				return nil
			}
			full <- cur // never blocks: as many slots as batches
			cur = nil
			if last {
				return nil
			}
			select {
			case cur = <-free:
				cur.reset()
				return nil
			case <-pctx.Done():
				return pctx.Err()
			}
		}
		emit := func(ev *Event) error {
			if cur == nil {
				return pctx.Err()
			}
			// The consumer takes body-less parses while it has no
			// batch waiting (see pipeBatch); a batch in the queue
			// means it is the busier one, and the decoder keeps them.
			// Either side's parse is the same function of the same
			// bytes, so results do not depend on who did it.
			var blk *pcap.Block
			if ev.Record != nil && ev.Source < len(ahead) && ahead[ev.Source] != nil {
				// The record in hand: Next has not been called since.
				blk = ahead[ev.Source].BlockOf(ev.Record)
			}
			cur.add(ev, len(full) == 0, blk)
			if cur.full() {
				return send(false)
			}
			return nil
		}
		pwarn := func(err error) {
			if cur == nil {
				return
			}
			cur.warn(err)
			if cur.full() {
				_ = send(false) // a failed send ends run through pctx
			}
		}
		idle := func() { _ = send(false) }
		// Files are read ahead on a goroutine of their own (owned
		// here: stopped when run returns): the read calls then run
		// beside the decoding, on the consumer's side of an RTP-heavy
		// run, which has time to spare, and its records need no copy
		// (see pipeBatch). Not for a merge of many files: each costs
		// 1.7 MB of blocks (and spares while batches pin them) and a
		// goroutine, and the reads of a dozen files at once gain
		// nothing from it on two cores.
		ahead = make([]readAheader, len(srcs))
		n := 0
		for i, s := range srcs {
			if _, ok := liveOf(s); ok {
				continue
			}
			if ra, ok := behind[readAheader](s); ok {
				ahead[i] = ra
				n++
			}
		}
		if n > maxReadAhead {
			ahead = nil
		}
		for _, ra := range ahead {
			if ra != nil {
				// Stopping leaves the blocks that batches pin as they
				// are: the consumer may still be reading them.
				defer ra.ReadAhead()()
			}
		}
		do := o
		do.OnBatchEnd = nil // fn's goroutine calls it, between batches
		st, runErr = run(pctx, srcs, do, pwarn, emit, idle)
		_ = send(true)
	}()

	var fnErr error
	for b := range full {
		w := 0
		for i := range b.evs {
			for ; w < len(b.warns) && b.warns[w].at == i; w++ {
				if warn != nil && fnErr == nil {
					warn(b.warns[w].err)
				}
			}
			if fnErr != nil {
				break
			}
			if fnErr = fn(&b.evs[i]); fnErr != nil {
				cancel()
			}
		}
		for ; w < len(b.warns) && fnErr == nil; w++ { // after the last event
			if warn != nil {
				warn(b.warns[w].err)
			}
		}
		if o.OnBatchEnd != nil {
			o.OnBatchEnd()
		}
		b.release() // here, not when reused: the read-ahead may have the blocks at once
		free <- b   // never blocks
	}
	wg.Wait()
	if fnErr != nil {
		return st, fnErr
	}
	return st, runErr
}
