package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/live"
	"github.com/voiptool/voiptool/capture/tlsdec"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/hepsource"
	"github.com/voiptool/voiptool/internal/livecap"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/internal/summary"
	"github.com/voiptool/voiptool/pcap"
)

// maxWarnings bounds what a damaged or hostile capture can print; the
// rest are only counted, and the count is printed at the end.
const maxWarnings = 20

// inputs is the set of opened capture files and interfaces of one
// command.
type inputs struct {
	names   []string // files first, then interfaces, in source order
	readers []*pcap.Reader
	files   []*os.File
	live    []*live.Source
	hep     []*hepsource.Source
	// read counts the file bytes consumed so far and size their total,
	// for the TUI's progress bar (the reader goroutine writes, the UI
	// reads).
	read atomic.Int64
	size int64
	// status receives the counters of a capture.Run a command runs
	// itself (an engine keeps its own).
	status capture.Status
}

// countingReader counts bytes as the capture reader pulls them.
type countingReader struct {
	f *os.File
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Stat lets the capture reader see what it reads: a named FIFO (a
// tcpdump -w writing into it) waits for data like stdin, and the
// reader must hand on what it has before each such wait (OnWait).
func (c countingReader) Stat() (os.FileInfo, error) { return c.f.Stat() }

// openInputs opens every file; a file that cannot be opened fails the
// command, since the user named it and would otherwise get a partial
// answer without noticing.
func openInputs(files []string) (*inputs, error) {
	return openSources(context.Background(), files, livecap.Options{}, nil)
}

// openSources opens files and live interfaces (with the shared capture
// options: filter, ring, snap length). Cancelling ctx ends the live
// captures (their Next reports io.EOF), so the pipeline finishes as it
// does at the end of a file. Warnings (a smaller ring, fragments a
// filter drops) go to warnOut.
func openSources(ctx context.Context, files []string, lo livecap.Options, warnOut io.Writer) (*inputs, error) {
	in := &inputs{}
	for _, f := range files {
		r, err := in.openFile(f)
		if err != nil {
			in.Close()
			return nil, err
		}
		in.names = append(in.names, f)
		in.readers = append(in.readers, r)
	}
	if len(lo.Ifaces) > 0 {
		srcs, warnings, err := lo.Open(ctx)
		if err != nil {
			in.Close()
			return nil, err
		}
		for _, s := range srcs {
			in.names = append(in.names, s.Name())
			in.live = append(in.live, s)
		}
		for _, w := range warnings {
			if warnOut != nil {
				fmt.Fprintf(warnOut, "voiptool: warning: %s\n", w)
			}
		}
	}
	return in, nil
}

func (in *inputs) openFile(name string) (*pcap.Reader, error) {
	if name == "-" {
		return pcap.Open(name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err // *PathError names the file
	}
	if st, err := f.Stat(); err == nil {
		in.size += st.Size()
	}
	r, err := pcap.NewReader(countingReader{f, &in.read}, name)
	if err != nil {
		f.Close()
		return nil, err
	}
	in.files = append(in.files, f)
	return r, nil
}

func (in *inputs) sources() []capture.Source {
	s := make([]capture.Source, 0, len(in.readers)+len(in.live))
	for _, r := range in.readers {
		s = append(s, r)
	}
	for _, l := range in.live {
		s = append(s, l)
	}
	for _, h := range in.hep {
		s = append(s, h)
	}
	return s
}

// fileNames are the names of the file sources, which are the first
// sources (engine.Options.Files), live ones or not after them: their
// messages are re-read from the files, and a save copies their records;
// the live sources' messages are kept by the engine and saved framed.
func (in *inputs) fileNames() []string {
	return in.names[:len(in.readers)]
}

// isLive reports whether any source is an interface or a HEP listener.
func (in *inputs) isLive() bool { return len(in.live) > 0 || len(in.hep) > 0 }

// addHEP adds a HEP listener on addrs as a source (after the files and
// interfaces), named in status lines and recordings.
func (in *inputs) addHEP(addrs []string) error {
	h, err := hepsource.New(addrs, heptransport.ListenOptions{})
	if err != nil {
		return err
	}
	in.hep = append(in.hep, h)
	in.names = append(in.names, h.Name())
	return nil
}

// packets is how many records were read over all files; a command that
// read none at all exits non-zero even when it printed warnings only.
func (in *inputs) packets() int {
	n := 0
	for _, r := range in.readers {
		n += r.Stats().Packets
	}
	if in.isLive() {
		// An interface that saw nothing is not an error: it was quiet.
		n++
	}
	return n
}

// loss is what the live sources lost before decoding (the kernel's and
// our queues' drop counters), for summary.Drops, from the status of the
// capture.Run that read them (in.status, or the engine's).
func (in *inputs) loss(sources []capture.SourceSnapshot, reordered uint64) summary.Loss {
	k, q := capture.SourceDrops(sources)
	return summary.Loss{Kernel: k, Source: q, Reordered: reordered}
}

func (in *inputs) Close() {
	for _, r := range in.readers {
		r.Close()
	}
	for _, f := range in.files {
		f.Close()
	}
	for _, l := range in.live {
		l.Close()
	}
	for _, h := range in.hep {
		h.Close()
	}
}

// warner prints per-record problems to stderr, at most maxWarnings of
// them, and counts the rest.
type warner struct {
	w          io.Writer
	n, dropped int
}

func (w *warner) warn(err error) {
	w.n++
	if w.n > maxWarnings {
		w.dropped++
		return
	}
	fmt.Fprintf(w.w, "voiptool: %v\n", err)
}

func (w *warner) finish() {
	if w.dropped > 0 {
		fmt.Fprintf(w.w, "voiptool: %d more warnings not shown\n", w.dropped)
	}
}

// errNothingRead is returned when every input was empty or unreadable
// from its first record on.
var errNothingRead = errors.New("no packets could be read")

// tlsKeys gathers TLS secrets from the key log file named by --tls-keylog
// (if any) and from the Decryption Secrets Blocks of pcapng inputs
// (editcap --inject-secrets). It returns nil when there are none: TLS is
// then counted and left encrypted. With watch (--keylog-watch) the file
// stays open and is read further whenever a session needs a key it does
// not hold yet (tlsdec.KeyLog.Follow: in packet time, on the capture's
// goroutine, so no goroutine of ours follows it); it may be empty at
// first, as an application's SSLKEYLOGFILE is before its first
// connection. in.Close closes it.
func (in *inputs) tlsKeys(path string, watch bool) (*tlsdec.KeyLog, error) {
	keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
	found := false
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err // *PathError names the file
		}
		if watch {
			in.files = append(in.files, f)
			keys.Follow(f, 0)
			keys.Refresh()
			if st := keys.Stats(); st.FollowErrors > 0 {
				return nil, fmt.Errorf("%s: %s", path, st.FollowError)
			}
		} else {
			defer f.Close()
			if _, err := keys.ReadFrom(f); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if st := keys.Stats(); st.Entries == 0 {
				return nil, fmt.Errorf("%s: no TLS secrets (%d lines, %d malformed, first at %v)", path, st.Lines, st.BadLines, st.BadLine)
			}
		}
		found = true
	}
	for _, r := range in.readers {
		for _, s := range r.Secrets() {
			if s.Type == pcap.SecretsTLSKeyLog {
				keys.ReadFrom(bytes.NewReader(s.Data))
				found = true
			}
		}
	}
	if !found {
		return nil, nil
	}
	return keys, nil
}

// keptSecrets are the decryption secrets (pcapng Decryption Secrets
// Blocks) of the input files, for a pcapng saved from them: kept, as
// editcap keeps them, so the saved packets stay decryptable, unless
// strip (--strip-secrets). Keys given by --tls-keylog are never written.
// A classic pcap cannot hold them: said on warnOut, and left out.
func (in *inputs) keptSecrets(path string, strip bool, warnOut io.Writer) []pcap.Secrets {
	if strip {
		return nil
	}
	var out []pcap.Secrets
	for _, r := range in.readers {
		out = append(out, r.Secrets()...)
	}
	if len(out) > 0 && sink.FormatFor(path) == sink.FormatPcap {
		fmt.Fprintf(warnOut, "voiptool: warning: %s is classic pcap: the %d decryption secrets blocks of the input are not kept (write .pcapng)\n", path, len(out))
		return nil
	}
	return out
}
