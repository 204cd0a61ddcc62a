package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/recorder"
	"github.com/voiptool/voiptool/internal/summary"
)

// loadOptions are the input flags every analysing command shares.
type loadOptions struct {
	files       []string
	noHeuristic bool
	quiet       bool
	tlsKeylog   string
	maxCalls    int
	maxMemory   string
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
	if eo.Capture.Stream.TLSKeys, err = in.tlsKeys(o.tlsKeylog); err != nil {
		return nil, err
	}
	o.storeLimits(&eo)
	e := engine.New(eo)
	w := &warner{w: ios.ErrOut}
	_, err = e.Run(ctx, in.sources(), w.warn)
	w.finish()
	if err != nil {
		return nil, err
	}
	if !o.quiet {
		writeStatus(ios, e.Status(), "")
	}
	if in.packets() == 0 {
		return nil, errNothingRead
	}
	return e, nil
}

// addInputFlags registers the flags every analysing command shares.
func (o *loadOptions) addInputFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, .gz, - for stdin); repeatable")
	f.BoolVar(&o.noHeuristic, "no-rtp-heuristic", false, "find RTP/RTCP only on ports learned from SDP")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary on stderr")
	f.StringVar(&o.tlsKeylog, "tls-keylog", "", "decrypt SIP over TLS with the secrets in `FILE` (NSS key log: SSLKEYLOGFILE, openssl -keylogfile)")
	f.IntVar(&o.maxCalls, "max-calls", 0, "hold at most `N` dialogs (default 100000); the oldest closed ones are evicted first, and counted")
	f.StringVar(&o.maxMemory, "max-memory", "", "memory budget for held dialogs (`SIZE`, default 512MiB)")
}

// storeLimits applies --max-calls and --max-memory (checked by
// checkLimits) to the engine's store: the store holds calls and
// messages, the bulk of what is kept, so it gets three quarters.
func (o *loadOptions) storeLimits(eo *engine.Options) {
	eo.Store.MaxCalls = o.maxCalls
	if o.maxMemory != "" {
		if n, err := recorder.ParseSize(o.maxMemory); err == nil {
			eo.Store.MaxBytes = n * 3 / 4
			// The final reports of finished RTP streams get an eighth.
			eo.RTP.MaxFinishedBytes = n / 8
		}
	}
}

// checkLimits validates --max-calls and --max-memory.
func (o *loadOptions) checkLimits(cmd string) error {
	if o.maxCalls < 0 {
		return usageErrorf("%s: --max-calls must be positive", cmd)
	}
	if o.maxMemory != "" {
		if _, err := recorder.ParseSize(o.maxMemory); err != nil {
			return usageErrorf("%s: --max-memory: %v", cmd, err)
		}
	}
	return nil
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
