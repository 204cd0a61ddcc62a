package capture

import (
	"context"
	"errors"
	"io"

	"github.com/voiptool/voiptool/pcap"
)

// Source yields capture records in file order. The returned data must
// stay valid until the next call to Next on the same Source (pcap.Reader
// and live sources do this); Run relies on it to merge without copying.
// Next returns io.EOF at the end.
type Source interface {
	Next() ([]byte, pcap.Packet, error)
}

// ctxCheckEvery is how many records Run decodes between looks at ctx:
// ctx.Err takes a lock, the per-record path should not.
const ctxCheckEvery = 256

type head struct {
	data []byte
	p    pcap.Packet
	ok   bool
}

// Run reads every source, merges their records by capture time (the
// earliest head first, ties to the lower index; within a source, file
// order is kept even when timestamps go backwards), decodes them with
// one Decoder, and calls fn for each Event with Event.Source set to the
// source's index. The Event is reused: see Event.
//
// Per-record problems (decode errors, and source errors other than
// io.EOF) go to warn, if not nil, and reading continues; an unsupported
// link type is warned about once per source and link type. A source
// error ends that source only. Run stops early when ctx is cancelled
// (returning ctx.Err()) or when fn returns an error (returned as is).
// At the end it flushes the decoder, so SIP messages still buffered in
// TCP streams are delivered, and returns the decoder's Stats.
func Run(ctx context.Context, srcs []Source, o Options, warn func(error), fn func(*Event) error) (Stats, error) {
	d := NewDecoder(o)
	heads := make([]head, len(srcs))
	var (
		fnErr  error
		cur    int
		warned map[[2]uint32]bool
	)
	emit := func(ev *Event) {
		if fnErr != nil {
			return
		}
		ev.Source = cur
		fnErr = fn(ev)
	}
	advance := func(i int) {
		data, p, err := srcs[i].Next()
		if err != nil {
			heads[i] = head{}
			if !errors.Is(err, io.EOF) && warn != nil {
				warn(err)
			}
			return
		}
		heads[i] = head{data: data, p: p, ok: true}
	}
	for i := range srcs {
		advance(i)
	}
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return d.Stats(), err
			}
			if o.OnStats != nil {
				o.OnStats(d.Stats())
			}
		}
		best := -1
		for i := range heads {
			if heads[i].ok && (best < 0 || heads[i].p.Timestamp.Before(heads[best].p.Timestamp)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		cur = best
		h := heads[best]
		if err := d.Decode(h.data, h.p, emit); err != nil && warn != nil {
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
		advance(best)
	}
	cur = 0
	d.Flush(emit)
	return d.Stats(), fnErr
}

// Last wraps a Source and remembers the record it returned last. Run
// decodes a source's record before it pulls that source's next one, so
// while fn handles an event, the Last of ev.Source holds the record the
// event came from (unless the event was completed at the end of input by
// Flush; then Packet.Number differs from ev.Packet.Number). Writers that
// save the packets behind events (dump -w, saving a call) use it.
type Last struct {
	Source
	Data   []byte // aliases the source's buffer, valid until its next Next
	Packet pcap.Packet
}

// Next reads through to the wrapped Source and keeps the result.
func (l *Last) Next() ([]byte, pcap.Packet, error) {
	data, p, err := l.Source.Next()
	l.Data, l.Packet = data, p
	return data, p, err
}
