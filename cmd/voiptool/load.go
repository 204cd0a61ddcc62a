package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/engine"
)

// loadOptions are the input flags every analysing command shares.
type loadOptions struct {
	files       []string
	noHeuristic bool
	quiet       bool
	tlsKeylog   string
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
	e := engine.New(eo)
	w := &warner{w: ios.ErrOut}
	_, err = e.Run(ctx, in.sources(), w.warn)
	w.finish()
	if err != nil {
		return nil, err
	}
	if !o.quiet {
		fmt.Fprintf(ios.ErrOut, "voiptool: %s\n", e.Status())
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
}

// takeArgs adds positional files to -r ones and insists on at least one.
func (o *loadOptions) takeArgs(cmd string, args []string) error {
	o.files = append(o.files, args...)
	if len(o.files) == 0 {
		return usageErrorf("%s: no capture file given (name one, or - for stdin)", cmd)
	}
	return nil
}
