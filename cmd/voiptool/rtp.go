package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/args"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/report"
)

type rtpOptions struct {
	io       *ioStreams
	in       loadOptions
	callID   string
	format   string
	width    int
	interval time.Duration
	explain  bool
	noPLC    bool
}

func newCmdRTP(ios *ioStreams, runF func(*rtpOptions) error) *cobra.Command {
	opts := &rtpOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "rtp [FILE...]",
		Short: "Per-stream RTP quality: loss, jitter, delta, RTCP, DTMF and MOS",
		Long: `Analyse every RTP stream (one per SSRC and direction) with tshark's definitions
(packets, expected, lost, sequence errors, min/mean/max delta and RFC 3550
jitter, max skew), plus burst/gap statistics, a consecutive-loss histogram,
RTCP reports per reporter (fraction lost, jitter, RTT from LSR/DLSR, XR MOS),
RFC 4733 DTMF digits, a time series per --interval, and an ITU-T G.107
E-model MOS: on the wire, and behind simulated 50 ms, 200 ms and adaptive
jitter buffers (late packets count as lost there).

Streams are linked to calls through SDP (c=/m=, a=rtcp, rtcp-mux) and found
by a content heuristic where no SDP was seen (--no-rtp-heuristic turns it off).
--explain prints the E-model inputs (codec, Ie, Bpl, Ppl, BurstR, delay, R)
behind each MOS.`,
		Example: `  voiptool rtp call.pcap
  voiptool rtp call.pcap --call 1135D8701739D86@10.251.23.139 --explain
  voiptool rtp call.pcap --format json --interval 5s | jq '.[] | {ssrc, mos, lost_pct}'`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.in.takeArgs("rtp", args); err != nil {
				return err
			}
			if _, err := report.ParseFormat(opts.format); err != nil {
				return usageErrorf("rtp: %v", err)
			}
			if opts.interval < 10*time.Millisecond {
				return usageErrorf("rtp: --interval %v is too short (at least 10ms)", opts.interval)
			}
			if runF != nil {
				return runF(opts)
			}
			return rtpRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	opts.in.spill.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.callID, "call", "", "only the streams of the call with this `CALL_ID` (or an unambiguous prefix)")
	f.StringVar(&opts.format, "format", "table", "output `FORMAT`: "+strings.Join(report.Formats(), ", "))
	f.IntVar(&opts.width, "width", 0, "table width in columns (0: 120, -1: unlimited)")
	f.DurationVar(&opts.interval, "interval", time.Second, "time-series bucket `DURATION`")
	f.BoolVar(&opts.explain, "explain", false, "print the E-model inputs behind each MOS")
	f.BoolVar(&opts.noPLC, "no-plc", false, "rate G.711 as having no packet-loss concealment (G.113 Bpl 4.3 instead of 25.1)")
	return cmd
}

func rtpRun(ctx context.Context, o *rtpOptions) error {
	eo := engine.Options{}
	eo.RTP.Interval = o.interval
	eo.RTP.NoPLC = o.noPLC
	e, err := load(ctx, o.io, &o.in, eo)
	if err != nil {
		return err
	}
	defer e.Close() // removes the spill file
	id := o.callID
	if id != "" {
		if id, err = args.ResolveCallID(e, id); err != nil {
			return fmt.Errorf("rtp: %w", err)
		}
	}
	ff, _ := report.ParseFormat(o.format)
	if id == "" && !o.explain {
		// Every stream: written from the engine's own reports, no copy.
		return report.WriteStreamSeq(o.io.Out, ff, e.StreamSeq(), report.TableOptions{Width: tableWidth(o.io, o.width)})
	}
	streams := e.Streams(id)
	if o.explain {
		for i, s := range streams {
			if i > 0 {
				fmt.Fprintln(o.io.Out)
			}
			if err := report.WriteExplain(o.io.Out, s); err != nil {
				return err
			}
		}
		return nil
	}
	return report.WriteStreams(o.io.Out, ff, streams, report.TableOptions{Width: tableWidth(o.io, o.width)})
}
