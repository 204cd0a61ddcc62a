package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/report"
	"github.com/voiptool/voiptool/sipflow"
)

type statsOptions struct {
	io     *ioStreams
	in     loadOptions
	filter string
	format string
}

func newCmdStats(ios *ioStreams, runF func(*statsOptions) error) *cobra.Command {
	opts := &statsOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "stats [FILE...]",
		Short: "SIP key performance indicators: ASR, NER, SD, ISA, AHR, codes, timings",
		Long: `Count SIP messages per method and per status code, retransmissions, setup
time and post-dial delay (min/avg/max), and the session-quality ratios HOMER
reports, over the dialogs that match --filter:

  ASR = 200 / (INVITEs - auth challenges - 3xx) x 100
  NER = (200 + 486 + 487 + 603) / (INVITEs - auth challenges - 3xx) x 100
  SD  = calls ending in 500, 503 or 504            (session defects)
  ISA = calls ending in 408, 500, 503, 504 or with no final response
                                                   (ineffective session attempts)
  AHR = mean number of Via headers on initial INVITEs (average hop requests)

INVITEs are initial INVITE transactions (re-sent with credentials after a
401/407 counts again; re-INVITEs do not); the 200/486/487/603/3xx/401/407 terms
count the first final response of each. Retransmissions are not counted as
messages of their own. SD and ISA are given as counts and as % of calls.

` + filterHelp,
		Example: `  voiptool stats capture.pcap
  voiptool stats capture.pcap --filter 'ip=10.1.0.0/16' --format json`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := opts.in.takeArgs("stats", args); err != nil {
				return err
			}
			if _, err := report.ParseFormat(opts.format); err != nil {
				return usageErrorf("stats: %v", err)
			}
			if _, err := sipflow.ParseFilter(opts.filter); err != nil {
				return usageErrorf("stats: --filter: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return statsRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	opts.in.spill.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVarP(&opts.filter, "filter", "f", "", "count only dialogs matching `EXPR`")
	f.StringVar(&opts.format, "format", "table", "output `FORMAT`: "+strings.Join(report.Formats(), ", "))
	return cmd
}

func statsRun(ctx context.Context, o *statsOptions) error {
	e, err := load(ctx, o.io, &o.in, engine.Options{})
	if err != nil {
		return err
	}
	defer e.Close() // removes the spill file
	f, _ := sipflow.ParseFilter(o.filter)
	ff, _ := report.ParseFormat(o.format)
	return report.WriteKPIs(o.io.Out, ff, e.Store().KPIs(f))
}
