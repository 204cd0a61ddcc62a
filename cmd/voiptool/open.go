package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/tuiadapter"
	"github.com/voiptool/voiptool/sipflow"
	"github.com/voiptool/voiptool/tui"
)

type openOptions struct {
	io      *ioStreams
	in      loadOptions
	ifaces  []string
	filter  string
	columns string
	ascii   bool
	noColor bool
	invite  bool
	hepTo   []string
	hepID   uint32
	hepKey  string
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
	f := cmd.Flags()
	f.StringArrayVarP(&opts.ifaces, "interface", "i", nil, "capture live on `IFACE` (\"any\" for all; needs CAP_NET_RAW); repeatable")
	f.StringVarP(&opts.filter, "filter", "f", "", "start with this call filter `EXPR` (see 'voiptool calls --help')")
	f.StringVar(&opts.columns, "columns", "", "call-list `COLUMNS`, comma-separated (index,start,method,from,to,src,dst,msgs,state,setup,pdd,duration,codec,loss,jitter,mos,ua,callid)")
	f.BoolVar(&opts.ascii, "ascii", false, "draw with ASCII only (no box-drawing or block characters)")
	f.BoolVar(&opts.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	f.BoolVar(&opts.invite, "calls-only", false, "start with non-INVITE dialogs hidden")
	f.StringArrayVar(&opts.hepTo, "hep-to", nil, "also forward the SIP to this HEP collector `TARGET` (udp:HOST:PORT, tcp:..., tls:...) while browsing; counters in the header")
	f.Uint32Var(&opts.hepID, "hep-capture-id", 0, "capture agent `ID` for --hep-to")
	f.StringVar(&opts.hepKey, "hep-auth-key", "", "authentication `KEY` for --hep-to")
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
	o.in.files = append(o.in.files, args...)
	if len(o.in.files) == 0 && len(o.ifaces) == 0 {
		return usageErrorf("no capture file or interface given (try 'voiptool testdata/pcaps/basic-call.pcap' or --help)")
	}
	if _, err := sipflow.ParseFilter(o.filter); err != nil {
		return usageErrorf("--filter: %v", err)
	}
	if _, err := parseColumns(o.columns); err != nil {
		return usageErrorf("--columns: %v", err)
	}
	for _, t := range o.hepTo {
		if _, err := heptransport.ParseAddr(t); err != nil {
			return usageErrorf("--hep-to: %v", err)
		}
	}
	if runF != nil {
		return runF(o)
	}
	return openRun(c.Context(), o)
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
	in, err := openSources(runCtx, o.in.files, o.ifaces)
	if err != nil {
		return err
	}
	defer in.Close()
	eo := engine.Options{}
	eo.Capture.NoRTPHeuristic = o.in.noHeuristic
	fwd, err := startForward(runCtx, o, &eo)
	if err != nil {
		return err
	}
	defer fwd.stop(o.io)
	e := engine.New(eo)

	if !o.io.OutTTY {
		// Not a terminal: behave like 'voiptool calls' (for a live
		// source, until Ctrl-C).
		w := &warner{w: o.io.ErrOut}
		if _, err := e.Run(ctx, in.sources(), w.warn); err != nil && ctx.Err() == nil {
			return err
		}
		w.finish()
		if !o.in.quiet {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %s\n", e.Status())
		}
		return writeCalls(o.io, e, o.filter, "table", 0, o.invite)
	}

	cols, _ := parseColumns(o.columns)
	wb := &warnBuffer{}
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, runErr = e.Run(runCtx, in.sources(), wb.warn)
	}()
	view := tuiadapter.New(e, in.fileNames(), in.isLive(), in.read.Load, in.size)
	if fwd != nil {
		view.SetForward(fwd.counters)
	}
	uiErr := tui.Run(ctx, view, tui.Options{
		Columns: cols, ASCII: o.ascii, NoColor: o.noColor || os.Getenv("NO_COLOR") != "",
		Filter: o.filter, HideNonInvite: o.invite, Autoscroll: in.isLive(),
	})
	cancel()
	wg.Wait()
	for _, err := range wb.lines {
		fmt.Fprintf(o.io.ErrOut, "voiptool: %v\n", err)
	}
	if wb.more > 0 {
		fmt.Fprintf(o.io.ErrOut, "voiptool: %d more warnings not shown\n", wb.more)
	}
	if uiErr != nil {
		return uiErr
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	return nil
}

// forwarder sends the SIP the engine sees to HEP collectors while the UI
// runs (open --hep-to). It owns the sender's goroutine.
type forwarder struct {
	snd    *heptransport.Sender
	cancel context.CancelFunc
	wg     sync.WaitGroup
	failed atomic.Int64 // packets the sender refused (queue full counted by it too)
}

// startForward starts a sender when --hep-to was given and hooks it into
// the engine's event tap; nil when there is nothing to forward.
func startForward(ctx context.Context, o *openOptions, eo *engine.Options) (*forwarder, error) {
	if len(o.hepTo) == 0 {
		return nil, nil
	}
	snd, err := heptransport.NewSender(heptransport.SenderOptions{To: o.hepTo, CaptureID: o.hepID, AuthKey: o.hepKey})
	if err != nil {
		return nil, err
	}
	f := &forwarder{snd: snd}
	sctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		snd.Run(sctx)
	}()
	eo.Tap = func(ev *capture.Event) {
		if ev.Kind != capture.KindSIP {
			return
		}
		p := heptransport.SIPPacket(ev.Payload, ev.Src, ev.Dst, ev.Time, ipProto(ev.Transport))
		if snd.Send(&p) != nil {
			f.failed.Add(1)
		}
	}
	return f, nil
}

// counters is the header text: what went out, what waits, what was lost.
func (f *forwarder) counters() string {
	var sent, dropped, lost uint64
	queued := 0
	for _, t := range f.snd.Stats() {
		sent += t.Sent
		queued += t.Queued
		dropped += t.Dropped
		lost += t.LostUDP
	}
	return fmt.Sprintf("hep sent %d queued %d dropped %d", sent, queued, dropped+lost+uint64(f.failed.Load()))
}

// stop flushes (bounded) and stops the sender, then prints its counters.
func (f *forwarder) stop(ios *ioStreams) {
	if f == nil {
		return
	}
	fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	f.snd.Flush(fctx)
	cancel()
	f.cancel()
	f.wg.Wait()
	fmt.Fprintf(ios.ErrOut, "voiptool: %s\n", f.counters())
}
