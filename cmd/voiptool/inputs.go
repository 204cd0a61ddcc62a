package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// maxWarnings bounds what a damaged or hostile capture can print; the
// rest are only counted, and the count is printed at the end.
const maxWarnings = 20

// inputs is the set of opened capture files of one command.
type inputs struct {
	names   []string
	readers []*pcap.Reader
}

// openInputs opens every file; a file that cannot be opened fails the
// command, since the user named it and would otherwise get a partial
// answer without noticing.
func openInputs(files []string) (*inputs, error) {
	in := &inputs{}
	for _, f := range files {
		r, err := pcap.Open(f)
		if err != nil {
			in.Close()
			return nil, err
		}
		in.names = append(in.names, f)
		in.readers = append(in.readers, r)
	}
	return in, nil
}

func (in *inputs) sources() []capture.Source {
	s := make([]capture.Source, len(in.readers))
	for i, r := range in.readers {
		s[i] = r
	}
	return s
}

// packets is how many records were read over all files; a command that
// read none at all exits non-zero even when it printed warnings only.
func (in *inputs) packets() int {
	n := 0
	for _, r := range in.readers {
		n += r.Stats().Packets
	}
	return n
}

func (in *inputs) Close() {
	for _, r := range in.readers {
		r.Close()
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
