package engine

import (
	"fmt"
	"os"
	"sync"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// rawFiles re-reads SIP messages from the capture files the engine read
// (sipflow.RawReader), so the store keeps per message only where it lies:
// the capture file is the message store. Only plain (uncompressed,
// seekable) files named in Options.Files qualify; every other source's
// messages stay in memory.
type rawFiles struct {
	mu    sync.Mutex
	names []string      // by source index; "" when not re-readable
	fmts  []pcap.Format // by source index
	files []*os.File    // opened on first use, kept for the engine's life
}

// formatter is a source that knows its container format (pcap.Reader).
type formatter interface{ Format() pcap.Format }

// bind records which of srcs can be re-read: those named in files (the
// first sources) whose reader reports an uncompressed format.
func (r *rawFiles) bind(files []string, srcs []capture.Source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, name := range files {
		if i >= len(srcs) || name == "" || name == "-" {
			continue
		}
		s := srcs[i]
		for {
			w, ok := s.(capture.Wrapper)
			if !ok {
				break
			}
			s = w.Unwrap()
		}
		f, ok := s.(formatter)
		if !ok || f.Format().Compressed {
			continue
		}
		for len(r.names) <= i {
			r.names, r.fmts, r.files = append(r.names, ""), append(r.fmts, pcap.Format{}), append(r.files, nil)
		}
		r.names[i], r.fmts[i] = name, f.Format()
	}
}

// Rereadable implements sipflow.RawReader.
func (r *rawFiles) Rereadable(source int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return source >= 0 && source < len(r.names) && r.names[source] != ""
}

// ReadRaw implements sipflow.RawReader: the record is re-read at its
// offset (pcap.ReadRecordAt) and the message cut out of it.
func (r *rawFiles) ReadRaw(meta *sipflow.Meta, off, n int, buf []byte) ([]byte, error) {
	r.mu.Lock()
	src := meta.Source
	if src < 0 || src >= len(r.names) || r.names[src] == "" {
		r.mu.Unlock()
		return nil, fmt.Errorf("source %d is not a re-readable file", src)
	}
	f, format := r.files[src], r.fmts[src]
	if f == nil {
		var err error
		if f, err = os.Open(r.names[src]); err != nil {
			r.mu.Unlock()
			return nil, err
		}
		r.files[src] = f // closed with the engine (os.File's cleanup)
	}
	r.mu.Unlock()
	rec, err := pcap.ReadRecordAt(f, format, meta.Record, buf)
	if err != nil {
		return nil, err
	}
	if off < 0 || n < 0 || off+n > len(rec) {
		return nil, fmt.Errorf("%s record %d: message at %d+%d beyond its %d bytes", r.names[src], meta.Record.Number, off, n, len(rec))
	}
	return rec[off : off+n], nil
}

// close closes the files opened to re-read messages; a later ReadRaw
// opens them again.
func (r *rawFiles) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	for i, f := range r.files {
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			r.files[i] = nil
		}
	}
	return err
}
