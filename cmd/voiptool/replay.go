package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/internal/replay"
	"github.com/voiptool/voiptool/sipflow"
)

type replayOptions struct {
	io             *ioStreams
	in             loadOptions
	to             string
	maps           []string
	rewrite        bool
	newIDs         bool
	newRTP         bool
	side           string
	speed          string
	loop           int
	calls          []string
	filter         string
	format         string
	allowBroadcast bool
	bind           string
	maxSockets     int
	linger         time.Duration
	spin           time.Duration
}

func newCmdReplay(ios *ioStreams, runF func(*replayOptions) error) *cobra.Command {
	opts := &replayOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "replay FILE... --to HOST:PORT",
		Short: "Send the SIP, RTP and RTCP of a capture again, on its own schedule, from ordinary sockets",
		Long: `Replay the payloads of recorded calls to a test SIP server, an SBC, an IDS or a
collector, over ordinary UDP and TCP sockets (no root). Each original source
endpoint gets a local socket; each packet leaves at start + its capture offset
(divided by --speed), so timing errors never accumulate.

Packets go only where you say: --to receives everything, --map sends what the
capture sent to ORIG_IP[:PORT] to NEW_IP[:PORT] instead (both directions of a
call can be mapped). Broadcast and multicast targets need --allow-broadcast.

--rewrite makes a replay acceptable to a live peer: the Request-URI goes to
the target, Via/Contact and the SDP c=/m= lines name the local sockets, and
only the caller's side is sent (--side) while the peer answers for the
callee; its To-tag and SDP are learnt from its answers. --new-ids draws new
Call-IDs, tags and branches per run, --new-rtp new SSRC/sequence/timestamp
bases per stream and run (loss and jitter stay as captured), with the RTCP
mapped onto them (SSRCs, sender-report RTP times and counts, reported
sequence numbers).

Ctrl-C stops at once and prints the summary.

` + filterHelp,
		Example: `  voiptool replay call.pcap --to 127.0.0.1:5060 --rewrite --call 8d3f0b2a
  voiptool replay day.pcap --map 10.0.0.1=192.0.2.10 --map 192.168.1.10=192.0.2.11 --speed 2 --loop 3
  voiptool replay call.pcap --to 127.0.0.1:9000 --speed max --format json`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.in.takeArgs("replay", args); err != nil {
				return err
			}
			for _, f := range opts.in.files {
				if f == "-" {
					return usageErrorf("replay: standard input cannot be read twice; name a file")
				}
			}
			if opts.to == "" && len(opts.maps) == 0 {
				return usageErrorf("replay: --to HOST:PORT or --map ORIG=NEW is required")
			}
			if _, err := pace.ParseSpeed(opts.speed); err != nil {
				return usageErrorf("replay: --speed: %v", err)
			}
			if opts.loop < 0 {
				return usageErrorf("replay: --loop must be 0 (forever) or more")
			}
			if _, err := replay.ParseSide(opts.side); opts.side != "" && err != nil {
				return usageErrorf("%v", err)
			}
			if _, err := sipflow.ParseFilter(opts.filter); err != nil {
				return usageErrorf("replay: --filter: %v", err)
			}
			if opts.format != "text" && opts.format != "json" {
				return usageErrorf("replay: --format is text or json")
			}
			if (opts.newIDs || opts.newRTP) && !opts.rewrite {
				return usageErrorf("replay: --new-ids and --new-rtp need --rewrite")
			}
			if opts.bind != "" {
				if _, err := netip.ParseAddr(opts.bind); err != nil {
					return usageErrorf("replay: --bind: %v", err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return replayRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.to, "to", "", "send every packet no --map names to `HOST:PORT`")
	f.StringArrayVar(&opts.maps, "map", nil, "send what went to `ORIG_IP[:PORT]=NEW_IP[:PORT]` to the new address; repeatable")
	f.BoolVar(&opts.rewrite, "rewrite", false, "rewrite Request-URI, Via, Contact and SDP for a live peer (implies --side caller)")
	f.BoolVar(&opts.newIDs, "new-ids", false, "with --rewrite: new Call-ID, tags and branches per run")
	f.BoolVar(&opts.newRTP, "new-rtp", false, "with --rewrite: new RTP SSRC, sequence and timestamp bases per run")
	f.StringVar(&opts.side, "side", "", "send `SIDE`: both, caller or callee (default both; caller with --rewrite)")
	f.StringVar(&opts.speed, "speed", "1", "pacing: 1 (original timing), a factor such as 0.5 or 2, or max")
	f.IntVar(&opts.loop, "loop", 1, "play the capture `N` times (0: until Ctrl-C)")
	f.StringArrayVar(&opts.calls, "call", nil, "replay only the call with `CALL_ID` (or a unique prefix); repeatable")
	f.StringVarP(&opts.filter, "filter", "f", "", "replay only calls matching `EXPR` (see above)")
	f.StringVar(&opts.format, "format", "text", "summary `FORMAT`: text or json")
	f.BoolVar(&opts.allowBroadcast, "allow-broadcast", false, "permit broadcast and multicast targets")
	f.StringVar(&opts.bind, "bind", "", "local `ADDR` of the sockets (default 127.0.0.1 for loopback targets, else any)")
	f.IntVar(&opts.maxSockets, "max-sockets", replay.DefaultMaxSockets, "at most `N` local sockets")
	f.DurationVar(&opts.spin, "spin", replay.DefaultSpin, "poll the clock for the last `D` before each departure (0: timer only)")
	f.DurationVar(&opts.linger, "linger", time.Second, "keep the sockets open `D` after the last packet to count late answers")
	return cmd
}

// replayOpts turns the flags into replay.Options; every value was checked
// in RunE except those that need a lookup (host names).
func (o *replayOptions) replayOpts() (replay.Options, error) {
	var ro replay.Options
	speed, _ := pace.ParseSpeed(o.speed)
	filter, _ := sipflow.ParseFilter(o.filter)
	side := replay.SideBoth
	if o.rewrite {
		side = replay.SideCaller
	}
	if o.side != "" {
		side, _ = replay.ParseSide(o.side)
	}
	ro = replay.Options{Files: o.in.files, Capture: capture.Options{NoRTPHeuristic: o.in.noHeuristic},
		AllowBroadcast: o.allowBroadcast, MaxSockets: o.maxSockets, CallIDs: o.calls, Filter: filter, Side: side,
		Rewrite: o.rewrite, NewIDs: o.newIDs, NewRTP: o.newRTP, Speed: speed, Loops: o.loop, Linger: o.linger, Spin: o.spin}
	if o.to != "" {
		t, err := replay.ParseTarget(o.to)
		if err != nil {
			return ro, usageErrorf("replay: --to: %v", err)
		}
		ro.To = t
	}
	for _, s := range o.maps {
		m, err := replay.ParseMap(s)
		if err != nil {
			return ro, usageErrorf("replay: --map: %v", err)
		}
		ro.Maps = append(ro.Maps, m)
	}
	if o.bind != "" {
		ro.Bind, _ = netip.ParseAddr(o.bind)
	}
	return ro, nil
}

func replayRun(ctx context.Context, o *replayOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ro, err := o.replayOpts()
	if err != nil {
		return err
	}
	tty := false
	if f, ok := o.io.ErrOut.(*os.File); ok {
		tty = term.IsTerminal(f.Fd())
	}
	if !o.in.quiet {
		ro.ProgressEvery = 5 * time.Second
		if tty {
			ro.ProgressEvery = replay.DefaultProgressEvery
		}
		ro.Progress = func(p replay.Progress) {
			if tty {
				fmt.Fprintf(o.io.ErrOut, "\r\x1b[Kvoiptool: %s", p)
			} else {
				fmt.Fprintf(o.io.ErrOut, "voiptool: %s\n", p)
			}
		}
	}
	w := &warner{w: o.io.ErrOut}
	sum, err := replay.Run(ctx, ro, w.warn)
	if tty && !o.in.quiet {
		fmt.Fprintln(o.io.ErrOut)
	}
	w.finish()
	if err != nil {
		return err
	}
	return replay.WriteSummary(o.io.Out, sum, o.format)
}
