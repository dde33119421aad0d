package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/analysis"
)

func analyzeCmd() *cobra.Command {
	var warmup, output, format string
	var slas []string
	cmd := &cobra.Command{
		Use:   "analyze [--warmup N|DURATION] [--sla RULE]... [-o text|json] FILE...",
		Short: "Latency and jitter of sample logs (tsnctl send/recv, or netlatency nl-rx JSON lines)",
		Long: `analyze reads the sample logs of one run — the sender's, the receiver's, or both — and reports per
stream the packet counters and the indicators of the seed experiment:

  scheduled_time  receive timestamp − cycle start
  rt_app_latency  send call − cycle start (from the sender's log when given, else the receiver's)
  jitter          scheduled time − its mean (pk-pk = max − min)
  wakeup_latency  wake-up − planned wake-up (sender's log)
  txtime_error    TX timestamp − planned txtime (sender's log, with --tx-timestamps)
  txtime_to_rx    receive timestamp − planned txtime (the path delay under launch-time offload)

Percentiles are exact up to 65536 samples per indicator, then taken from a histogram of the
deviation from the median of the first 65536 (error at most 0.1 % of that deviation); the output
says which. netlatency's nl-rx output is recognised by itself (or give --format netlatency).

--sla rules: INDICATOR.STAT OP DURATION or COUNTER OP N, e.g.
  --sla scheduled_time.p9999<=1300us --sla jitter.pk_pk<=1us --sla lost==0
Any violated rule is listed and the exit status is 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: use text or json", output)
			}
			opts, err := analysis.ParseWarmup(warmup)
			if err != nil {
				return err
			}
			var rules []analysis.SLA
			for _, s := range slas {
				r, err := analysis.ParseSLA(s)
				if err != nil {
					return err
				}
				rules = append(rules, r)
			}
			a := analysis.New(opts)
			for _, f := range args {
				if err := a.ReadFile(f, format); err != nil {
					return err
				}
			}
			res := a.Result()
			ok := res.CheckSLA(rules)
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				res.WriteText(cmd.OutOrStdout())
			}
			if !ok {
				return exitError{1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&warmup, "warmup", "", "leave out each stream's first N packets, or the packets of its first DURATION")
	f.StringArrayVar(&slas, "sla", nil, "service-level rule, e.g. scheduled_time.p9999<=1300us (repeatable)")
	f.StringVarP(&output, "output", "o", "text", "text or json")
	f.StringVar(&format, "format", "auto", "input format: auto, tsnctl or netlatency")
	return cmd
}
