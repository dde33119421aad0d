package analysis_test

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/samplelog"
)

// receiverLog is a small log as tsnctl recv writes it: 10 cycles of 2 ms, the packet of cycle 4
// lost, each received 1.253 ms into its cycle give or take a few hundred ns.
func receiverLog() *bytes.Buffer {
	const base, cycle = int64(1795000000000000000), int64(2 * time.Millisecond)
	var buf bytes.Buffer
	w, err := samplelog.NewWriter(&buf, samplelog.Header{Role: samplelog.RoleRecv, Stream: 1})
	if err != nil {
		panic(err)
	}
	scheduled := []int64{1253188, 1253200, 1253343, 1253250, 0, 1253260, 1253190, 1253300, 1253210, 1253240}
	for seq, st := range scheduled {
		if st == 0 {
			continue // lost
		}
		c := base + int64(seq)*cycle
		w.Write(&samplelog.Record{Type: samplelog.TypeRx, Flags: samplelog.FlagTxtime, Stream: 1, Seq: uint64(seq),
			CycleStart: c, Wakeup: c + 779500, SendCall: c + 780000, Txtime: c + 1250000, Timestamp: c + st})
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return &buf
}

// Analysing a receiver's log (a.ReadFile(path, analysis.FormatAuto) for a file; a.ReadFiles for a
// sender's and a receiver's together): packet counters and the indicators' distributions, in ns.
func ExampleAnalyzer() {
	a := analysis.New(analysis.Options{})
	if err := a.Read("recv.log", receiverLog(), analysis.FormatTsnctl); err != nil {
		fmt.Println(err)
		return
	}
	res := a.Result()
	for _, s := range res.Streams {
		p := s.Packets
		fmt.Printf("stream %d: received %d, lost %d, reordered %d (RX timestamps: %s)\n", s.StreamID, p.Received, p.Lost, p.Reordered, s.Sources.RxTimestamps)
		for _, name := range analysis.IndicatorNames {
			in, ok := s.Indicators[name]
			if !ok {
				continue
			}
			fmt.Printf("%-15s n=%d min=%s p50=%s max=%s mean=%s us\n", name, in.Count, analysis.Micros(float64(in.Min)),
				analysis.Micros(float64(in.P50)), analysis.Micros(float64(in.Max)), analysis.Micros(in.Mean))
		}
	}
	// Output:
	// stream 1: received 9, lost 1, reordered 0 (RX timestamps: software)
	// scheduled_time  n=9 min=1253.188 p50=1253.240 max=1253.343 mean=1253.242 us
	// rt_app_latency  n=9 min=780.000 p50=780.000 max=780.000 mean=780.000 us
	// jitter          n=9 min=-0.054 p50=-0.002 max=0.101 mean=0.000 us
	// txtime_to_rx    n=9 min=3.188 p50=3.240 max=3.343 mean=3.242 us
}

// Service-level rules checked on the result, as tsnctl analyze --sla does.
func ExampleResult_CheckSLA() {
	a := analysis.New(analysis.Options{})
	if err := a.Read("recv.log", receiverLog(), analysis.FormatTsnctl); err != nil {
		fmt.Println(err)
		return
	}
	var rules []analysis.SLA
	for _, text := range []string{"scheduled_time.p99<=1300us", "jitter.pk_pk<=1us", "lost==0"} {
		r, err := analysis.ParseSLA(text)
		if err != nil {
			fmt.Println(err)
			return
		}
		rules = append(rules, r)
	}
	res := a.Result()
	fmt.Println("all held:", res.CheckSLA(rules))
	for _, v := range res.SLA {
		fmt.Printf("%-26s ok=%-5v actual %g %s\n", v.Rule, v.OK, v.Actual, v.Unit)
	}
	// Output:
	// all held: false
	// scheduled_time.p99<=1300us ok=true  actual 1.253343e+06 ns
	// jitter.pk_pk<=1us          ok=true  actual 155 ns
	// lost==0                    ok=false actual 1
}

// A set of values summarized with nearest-rank percentiles (no interpolation).
func ExampleSummarize() {
	s := analysis.Summarize([]int64{31, 12, 55, 12, 40, 18, 27, 99, 23, 35})
	fmt.Printf("n=%d min=%d p50=%d p90=%d p99=%d max=%d mean=%.1f\n", s.N, s.Min, s.P50, s.P90, s.P99, s.Max, s.Mean)
	// Output:
	// n=10 min=12 p50=27 p90=55 p99=99 max=99 mean=35.2
}

// The text report of tsnctl analyze.
func ExampleResult_WriteText() {
	a := analysis.New(analysis.Options{})
	if err := a.Read("recv.log", receiverLog(), analysis.FormatAuto); err != nil {
		fmt.Println(err)
		return
	}
	a.Result().WriteText(os.Stdout)
	// Output:
	// recv.log: 9 records (tsnctl, recv)
	//
	// stream 1 (RX timestamps software)
	// packets: sent 0, received 9, lost 1, duplicates 0, reordered 0, ETF dropped 0, outside window 0 (premature 0, late 0), not locked 0
	//   indicator (us)  count       min       p50       p90       p99     p99.9    p99.99       max      mean  stddev  pk-pk  percentiles
	//   scheduled_time      9  1253.188  1253.240  1253.343  1253.343  1253.343  1253.343  1253.343  1253.242   0.050      -        exact
	//   rt_app_latency      9   780.000   780.000   780.000   780.000   780.000   780.000   780.000   780.000   0.000      -        exact
	//           jitter      9    -0.054    -0.002     0.101     0.101     0.101     0.101     0.101     0.000   0.050  0.155        exact
	//     txtime_to_rx      9     3.188     3.240     3.343     3.343     3.343     3.343     3.343     3.242   0.050      -        exact
}
