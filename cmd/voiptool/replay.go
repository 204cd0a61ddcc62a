package main

import (
	"context"
	"fmt"
	"net"
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
	iface          string
	srcMAC, dstMAC string
	force          bool
	onlyVoIP       bool
	pps, mbps      float64
	topspeed       bool
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

--iface IFACE replays the frames themselves on an interface (AF_PACKET: root
or CAP_NET_RAW), as captured unless --map moves addresses (source and
destination alike) or --src-mac/--dst-mac set the Ethernet addresses; lengths
and checksums are repaired. Captures without Ethernet headers (Linux cooked,
raw IP) need --dst-mac to have one built. An interface that owns one of the
capture's addresses is refused unless --force. --pps N, --mbps N or --topspeed
replace the capture's timing. Frames the kernel has no room for are counted.
Frames that carry no SIP, RTP, RTCP or HEP (ARP, TCP handshakes and ACKs, DNS)
go out as captured when no calls are selected, so the wire sees what the
capture saw, and are counted; --only-voip leaves them out (counted too). With
--map they are not sent (their headers are not located), and counted.

Ctrl-C stops at once and prints the summary.

` + filterHelp,
		Example: `  voiptool replay call.pcap --to 127.0.0.1:5060 --rewrite --call 8d3f0b2a
  voiptool replay day.pcap --map 10.0.0.1=192.0.2.10 --map 192.168.1.10=192.0.2.11 --speed 2 --loop 3
  voiptool replay call.pcap --to 127.0.0.1:9000 --speed max --format json
  sudo voiptool replay call.pcap --iface eth1 --map 10.0.0.1=192.0.2.10 --dst-mac 02:00:00:00:00:01 --pps 500`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.in.takeArgs("replay", args); err != nil {
				return err
			}
			for _, f := range opts.in.files {
				if f == "-" {
					return usageErrorf("replay: standard input cannot be read twice; name a file")
				}
			}
			if opts.iface == "" && opts.to == "" && len(opts.maps) == 0 {
				return usageErrorf("replay: --to HOST:PORT, --map ORIG=NEW or --iface IFACE is required")
			}
			if err := opts.checkFrameFlags(c); err != nil {
				return err
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
			if (opts.newIDs || opts.newRTP && opts.iface == "") && !opts.rewrite {
				return usageErrorf("replay: --new-ids and --new-rtp need --rewrite (or --new-rtp with --iface)")
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
	f.BoolVar(&opts.newRTP, "new-rtp", false, "with --rewrite or --iface: new RTP SSRC, sequence and timestamp bases per run, RTCP mapped onto them")
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
	f.StringVar(&opts.iface, "iface", "", "replay the frames themselves on interface `IFACE` (needs CAP_NET_RAW)")
	f.StringVar(&opts.srcMAC, "src-mac", "", "with --iface: Ethernet source `MAC` of every frame")
	f.StringVar(&opts.dstMAC, "dst-mac", "", "with --iface: Ethernet destination `MAC` of every frame (needed for captures without Ethernet headers)")
	f.BoolVar(&opts.force, "force", false, "with --iface: replay on an interface that owns one of the capture's addresses")
	f.BoolVar(&opts.onlyVoIP, "only-voip", false, "with --iface: send only frames carrying SIP, RTP, RTCP or HEP (by default the others, ARP, TCP handshakes and ACKs..., go out as captured and are counted)")
	f.Float64Var(&opts.pps, "pps", 0, "send at `N` packets per second instead of the capture's timing")
	f.Float64Var(&opts.mbps, "mbps", 0, "send at `N` Mbit/s instead of the capture's timing")
	f.BoolVar(&opts.topspeed, "topspeed", false, "send as fast as possible (--speed max)")
	return cmd
}

// checkFrameFlags checks the flags of frame replay and the rate flags.
func (o *replayOptions) checkFrameFlags(c *cobra.Command) error {
	rates := 0
	for _, set := range []bool{o.pps != 0, o.mbps != 0, o.topspeed, c.Flags().Changed("speed")} {
		if set {
			rates++
		}
	}
	switch {
	case rates > 1:
		return usageErrorf("replay: --speed, --pps, --mbps and --topspeed exclude each other")
	case o.pps < 0 || o.mbps < 0:
		return usageErrorf("replay: --pps and --mbps are positive rates")
	case o.iface == "" && (o.srcMAC != "" || o.dstMAC != "" || o.force || o.onlyVoIP):
		return usageErrorf("replay: --src-mac, --dst-mac, --force and --only-voip are for --iface")
	case o.iface != "" && (o.to != "" || o.rewrite || o.newIDs || o.bind != ""):
		return usageErrorf("replay: --iface sends the frames themselves: --to, --rewrite, --new-ids and --bind are for socket replay (--map moves addresses)")
	}
	for _, m := range []string{o.srcMAC, o.dstMAC} {
		if m == "" {
			continue
		}
		if hw, err := net.ParseMAC(m); err != nil || len(hw) != 6 {
			return usageErrorf("replay: bad MAC address %q", m)
		}
	}
	return nil
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
	ro.Iface, ro.Force, ro.OnlyVoIP, ro.PPS, ro.Mbps = o.iface, o.force, o.onlyVoIP, o.pps, o.mbps
	if o.topspeed {
		ro.Speed = 0
	}
	if o.srcMAC != "" {
		ro.SrcMAC, _ = net.ParseMAC(o.srcMAC)
	}
	if o.dstMAC != "" {
		ro.DstMAC, _ = net.ParseMAC(o.dstMAC)
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
