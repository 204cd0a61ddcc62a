package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/collect"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/internal/tuiadapter"
	"github.com/voiptool/voiptool/tui"
)

type listenOptions struct {
	io      *ioStreams
	addrs   []string
	authKey string
	write   string
	noUI    bool
	dedup   time.Duration
	tls     heptransport.TLSFiles
	quiet   bool
	spill   spillFlags
}

func newCmdListen(ios *ioStreams, runF func(*listenOptions) error) *cobra.Command {
	opts := &listenOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "listen ADDR...",
		Short: "Act as a HEP collector: receive HEP v1/v2/v3 and show the calls",
		Long: `Receive HEP (v1, v2 and v3) from capture agents (heplify, sngrep, Kamailio,
OpenSIPS, voiptool hep-forward) on udp:HOST:PORT, tcp:HOST:PORT and
tls:HOST:PORT, and feed what arrives into the same call list, ladders and
statistics as a capture. The same message arriving from several agents within
--dedup-window is kept once (and counted).

With -w FILE every SIP message is also written to a pcap as a synthetic
Ethernet/IP/UDP (or TCP) frame with the original addresses and times, so it
can be opened later by voiptool, tshark or sngrep. --no-ui prints one line per
message instead of starting the interactive UI; Ctrl-C stops.`,
		Example: `  voiptool listen udp:0.0.0.0:9060
  voiptool listen udp:0.0.0.0:9060 tcp:0.0.0.0:9061 --auth-key secret -w hep.pcap --no-ui`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.addrs = append(opts.addrs, args...)
			if len(opts.addrs) == 0 {
				return usageErrorf("listen: no address given (e.g. udp:0.0.0.0:9060)")
			}
			for _, a := range opts.addrs {
				if _, err := heptransport.ParseAddr(a); err != nil {
					return usageErrorf("listen: %v", err)
				}
			}
			if err := opts.spill.check("listen"); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return listenRun(c.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.authKey, "auth-key", "", "accept only packets with this authentication `KEY`")
	f.StringVarP(&opts.write, "write", "w", "", "also write the received SIP to `FILE` (.pcap: classic pcap, else pcapng)")
	f.BoolVar(&opts.noUI, "no-ui", false, "print one line per message instead of the interactive UI")
	f.DurationVar(&opts.dedup, "dedup-window", 2*time.Second, "drop copies of a message received again within this `DURATION` (0: never)")
	f.StringVar(&opts.tls.CertFile, "cert", "", "server certificate `FILE` for tls: addresses")
	f.StringVar(&opts.tls.KeyFile, "key", "", "server key `FILE` for tls: addresses")
	f.StringVar(&opts.tls.CAFile, "ca", "", "CA `FILE` to require and verify client certificates")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "do not print the summary on stderr")
	opts.spill.addFlags(f)
	return cmd
}

func listenRun(ctx context.Context, o *listenOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dedup := o.dedup
	if dedup == 0 {
		dedup = -1 // the flag's 0 means off; the listener's 0 means default
	}
	l, err := heptransport.NewListener(o.addrs, heptransport.ListenOptions{AuthKey: o.authKey, DedupWindow: dedup, TLS: o.tls})
	if err != nil {
		return err
	}
	defer l.Close()
	eo := engine.Options{}
	o.spill.apply(&eo)
	e := engine.New(eo)
	defer e.Close() // removes the spill file, also after an error or Ctrl-C
	co := collect.Options{Engine: e}
	var save *sink.Frames
	if o.write != "" {
		file, err := sink.CreatePcap(o.write, sink.PcapOptions{Application: "voiptool " + versionString(), Direct: true})
		if err != nil {
			return err
		}
		save = sink.NewFrames(file, frame.Options{})
		defer save.Close()
		co.Save = save
	}
	if o.noUI {
		co.Log = o.io.Out
	}
	c := collect.New(co)

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var lisErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		lisErr = l.Run(runCtx, c.Handle)
		cancel() // a collector that stopped ends the command, UI or not
	}()
	if o.noUI || !o.io.OutTTY {
		<-runCtx.Done()
	} else {
		view := tuiadapter.New(e, nil, true, nil, 0)
		if err := tui.Run(runCtx, view, tui.Options{Autoscroll: true}); err != nil {
			cancel()
			wg.Wait()
			return err
		}
	}
	cancel()
	wg.Wait()
	saveErr := c.Err()
	if save != nil {
		if err := save.Close(); err != nil && saveErr == nil {
			saveErr = err
		}
	}
	st, cs := l.Stats(), c.Stats()
	if !o.quiet {
		fmt.Fprintf(o.io.ErrOut, "voiptool: received %d, delivered %d, bad %d, auth failures %d, duplicates %d, keep-alives %d, overruns %d\n",
			st.Received, st.Delivered, st.Bad, st.AuthFailures, st.Duplicates, st.Pings, st.Overruns)
		if cs.UnwrapErrors > 0 {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %d packets with a payload that did not inflate\n", cs.UnwrapErrors)
		}
		if save != nil {
			sc := save.Counts()
			fmt.Fprintf(o.io.ErrOut, "voiptool: wrote %d SIP messages to %s", sc.Written, o.write)
			if sc.Failed > 0 {
				fmt.Fprintf(o.io.ErrOut, " (%d could not be framed: no or bad addresses)", sc.Failed)
			}
			if fs := save.FrameStats(); fs.Evicted > 0 {
				fmt.Fprintf(o.io.ErrOut, " (%d TCP directions evicted from the sequence table)", fs.Evicted)
			}
			fmt.Fprintln(o.io.ErrOut)
		}
	}
	if saveErr != nil {
		return fmt.Errorf("listen: -w %s: %w", o.write, saveErr)
	}
	if lisErr != nil && !errors.Is(lisErr, context.Canceled) {
		return lisErr
	}
	return nil
}
