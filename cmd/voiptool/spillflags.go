package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/recorder"
)

// spillFlags are --spill-dir and --spill-max: where the SIP messages no
// capture file holds (live capture, stdin, HEP, reassembled TCP/TLS)
// are kept instead of memory (engine.Options.SpillMax).
type spillFlags struct {
	dir string
	max string
}

func (s *spillFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&s.dir, "spill-dir", "", "keep SIP messages no capture file holds (live, stdin, HEP, reassembled TCP/TLS) in a private file in `DIR` instead of memory (default the system's temporary directory; the file is removed at exit)")
	f.StringVar(&s.max, "spill-max", "4GiB", "bound of that spill file (`SIZE`, at most 32GiB): the disk the messages of the calls still held take (those of calls evicted or cleared are given back); past it messages are kept in memory and counted (0: keep them all in memory)")
}

// check validates the flags for command cmd ("" when the command does
// not register them).
func (s *spillFlags) check(cmd string) error {
	if s.max != "" {
		if _, err := recorder.ParseSize(s.max); err != nil {
			return usageErrorf("%s: --spill-max: %v", cmd, err)
		}
	}
	if s.dir != "" {
		if fi, err := os.Stat(s.dir); err != nil || !fi.IsDir() {
			return usageErrorf("%s: --spill-dir %s: not a directory", cmd, s.dir)
		}
	}
	return nil
}

// apply sets the engine's spill options (the defaults when the flags
// were not registered).
func (s *spillFlags) apply(eo *engine.Options) {
	eo.SpillMax = engine.DefaultSpillMax
	if s.max != "" {
		eo.SpillMax, _ = recorder.ParseSize(s.max) // checked by check
	}
	eo.SpillDir = s.dir
}

// writeSpillRefused says what the spill refused (full or failed), for a
// command whose summary has no engine status line (hep-forward): those
// messages were kept in memory, inside the store's budget.
func writeSpillRefused(w io.Writer, sp engine.SpillStats) {
	if sp.Refused+sp.Errors == 0 {
		return
	}
	fmt.Fprintf(w, "voiptool: %d SIP messages kept in memory instead of the spill file (%d spill file errors; raise --spill-max or free --spill-dir)\n", sp.Refused, sp.Errors)
}
