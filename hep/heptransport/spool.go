package heptransport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Spool file format: a sequence of records, each a 4-byte big-endian length
// followed by that many bytes of one encoded HEP packet. Records are
// appended at the end and read from the front; when the reader catches up
// with the writer the file is truncated to zero, so a drained spool costs
// nothing. A spool left by a previous run is drained too.
const (
	spoolHdrLen  = 4
	maxRecordLen = 65535 // a HEP packet never exceeds the u16 length field
)

// spool is one target's disk overflow. Not safe for concurrent use;
// target.mu guards it.
type spool struct {
	f       *os.File
	path    string
	max     int64
	rd, wr  int64
	scratch []byte
	hdr     [spoolHdrLen]byte
	corrupt uint64 // records discarded as torn
}

// spoolName maps a target to a file name that is safe on every OS.
func spoolName(a Addr) string {
	r := strings.NewReplacer(":", "_", "[", "", "]", "", "/", "_", "\\", "_")
	return r.Replace(a.String()) + ".spool"
}

func openSpool(dir string, a Addr, max int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("heptransport: spool dir: %w", err)
	}
	path := filepath.Join(dir, spoolName(a))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("heptransport: spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("heptransport: spool: %w", err)
	}
	return &spool{f: f, path: path, max: max, wr: st.Size()}, nil
}

// backlog is the number of spooled bytes not read back yet.
func (s *spool) backlog() int64 { return s.wr - s.rd }

func (s *spool) append(b []byte) error {
	if len(b) > maxRecordLen {
		return fmt.Errorf("%w: %d-byte record", ErrSpoolCorrupt, len(b))
	}
	if s.wr+int64(spoolHdrLen+len(b)) > s.max {
		return fmt.Errorf("%w: %d of %d bytes used", ErrSpoolFull, s.wr, s.max)
	}
	binary.BigEndian.PutUint32(s.hdr[:], uint32(len(b)))
	s.scratch = append(append(s.scratch[:0], s.hdr[:]...), b...)
	if _, err := s.f.WriteAt(s.scratch, s.wr); err != nil {
		return fmt.Errorf("heptransport: spool write at offset %d: %w", s.wr, err)
	}
	s.wr += int64(len(s.scratch))
	if cap(s.scratch) > maxRetainedCap {
		s.scratch = nil
	}
	return nil
}

// next reads the oldest record into dst[:0]. io.EOF when empty. A torn or
// impossible record (crash mid-append) discards the rest of the file with
// ErrSpoolCorrupt.
func (s *spool) next(dst []byte) ([]byte, error) {
	if s.rd >= s.wr {
		return dst[:0], io.EOF
	}
	if _, err := s.f.ReadAt(s.hdr[:], s.rd); err != nil {
		return dst[:0], s.discard(fmt.Errorf("%w: header at offset %d: %w", ErrSpoolCorrupt, s.rd, err))
	}
	n := int64(binary.BigEndian.Uint32(s.hdr[:]))
	if n == 0 || n > maxRecordLen || s.rd+spoolHdrLen+n > s.wr {
		return dst[:0], s.discard(fmt.Errorf("%w: length %d at offset %d, %d bytes left", ErrSpoolCorrupt, n, s.rd, s.wr-s.rd-spoolHdrLen))
	}
	if int64(cap(dst)) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	if _, err := s.f.ReadAt(dst, s.rd+spoolHdrLen); err != nil && !errors.Is(err, io.EOF) {
		return dst[:0], s.discard(fmt.Errorf("heptransport: spool read at offset %d: %w", s.rd, err))
	}
	s.rd += spoolHdrLen + n
	if s.rd == s.wr {
		return dst, s.reset()
	}
	return dst, nil
}

func (s *spool) discard(err error) error {
	s.corrupt++
	if rerr := s.reset(); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// reset empties the file once everything in it was read.
func (s *spool) reset() error {
	s.rd, s.wr = 0, 0
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("heptransport: spool truncate: %w", err)
	}
	return nil
}

func (s *spool) close() error { return s.f.Close() }

// saveFront is the spool's last act before it is closed: it puts pkts
// (oldest first, all older than the backlog) in front of the records not
// read back yet, and drops the records already read, so that the next
// run sends exactly what this one did not, in order. The new content is
// written under a temporary name and renamed over the spool, so a crash
// meanwhile leaves the old spool whole (then records read back may be
// sent again: at least once, never lost). As many of pkts as fit within
// the spool's bound are saved, the oldest first; it returns how many.
// The spool is closed on return, whatever happened.
func (s *spool) saveFront(pkts [][]byte) (saved int, err error) {
	if len(pkts) == 0 && s.rd == 0 {
		return 0, s.close()
	}
	size := s.backlog()
	n := 0
	for _, b := range pkts {
		if len(b) > maxRecordLen || size+int64(spoolHdrLen+len(b)) > s.max {
			break
		}
		size += int64(spoolHdrLen + len(b))
		n++
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
	if err != nil {
		return 0, errors.Join(fmt.Errorf("heptransport: spool at exit: %w", err), s.close())
	}
	fail := func(err error) (int, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return 0, errors.Join(fmt.Errorf("heptransport: spool at exit: %w", err), s.close())
	}
	w := bufio.NewWriter(tmp)
	for _, b := range pkts[:n] {
		binary.BigEndian.PutUint32(s.hdr[:], uint32(len(b)))
		w.Write(s.hdr[:])
		w.Write(b) // a write error sticks in w and is returned by Flush
	}
	if _, err := io.Copy(w, io.NewSectionReader(s.f, s.rd, s.backlog())); err != nil {
		return fail(err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	// The old file is closed before it is replaced: some systems
	// (Windows) refuse to rename over an open file.
	cerr := s.close()
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		os.Remove(tmp.Name())
		return 0, errors.Join(fmt.Errorf("heptransport: spool at exit: %w", err), cerr)
	}
	s.rd, s.wr = 0, size
	return n, cerr
}
