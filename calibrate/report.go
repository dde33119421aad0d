package calibrate

import (
	"fmt"
	"io"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/configs"
)

// Report is what tsnctl calibrate prints: the wake-up latency of tsnctl's loop (and of
// cyclictest's with the ratio, when compared) and the recommendation or the verdict.
type Report struct {
	Options    Options
	Rounds     int // compared: the alternating rounds
	Tsnctl     analysis.Summary
	Cyclictest *analysis.Summary // nil: not compared
	// Delta is the ETF delta the stream will use; DeltaGiven says the user gave it (otherwise the
	// report says how to measure it).
	Delta      time.Duration
	DeltaGiven bool
}

// WriteText prints the report; its "recommended:" line is what scripts read.
func (r *Report) WriteText(out io.Writer) {
	o := r.Options
	sched := "normal scheduling"
	if o.FIFO > 0 {
		sched = fmt.Sprintf("SCHED_FIFO %d", o.FIFO)
	}
	fmt.Fprintf(out, "wake-up latency, interval %v, %s, %d loops (us):\n", o.Interval, sched, o.Loops)
	fmt.Fprintf(out, "  %-11s %9s %9s %9s %9s %9s\n", "", "min", "p50", "p99", "p99.9", "max")
	row := func(name string, s analysis.Summary) {
		fmt.Fprintf(out, "  %-11s %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, us(s.Min), us(s.P50), us(s.P99), us(s.P999), us(s.Max))
	}
	row("tsnctl", r.Tsnctl)
	if cs := r.Cyclictest; cs != nil {
		ts := r.Tsnctl
		row("cyclictest", *cs)
		ratio := func(a, b int64) float64 {
			if b == 0 {
				return 0
			}
			return float64(a) / float64(b)
		}
		fmt.Fprintf(out, "  %-11s %9.2f %9.2f %9.2f %9.2f %9.2f\n", "ratio", ratio(ts.Min, cs.Min), ratio(ts.P50, cs.P50),
			ratio(ts.P99, cs.P99), ratio(ts.P999, cs.P999), ratio(ts.Max, cs.Max))
		fmt.Fprintf(out, "  (%d alternating rounds each; cyclictest's values are the middle of its 1 us buckets, tsnctl's are exact)\n", r.Rounds)
	}
	rec := Recommend(r.Tsnctl, o.Interval, r.Delta)
	if !rec.Holds {
		fmt.Fprintf(out, "verdict: %s\n", rec.Reason)
		return
	}
	fmt.Fprintf(out, "recommended: tsnctl send --wake-advance %v (the worst wake-up +20 %%, plus ETF delta %v)\n",
		configs.Duration(rec.WakeAdvance), configs.Duration(r.Delta))
	if !r.DeltaGiven {
		fmt.Fprintln(out, "  the ETF delta covers the qdisc-to-wire path, not the wake-up: measure it with tsnctl calibrate delta (a txtime run's logs)")
	}
}

// WriteText prints the path of a run made with ETF delta runDelta and the delta it recommends;
// its "recommended:" line is what scripts read.
func (p Path) WriteText(out io.Writer, runDelta time.Duration) {
	fmt.Fprintf(out, "qdisc-to-wire path (receive − (txtime − %v)), %d packets (us):\n", configs.Duration(runDelta), p.Path.N)
	fmt.Fprintf(out, "  %9s %9s %9s %9s\n", "min", "p50", "p99", "max")
	fmt.Fprintf(out, "  %9.3f %9.3f %9.3f %9.3f\n", us(p.Path.Min), us(p.Path.P50), us(p.Path.P99), us(p.Path.Max))
	fmt.Fprintf(out, "recommended: ETF delta %v (the path's worst case +20 %%)\n", configs.Duration(p.Delta))
}

func us(ns int64) float64 { return float64(ns) / 1e3 }
