package sink

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// Format is a capture file format a Pcap sink writes.
type Format uint8

const (
	// FormatAuto chooses by the file name: ".pcap" (also ".cap",
	// ".dmp") is classic pcap, anything else pcapng, which holds
	// several interfaces and link types.
	FormatAuto Format = iota
	FormatPcap
	FormatPcapNG
)

// FormatFor is the format FormatAuto picks for a file name.
func FormatFor(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pcap", ".cap", ".dmp":
		return FormatPcap
	}
	return FormatPcapNG
}

// PcapOptions configure a Pcap sink; the zero value is useful.
type PcapOptions struct {
	Format      Format // FormatAuto: by the file name (CreatePcap), pcapng for NewPcap
	Application string // pcapng shb_userappl
	// Nanosecond writes classic pcap with nanosecond timestamps
	// (pcapng always has them).
	Nanosecond bool
	// SourceNames name the sources by index ("eth0"): each pcapng
	// interface block of a source carries its name (if_name).
	SourceNames []string
	// Inputs are the files being read: CreatePcap refuses to write over
	// any of them.
	Inputs []string
	// Perm is the mode of a file CreatePcap makes (0: DefaultPerm, 0600).
	Perm os.FileMode
	// Secrets are written as pcapng Decryption Secrets Blocks before any
	// packet (what the inputs carried, so a saved TLS call stays
	// decryptable; --strip-secrets leaves them out). Classic pcap cannot
	// hold them: NewPcap refuses the combination (ErrSecretsInPcap).
	Secrets []pcap.Secrets
	// Direct writes to the final name from the start (still refusing
	// links and inputs), for outputs that run until interrupted (a
	// collector's -w) and must be readable, flushed, while they grow.
	Direct bool
}

// Pcap writes records to a classic pcap or a pcapng file. In pcapng each
// (source, link type) pair gets its own interface block; classic pcap
// takes the link type of the first record and refuses others
// (ErrMixedLinkTypes). It keeps no per-packet state. Not safe for
// concurrent use.
type Pcap struct {
	o      PcapOptions
	w      io.Writer
	c      io.Closer // the file CreatePcap opened, or nil
	ng     *pcap.NgWriter
	cl     *pcap.Writer
	link   pcap.LinkType // classic: the file's link type
	ifaces []iface       // pcapng: interfaces added so far (sources × link types: a handful)
	counts Counts
	closed bool
}

type iface struct {
	source  int
	link    pcap.LinkType
	index   int
	written uint64
}

// CreatePcap writes records to a new file at path: under a temporary
// name beside it, renamed to path by Close, so a file under the final
// name is always complete. It refuses a path that is one of o.Inputs, a
// symbolic link or not a regular file (CheckOutput), and creates the
// file with o.Perm (0600 by default).
func CreatePcap(path string, o PcapOptions) (*Pcap, error) {
	if o.Format == FormatAuto {
		o.Format = FormatFor(path)
	}
	if err := CheckOutput(path, o.Inputs); err != nil {
		return nil, err
	}
	if o.Direct {
		perm := o.Perm
		if perm == 0 {
			perm = DefaultPerm
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oNoFollow, perm)
		if err != nil {
			return nil, err
		}
		s, err := NewPcap(f, o)
		if err != nil {
			f.Close()
			return nil, err
		}
		s.c = f
		return s, nil
	}
	f, err := CreateTemp(path, o.Perm)
	if err != nil {
		return nil, err // *PathError names the file
	}
	af := &atomicFile{f: f, final: path, inputs: o.Inputs}
	s, err := NewPcap(af, o)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	s.c = af
	return s, nil
}

// NewPcap writes records to w (pcapng when o.Format is FormatAuto).
// Close flushes but does not close w.
func NewPcap(w io.Writer, o PcapOptions) (*Pcap, error) {
	if o.Format == FormatAuto {
		o.Format = FormatPcapNG
	}
	s := &Pcap{o: o, w: w}
	if o.Format == FormatPcapNG {
		ng, err := pcap.NewNgWriter(w, pcap.NgWriterOptions{Application: o.Application})
		if err != nil {
			return nil, err
		}
		s.ng = ng
		for _, sec := range o.Secrets {
			if err := ng.WriteSecrets(sec.Type, sec.Data); err != nil {
				return nil, err
			}
		}
	} else if len(o.Secrets) > 0 {
		return nil, ErrSecretsInPcap
	}
	return s, nil
}

