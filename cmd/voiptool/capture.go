package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/metrics"
	"github.com/voiptool/voiptool/internal/recorder"
	"github.com/voiptool/voiptool/internal/report"
	"github.com/voiptool/voiptool/internal/session"
	"github.com/voiptool/voiptool/internal/summary"
	"github.com/voiptool/voiptool/internal/tuiadapter"
	"github.com/voiptool/voiptool/sipflow"
	"github.com/voiptool/voiptool/tui"
)

type captureOptions struct {
	io      *ioStreams
	in      loadOptions
	live    liveFlags
	write   string
	record  string
	fileMax string // -C
	every   time.Duration
	files   int
	total   string
	gzip    bool
	noUI    bool
	status  time.Duration
	reports []string
	format  string
	dur     time.Duration
	count   int64
	metrics string
	maxMem  string
	listen  []string
}

func newCmdCapture(ios *ioStreams, runF func(*captureOptions) error) *cobra.Command {
	opts := &captureOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "capture -i IFACE [-i IFACE...] [options] [EXPRESSION]",
		Short: "Capture live on a server: browse, record with rotation, run headless for hours",
		Long: `Capture SIP, RTP and RTCP from live interfaces (and -r files, merged on one
clock). EXPRESSION is a tcpdump capture filter, compiled in pure Go and run in
the kernel: host, net, port, portrange, src/dst, udp, tcp, sctp, ip, ip6,
vlan, and/or/not, parentheses, ip[6:2] byte tests.

On a terminal the interactive call list opens; --no-ui (or a pipe) runs
headless: a status line on stderr every --status-interval, the reports at
exit. Ctrl-C or SIGTERM stops, closes every file (each a valid capture) and
prints the summary.

-w records everything captured, or only SIP (--record sip), or SIP and the
media voiptool classified (--record calls); .pcap writes classic pcap, else
pcapng (with the drop counters in statistics blocks). Rotation: -C SIZE,
-G DURATION (packet time, aligned), -W N files at most, --max-total SIZE for
all of them, --gzip for closed files. Files appear under their final name only
when complete. Nothing is dropped silently: kernel, queue and recorder drops
are in the status line, the summary and the metrics.

--metrics serves Prometheus metrics (packets, drops by stage, calls by state,
SIP methods and codes, setup/PDD histograms, recorder figures).

Needs CAP_NET_RAW: run as root, or once: setcap cap_net_raw,cap_net_admin+ep $(command -v voiptool)`,
		Example: `  # browse what a server does now, SIP and media ports only
  voiptool capture -i any udp port 5060 or portrange 10000-20000

  # headless for a day: calls recorded in hourly files, ten at most, metrics
  voiptool capture -i eth0 --no-ui -w calls.pcapng --record calls -G 1h -W 10 --metrics 127.0.0.1:9466

  # two minutes, then the call list as JSON
  voiptool capture -i lo --no-ui --duration 2m --report calls --format json`,
		RunE: func(c *cobra.Command, args []string) error {
			files, err := opts.live.take("capture", args)
			if err != nil {
				return err
			}
			if len(opts.live.ifaces) == 0 {
				if len(files) > 0 {
					opts.in.files = append(opts.in.files, files...)
				}
				if len(opts.in.files) == 0 && len(opts.listen) == 0 {
					return usageErrorf("capture: no interface given (-i IFACE, or -i any; or --listen udp:0.0.0.0:9060 for HEP agents)")
				}
			}
			for _, a := range opts.listen {
				if _, err := heptransport.ParseAddr(a); err != nil {
					return usageErrorf("capture: --listen: %v", err)
				}
			}
			if err := opts.in.checkKeys("capture"); err != nil {
				return err
			}
			if err := opts.in.spill.check("capture"); err != nil {
				return err
			}
			if _, err := session.ParseRecordMode(opts.record); err != nil {
				return usageErrorf("capture: %v", err)
			}
			for _, s := range []struct{ flag, v string }{{"-C", opts.fileMax}, {"--max-total", opts.total}, {"--max-memory", opts.maxMem}} {
				if s.v == "" {
					continue
				}
				if _, err := recorder.ParseSize(s.v); err != nil {
					return usageErrorf("capture: %s: %v", s.flag, err)
				}
			}
			if opts.write == "" && (opts.fileMax != "" || opts.every > 0 || opts.files > 0 || opts.total != "" || opts.gzip) {
				return usageErrorf("capture: -C, -G, -W, --max-total and --gzip need -w FILE")
			}
			for _, r := range opts.reports {
				if r != "calls" && r != "rtp" && r != "stats" && r != "none" {
					return usageErrorf("capture: --report %q: want calls, rtp, stats or none", r)
				}
			}
			if _, err := report.ParseFormat(opts.format); err != nil {
				return usageErrorf("capture: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return captureRun(c.Context(), opts)
		},
	}
	f := cmd.Flags()
	opts.live.addFlags(f)
	f.StringArrayVarP(&opts.in.files, "read", "r", nil, "also read `FILE` (merged with the interfaces on one clock); repeatable")
	f.BoolVar(&opts.in.noHeuristic, "no-rtp-heuristic", false, "find RTP/RTCP only on ports learned from SDP")
	f.BoolVarP(&opts.in.quiet, "quiet", "q", false, "no status lines or summary on stderr")
	opts.in.addKeyFlags(f)
	opts.in.spill.addFlags(f)
	opts.in.addStripFlag(f)
	f.StringVarP(&opts.write, "write", "w", "", "record to `FILE` (.pcap classic, else pcapng) while capturing")
	f.StringVar(&opts.record, "record", "all", "what -w keeps: all, sip, or calls (SIP and classified RTP/RTCP)")
	f.StringVarP(&opts.fileMax, "file-size", "C", "", "rotate before a file exceeds `SIZE` (100MB, 1GiB)")
	f.DurationVarP(&opts.every, "rotate-every", "G", 0, "rotate every `DURATION` of packet time, aligned (1h starts on the hour)")
	f.IntVarP(&opts.files, "file-count", "W", 0, "keep at most `N` files, removing the oldest")
	f.StringVar(&opts.total, "max-total", "", "remove the oldest files while all together exceed `SIZE`")
	f.BoolVar(&opts.gzip, "gzip", false, "gzip each file once it is complete")
	f.BoolVar(&opts.noUI, "no-ui", false, "run headless: status lines on stderr, reports at exit")
	f.DurationVar(&opts.status, "status-interval", 10*time.Second, "headless status line every `DURATION` (0: none)")
	f.StringSliceVar(&opts.reports, "report", []string{"calls"}, "headless reports at exit: calls, rtp, stats (or none)")
	f.StringVar(&opts.format, "format", "table", "report `FORMAT`: table, json, jsonl, csv")
	f.DurationVar(&opts.dur, "duration", 0, "stop after `DURATION`")
	f.Int64VarP(&opts.count, "count", "c", 0, "stop after `N` packets")
	f.StringVar(&opts.metrics, "metrics", "", "serve Prometheus metrics on `ADDR` (e.g. 127.0.0.1:9466)")
	f.StringArrayVar(&opts.listen, "listen", nil, "also collect HEP from agents on `ADDR` (udp:0.0.0.0:9060, tcp:…), merged with the interfaces on one clock; repeatable")
	opts.in.addWorkersFlag(f)
	f.StringVar(&opts.maxMem, "max-memory", "", "memory budget for held calls, messages, RTP reports and TCP reassembly, and the Go heap's soft limit (`SIZE`, default 1GiB)")
	return cmd
}

func (o *captureOptions) recorderOptions(names []string, counters func(int) recorder.SourceCounters) (recorder.Options, error) {
	ro := recorder.Options{Path: o.write, Interval: o.every, MaxFiles: o.files, Gzip: o.gzip, SourceNames: names, Counters: counters,
		Application: "voiptool " + versionString(), Snaplen: o.live.snaplen, Inputs: o.in.files}
	var err error
	if o.fileMax != "" {
		if ro.MaxFileBytes, err = recorder.ParseSize(o.fileMax); err != nil {
			return ro, err
		}
	}
	if o.total != "" {
		if ro.MaxTotalBytes, err = recorder.ParseSize(o.total); err != nil {
			return ro, err
		}
	}
	return ro, nil
}

func captureRun(ctx context.Context, o *captureOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	in, err := openSources(runCtx, o.in.files, o.live.options(), o.io.ErrOut)
	if err != nil {
		return err
	}
	defer in.Close()
	if len(o.listen) > 0 {
		if err := in.addHEP(o.listen); err != nil {
			return err
		}
	}

	eo := engine.Options{}
	eo.Capture.NoRTPHeuristic = o.in.noHeuristic
	eo.SRTPKeys, _ = o.in.srtpKeyList()
	if eo.Capture.Stream.TLSKeys, err = in.tlsKeys(o.in.tlsKeylog, o.in.keylogWatch); err != nil {
		return err
	}
	// The store holds calls and messages, the bulk of what is kept; RTP
	// is kept as statistics only.
	applyBudget(&eo, o.maxMem)
	o.in.spill.apply(&eo)
	eo.Capture.Pipeline = o.in.pipelined()
	so := session.Options{}
	so.Record, _ = session.ParseRecordMode(o.record)
	var sess *session.Session
	if o.write != "" {
		counters := func(src int) recorder.SourceCounters {
			st := sess.Engine().Status()
			if src < 0 || src >= len(st.Sources) {
				return recorder.SourceCounters{}
			}
			s := st.Sources[src]
			return recorder.SourceCounters{Received: s.Kernel.Received, KernelDrop: s.Kernel.Dropped, QueueDrop: s.QueueDropped,
				HasReceived: s.Live, HasKernel: s.Live}
		}
		ro, err := o.recorderOptions(in.names, counters)
		if err != nil {
			return err
		}
		ro.Secrets = in.keptSecrets(o.write, o.in.strip, o.io.ErrOut)
		if so.Recorder, err = recorder.New(ro); err != nil {
			return err
		}
	}
	if o.metrics != "" {
		ln, err := net.Listen("tcp", o.metrics)
		if err != nil {
			return fmt.Errorf("capture: --metrics: %w", err)
		}
		so.MetricsListener = ln
		so.Metrics = metrics.New(func() metrics.Snapshot { return sess.Snapshot() })
	}
	so.Duration, so.MaxRecords = o.dur, o.count
	headless := o.noUI || !o.io.OutTTY
	wb := &warnBuffer{}
	w := &warner{w: o.io.ErrOut}
	if headless {
		so.Warn = w.warn
		if !o.in.quiet {
			so.StatusEvery, so.Status = o.status, o.io.ErrOut
		}
	} else {
		so.Warn = wb.warn
	}
	sess = session.New(eo, so)
	defer sess.Engine().Close() // removes the spill file, also after an error or Ctrl-C
	if in.isLive() && !o.in.quiet {
		fmt.Fprintf(o.io.ErrOut, "voiptool: capturing on %s%s\n", strings.Join(in.names[len(in.readers):], ", "), filterNote(o.live.expr))
	}

	var res session.Result
	var runErr error
	if headless {
		res, runErr = sess.Run(runCtx, in.sources())
		w.finish()
	} else {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, runErr = sess.Run(runCtx, in.sources())
		}()
		view := tuiadapter.New(sess.Engine(), in.fileNames(), in.isLive(), in.read.Load, in.size)
		view.SetSecrets(in.keptSecrets(".pcapng", o.in.strip, o.io.ErrOut)) // saves are pcapng
		uiErr := tui.Run(ctx, view, tui.Options{Autoscroll: in.isLive(), NoColor: os.Getenv("NO_COLOR") != ""})
		cancel()
		wg.Wait()
		for _, err := range wb.lines {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %v\n", err)
		}
		if uiErr != nil {
			return uiErr
		}
	}
	if !o.in.quiet {
		writeStatus(o.io, res.Status, fmt.Sprintf(" after %s (%s)", res.Elapsed.Truncate(time.Millisecond), res.Stopped))
		summary.Drops(o.io.ErrOut, in.loss(res.Status.Sources, res.Status.Reordered))
		if res.Recorded {
			writeRecorderSummary(o.io, res.Recorder)
		}
		if res.Status.Store.Evicted > 0 {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %d dialogs evicted to stay inside the memory budget (raise it with --max-memory)\n", res.Status.Store.Evicted)
		}
	}
	if runErr != nil {
		return fmt.Errorf("capture: %w", runErr)
	}
	if headless {
		return o.writeReports(sess.Engine())
	}
	return nil
}

