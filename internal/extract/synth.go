package extract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// synthMsg is a message no capture file holds, with the bytes the store
// kept (in memory or in the engine's spill file).
type synthMsg struct {
	meta sipflow.Meta
	raw  string
}

// rereadable reports whether m's record can be read again from a file of
// files: the source is one of them (not stdin) and the record is known.
// Anything else (a live interface, a HEP listener, stdin, a message with
// no record) is framed from the stored bytes instead.
func rereadable(m *sipflow.Meta, files []string) bool {
	return m.Source >= 0 && m.Source < len(files) && files[m.Source] != "" && files[m.Source] != "-" &&
		m.Record.CaptureLength != 0
}

// frameProto is the transport a message is framed on: TCP for the
// stream transports (TLS and WebSocket as the plaintext SIP they carried,
// between the same endpoints), UDP for UDP and SCTP (one message per
// datagram, as SCTP delivers them).
func frameProto(t sipflow.Transport) uint8 {
	switch t {
	case sipflow.TransportTCP, sipflow.TransportTLS, sipflow.TransportWS, sipflow.TransportWSS:
		return frame.ProtoTCP
	}
	return frame.ProtoUDP
}

// framer writes the messages no file holds as synthetic Ethernet/IP/UDP
// or TCP frames (internal/frame), merged by time into the records that
// are re-read from the files. Each source's frames go to a pcapng
// interface of their own, named so a reader sees they were synthesized;
// the files' interfaces stay as they were.
type framer struct {
	msgs    []synthMsg // by time
	next    int
	b       *frame.Builder
	buf     []byte
	base    int // interface source index of source 0's frames
	top     int // the highest source a framed message may have
	written int
	failed  int // could not be framed: no address, too large
	maxHeld int // writeAll's bound on the bytes loaded at once
	chunks  int // chunks writeAll wrote
}

// maxHeldBytes bounds the stored bytes a save that frames every message
// (a live capture's calls) holds at once: the calls are loaded and
// written a chunk at a time, so saving every call of a long live run
// does not need their messages in memory together (the store's budget
// kept most of them in the spill file).
const maxHeldBytes = 16 << 20

// newFramer sorts msgs by time (a stable sort keeps the store's order
// of messages seen at the same time, as in one TCP segment); sources is
// how many sources the messages come from, files included: source s's
// frames go to interface sources+s, never sharing a file's.
func newFramer(msgs []synthMsg, sources int) *framer {
	f := &framer{b: frame.NewBuilder(frame.Options{}), base: sources, top: max(sources, 1) - 1, maxHeld: maxHeldBytes}
	f.load(msgs)
	return f
}

// load makes msgs, sorted by time, the messages to write next.
func (f *framer) load(msgs []synthMsg) {
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].meta.Time.Before(msgs[j].meta.Time) })
	f.msgs, f.next = msgs, 0
}

// names are the pcapng interface names of the synthesized frames, by
// sink source index ("" for the files', which keep no name).
func (f *framer) names() []string {
	if f == nil {
		return nil
	}
	names := make([]string, f.base+f.top+1)
	for s := 0; s <= f.top; s++ {
		names[f.base+s] = fmt.Sprintf("voiptool: SIP of source %d framed from the store", s)
	}
	return names
}

// writeAll writes the messages of the calls ids to fh as a pcapng file
// of their own (no file holds any of the calls' records). The calls'
// bytes are loaded (load, a call at a time) and written a chunk of calls
// at a time, each chunk in time order: a chunk ends once it holds
// f.maxHeld bytes, so at most that plus one call's are held. Calls are
// chunked in the order given (the store's, by first message), so the
// file is in time order except where calls of two chunks overlap.
func (f *framer) writeAll(ctx context.Context, fh *os.File, secrets []pcap.Secrets, load func(ids []string) ([]synthMsg, error), ids []string) (int, error) {
	w, err := newWriter(fh, secrets, f)
	if err != nil {
		return 0, err
	}
	n, held := 0, 0
	var msgs []synthMsg
	flush := func() error {
		f.load(msgs)
		f.chunks++
		k, err := f.writeRest(ctx, w)
		n += k
		clear(msgs) // the bytes go with the chunk
		msgs, held = msgs[:0], 0
		return err
	}
	for i := range ids {
		more, err := load(ids[i : i+1])
		if err != nil {
			return n, err
		}
		for j := range more {
			held += len(more[j].raw)
		}
		msgs = append(msgs, more...)
		if held >= f.maxHeld {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if len(msgs) > 0 {
		if err := flush(); err != nil {
			return n, err
		}
	}
	return n, w.Flush()
}

// writeBefore writes the frames of the messages seen before t (a record
// re-read from a file at t goes after them, and after none seen later).
// A nil framer has nothing to write.
func (f *framer) writeBefore(ctx context.Context, w *sink.Pcap, t time.Time) (int, error) {
	return f.write(ctx, w, t, true)
}

// writeRest writes the frames of every message not written yet.
func (f *framer) writeRest(ctx context.Context, w *sink.Pcap) (int, error) {
	return f.write(ctx, w, time.Time{}, false)
}

// write writes the frames of the messages not written yet, those seen
// before t when bounded.
func (f *framer) write(ctx context.Context, w *sink.Pcap, t time.Time, bounded bool) (int, error) {
	n := 0
	for f != nil && f.next < len(f.msgs) && (!bounded || f.msgs[f.next].meta.Time.Before(t)) {
		ok, err := f.writeNext(ctx, w)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// writeNext frames and writes the next message; a message that cannot be
// framed is counted in f.failed and skipped.
func (f *framer) writeNext(ctx context.Context, w *sink.Pcap) (bool, error) {
	if f.next%progressEvery == 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	m := &f.msgs[f.next]
	f.next++
	f.buf = append(f.buf[:0], m.raw...)
	data, err := f.b.Build(m.meta.Src, m.meta.Dst, frameProto(m.meta.Transport), m.meta.Time, f.buf)
	if errors.Is(err, frame.ErrNoAddress) || errors.Is(err, frame.ErrTooLarge) {
		f.failed++
		return false, nil
	}
	if err != nil {
		return false, err
	}
	p := pcap.Packet{Timestamp: m.meta.Time, CaptureLength: len(data), Length: len(data), LinkType: pcap.LinkTypeEthernet}
	if err := w.WriteRecord(f.base+max(m.meta.Source, 0), p, data); err != nil {
		return false, err
	}
	f.written++
	return true, nil
}

// notSaved lists what a save left out while writing the rest: each
// error is a counted sentinel (ErrMessagesNotSaved, ErrMediaNotKept) or
// a read error of a file. It reads as one line, for a status bar.
type notSaved []error

func (e notSaved) Error() string {
	s := make([]string, len(e))
	for i, err := range e {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (e notSaved) Unwrap() []error { return e }

// orNil is e as an error, nil when e is empty.
func (e notSaved) orNil() error {
	if len(e) == 0 {
		return nil
	}
	if len(e) == 1 {
		return e[0]
	}
	return e
}
