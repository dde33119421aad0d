package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/report"
	"github.com/tsnctl/tsnctl/termsafe"
)

// analysisFlags are the flags analyze and report share.
type analysisFlags struct {
	warmup, format string
	slas           []string
	plan           string // analyze -f FILE
}

func (a *analysisFlags) register(f *pflag.FlagSet) {
	a.registerInput(f)
	f.StringArrayVar(&a.slas, "sla", nil, "service-level rule, e.g. scheduled_time.p9999<=1300us (repeatable)")
}

// registerInput registers the flags that say how to read the logs (warm-up, format).
func (a *analysisFlags) registerInput(f *pflag.FlagSet) {
	f.StringVar(&a.warmup, "warmup", "", "leave out each stream's first N packets, or the packets of its first DURATION")
	f.StringVar(&a.format, "format", "auto", "input format: auto, tsnctl or netlatency")
}

// analyze reads the logs of one run and returns its result, with the SLA rules to check.
func (a *analysisFlags) analyze(files []string) (*analysis.Result, []analysis.SLA, error) {
	opts, rules, err := a.parse()
	if err != nil {
		return nil, nil, err
	}
	if a.plan != "" {
		if opts.Plan, err = analysis.LoadPlan(a.plan); err != nil {
			return nil, nil, err
		}
	}
	an := analysis.New(opts)
	if err := an.ReadFiles(files, a.format); err != nil {
		return nil, nil, err
	}
	return an.Result(), rules, nil
}

func (a *analysisFlags) parse() (analysis.Options, []analysis.SLA, error) {
	opts, err := analysis.ParseWarmup(a.warmup)
	if err != nil {
		return opts, nil, err
	}
	var rules []analysis.SLA
	for _, s := range a.slas {
		r, err := analysis.ParseSLA(s)
		if err != nil {
			return opts, nil, err
		}
		rules = append(rules, r)
	}
	return opts, rules, nil
}

const slaHelp = `--sla rules: INDICATOR.STAT OP DURATION, COUNTER OP N or sync.locked OP PERCENT, e.g.
  --sla scheduled_time.p9999<=1300us --sla jitter.pk_pk<=1us --sla lost==0 --sla 'sync.locked>=100%'
STAT is one of count min max mean stddev p50 p90 p99 p999 p9999 pk_pk spread (min → p99);
sync.locked is the share of the run's time LOCKED (a tsnctl ptp run --log file among the inputs).
Any violated rule is listed and the exit status is 1.`

const reportSLAHelp = `

In a report a rule can judge one run, RUN: RULE with the run's name as given
("case 2: etf_dropped==0"), and take its limit from another run, FACTOR*[RUN]: the same
statistic of that run's stream ("case 1: scheduled_time.spread>=20*[case 2]").`

