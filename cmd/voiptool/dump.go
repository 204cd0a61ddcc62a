package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
)

type dumpOptions struct {
	io          *ioStreams
	files       []string
	ifaces      []string
	regex       string
	ignoreCase  bool
	kinds       []string
	count       int
	local       bool
	noHeuristic bool
	quiet       bool
	write       string
	tlsKeylog   string
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
			opts.files = append(opts.files, args...)
			if len(opts.files) == 0 && len(opts.ifaces) == 0 {
				return usageErrorf("dump: no capture file or interface given (name a file, - for stdin, or -i IFACE)")
			}
			for _, k := range opts.kinds {
				if _, ok := kindNames[strings.ToLower(k)]; !ok {
					return usageErrorf("dump: unknown --kind %q (want sip, rtp, rtcp, hep or all)", k)
				}
			}
			if _, err := opts.compile(); err != nil {
				return usageErrorf("dump: bad --regex: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return dumpRun(c.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.files, "read", "r", nil, "read packets from `FILE` (pcap, pcapng, .gz, - for stdin); repeatable")
	f.StringArrayVarP(&opts.ifaces, "interface", "i", nil, "capture live on `IFACE` (\"any\" for all; needs CAP_NET_RAW); repeatable")
	f.StringVarP(&opts.regex, "regex", "e", "", "print only messages matching the regular `EXPR`")
	f.BoolVar(&opts.ignoreCase, "ignore-case", false, "match --regex without regard to case")
	f.StringSliceVar(&opts.kinds, "kind", []string{"sip"}, "what to print: sip, rtp, rtcp, hep, all")
	f.IntVarP(&opts.count, "count", "c", 0, "stop after `N` printed messages (0: no limit)")
	f.BoolVar(&opts.local, "local-time", false, "print times in the local zone instead of UTC")
	f.BoolVar(&opts.noHeuristic, "no-rtp-heuristic", false, "find RTP/RTCP only on ports learned from SDP")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "do not print the summary on stderr")
	f.StringVarP(&opts.write, "write", "w", "", "also save the packets of the printed messages to `FILE` (pcapng)")
	f.StringVar(&opts.tlsKeylog, "tls-keylog", "", "decrypt SIP over TLS with the secrets in `FILE` (NSS key log: SSLKEYLOGFILE, openssl -keylogfile)")
	return cmd
}

// errEnough stops the pipeline once -c messages were printed.
var errEnough = errors.New("dump: count reached")

var kindNames = map[string]capture.Kind{
	"sip": capture.KindSIP, "rtp": capture.KindRTP, "rtcp": capture.KindRTCP, "hep": capture.KindHEP, "all": 0,
}

func (o *dumpOptions) compile() (*regexp.Regexp, error) {
	if o.regex == "" {
		return nil, nil
	}
	expr := o.regex
	if o.ignoreCase {
		expr = "(?i)" + expr
	}
	// (?m) so ^ and $ anchor at header lines, which is what people
	// grepping SIP mean by "a line starting with".
	return regexp.Compile("(?m)" + expr)
}

func dumpRun(ctx context.Context, o *dumpOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	re, _ := o.compile()
	var want [8]bool
	for _, k := range o.kinds {
		kind := kindNames[strings.ToLower(k)]
		if kind == 0 {
			for i := range want {
				want[i] = true
			}
			continue
		}
		want[kind] = true
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	in, err := openSources(ctx, o.files, o.ifaces)
	if err != nil {
		return err
	}
	defer in.Close()

	out := bufio.NewWriterSize(o.io.Out, 64<<10)
	defer out.Flush()
	loc := time.UTC
	if o.local {
		loc = time.Local
	}
	w := &warner{w: o.io.ErrOut}
	printed := 0
	srcs := in.sources()
	var save *packetSaver
	if o.write != "" {
		if save, err = newPacketSaver(o.write, srcs); err != nil {
			return err
		}
		srcs = save.sources
		defer save.Close()
	}
	var hp hep.Packet
	var inner capture.Event
	var inflate []byte
	copts := capture.Options{NoRTPHeuristic: o.noHeuristic}
	if copts.Stream.TLSKeys, err = in.tlsKeys(o.tlsKeylog); err != nil {
		return err
	}
	stats, err := capture.Run(ctx, srcs, copts, w.warn, func(ev *capture.Event) error {
		if ev.Kind == capture.KindHEP && want[capture.KindSIP] && !want[capture.KindHEP] {
			// SIP that reached the capture inside HEP is still SIP to the
			// reader: print it with the inner addresses and time.
			if hp.Unmarshal(ev.Payload) != nil || hp.ProtoType != hep.ProtoSIP {
				return nil
			}
			payload := hp.Payload
			if hp.Compressed {
				out, err := hp.Decompress(inflate[:0])
				if err != nil {
					return nil
				}
				inflate, payload = out, out
			}
			inner = *ev
			inner.Kind, inner.Transport, inner.Payload = capture.KindSIP, capture.TransportOf(hp.Protocol), payload
			inner.Src, inner.Dst, inner.Tunnel = hp.Src, hp.Dst, true
			if !hp.Time.IsZero() {
				inner.Time = hp.Time
			}
			ev = &inner
		}
		if !want[ev.Kind] {
			return nil
		}
		if re != nil && (ev.Kind != capture.KindSIP || !re.Match(ev.Payload)) {
			return nil
		}
		writeEvent(out, ev, in.names, loc)
		if save != nil {
			if err := save.save(ev); err != nil {
				return err
			}
		}
		if in.isLive() {
			out.Flush() // a live reader watches the screen, not a pipe
		}
		printed++
		if o.count > 0 && printed >= o.count {
			return errEnough
		}
		return nil
	})
	w.finish()
	if err != nil && !errors.Is(err, errEnough) && ctx.Err() == nil {
		return err
	}
	out.Flush()
	if save != nil {
		if err := save.Close(); err != nil {
			return err
		}
	}
	if !o.quiet {
		writeSummary(o.io.ErrOut, printed, &stats)
		if save != nil {
			fmt.Fprintf(o.io.ErrOut, "voiptool: saved %d packets to %s\n", save.n, o.write)
		}
		if d := in.liveDrops(); d > 0 {
			fmt.Fprintf(o.io.ErrOut, "voiptool: the kernel dropped %d packets (capture did not keep up)\n", d)
		}
	}
	if in.packets() == 0 {
		return errNothingRead
	}
	return nil
}

// writeEvent prints one event as a header line and, for SIP, the message
// with CRLFs normalised so terminals show it line by line.
func writeEvent(out *bufio.Writer, ev *capture.Event, names []string, loc *time.Location) {
	ts := ev.Time.In(loc).Format("2006-01-02 15:04:05.000000")
	fmt.Fprintf(out, "%s %s %s %s -> %s", ev.Kind, ev.Transport, ts, ev.Src, ev.Dst)
	if len(names) > 1 {
		fmt.Fprintf(out, " [%s]", names[ev.Source])
	}
	fmt.Fprintf(out, " #%d", ev.Packet.Number)
	if ev.VLAN != 0 {
		fmt.Fprintf(out, " vlan %d", ev.VLAN)
	}
	if ev.Tunnel {
		out.WriteString(" tunnel")
	}
	out.WriteByte('\n')
	switch ev.Kind {
	case capture.KindSIP:
		body := strings.ReplaceAll(string(ev.Payload), "\r\n", "\n")
		out.WriteString(body)
		if !strings.HasSuffix(body, "\n") {
			out.WriteByte('\n')
		}
		out.WriteByte('\n')
	case capture.KindRTP:
		h := &ev.RTP
		fmt.Fprintf(out, "  ssrc=0x%08x pt=%d seq=%d ts=%d marker=%t len=%d\n", h.SSRC, h.PayloadType, h.SequenceNumber, h.Timestamp, h.Marker, len(ev.Payload))
	default:
		fmt.Fprintf(out, "  %d bytes\n", len(ev.Payload))
	}
}
