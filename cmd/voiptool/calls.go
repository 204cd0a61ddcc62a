package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/voiptool/voiptool/internal/args"
	"github.com/voiptool/voiptool/internal/diagnose"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/report"
	"github.com/voiptool/voiptool/sipflow"
)

type callsOptions struct {
	io     *ioStreams
	in     loadOptions
	filter string
	format string
	width  int
	calls  bool
	// problems lists only calls with a diagnosed problem; diag holds the
	// detectors' main thresholds.
	problems bool
	diag     diagnose.Options
}

// filterHelp is shared by every command that takes --filter.
const filterHelp = `Filter expressions (also typed in the UI with F7):
  from~1001            From user contains 1001 (~ contains, !~ does not)
  to=2000              To user equals 2000
  method=INVITE        the dialog has a request with this method
  type=CALL            INVITE dialogs (others: REGISTER, OPTIONS, ...)
  state=REJECTED       CALL SETUP, RINGING, IN CALL, CANCELLED, REJECTED,
                       BUSY, DIVERTED, COMPLETED, TIMEOUT, PENDING
  code>=400            final status code (=, !=, <, <=, >, >=)
  ua~Yealink           any User-Agent/Server contains Yealink
  ip=10.0.0.1          any address of the dialog (ip=10.0.0.0/8 for a prefix)
  src=, dst=           first request's source/destination address
  callid=abc@host      Call-ID; also reason~, hangup=caller|callee,
                       messages>, retrans>, and duration>, setup>, pdd>
                       in milliseconds (setup>2000)
  problem=one-way-audio  a diagnosed problem (problem alone: any problem;
                       not problem: none); codes: one-way-audio, no-media,
                       late-media, media-address-mismatch, private-sdp,
                       codec-mismatch, ptime-asymmetry, ssrc-change,
                       high-loss, high-jitter, low-mos, no-ack,
                       retransmission-storm, slow-setup, short-call,
                       timeout, auth-loop, rtp-after-bye, bye-without-rtp-end
  combine with and, or, not and parentheses:
  'from~1001 and (code>=500 or state=TIMEOUT)'`

func newCmdCalls(ios *ioStreams, runF func(*callsOptions) error) *cobra.Command {
	opts := &callsOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "calls [FILE...]",
		Short: "List calls and dialogs, one row each (table, JSON or CSV)",
		Long: `List every dialog in the captures, one row per Call-ID: type, state, parties,
addresses, setup time, post-dial delay, ring and talk durations, final code and
reason, who hung up, message and retransmission counts, related legs and a short
summary of the RTP streams (codec, loss, MOS).

JSON and CSV use stable snake_case names: call_id, type, state, from, to, src,
dst, start, setup_ms, pdd_ms, ring_ms, duration_ms, final_code, reason,
hangup_by, messages, retransmissions, legs, streams, problems (and more; see
README). Durations are milliseconds, -1 where they do not apply.

Problems are found from the signalling and the RTP streams: each has a code,
a severity (error, warning, info) and a sentence with the evidence (in JSON:
problems: [{code, severity, detail}], [] when none). --problems lists only the
calls that have one; the flags below tune the main thresholds.

` + filterHelp,
		Example: `  voiptool calls capture.pcap
  voiptool calls capture.pcap --filter 'code>=400' --format csv > failed.csv
  voiptool calls -r a.pcap -r b.pcapng --calls-only --format json | jq '.[].call_id'
  voiptool calls capture.pcap --problems --loss-threshold 1 --format json | jq '.[].problems'`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.in.takeArgs("calls", args); err != nil {
				return err
			}
			if _, err := report.ParseFormat(opts.format); err != nil {
				return usageErrorf("calls: %v", err)
			}
			if _, err := sipflow.ParseFilter(opts.filter); err != nil {
				return usageErrorf("calls: --filter: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return callsRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	opts.in.spill.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVarP(&opts.filter, "filter", "f", "", "show only dialogs matching `EXPR` (see above)")
	f.StringVar(&opts.format, "format", "table", "output `FORMAT`: "+strings.Join(report.Formats(), ", "))
	f.IntVar(&opts.width, "width", 0, "table width in columns (0: 120, -1: unlimited)")
	f.BoolVar(&opts.calls, "calls-only", false, "only INVITE dialogs (calls), not REGISTER, OPTIONS, ...")
	addDiagnoseFlags(f, &opts.diag)
	f.BoolVar(&opts.problems, "problems", false, "only dialogs with a diagnosed problem")
	return cmd
}

// addDiagnoseFlags wires the main detector thresholds (0 keeps the
// default documented in internal/diagnose, a negative value disables).
func addDiagnoseFlags(f *pflag.FlagSet, o *diagnose.Options) {
	f.Float64Var(&o.HighLossPct, "loss-threshold", 0, "high-loss above this `PERCENT` of packets lost (default 2)")
	f.Float64Var(&o.HighJitterMs, "jitter-threshold", 0, "high-jitter above this peak jitter in `MS` (default 40)")
	f.Float64Var(&o.LowMOS, "mos-threshold", 0, "low-mos below this `MOS` (default 3.6)")
	f.DurationVar(&o.SlowSetup, "slow-setup", 0, "slow-setup when post-dial delay exceeds `DURATION` (default 5s)")
	f.DurationVar(&o.ShortCall, "short-call", 0, "short-call when an answered call lasts less than `DURATION` (default 2s)")
	f.DurationVar(&o.LateMedia, "late-media", 0, "late-media when RTP starts `DURATION` after the answer (default 2s)")
}

func callsRun(ctx context.Context, o *callsOptions) error {
	e, err := load(ctx, o.io, &o.in, engine.Options{Diagnose: o.diag})
	if err != nil {
		return err
	}
	defer e.Close() // removes the spill file
	filter := o.filter
	if o.problems {
		if filter == "" {
			filter = "problem"
		} else {
			filter = "problem and (" + filter + ")"
		}
	}
	return writeCalls(o.io, e, filter, o.format, o.width, o.calls)
}

// writeCalls prints the call list; the open command uses it too when
// stdout is not a terminal.
func writeCalls(ios *ioStreams, e *engine.Engine, filter, format string, width int, callsOnly bool) error {
	if callsOnly {
		filter = args.CallsOnly(filter)
	}
	f, err := sipflow.ParseFilter(filter)
	if err != nil {
		return usageErrorf("--filter: %v", err)
	}
	ff, err := report.ParseFormat(format)
	if err != nil {
		return usageErrorf("%v", err)
	}
	// Streamed from the store: the list is never held whole (200 000
	// summaries would be some 600 MB beside the store). By chunks, so
	// that the report encodes one while the walk builds the next.
	return report.WriteCallChunks(ios.Out, ff, e.Store().SummaryChunks(f), report.TableOptions{Width: tableWidth(ios, width)})
}

// tableWidth is the table width to use: the user's, else the terminal
// default, else unlimited when the output goes to a pipe or file, so
// scripts get every column and whole Call-IDs.
func tableWidth(ios *ioStreams, width int) int {
	if width == 0 && !ios.OutTTY {
		return -1
	}
	return width
}
