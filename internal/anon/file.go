package anon

import (
	"compress/gzip"
	"errors"
	"fmt"
	"github.com/voiptool/voiptool/capture"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/pcap"
)

// FileOptions configures AnonymizeFile.
type FileOptions struct {
	Options          // what the mapper keeps
	RTP      RTPMode // RTP payloads: silence, drop or keep
	MapPath  string  // write the pseudonym table here; "" writes none
	NoVerify bool    // skip the leak check of the output
	// KeepUnparsed: see CaptureOptions.KeepUnparsed.
	KeepUnparsed bool
}

// FileResult is what AnonymizeFile did.
type FileResult struct {
	Capture     CaptureStats
	Mapper      Stats
	Identifiers int              // originals replaced (the leak check's set)
	Dropped     int              // identifiers beyond the set's bound: the proof is incomplete
	Leaks       *leak.FileReport // nil with NoVerify
	// KeptFieldHits are raw-byte address matches found wholly inside
	// numeric fields kept on purpose (RTP timestamps and SSRCs, RTCP
	// reports, ports, sequence numbers): coincidences, listed, not leaks.
	KeptFieldHits []leak.Hit
}

// AnonymizeFile anonymises the capture in into out (classic pcap stays
// pcap with its link type and timestamp precision; pcapng stays pcapng,
// without interface names or comments; an OUT ending in .gz is
// gzip-compressed), in two passes (LearnCapture, then AnonymizeCapture), and
// then scans every byte of out for every original it replaced
// (leak.ScanFile). A damaged input is anonymised up to the damage and the
// *pcap.FormatError returned with the result.
func AnonymizeFile(in, out string, key Key, o FileOptions) (*FileResult, error) {
	if in == "-" || out == "-" {
		return nil, ErrStdio
	}
	if sameFile(in, out) {
		return nil, fmt.Errorf("%w: %s", ErrSameFile, out)
	}
	m := NewMapper(key, o.Options)
	co := CaptureOptions{RTP: o.RTP, KeepUnparsed: o.KeepUnparsed}
	r, err := pcap.Open(in)
	if err != nil {
		return nil, err
	}
	damage := m.LearnCapture(r, co)
	r.Close()
	if damage != nil && !isFormatError(damage) {
		return nil, damage
	}
	if r, err = pcap.Open(in); err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	var dst io.Writer = f
	var gz *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		gz = gzip.NewWriter(f)
		dst = gz
	}
	res := &FileResult{}
	var w RecordWriter
	var flush func() error
	if r.Format().Kind == pcap.FormatPcapng {
		nw, err := pcap.NewNgWriter(dst, pcap.NgWriterOptions{Application: "voiptool anonymize"})
		if err != nil {
			f.Close()
			return nil, err
		}
		w, flush = &NgInterfaces{W: nw, R: r}, nw.Flush
	} else {
		pw, err := pcap.NewWriter(dst, pcap.WriterOptions{LinkType: r.LinkType(), Nanosecond: r.Format().Nanosecond})
		if err != nil {
			f.Close()
			return nil, err
		}
		w, flush = pw, pw.Flush
	}
	st, runErr := m.AnonymizeCapture(r, w, co)
	res.Capture = st
	if err := flush(); err != nil {
		f.Close()
		return res, err
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			f.Close()
			return res, err
		}
	}
	if err := f.Close(); err != nil {
		return res, err
	}
	if runErr != nil && !isFormatError(runErr) {
		return res, runErr
	}
	res.Mapper = m.Stats
	res.Identifiers = m.Identifiers().Len()
	res.Dropped = m.Identifiers().Dropped
	if o.MapPath != "" {
		if err := writeMap(m, o.MapPath); err != nil {
			return res, err
		}
	}
	if !o.NoVerify {
		rep, err := leak.ScanFile(out, leak.NewChecker(m.Identifiers()), 0)
		if err != nil {
			return res, err
		}
		if res.KeptFieldHits, err = keptFieldHits(out, rep, capture.Options{}); err != nil {
			return res, err
		}
		res.Leaks = rep
	}
	return res, runErr
}

func writeMap(m *Mapper, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) // as personal as the capture
	if err != nil {
		return err
	}
	if err := m.WriteMap(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func isFormatError(err error) bool {
	var fe *pcap.FormatError
	return errors.As(err, &fe)
}

func sameFile(a, b string) bool {
	if a == "-" || b == "-" {
		return false
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 == nil && err2 == nil {
		return os.SameFile(sa, sb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}
