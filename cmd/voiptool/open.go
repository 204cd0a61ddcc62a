package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/internal/playback"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/internal/summary"
	"github.com/voiptool/voiptool/internal/tuiadapter"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
	"github.com/voiptool/voiptool/tui"
)

type openOptions struct {
	io      *ioStreams
	in      loadOptions
	live    liveFlags
	filter  string
	columns string
	ascii   bool
	noColor bool
	invite  bool
	hep     hepSendOptions
	// realtime plays the files at their own pace (speed is the factor)
	realtime bool
	speed    string
}

// openLong is the root command's description: opening captures is what
// `voiptool FILE` does.
const openLong = `Open captures (or live interfaces) in the interactive call list: Enter
opens a call's ladder, s its RTP streams, t the statistics, F7 filters,
F2 saves, ? lists every key. Several files are merged by capture time.

When stdout is not a terminal, the call list is printed as a table instead
(the same as 'voiptool calls').`

func addOpenFlags(cmd *cobra.Command, opts *openOptions) {
	opts.in.addInputFlags(cmd)
	opts.in.spill.addFlags(cmd.Flags())
	opts.in.addStripFlag(cmd.Flags())
	f := cmd.Flags()
	opts.live.addFlags(f)
	f.StringVarP(&opts.filter, "filter", "f", "", "start with this call filter `EXPR` (see 'voiptool calls --help')")
	f.StringVar(&opts.columns, "columns", "", "call-list `COLUMNS`, comma-separated (index,start,method,from,to,src,dst,msgs,state,setup,pdd,duration,codec,loss,jitter,mos,ua,callid)")
	f.BoolVar(&opts.ascii, "ascii", false, "draw with ASCII only (no box-drawing or block characters)")
	f.BoolVar(&opts.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	f.BoolVar(&opts.invite, "calls-only", false, "start with non-INVITE dialogs hidden")
	f.BoolVar(&opts.realtime, "realtime", false, "play the capture at the pace it was recorded: calls appear and ladders grow as they happened (P pause, +/- speed, N next message, ]/} skip ahead)")
	f.StringVar(&opts.speed, "speed", "1", "with --realtime: the pace `FACTOR` (0.1 to 100; 2 or 2x is twice as fast)")
	// The same sender flags as hep-forward, prefixed: --hep-to forwards
	// the SIP (and with --hep-proto the RTCP) while browsing, counters in
	// the header.
	opts.hep.addFlags(f, "hep-")
}

func newCmdOpen(ios *ioStreams, runF func(*openOptions) error) *cobra.Command {
	opts := &openOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "open [FILE...]",
		Short: "Open captures or interfaces in the interactive UI (the default command)",
		Long:  openLong,
		Example: `  voiptool open a.pcap b.pcapng
  voiptool open -i any --filter 'method=INVITE'`,
		RunE: func(c *cobra.Command, args []string) error {
			return opts.run(c, args, runF)
		},
	}
	addOpenFlags(cmd, opts)
	return cmd
}

func (o *openOptions) run(c *cobra.Command, args []string, runF func(*openOptions) error) error {
	files, err := o.live.take("open", args)
	if err != nil {
		return err
	}
	o.in.files = append(o.in.files, files...)
	if len(o.in.files) == 0 && len(o.live.ifaces) == 0 {
		return usageErrorf("no capture file or interface given (try 'voiptool testdata/pcaps/basic-call.pcap' or --help)")
	}
	if err := o.in.checkLimits("open"); err != nil {
		return err
	}
	if _, err := sipflow.ParseFilter(o.filter); err != nil {
		return usageErrorf("--filter: %v", err)
	}
	if _, err := parseColumns(o.columns); err != nil {
		return usageErrorf("--columns: %v", err)
	}
	if err := o.hep.validate("open", "--hep-to"); err != nil {
		return err
	}
	if c.Flags().Changed("speed") && !o.realtime {
		return usageErrorf("--speed paces --realtime playback; add --realtime")
	}
	if o.realtime {
		if len(o.live.ifaces) > 0 || len(o.in.files) == 0 {
			return usageErrorf("--realtime plays capture files; a live interface is already real time")
		}
		sp, err := pace.ParseSpeed(o.speed)
		if err != nil || sp < playback.MinSpeed || sp > playback.MaxSpeed {
			return usageErrorf("--speed %q: a factor from %g to %g", o.speed, playback.MinSpeed, playback.MaxSpeed)
		}
	}
	if runF != nil {
		return runF(o)
	}
	return openRun(c.Context(), o)
}

// chainOnRecord runs a, then b when set (capture.Options has one hook).
func chainOnRecord(a, b func(int, pcap.Packet, []byte)) func(int, pcap.Packet, []byte) {
	if b == nil {
		return a
	}
	return func(i int, p pcap.Packet, d []byte) {
		a(i, p, d)
		b(i, p, d)
	}
}

