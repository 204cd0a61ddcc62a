package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/dump"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/internal/summary"
)

type dumpOptions struct {
	io          *ioStreams
	files       []string
	live        liveFlags
	regex       string
	ignoreCase  bool
	kinds       []string
	count       int
	local       bool
	noHeuristic bool
	quiet       bool
	write       string
	tlsKeylog   string
	keylogWatch bool
	strip       bool // --strip-secrets
}

func newCmdDump(ios *ioStreams, runF func(*dumpOptions) error) *cobra.Command {
	opts := &dumpOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "dump [FILE...]",
		Short: "Print SIP messages (and optionally RTP/RTCP/HEP) as they pass, ngrep style",
		Long: `Print every SIP message in the captures with its time, transport and
addresses, one message per block, in capture order (sngrep/ngrep -W byline
style). SIP is found by content on any port, over UDP, TCP (reassembled),
SCTP and WebSocket, inside VLANs and tunnels. SIP over TLS is decrypted
with --tls-keylog or the secrets editcap --inject-secrets put in a pcapng;
without them it is counted, not decoded.

A summary of what was decoded and what was skipped goes to stderr.`,
		Example: `  # every SIP message
  voiptool dump call.pcap

  # only messages matching a regular expression (case-insensitive)
  voiptool dump -r call.pcap -e 'call-id: *abc' --ignore-case

  # RTP and RTCP headers too, from stdin
  tcpdump -w - -i eth0 udp | voiptool dump - --kind sip,rtp,rtcp

  # live, on every interface, until Ctrl-C, keeping what matched
  voiptool dump -i any -e INVITE -w invites.pcapng`,
		RunE: func(c *cobra.Command, args []string) error {
			files, err := opts.live.take("dump", args)
			if err != nil {
				return err
			}
			opts.files = append(opts.files, files...)
			if len(opts.files) == 0 && len(opts.live.ifaces) == 0 {
				return usageErrorf("dump: no capture file or interface given (name a file, - for stdin, or -i IFACE)")
			}
			for _, k := range opts.kinds {
				if _, ok := dump.ParseKind(k); !ok {
					return usageErrorf("dump: unknown --kind %q (want sip, rtp, rtcp, hep or all)", k)
				}
			}
			if _, err := dump.Compile(opts.regex, opts.ignoreCase); err != nil {
				return usageErrorf("dump: bad --regex: %v", err)
			}
			if opts.keylogWatch && opts.tlsKeylog == "" {
				return usageErrorf("dump: --keylog-watch needs --tls-keylog FILE")
			}
			if runF != nil {
				return runF(opts)
			}
			return dumpRun(c.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, .gz, - for stdin); repeatable")
	opts.live.addFlags(f)
	f.StringVarP(&opts.regex, "regex", "e", "", "print only messages matching the regular `EXPR`")
	f.BoolVar(&opts.ignoreCase, "ignore-case", false, "match --regex without regard to case")
	f.StringSliceVar(&opts.kinds, "kind", []string{"sip"}, "what to print: sip, rtp, rtcp, hep, all")
	f.IntVarP(&opts.count, "count", "c", 0, "stop after `N` printed messages (0: no limit)")
	f.BoolVar(&opts.local, "local-time", false, "print times in the local zone instead of UTC")
	f.BoolVar(&opts.noHeuristic, "no-rtp-heuristic", false, "find RTP/RTCP only on ports learned from SDP")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "do not print the summary on stderr")
	f.StringVarP(&opts.write, "write", "w", "", "also save the packets of the printed messages to `FILE` (.pcap: classic pcap, else pcapng)")
	f.StringVar(&opts.tlsKeylog, "tls-keylog", "", "decrypt SIP over TLS with the secrets in `FILE` (NSS key log: SSLKEYLOGFILE, openssl -keylogfile)")
	f.BoolVar(&opts.strip, "strip-secrets", false, "with -w: leave out the decryption secrets the input pcapng carries (by default they are kept, so a saved TLS call stays decryptable)")
	f.BoolVar(&opts.keylogWatch, "keylog-watch", false, "keep reading the --tls-keylog file as an application writes it (keys logged after the capture started)")
	return cmd
}

func dumpRun(ctx context.Context, o *dumpOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	in, err := openSources(ctx, o.files, o.live.options(), o.io.ErrOut)
	if err != nil {
		return err
	}
	defer in.Close()

	po := dump.Options{Count: o.count, Names: in.names, FlushEach: in.isLive(), Location: time.UTC}
	po.Regex, _ = dump.Compile(o.regex, o.ignoreCase)
	for _, k := range o.kinds {
		kind, _ := dump.ParseKind(k)
		po.Kinds = append(po.Kinds, kind)
	}
	if o.local {
		po.Location = time.Local
	}
	srcs := in.sources()
	var save *sink.Records
	if o.write != "" {
		file, err := sink.CreatePcap(o.write, sink.PcapOptions{Application: "voiptool " + versionString(), Inputs: o.files,
			Secrets: in.keptSecrets(o.write, o.strip, o.io.ErrOut)})
		if err != nil {
			return err
		}
		save = sink.NewRecords(file)
		defer save.Close()
		po.Save = save
	}
	p := dump.New(o.io.Out, po)
	w := &warner{w: o.io.ErrOut}
	copts := capture.Options{NoRTPHeuristic: o.noHeuristic, Status: &in.status}
	if copts.Stream.TLSKeys, err = in.tlsKeys(o.tlsKeylog, o.keylogWatch); err != nil {
		return err
	}
	stats, err := capture.Run(ctx, srcs, copts, w.warn, p.Handle)
	w.finish()
	if err != nil && !errors.Is(err, dump.ErrEnough) && ctx.Err() == nil {
		return err
	}
	if err := p.Flush(); err != nil {
		return err
	}
	if save != nil {
		if err := save.Close(); err != nil {
			return fmt.Errorf("dump: -w %s: %w", o.write, err)
		}
	}
	if !o.quiet {
		summary.Capture(o.io.ErrOut, p.Printed(), &stats)
		if n := p.BadHEP(); n > 0 {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %d HEP packets could not be unwrapped (nested HEP, a payload that would not inflate, damage) and were not printed\n", n)
		}
		if save != nil {
			fmt.Fprintf(o.io.ErrOut, "voiptool: saved %d packets to %s\n", save.Counts().Written, o.write)
		}
		summary.Drops(o.io.ErrOut, in.loss(in.status.Snapshot().Sources, in.status.Snapshot().Reordered))
	}
	if in.packets() == 0 {
		return errNothingRead
	}
	return nil
}
