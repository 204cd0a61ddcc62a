package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/voiptool/voiptool/capture/srtpdec"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/procmem"
	"github.com/voiptool/voiptool/internal/recorder"
	"github.com/voiptool/voiptool/internal/summary"
)

// loadOptions are the input flags every analysing command shares.
type loadOptions struct {
	files       []string
	noHeuristic bool
	quiet       bool
	tlsKeylog   string
	srtpKeys    []string // --srtp-key, checked by checkLimits
	keylogWatch bool
	strip       bool // --strip-secrets (commands that save pcapng: open, capture)
	maxCalls    int
	maxMemory   string
	workers     int // --workers; 0: by the CPUs
	spill       spillFlags
}

// addWorkersFlag registers --workers.
func (o *loadOptions) addWorkersFlag(f *pflag.FlagSet) {
	f.IntVar(&o.workers, "workers", 0, "goroutines the analysis runs on: 1 reads, decodes and analyses on one; 2 decodes on a second one, ahead of the analysis, and decides the calls' problems at the end on both (default 2 with 2 or more CPUs)")
}

// pipelined says whether the engine decodes on a goroutine of its own
// (capture.Options.Pipeline): with one CPU the hand-over costs more
// than it gains.
func (o *loadOptions) pipelined() bool {
	w := o.workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return w >= 2
}

// load reads every file through the engine to the end and returns it
// ready for reports. Per-record problems go to stderr (bounded), and a
// one-line summary follows unless quiet.
func load(ctx context.Context, ios *ioStreams, o *loadOptions, eo engine.Options) (*engine.Engine, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	in, err := openInputs(o.files)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	eo.Capture.NoRTPHeuristic = o.noHeuristic
	if eo.Capture.Stream.TLSKeys, err = in.tlsKeys(o.tlsKeylog, o.keylogWatch); err != nil {
		return nil, err
	}
	o.storeLimits(&eo)
	eo.Capture.Pipeline = o.pipelined()
	eo.SRTPKeys, _ = o.srtpKeyList()
	eo.Files = in.fileNames() // messages are re-read from the files when a call is opened
	e := engine.New(eo)
	w := &warner{w: ios.ErrOut}
	_, err = e.Run(ctx, in.sources(), w.warn)
	w.finish()
	if err != nil {
		_ = e.Close()
		return nil, err
	}
	if !o.quiet {
		writeStatus(ios, e.Status(), "")
	}
	if in.packets() == 0 {
		_ = e.Close()
		return nil, errNothingRead
	}
	return e, nil // the caller closes it
}

// addInputFlags registers the flags every analysing command shares.
func (o *loadOptions) addInputFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, .gz, - for stdin); repeatable")
	f.BoolVar(&o.noHeuristic, "no-rtp-heuristic", false, "find RTP/RTCP only on ports learned from SDP")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary on stderr")
	o.addKeyFlags(f)
	o.addWorkersFlag(f)
	f.IntVar(&o.maxCalls, "max-calls", 0, "hold at most `N` dialogs (default 1000000); the oldest closed ones are evicted first, and counted")
	f.StringVar(&o.maxMemory, "max-memory", "", "memory budget for held calls, messages, RTP reports and TCP reassembly, and the Go heap's soft limit (`SIZE`, default 1GiB)")
}

// addKeyFlags registers --tls-keylog, --keylog-watch and --srtp-key.
func (o *loadOptions) addKeyFlags(f *pflag.FlagSet) {
	f.StringVar(&o.tlsKeylog, "tls-keylog", "", "decrypt SIP over TLS with the secrets in `FILE` (NSS key log: SSLKEYLOGFILE, openssl -keylogfile)")
	f.StringVar(&o.tlsKeylog, "keylog", "", "the same as --tls-keylog")
	_ = f.MarkHidden("keylog") // the spelling issue 16 and sipnab use; --tls-keylog is shown
	f.BoolVar(&o.keylogWatch, "keylog-watch", false, "keep reading the --tls-keylog file as an application writes it (keys logged after the capture started)")
	f.StringArrayVar(&o.srtpKeys, "srtp-key", nil, "decrypt SRTP/SRTCP of one SSRC with a key learned out of band: `SSRC:BASE64` (suite from the key length) or SSRC:SUITE:BASE64; repeatable")
}