func filterNote(expr string) string {
	if expr == "" {
		return ""
	}
	return " (filter: " + expr + ")"
}

func writeRecorderSummary(ios *ioStreams, rs recorder.Stats) {
	fmt.Fprintf(ios.ErrOut, "voiptool: recorded %d packets (%.1f MB) in %d files", rs.Packets, float64(rs.Bytes)/1e6, rs.Files)
	if rs.Removed > 0 {
		fmt.Fprintf(ios.ErrOut, ", %d older files removed by the limits", rs.Removed)
	}
	fmt.Fprintln(ios.ErrOut)
	if rs.Dropped+rs.Failed+rs.Refused > 0 {
		fmt.Fprintf(ios.ErrOut, "voiptool: the recorder could not write %d packets: %d queue full, %d write errors, %d of a link type a .pcap cannot hold\n",
			rs.Dropped+rs.Failed+rs.Refused, rs.Dropped, rs.Failed, rs.Refused)
	}
	if rs.LastError != "" {
		fmt.Fprintf(ios.ErrOut, "voiptool: recorder: %s\n", rs.LastError)
	}
}

func (o *captureOptions) writeReports(e *engine.Engine) error {
	ff, _ := report.ParseFormat(o.format)
	for _, r := range o.reports {
		var err error
		switch r {
		case "calls":
			err = writeCalls(o.io, e, "", o.format, 0, false)
		case "rtp":
			err = report.WriteStreamSeq(o.io.Out, ff, e.StreamSeq(), report.TableOptions{Width: tableWidth(o.io, 0)})
		case "stats":
			err = report.WriteKPIs(o.io.Out, ff, e.Store().KPIs(sipflow.Filter{}))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
