package recorder

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// fileWriter is one output file being written under its temporary name.
type fileWriter struct {
	f       *os.File
	final   string
	cw      *countWriter
	pc      *pcap.Writer   // classic
	lt      pcap.LinkType  // classic: the file's one link type
	ng      *pcap.NgWriter // pcapng
	ifaces  map[ifaceKey]int
	perIf   []ifaceInfo
	names   []string // source names, for if_name
	pending int64    // bytes buffered, not yet in the file
	records int
	first   time.Time
	last    time.Time
}

// ifaceKey names an input interface: source, the interface index within
// it (pcapng inputs have several) and its link type.
type ifaceKey struct {
	src, idx int
	lt       pcap.LinkType
}

type ifaceInfo struct {
	src       int
	firstOfSr bool // the source's first interface in this file: it carries the source's counters
	written   uint64
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

func newFileWriter(f *os.File, final string, format Format, o Options, first pcap.Packet) (*fileWriter, error) {
	w := &fileWriter{f: f, final: final, cw: &countWriter{f: f}, names: o.SourceNames}
	var err error
	if format == FormatPcap {
		w.lt = first.LinkType
		w.pc, err = pcap.NewWriter(w.cw, pcap.WriterOptions{LinkType: first.LinkType, Snaplen: o.Snaplen, Nanosecond: true})
	} else {
		app := o.Application
		if app == "" {
			app = "voiptool"
		}
		w.ng, err = pcap.NewNgWriter(w.cw, pcap.NgWriterOptions{Application: app})
		w.ifaces = make(map[ifaceKey]int)
	}
	if err != nil {
		return nil, err
	}
	// The header is small: write it through now so that size() counts it.
	if err := w.flush(); err != nil {
		return nil, err
	}
	return w, nil
}

// size is the bytes the file will hold once flushed: what reached the
// file plus what the buffer holds (approximated by the record bytes).
func (w *fileWriter) size() int64 { return w.cw.n + w.pending }

func (w *fileWriter) write(src int, p pcap.Packet, data []byte) error {
	if w.pc != nil {
		if p.LinkType != w.lt {
			return ErrLinkType
		}
		if err := w.pc.WritePacket(p, data); err != nil {
			return err
		}
		w.pending += int64(16 + len(data))
	} else {
		k := ifaceKey{src, p.InterfaceIndex, p.LinkType}
		id, ok := w.ifaces[k]
		if !ok {
			name := ""
			if src >= 0 && src < len(w.names) {
				name = w.names[src]
			}
			var err error
			id, err = w.ng.AddNamedInterface(p.LinkType, 0, name)
			if err != nil {
				return err
			}
			first := true
			for _, pi := range w.perIf {
				if pi.src == src {
					first = false
				}
			}
			w.ifaces[k] = id
			w.perIf = append(w.perIf, ifaceInfo{src: src, firstOfSr: first})
		}
		q := p
		q.InterfaceIndex = id
		if err := w.ng.WritePacket(q, data); err != nil {
			return err
		}
		w.perIf[id].written++
		w.pending += int64(32 + len(data) + 3)
	}
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
	var err error
	if w.pc != nil {
		err = w.pc.Flush()
	} else {
		err = w.ng.Flush()
	}
	w.pending = 0
	return err
}

// writeStats appends an Interface Statistics Block per interface: the
// source's kernel and queue drops (on its first interface), the
// recorder's own losses, and the records this file holds.
func (w *fileWriter) writeStats(counters func(int) SourceCounters, recDrops []atomic.Uint64) {
	now := w.last
	for id, pi := range w.perIf {
		s := pcap.InterfaceStats{Start: w.first, End: w.last, Delivered: pi.written, HasDelivered: true}
		if pi.firstOfSr {
			var c SourceCounters
			if counters != nil {
				c = counters(pi.src)
			}
			if c.HasReceived {
				s.Received, s.HasReceived = c.Received, true
			}
			if c.HasKernel {
				s.IfDrop, s.HasIfDrop = c.KernelDrop, true
			}
			s.OSDrop, s.HasOSDrop = c.QueueDrop, true
			if pi.src >= 0 && pi.src < len(recDrops) {
				s.OSDrop += recDrops[pi.src].Load()
			}
		}
		if err := w.ng.WriteInterfaceStats(id, now, s); err != nil {
			return // the file is still valid without them; close reports I/O errors
		}
	}
}

func (w *fileWriter) close() error {
	err := w.flush()
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
