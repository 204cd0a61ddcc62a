package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/forward"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/internal/summary"
)

type hepForwardOptions struct {
	io    *ioStreams
	in    loadOptions
	live  liveFlags
	hep   hepSendOptions
	speed string
}

func newCmdHEPForward(ios *ioStreams, runF func(*hepForwardOptions) error) *cobra.Command {
	opts := &hepForwardOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "hep-forward [FILE...] --to udp:HOST:9060",
		Short: "Send the SIP (and RTCP) of captures or interfaces to HEP collectors such as HOMER",
		Long: `Decode captures (or live interfaces with -i) and send every SIP message, and
optionally every RTCP report as HOMER's RTCP-JSON (HEP type 5), to one or more
HEP collectors: a lightweight heplify replacement.

Targets are udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT, several at once.
TCP and TLS reconnect with backoff when the collector restarts; packets wait in
a bounded queue per target (and in --spool when given). Over TCP and TLS a
packet counts as sent once the collector's TCP acknowledged it. At the end
(end of input, or Ctrl-C) hep-forward waits up to --flush-timeout for the
rest to be sent and acknowledged (Ctrl-C again stops waiting); what is still
unacknowledged or queued then is saved to --spool, which the next run with
the same --spool and --to sends first (with no FILE or -i, hep-forward only
sends the spool), or, without --spool, counted as unacknowledged at exit or
never sent. Nothing is lost silently: sent, queued, spooled, saved and
dropped counts are printed at the end.

--speed paces the sending: "max" (as fast as possible, the default for files),
"1" (original timing), or any factor like "10" (ten times faster). --restamp
sends the time of sending instead of the capture time.`,
		Example: `  voiptool hep-forward call.pcap --to udp:homer.example.com:9060
  voiptool hep-forward -i any --to tcp:10.0.0.5:9061 --capture-id 2001 --auth-key secret
  voiptool hep-forward day.pcap.gz --to udp:127.0.0.1:9060 --speed 1 --restamp --proto sip,rtcp
  voiptool hep-forward --spool /var/spool/voiptool --to tcp:10.0.0.5:9061   # send what an earlier run saved`,
		RunE: func(c *cobra.Command, args []string) error {
			files, err := opts.live.take("hep-forward", args)
			if err != nil {
				return err
			}
			opts.in.files = append(opts.in.files, files...)
			if len(opts.in.files) == 0 && len(opts.live.ifaces) == 0 && opts.hep.spool == "" {
				return usageErrorf("hep-forward: no capture file or interface given (or --spool to send only what a spool holds)")
			}
			if len(opts.hep.to) == 0 {
				return usageErrorf("hep-forward: --to is required (udp:HOST:PORT, tcp:..., tls:...)")
			}
			if err := opts.hep.validate("hep-forward", "--to"); err != nil {
				return err
			}
			if _, err := pace.ParseSpeed(opts.speed); err != nil {
				return usageErrorf("hep-forward: %v", err)
			}
			if err := opts.in.checkKeys("hep-forward"); err != nil {
				return err
			}
			if err := opts.in.spill.check("hep-forward"); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return hepForwardRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	f := cmd.Flags()
	opts.live.addFlags(f)
	opts.hep.addFlags(f, "")
	opts.in.spill.addFlags(f)
	f.StringVar(&opts.speed, "speed", "max", "pacing: max, 1 (original timing) or a factor such as 10")
	return cmd
}

func hepForwardRun(ctx context.Context, o *hepForwardOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	parent := ctx
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(o.in.files) == 0 && len(o.live.ifaces) == 0 {
		return hepSendSpool(parent, o)
	}
	speed, _ := pace.ParseSpeed(o.speed)
	in, err := openSources(ctx, o.in.files, o.live.options(), o.io.ErrOut)
	if err != nil {
		return err
	}
	defer in.Close()
	// The engine learns which call owns which media endpoint (for the
	// RTCP correlation id) and which legs are related. Its store keeps
	// the messages' locations, not their bytes: in the files, or in
	// the spill for live and reassembled ones (given back as calls are
	// evicted), so a day-long run does not fill its budget with them.
	keys, _ := o.in.srtpKeyList() // checked by checkKeys
	eo := engine.Options{SRTPKeys: keys, Files: in.fileNames()}
	o.in.spill.apply(&eo)
	eng := engine.New(eo)
	defer eng.Close() // removes the spill file, also after an error or Ctrl-C
	h, err := sink.StartHEP(o.hep.sinkOptions(eng.Store()))
	if err != nil {
		return err
	}
	defer h.Close()
	pacer := pace.New(pace.Options{Speed: speed})
	w := &warner{w: o.io.ErrOut}
	copts := capture.Options{NoRTPHeuristic: o.in.noHeuristic, Status: &in.status}
	if copts.Stream.TLSKeys, err = in.tlsKeys(o.in.tlsKeylog, o.in.keylogWatch); err != nil {
		return err
	}
	_, err = forward.Run(ctx, in.sources(), forward.Options{
		Capture: copts, Engine: eng, Sink: h, Pacer: pacer,
	}, w.warn)
	w.finish()
	if err != nil && ctx.Err() == nil {
		return err
	}
	closeErr := closeHEP(parent, o, h)
	if !o.in.quiet {
		writeHEPTargets(o.io, h)
		if pacer.Speed() > 0 {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %s\n", pacer.Lateness())
		}
		summary.Drops(o.io.ErrOut, in.loss(in.status.Snapshot().Sources, in.status.Snapshot().Reordered))
		writeSpillRefused(o.io.ErrOut, eng.Status().Spill)
	}
	if closeErr != nil {
		return fmt.Errorf("hep-forward: %w", closeErr)
	}
	if in.packets() == 0 {
		return errNothingRead
	}
	return nil
}

// closeHEP waits (at most --flush-timeout) for the collectors to take and
// acknowledge what is left, saying so when that is a wait; a signal from
// now on cuts the wait short, and what is left is saved to the spool or
// counted all the same.
func closeHEP(parent context.Context, o *hepForwardOptions, h *sink.HEP) error {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	queued, unacked, spooled := heptransport.Outstanding(h.Targets())
	if (queued > 0 || unacked > 0 || spooled > 0) && !o.in.quiet {
		fmt.Fprintf(o.io.ErrOut, "voiptool: waiting up to %s for %d queued and %d unacknowledged packets (%d spool bytes); Ctrl-C to stop waiting\n",
			o.hep.flushWait, queued, unacked, spooled)
	}
	return h.CloseContext(ctx)
}

// hepSendSpool is hep-forward without input: it sends what the spool
// holds for each target and exits, non-zero if some is left.
func hepSendSpool(ctx context.Context, o *hepForwardOptions) error {
	h, err := sink.StartHEP(o.hep.sinkOptions(nil))
	if err != nil {
		return err
	}
	defer h.Close()
	closeErr := closeHEP(ctx, o, h)
	if !o.in.quiet {
		writeHEPTargets(o.io, h)
	}
	if closeErr != nil {
		return fmt.Errorf("hep-forward: %w", closeErr)
	}
	return nil
}
