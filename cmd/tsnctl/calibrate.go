package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/calibrate"
	"github.com/tsnctl/tsnctl/configs"
)

func calibrateCmd() *cobra.Command {
	var o calibrate.Options
	var compare bool
	var rounds int
	var delta configs.Duration
	cmd := &cobra.Command{
		Use:   "calibrate [--interval 2ms] [--loops 5000] [--fifo 80] [--cpu N] [--dest HOST:PORT [--iface IF]] [--compare-cyclictest]",
		Short: "Measure this machine's wake-up latency with the sender's own loop; recommend the wake-up advance (calibrate delta: the ETF delta)",
		Long: `calibrate runs tsnctl's sender loop (clock_nanosleep TIMER_ABSTIME, locked thread, optional
SCHED_FIFO and CPU pinning, mlockall, no allocation) for --loops cycles of --interval, sending each
cycle to --dest (default: a local socket on loopback), and prints the wake-up latency distribution
with a --wake-advance for tsnctl send (the worst wake-up +20 %, plus --etf-delta), or says that the
machine cannot hold the cycle at all. The ETF delta is another quantity: the path from ETF's
release to the wire, which tsnctl calibrate delta measures from a txtime run's logs. --compare-cyclictest runs cyclictest (rt-tests) with the same
interval, priority and loop count, in --rounds alternating rounds (so that a burst of noise on a
shared machine falls on both alike), and prints both side by side with their ratio.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if delta < 0 {
				return fmt.Errorf("--etf-delta %v: must not be negative", delta)
			}
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
			r := calibrate.Report{Options: o, Rounds: rounds, Tsnctl: ts, Delta: time.Duration(delta), DeltaGiven: cmd.Flags().Changed("etf-delta")}
			if compare {
				r.Cyclictest = &cs
			}
			r.WriteText(cmd.OutOrStdout())
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
	f.Var(durationFlag{(*int64)(&delta)}, "etf-delta", "the ETF delta the stream will use (tsnctl calibrate delta measures it): added to the wake-up advance")
	cmd.AddCommand(calibrateDeltaCmd())
	return cmd
}

func calibrateDeltaCmd() *cobra.Command {
	var runDelta configs.Duration
	var af analysisFlags
	cmd := &cobra.Command{
		Use:   "delta --etf-delta D [--warmup N] SEND.log RECV.log",
		Short: "Measure the qdisc-to-wire path of a txtime run through a software ETF; recommend the ETF delta",
		Long: `delta reads the sample logs of a tsnctl send --txtime run (and its receiver's) made through an ETF
qdisc without offload whose delta was --etf-delta. Software ETF releases each packet at
txtime − delta, so receive − (txtime − delta) is the path from ETF's release to the wire; the
recommended delta is its worst case + 20 % (rounded up to 1 µs), which puts every packet on the
wire by its txtime. With launch-time offload (i210) the NIC holds the packet until its txtime and
the delta must cover the driver-to-NIC path instead, which these logs cannot show.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runDelta <= 0 {
				return fmt.Errorf("--etf-delta %v: give the delta of the ETF the run went through (tc -d qdisc show: etf ... delta NS)", runDelta)
			}
			res, _, err := af.analyze(args)
			if err != nil {
				return err
			}
			if len(res.Streams) != 1 {
				return fmt.Errorf("%s, %s: want the logs of one stream, found %d", args[0], args[1], len(res.Streams))
			}
			in, ok := res.Streams[0].Indicators[analysis.TxtimeToRx]
			if !ok || in.Count == 0 {
				return fmt.Errorf("%s, %s: no txtime_to_rx: want a tsnctl send --txtime log and its receiver's log", args[0], args[1])
			}
			p := calibrate.ETFDelta(analysis.Summary{N: int(in.Count), Min: in.Min, P50: in.P50, P90: in.P90, P99: in.P99, P999: in.P999, P9999: in.P9999, Max: in.Max, Mean: in.Mean},
				time.Duration(runDelta))
			p.WriteText(cmd.OutOrStdout(), time.Duration(runDelta))
			return nil
		},
	}
	af.registerInput(cmd.Flags())
	cmd.Flags().Var(durationFlag{(*int64)(&runDelta)}, "etf-delta", "the delta of the ETF the run went through")
	return cmd
}
