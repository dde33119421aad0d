package calibrate

import (
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
)

func TestReportText(t *testing.T) {
	ts := analysis.Summary{N: 5000, Min: 50_000, P50: 60_000, P99: 90_000, P999: 150_000, Max: 1_000_000}
	cs := analysis.Summary{N: 5000, Min: 40_500, P50: 50_500, P99: 80_500, P999: 120_500, Max: 500_500}
	for _, tc := range []struct {
		name string
		r    Report
		want string
	}{
		{"compared, delta measured elsewhere", Report{Options: Options{Interval: 2 * time.Millisecond, Loops: 5000, FIFO: 80}, Rounds: 5, Tsnctl: ts, Cyclictest: &cs,
			Delta: 40 * time.Microsecond, DeltaGiven: true}, `wake-up latency, interval 2ms, SCHED_FIFO 80, 5000 loops (us):
                    min       p50       p99     p99.9       max
  tsnctl           50.0      60.0      90.0     150.0    1000.0
  cyclictest       40.5      50.5      80.5     120.5     500.5
  ratio            1.23      1.19      1.12      1.24      2.00
  (5 alternating rounds each; cyclictest's values are the middle of its 1 us buckets, tsnctl's are exact)
recommended: tsnctl send --wake-advance 1240us (the worst wake-up +20 %, plus ETF delta 40us)
`},
		{"no delta given", Report{Options: Options{Interval: 2 * time.Millisecond, Loops: 5000}, Tsnctl: ts}, `wake-up latency, interval 2ms, normal scheduling, 5000 loops (us):
                    min       p50       p99     p99.9       max
  tsnctl           50.0      60.0      90.0     150.0    1000.0
recommended: tsnctl send --wake-advance 1200us (the worst wake-up +20 %, plus ETF delta 0ns)
  the ETF delta covers the qdisc-to-wire path, not the wake-up: measure it with tsnctl calibrate delta (a txtime run's logs)
`},
		{"cannot hold the cycle", Report{Options: Options{Interval: 500 * time.Microsecond, Loops: 5000}, Tsnctl: ts}, "verdict: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			tc.r.WriteText(&b)
			if got := b.String(); got != tc.want && !(strings.HasSuffix(tc.want, ": ") && strings.Contains(got, "\n"+tc.want)) {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
	var b strings.Builder
	Path{Path: analysis.Summary{N: 490, Min: 5_100, P50: 5_200, P99: 6_000, Max: 9_000}, Delta: 11 * time.Microsecond}.WriteText(&b, 40*time.Microsecond)
	want := `qdisc-to-wire path (receive − (txtime − 40us)), 490 packets (us):
        min       p50       p99       max
      5.100     5.200     6.000     9.000
recommended: ETF delta 11us (the path's worst case +20 %)
`
	if b.String() != want {
		t.Errorf("path:\n%s\nwant:\n%s", b.String(), want)
	}
}