// addStripFlag registers --strip-secrets, for commands whose UI saves calls to pcapng.
func (o *loadOptions) addStripFlag(f *pflag.FlagSet) {
	f.BoolVar(&o.strip, "strip-secrets", false, "calls saved to pcapng leave out the decryption secrets the input carries (by default they are kept, so a saved TLS call stays decryptable)")
}

// checkKeys validates --srtp-key and --keylog-watch.
func (o *loadOptions) checkKeys(cmd string) error {
	if _, err := o.srtpKeyList(); err != nil {
		return usageErrorf("%s: --srtp-key: %v", cmd, err)
	}
	if o.keylogWatch && o.tlsKeylog == "" {
		return usageErrorf("%s: --keylog-watch needs --tls-keylog FILE", cmd)
	}
	return nil
}

// srtpKeyList parses every --srtp-key.
func (o *loadOptions) srtpKeyList() ([]srtpdec.SSRCKey, error) {
	var out []srtpdec.SSRCKey
	for _, a := range o.srtpKeys {
		ssrc, k, err := srtpdec.ParseKeyArg(a)
		if err != nil {
			return nil, err
		}
		out = append(out, srtpdec.SSRCKey{SSRC: ssrc, Key: k})
	}
	return out, nil
}

// storeLimits applies --max-memory and --max-calls (checked by
// checkLimits) to the engine's tables; see applyBudget; and the spill
// file's flags.
func (o *loadOptions) storeLimits(eo *engine.Options) {
	eo.Store.MaxCalls = o.maxCalls
	applyBudget(eo, o.maxMemory)
	o.spill.apply(eo)
}

// defaultMaxMemory is --max-memory's default: the store's share holds
// some 200 000 calls at their measured ~3 KB each.
const defaultMaxMemory = 1 << 30

// applyBudget shares a --max-memory budget (the default when "") out
// between the engine's tables and asks the Go runtime to keep the heap
// near it. The shares leave room for what the tables undercount and
// what none counts, so that the live heap stays below the budget. First
// fixedReserve is kept out: what does not grow with the budget. Of the
// rest:
//
//   - the call store, 9/16: it counts about 8 % less than it holds
//     (measured at 256 MiB: 218 MB held for 201 MB counted);
//   - live RTP streams with their SDP announcements and codec hints,
//     1/16, and the final reports of finished streams, 1/16 (the end of
//     a run adds the live streams' reports, less than the streams);
//     both measured on the heap (rtpstats TestFinishedListHeap);
//   - the remaining 3/16: the reports the commands build, the runtime's
//     own memory beside the heap (free spans, metadata), and what the
//     counts miss.
//
// TCP reassembly has an eighth of the whole budget, as the summary line
// says, counted by capacity (about 1.4 times that on the heap with the
// connections' own state).
//
// What the store leaves unused of its share is lent to the live streams
// and final reports (engine.Options.LendStoreShare): an RTP-heavy
// capture with few calls would otherwise finish streams early and drop
// their reports with most of the budget unused.
//
// Without a soft limit the collector lets the heap reach twice the live
// data (GOGC=100). The limit is the budget less the program's own
// pages (softLimit): above it, RSS sat at the limit plus the runtime's
// own memory (an eighth above: 295 MB for sip200k at 256 MiB, 153 MB for
// a 10 M-packet capture at 128 MiB). The live heap must stay below the
// limit, or the collector runs without end and the heap still passes
// the limit (the collector takes at most half the CPU): 100 000 calls
// with RTP piped through `stats --max-memory 128MiB -`, where what is
// kept fills its shares, held a live heap of 104 MiB at a 104 MiB goal
// (294 collections), 23 s of CPU and 1.07 times the budget in RSS
// before the reserve; with it, 90 MiB at a 96 MiB goal (104
// collections), 13 s and 0.94 times. A GOMEMLIMIT set by the user wins.
func applyBudget(eo *engine.Options, maxMemory string) {
	n := int64(defaultMaxMemory)
	if maxMemory != "" {
		if v, err := recorder.ParseSize(maxMemory); err == nil {
			n = v
		}
	}
	shared := n - min(fixedReserve, n/4)
	eo.Store.MaxBytes = shared * 9 / 16
	eo.Capture.Stream.MaxBuffered = reassemblyBudget(n)
	eo.RTP.MaxLiveBytes = max(shared/16, 1)     // live streams, announcements, hints
	eo.RTP.MaxFinishedBytes = max(shared/16, 1) // the final reports of finished streams
	eo.LendStoreShare = true                    // the store's unused share goes to both
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softLimit(n))
	}
}

