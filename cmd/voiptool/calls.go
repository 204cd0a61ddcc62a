package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/args"
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
hangup_by, messages, retransmissions, legs, streams (and more; see README).
Durations are milliseconds, -1 where they do not apply.

` + filterHelp,
		Example: `  voiptool calls capture.pcap
  voiptool calls capture.pcap --filter 'code>=400' --format csv > failed.csv
  voiptool calls -r a.pcap -r b.pcapng --calls-only --format json | jq '.[].call_id'`,
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
	f := cmd.Flags()
	f.StringVarP(&opts.filter, "filter", "f", "", "show only dialogs matching `EXPR` (see above)")
	f.StringVar(&opts.format, "format", "table", "output `FORMAT`: "+strings.Join(report.Formats(), ", "))
	f.IntVar(&opts.width, "width", 0, "table width in columns (0: 120, -1: unlimited)")
	f.BoolVar(&opts.calls, "calls-only", false, "only INVITE dialogs (calls), not REGISTER, OPTIONS, ...")
	return cmd
}

func callsRun(ctx context.Context, o *callsOptions) error {
	e, err := load(ctx, o.io, &o.in, engine.Options{})
	if err != nil {
		return err
	}
	return writeCalls(o.io, e, o.filter, o.format, o.width, o.calls)
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
	return report.WriteCalls(ios.Out, ff, e.Calls(f, 0, -1), report.TableOptions{Width: tableWidth(ios, width)})
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