func parseColumns(s string) ([]tui.Column, error) {
	if s == "" {
		return nil, nil
	}
	var cols []tui.Column
	for _, name := range strings.Split(s, ",") {
		c, ok := tui.ParseColumn(name)
		if !ok {
			return nil, fmt.Errorf("unknown column %q", strings.TrimSpace(name))
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// warnBuffer keeps the first warnings while the UI owns the screen; they
// are printed after it closes.
type warnBuffer struct {
	mu    sync.Mutex
	lines []error
	more  int
}

func (b *warnBuffer) warn(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) >= maxWarnings {
		b.more++
		return
	}
	b.lines = append(b.lines, err)
}

func openRun(ctx context.Context, o *openOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Quitting the UI cancels runCtx; live sources watch it, so a quiet
	// interface does not keep the process alive after q.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	in, err := openSources(runCtx, o.in.files, o.live.options(), o.io.ErrOut)
	if err != nil {
		return err
	}
	defer in.Close()
	eo := engine.Options{}
	eo.Capture.NoRTPHeuristic = o.in.noHeuristic
	if eo.Capture.Stream.TLSKeys, err = in.tlsKeys(o.in.tlsKeylog, o.in.keylogWatch); err != nil {
		return err
	}
	o.in.storeLimits(&eo)
	eo.Capture.Pipeline = o.in.pipelined()
	eo.Files = in.fileNames() // messages are re-read from the files when a call is opened
	eo.SRTPKeys, _ = o.in.srtpKeyList()
	var player *playback.Player
	var eng *engine.Engine // set before Run starts the writer that calls Idle
	if o.realtime && o.io.OutTTY {
		sp, _ := pace.ParseSpeed(o.speed)
		player = playback.New(runCtx, playback.Options{Speed: sp, Idle: func() { eng.ServeRequests() }})
		eo.Capture.OnRecord = chainOnRecord(player.OnRecord, eo.Capture.OnRecord)
		eo.Capture.Pipeline = false // the pacer must hold back the analysis itself
		eo.OnMessage = player.OnMessage
	}
	// --hep-to: a HEP sink fed by the engine's tap (after the engine has
	// handled each event), naming calls from the engine's store.
	var fwd *sink.HEP
	if len(o.hep.to) > 0 {
		eo.Tap = func(ev *capture.Event) { _ = fwd.WriteEvent(ev) } // refusals are counted, shown in the header
	}
	e := engine.New(eo)
	defer e.Close() // removes the spill file, also after an error or Ctrl-C
	eng = e
	if len(o.hep.to) > 0 {
		if fwd, err = sink.StartHEP(o.hep.sinkOptions(e.Store())); err != nil {
			return err
		}
		defer func() {
			if err := fwd.Close(); err != nil {
				fmt.Fprintf(o.io.ErrOut, "voiptool: %v\n", err)
			}
			fmt.Fprintf(o.io.ErrOut, "voiptool: %s\n", fwd.Summary())
		}()
	}

	if !o.io.OutTTY {
		// Not a terminal: behave like 'voiptool calls' (for a live
		// source, until Ctrl-C).
		if o.realtime {
			return usageErrorf("--realtime plays a capture into the interactive UI; stdout is not a terminal (for a replay on the wire see 'voiptool replay')")
		}
		if o.columns != "" {
			// Said, not silently ignored: the printed table has its own
			// columns (and 'calls --format csv' every field).
			return usageErrorf("--columns chooses the interactive list's columns; stdout is not a terminal, so the call table is printed (use 'voiptool calls --format csv' for every field)")
		}
		w := &warner{w: o.io.ErrOut}
		if _, err := e.Run(ctx, in.sources(), w.warn); err != nil && ctx.Err() == nil {
			return err
		}
		w.finish()
		if !o.in.quiet {
			writeStatus(o.io, e.Status(), "")
			summary.Drops(o.io.ErrOut, in.loss(e.Status().Sources, e.Status().Reordered))
		}
		return writeCalls(o.io, e, o.filter, "table", 0, o.invite)
	}

	cols, _ := parseColumns(o.columns)
	wb := &warnBuffer{}
	var wg sync.WaitGroup
	var runErr error
	view := tuiadapter.New(e, in.fileNames(), in.isLive(), in.read.Load, in.size)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, runErr = e.Run(runCtx, in.sources(), wb.warn)
		view.Finish() // the list is final: the UI drops the progress line at once
	}()
	view.SetSecrets(in.keptSecrets(".pcapng", o.in.strip, o.io.ErrOut)) // saves are pcapng
	if fwd != nil {
		view.SetForward(fwd.Summary)
	}
	tuo := tui.Options{
		Columns: cols, ASCII: o.ascii, NoColor: o.noColor || os.Getenv("NO_COLOR") != "",
		Filter: o.filter, HideNonInvite: o.invite, Autoscroll: in.isLive() || player != nil,
	}
	if player != nil {
		tuo.Player = tuiadapter.Player(player)
	}
	uiErr := tui.Run(ctx, view, tuo)
	cancel()
	wg.Wait()
	for _, err := range wb.lines {
		fmt.Fprintf(o.io.ErrOut, "voiptool: %v\n", err)
	}
	if wb.more > 0 {
		fmt.Fprintf(o.io.ErrOut, "voiptool: %d more warnings not shown\n", wb.more)
	}
	if !o.in.quiet {
		summary.Drops(o.io.ErrOut, in.loss(e.Status().Sources, e.Status().Reordered))
	}
	if uiErr != nil {
		return uiErr
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}