func analyzeCmd() *cobra.Command {
	var af analysisFlags
	var output string
	cmd := &cobra.Command{
		Use:   "analyze [--warmup N|DURATION] [--sla RULE]... [-f CONFIG] [-o text|json] FILE...",
		Short: "Latency and jitter of sample logs (tsnctl send/recv, or netlatency nl-rx JSON lines)",
		Long: `analyze reads the sample logs of one run — the sender's, the receiver's, or both — and reports per
stream the packet counters and the indicators of the seed experiment:

  scheduled_time  receive timestamp − cycle start
  rt_app_latency  send call − cycle start (from the sender's log when given, else the receiver's)
  jitter          scheduled time − its mean (pk-pk = max − min)
  wakeup_latency  wake-up − planned wake-up (sender's log)
  txtime_error    TX timestamp − planned txtime (sender's log, with --tx-timestamps)
  txtime_to_rx    receive timestamp − planned txtime (the path delay under launch-time offload)
  path_delay      receive timestamp − TX timestamp (sender's log with --tx-timestamps and receiver's)

Percentiles are exact up to 65536 samples per indicator, then taken from a histogram of the
deviation from the median of the first 65536 (error at most 0.1 % of that deviation); the output
says which. netlatency's nl-rx output is recognised by itself (or give --format netlatency).

-f CONFIG judges each of CONFIG's planned streams (sent with tsnctl send --stream NAME -f CONFIG)
by its own row of the plan: its txtimes (and, with TX timestamps, its packets' departures) inside
its window [open, close) in each period, its packets received (RX timestamp − period start) by
its deadline, offset + max-latency. One row per stream; a stream that misses either, or whose
deadline cannot be judged (no receiver's log), fails, and the exit status is 1.

` + slaHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, rules, err := af.analyze(args)
			if err != nil {
				return err
			}
			for _, r := range rules {
				if r.Run != "" || r.Ref != "" {
					return param.Errorf("sla", strconv.Quote(r.Text), "analyze judges one run: give a rule for one run, or relative to another, to tsnctl report")
				}
			}
			ok := res.CheckSLA(rules)
			ok = res.PlanOK() && ok
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
	af.register(cmd.Flags())
	cmd.Flags().StringVarP(&af.plan, "file", "f", "", "configuration whose planned streams to judge, each by its window and deadline")
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	return cmd
}

func reportCmd() *cobra.Command {
	var af analysisFlags
	var out, title string
	var notes []string
	cmd := &cobra.Command{
		Use:   "report --out DIR [--title T] [--note TEXT]... [--warmup N|DURATION] [--sla RULE]... [-f CONFIG] RUN...",
		Short: "Write a lab report (HTML, Markdown, JSON, PNG and SVG plots) of one or more runs",
		Long: `report analyses each RUN as analyze does and writes into DIR:

  report.html  one self-contained file (plots embedded; opens offline)
  report.md    the same tables, with the PNG plots beside it
  report.json  setup, results and SLA verdicts of every run
  *.png *.svg  per run: scheduled time and RT application latency per packet (the seed's figures);
               across runs: histogram (log count axis) and CCDF of every indicator

A RUN is NAME=FILE[,FILE...] (e.g. "case 2=tx.log,rx.log"), a directory of sample logs (named
after it), or one file. With several runs, the tables have a column per run and the
distributions are overlaid.

-f CONFIG adds a "Planned streams" section: CONFIG's schedule drawn over one cycle (as tsnctl plan
--svg draws it) and, for each run whose logs carry CONFIG's planned streams (sent with tsnctl send
--stream NAME -f CONFIG), analyze -f's row per stream. A stream that misses its window or deadline
makes the exit status 1; runs without planned streams are not judged by it.

` + slaHelp + reportSLAHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out: give the directory to write the report into")
			}
			opts, rules, err := af.parse()
			if err != nil {
				return err
			}
			rep := &report.Report{Title: title, Generated: time.Now(), Version: version, Notes: notes}
			if af.plan != "" {
				c, err := configs.Load(af.plan)
				if err != nil {
					return err
				}
				expanded, res, err := plan.Expand(c)
				if err != nil {
					return err
				}
				opts.Plan = analysis.PlanOf(plan.StreamsOf(c, expanded, res))
				// Credit-shaped streams have no cycle to draw: their rows judge them.
				if len(report.PlanTimelines(expanded, res)) > 0 {
					if rep.Schedule, err = report.PlanFigure(expanded, res); err != nil {
						return fmt.Errorf("-f %s: %w", af.plan, err)
					}
				}
			}
			var names []string
			var results []*analysis.Result
			for _, spec := range args {
				r, err := report.Load(spec, opts, af.format)
				if err != nil {
					return err
				}
				rep.Runs = append(rep.Runs, r)
				names, results = append(names, r.Name), append(results, r.Result)
			}
			ok, err := analysis.CheckRuns(names, results, rules)
			if err != nil {
				return err
			}
			if len(rules) > 0 {
				rep.SLAOK = &ok
			}
			planOK := report.PlanOK(rep.Runs)
			w, err := report.Write(out, rep)
			if err != nil {
				return err
			}
			if w.Moved != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "tsnctl: %s was not empty: moved it to %s\n", out, w.Moved)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out+string(os.PathSeparator)+"report.html")
			if !ok {
				fmt.Fprintln(cmd.OutOrStdout(), "SLA violated (the report's SLA table has every verdict):")
				for _, r := range rep.Runs {
					for _, v := range r.Result.SLA {
						if !v.OK {
							fmt.Fprintf(cmd.OutOrStdout(), "  %s, stream %d: %s: %s\n", termsafe.String(r.Name), v.StreamID, termsafe.String(v.Rule), termsafe.String(v.Shown("µs")))
						}
					}
				}
			}
			if !planOK {
				fmt.Fprintln(cmd.OutOrStdout(), "a planned stream missed its window or deadline: see the planned streams' table")
			}
			if !ok || !planOK {
				return exitError{1}
			}
			return nil
		},
	}
	af.register(cmd.Flags())
	cmd.Flags().StringVarP(&af.plan, "file", "f", "", "configuration whose planned streams to judge (each by its window and deadline) and whose schedule to draw")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the report into (created)")
	cmd.Flags().StringVar(&title, "title", "TSN measurement report", "report title")
	cmd.Flags().StringArrayVar(&notes, "note", nil, "a note on the runs, shown under the summary (repeatable)")
	return cmd
}
