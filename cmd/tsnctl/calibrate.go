package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/calibrate"
)

func calibrateCmd() *cobra.Command {
	var o calibrate.Options
	var compare bool
	var rounds int
	cmd := &cobra.Command{
		Use:   "calibrate [--interval 2ms] [--loops 5000] [--fifo 80] [--cpu N] [--dest HOST:PORT [--iface IF]] [--compare-cyclictest]",
		Short: "Measure this machine's wake-up latency with the sender's own loop; recommend ETF delta and wake-up advance",
		Long: `calibrate runs tsnctl's sender loop (clock_nanosleep TIMER_ABSTIME, locked thread, optional
SCHED_FIFO and CPU pinning, mlockall, no allocation) for --loops cycles of --interval, sending each
cycle to --dest (default: a local socket on loopback), and prints the wake-up latency distribution
with an ETF delta and a --wake-advance for tsnctl send. --compare-cyclictest runs cyclictest (rt-tests) with the same
interval, priority and loop count, in --rounds alternating rounds (so that a burst of noise on a
shared machine falls on both alike), and prints both side by side with their ratio.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			var ts, cs analysis.Summary
			if compare {
				var err error
				if ts, cs, err = calibrate.Compare(ctx, o, rounds); err != nil {
					return err
				}
			} else {
				lat, err := calibrate.Tsnctl(ctx, o)
				if err != nil {
					return err
				}
				ts = analysis.Summarize(lat)
			}
			out := cmd.OutOrStdout()
			sched := "normal scheduling"
			if o.FIFO > 0 {
				sched = fmt.Sprintf("SCHED_FIFO %d", o.FIFO)
			}
			fmt.Fprintf(out, "wake-up latency, interval %v, %s, %d loops (us):\n", o.Interval, sched, o.Loops)
			fmt.Fprintf(out, "  %-11s %9s %9s %9s %9s %9s\n", "", "min", "p50", "p99", "p99.9", "max")
			row := func(name string, s analysis.Summary) {
				fmt.Fprintf(out, "  %-11s %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, us(s.Min), us(s.P50), us(s.P99), us(s.P999), us(s.Max))
			}
			row("tsnctl", ts)
			if compare {
				row("cyclictest", cs)
				ratio := func(a, b int64) float64 {
					if b == 0 {
						return 0
					}
					return float64(a) / float64(b)
				}
				fmt.Fprintf(out, "  %-11s %9.2f %9.2f %9.2f %9.2f %9.2f\n", "ratio", ratio(ts.Min, cs.Min), ratio(ts.P50, cs.P50),
					ratio(ts.P99, cs.P99), ratio(ts.P999, cs.P999), ratio(ts.Max, cs.Max))
				fmt.Fprintf(out, "  (%d alternating rounds each; cyclictest's histogram has 1 us buckets, tsnctl's values are exact)\n", rounds)
			}
			r := calibrate.Recommend(ts)
			fmt.Fprintf(out, "recommended: ETF delta %v, tsnctl send --wake-advance %v (worst case +20 %%)\n", r.ETFDelta, r.WakeAdvance)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&rounds, "rounds", 5, "with --compare-cyclictest: alternating rounds (loops are split among them)")
	f.DurationVar(&o.Interval, "interval", 2*time.Millisecond, "cycle interval")
	f.IntVar(&o.Loops, "loops", 5000, "cycles to measure")
	f.IntVar(&o.FIFO, "fifo", 80, "SCHED_FIFO priority (0: normal scheduling)")
	f.IntVar(&o.CPU, "cpu", -1, "pin the loop to this CPU")
	f.StringVar(&o.Dest, "dest", "", "send the loop's packets to this IPv4 host:port, as tsnctl send would (default: a socket on loopback)")
	f.StringVar(&o.Iface, "iface", "", "with --dest: send through this interface (the NIC under test)")
	f.BoolVar(&compare, "compare-cyclictest", false, "also run cyclictest with the same parameters")
	return cmd
}

func us(ns int64) float64 { return float64(ns) / 1e3 }
