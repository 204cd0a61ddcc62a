package recorder

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
)

// fileWriter is one output file being written under its temporary name,
// through the one pcap/pcapng writer every command uses (sink.Pcap).
type fileWriter struct {
	f       *os.File
	final   string
	cw      *countWriter
	out     *sink.Pcap
	pending int64 // bytes buffered in out, not yet in the file (estimated)
	records int
	first   time.Time
	last    time.Time
}

type countWriter struct {
	f *os.File
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	c.n += int64(n)
	return n, err
}

func newFileWriter(f *os.File, final string, format sink.Format, o Options) (*fileWriter, error) {
	app := o.Application
	if app == "" {
		app = "voiptool"
	}
	w := &fileWriter{f: f, final: final, cw: &countWriter{f: f}}
	out, err := sink.NewPcap(w.cw, sink.PcapOptions{Format: format, Application: app, Nanosecond: true, SourceNames: o.SourceNames, Secrets: secretsFor(format, o.Secrets)})
	if err != nil {
		return nil, err
	}
	w.out = out
	// The header is small: write it through now so that size() counts it.
	if err := w.flush(); err != nil {
		return nil, err
	}
	return w, nil
}

// size is the bytes the file will hold once flushed: what reached the
// file plus an upper estimate of what the buffer holds.
func (w *fileWriter) size() int64 { return w.cw.n + w.pending }

// write writes one record; a record of a link type a classic pcap file
// cannot hold returns ErrLinkType.
func (w *fileWriter) write(src int, p pcap.Packet, data []byte) error {
	if err := w.out.WriteRecord(src, p, data); err != nil {
		if errors.Is(err, sink.ErrMixedLinkTypes) {
			return ErrLinkType
		}
		return err
	}
	w.pending += int64(36 + len(data)) // EPB framing and padding, or a pcap record header
	if w.records == 0 {
		w.first = p.Timestamp
	}
	w.records++
	if p.Timestamp.After(w.last) {
		w.last = p.Timestamp
	}
	return nil
}

func (w *fileWriter) flush() error {
	err := w.out.Flush()
	w.pending = 0
	return err
}

// writeStats appends an Interface Statistics Block per interface: the
// source's kernel and queue drops (on its first interface), the
// recorder's own losses, and the records this file holds.
func (w *fileWriter) writeStats(counters func(int) SourceCounters, recDrops []atomic.Uint64) error {
	return w.out.WriteStats(w.last, func(src int, first bool, written uint64) pcap.InterfaceStats {
		s := pcap.InterfaceStats{Start: w.first, End: w.last, Delivered: written, HasDelivered: true}
		if !first {
			return s
		}
		var c SourceCounters
		if counters != nil {
			c = counters(src)
		}
		if c.HasReceived {
			s.Received, s.HasReceived = c.Received, true
		}
		if c.HasKernel {
			s.IfDrop, s.HasIfDrop = c.KernelDrop, true
		}
		s.OSDrop, s.HasOSDrop = c.QueueDrop, true
		if src >= 0 && src < len(recDrops) {
			s.OSDrop += recDrops[src].Load()
		}
		return s
	})
}

func (w *fileWriter) close() error {
	err := w.out.Close() // flushes; the file itself is closed here
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// secretsFor leaves secrets out of classic pcap, which cannot hold them.
func secretsFor(f sink.Format, s []pcap.Secrets) []pcap.Secrets {
	if f == sink.FormatPcap {
		return nil
	}
	return s
}
