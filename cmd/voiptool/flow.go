package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/args"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/extract"
	"github.com/voiptool/voiptool/internal/report"
)

type flowOptions struct {
	io      *ioStreams
	in      loadOptions
	callIDs []string
	related bool
	format  string
	width   int
	aliases []string
}

func newCmdFlow(ios *ioStreams, runF func(*flowOptions) error) *cobra.Command {
	opts := &flowOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "flow [FILE...] --call CALL_ID",
		Short: "Draw a call's ladder diagram (text, markdown, mermaid, plantuml, svg, html)",
		Long: `Draw the SIP ladder of one or more calls: one column per endpoint (IP:port,
never merged, IPv6 in full), arrows with method or status, time and delta,
retransmissions marked [R], an SDP summary on offers and answers, and the
RTP streams between their endpoints with packets, loss and MOS.

--related adds the legs linked to the call (X-Call-ID/X-CID, HEP correlation
id, shared SDP media) into one extended flow; the rule that linked each leg
is printed. Text output fits --width; when the endpoints cannot fit, the
ladder keeps full addresses and says it is wider than asked.`,
		Example: `  voiptool flow call.pcap --call 1135D8701739D86@10.251.23.139
  voiptool flow call.pcap --call abc --related --format mermaid > flow.mmd
  voiptool flow call.pcap --call abc --alias 10.0.0.1=pbx --format svg > flow.svg`,
		RunE: func(c *cobra.Command, files []string) error {
			if err := opts.in.takeArgs("flow", files); err != nil {
				return err
			}
			if len(opts.callIDs) == 0 {
				return usageErrorf("flow: --call CALL_ID is required (list them with 'voiptool calls')")
			}
			if _, err := report.ParseFlowFormat(opts.format); err != nil {
				return usageErrorf("flow: %v", err)
			}
			if _, err := args.ParseAliases(opts.aliases); err != nil {
				return usageErrorf("flow: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return flowRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	opts.in.spill.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringArrayVar(&opts.callIDs, "call", nil, "the `CALL_ID` (or an unambiguous prefix) to draw; repeat to merge several calls")
	f.BoolVar(&opts.related, "related", false, "merge the related legs (A-leg/B-leg) into one flow")
	f.StringVar(&opts.format, "format", "text", "output `FORMAT`: "+strings.Join(report.FlowFormats(), ", "))
	f.IntVar(&opts.width, "width", 0, "text width in columns (0: 120, -1: unlimited)")
	f.StringArrayVar(&opts.aliases, "alias", nil, "name an address in the column titles, `IP=NAME`; repeatable")
	return cmd
}

func flowRun(ctx context.Context, o *flowOptions) error {
	e, err := load(ctx, o.io, &o.in, engine.Options{})
	if err != nil {
		return err
	}
	defer e.Close() // removes the spill file
	ids := make([]string, len(o.callIDs))
	for i, id := range o.callIDs {
		if ids[i], err = args.ResolveCallID(e, id); err != nil {
			return fmt.Errorf("flow: %w", err)
		}
	}
	aliases, _ := args.ParseAliases(o.aliases)
	fl, calls := extract.Flow(e, ids, o.related, aliases)
	if len(calls) == 0 {
		return fmt.Errorf("flow: no call with Call-ID %s", strings.Join(o.callIDs, " or "))
	}
	if len(calls) > 1 {
		for _, c := range calls {
			for _, l := range c.Summary.Legs {
				fmt.Fprintf(o.io.ErrOut, "voiptool: %s is linked to %s by %s\n", c.Summary.CallID, l.CallID, l.Rule)
			}
		}
	}
	ff, _ := report.ParseFlowFormat(o.format)
	return report.WriteFlow(o.io.Out, ff, fl, report.FlowOptions{Width: o.width, Title: "Call flow " + strings.Join(ids, ", ")})
}