// WriteRecord writes one record; p's Timestamp, lengths and LinkType are
// used, its InterfaceIndex is chosen here.
func (s *Pcap) WriteRecord(source int, p pcap.Packet, data []byte) error {
	if s.closed {
		return ErrClosed
	}
	if s.ng != nil {
		idx := -1
		for _, i := range s.ifaces {
			if i.source == source && i.link == p.LinkType {
				idx = i.index
				break
			}
		}
		if idx < 0 {
			var err error
			name := ""
			if source >= 0 && source < len(s.o.SourceNames) {
				name = s.o.SourceNames[source]
			}
			if idx, err = s.ng.AddNamedInterface(p.LinkType, 0, name); err != nil {
				s.counts.Failed++
				return fmt.Errorf("sink: pcapng interface: %w", err)
			}
			s.ifaces = append(s.ifaces, iface{source: source, link: p.LinkType, index: idx})
		}
		p.InterfaceIndex = idx
		if err := s.ng.WritePacket(p, data); err != nil {
			s.counts.Failed++
			return err
		}
		s.ifaces[idx].written++
		s.counts.Written++
		return nil
	}
	if s.cl == nil {
		cl, err := pcap.NewWriter(s.w, pcap.WriterOptions{LinkType: p.LinkType, Nanosecond: s.o.Nanosecond})
		if err != nil {
			return err
		}
		s.cl, s.link = cl, p.LinkType
	}
	if p.LinkType != s.link {
		s.counts.Failed++
		return fmt.Errorf("%w: file is link type %d, record is %d (write a .pcapng)", ErrMixedLinkTypes, s.link, p.LinkType)
	}
	p.InterfaceIndex = 0
	if err := s.cl.WritePacket(p, data); err != nil {
		s.counts.Failed++
		return err
	}
	s.counts.Written++
	return nil
}

// Counts returns what was written.
func (s *Pcap) Counts() Counts { return s.counts }

// Flush writes buffered records to the underlying writer.
func (s *Pcap) Flush() error {
	switch {
	case s.ng != nil:
		return s.ng.Flush()
	case s.cl != nil:
		return s.cl.Flush()
	}
	return nil
}

// InterfaceStatsFunc gives the counters of one pcapng interface: the
// source it belongs to, whether it is that source's first interface in
// the file (a source's counters go on one interface only), and how many
// records this file holds on it.
type InterfaceStatsFunc func(source int, first bool, written uint64) pcap.InterfaceStats

// WriteStats appends an Interface Statistics Block, stamped t, for every
// interface of a pcapng file (a classic pcap has nowhere to put them).
func (s *Pcap) WriteStats(t time.Time, f InterfaceStatsFunc) error {
	if s.ng == nil || s.closed {
		return nil
	}
	seen := map[int]bool{}
	for _, i := range s.ifaces {
		first := !seen[i.source]
		seen[i.source] = true
		if err := s.ng.WriteInterfaceStats(i.index, t, f(i.source, first, i.written)); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes, and closes the file CreatePcap opened. A classic pcap
// that received no record still gets its header (link type Ethernet), so
// the file is a valid, empty capture.
func (s *Pcap) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	switch {
	case s.ng != nil:
		err = s.ng.Flush()
	case s.cl != nil:
		err = s.cl.Flush()
	default:
		var cl *pcap.Writer
		if cl, err = pcap.NewWriter(s.w, pcap.WriterOptions{LinkType: pcap.LinkTypeEthernet, Nanosecond: s.o.Nanosecond}); err == nil {
			err = cl.Flush()
		}
	}
	if s.c != nil {
		err = errors.Join(err, s.c.Close())
	}
	return err
}