// fixedReserve is what a budget keeps out before it is shared: what a
// run holds whatever its budget, measured: the executable's resident
// pages (15 MiB by the end of a run; outside the Go heap, but inside
// RSS) and the decoder's pipeline batches and tables (about 9 MiB).
// Taken from a 3/16 remainder instead, they left a 128 MiB budget too
// little for the rest (see applyBudget). At most a quarter of a small
// budget is kept out.
const fixedReserve = 24 << 20

// softLimit is the Go heap's soft limit for a budget of n bytes of
// resident memory: n less the executable's pages already resident
// (procmem), which the runtime's limit does not count, and a quarter
// more for the pages a run touches later (12.1 MiB resident when the
// budget was applied, 14.8 MiB at the end of a 10 M-packet capture).
// At the budget itself, that capture peaked at 1.05 times it at
// 128 MiB; less the pages seen at the start, at 0.98 to 1.00 times.
// A correction that would take more than half the budget is not made
// (the budget is then too small to mean much); without /proc the limit
// is the budget.
func softLimit(n int64) int64 {
	own, err := procmem.FileResident()
	own += own / 4
	if err != nil || own > n/2 {
		return n
	}
	return n - own
}

// reassemblyBudget is the share of a --max-memory budget given to TCP
// reassembly (partial messages and out-of-order segments across all
// connections): an eighth (128 MiB of the default 1 GiB).
func reassemblyBudget(n int64) int {
	return int(max(n/8, 1))
}

// checkLimits validates --max-calls and --max-memory.
func (o *loadOptions) checkLimits(cmd string) error {
	if err := o.checkKeys(cmd); err != nil {
		return err
	}
	if o.workers < 0 {
		return usageErrorf("%s: --workers must be 1 or more", cmd)
	}
	if o.maxCalls < 0 {
		return usageErrorf("%s: --max-calls must be positive", cmd)
	}
	if o.maxMemory != "" {
		if _, err := recorder.ParseSize(o.maxMemory); err != nil {
			return usageErrorf("%s: --max-memory: %v", cmd, err)
		}
	}
	return o.spill.check(cmd)
}

// takeArgs adds positional files to -r ones and insists on at least one.
func (o *loadOptions) takeArgs(cmd string, args []string) error {
	if err := o.checkLimits(cmd); err != nil {
		return err
	}
	o.files = append(o.files, args...)
	if len(o.files) == 0 {
		return usageErrorf("%s: no capture file given (name one, or - for stdin)", cmd)
	}
	return nil
}

// writeStatus prints the engine's one-line summary (with suffix) and, on
// a second line, what TCP reassembly gave up on, so nothing is lost
// without a word.
func writeStatus(ios *ioStreams, st engine.Status, suffix string) {
	fmt.Fprintf(ios.ErrOut, "voiptool: %s%s\n", st, suffix)
	if l := summary.StreamLosses(&st.Decoder.Stream); len(l) > 0 {
		fmt.Fprintf(ios.ErrOut, "voiptool: also %s\n", strings.Join(l, ", "))
	}
}
