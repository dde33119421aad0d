// Package calibrate measures how late this machine wakes a real-time loop, with tsnctl's own sender
// loop (clock_nanosleep(TIMER_ABSTIME) on CLOCK_TAI, SCHED_FIFO, mlockall, no allocation) and with
// cyclictest (rt-tests) as the reference, and turns the result into a wake-up advance for
// `tsnctl send`; from the logs of a txtime run it measures the qdisc-to-wire path, which is what
// the ETF delta must cover.
package calibrate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/sender"
	"github.com/tsnctl/tsnctl/wire"
	"golang.org/x/sys/unix"
)

// Options are the loop's parameters, the same for both tools.
type Options struct {
	Interval time.Duration
	Loops    int
	FIFO     int // SCHED_FIFO priority (0: normal scheduling)
	CPU      int // -1: any
	// Dest (host:port) and Iface send the loop's packets where tsnctl send would, e.g. through the
	// NIC under test; empty Dest: a socket on loopback that nobody reads.
	Dest, Iface string
}

// MaxLoops bounds a measurement (8 bytes of memory per loop).
const MaxLoops = 10_000_000

// Validate checks the options against their real ranges (the sender checks the rest).
func (o Options) Validate() error {
	switch {
	case o.Loops < 1 || o.Loops > MaxLoops:
		return param.Errorf("loops", o.Loops, "from 1 to %d", MaxLoops)
	case o.Interval <= 0:
		return param.Errorf("interval", o.Interval, "must be positive, e.g. 2ms")
	}
	return nil
}

// Tsnctl runs the sender loop in plain mode (wake at each cycle start, send one packet to o.Dest or
// to a local socket that nobody reads) and returns the wake-up latencies in ns.
func Tsnctl(ctx context.Context, o Options) ([]int64, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	dest := o.Dest
	if dest == "" && o.Iface != "" {
		return nil, param.Errorf("iface", o.Iface, "needs {dest} HOST:PORT, an address reached through it (without {dest} the loop sends to loopback)")
	}
	if dest == "" {
		sink, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		defer unix.Close(sink)
		if err := unix.Bind(sink, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			return nil, err
		}
		sa, err := unix.Getsockname(sink)
		if err != nil {
			return nil, err
		}
		dest = fmt.Sprintf("127.0.0.1:%d", sa.(*unix.SockaddrInet4).Port)
	}
	lat := make([]int64, o.Loops)
	iv := int64(o.Interval)
	snd, err := sender.Open(sender.Config{
		Timing: sender.Timing{Cycle: iv, WindowStart: 0, WindowEnd: iv, PerCycle: 1},
		Dest:   dest, Iface: o.Iface, Priority: -1, Size: wire.Len, Count: int64(o.Loops), FIFO: o.FIFO, CPU: o.CPU,
		WakeLatencies: lat,
	})
	if err != nil {
		return nil, err
	}
	defer snd.Close()
	sum, err := snd.Run(ctx)
	if err != nil {
		return nil, err
	}
	if sum.WakeN == 0 {
		return nil, fmt.Errorf("no wake-up measured (stopped before the first cycle)")
	}
	return lat[:min(int(sum.WakeN), len(lat))], nil
}

// Histogram is cyclictest's: counts per 1 µs bucket, overflows, min and max in µs.
type Histogram struct {
	Counts         []int64
	Overflows      int64
	Min, Max       int64
	haveMin, empty bool
}

// Add merges another run's histogram.
func (h *Histogram) Add(o Histogram) {
	for len(h.Counts) < len(o.Counts) {
		h.Counts = append(h.Counts, 0)
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.Overflows += o.Overflows
	if !h.haveMin || o.Min < h.Min {
		h.Min, h.haveMin = o.Min, true
	}
	h.Max = max(h.Max, o.Max)
}

// Summary converts the histogram into a summary in ns (overflows count as the maximum).
// cyclictest truncates each latency to whole µs, so bucket i holds [i, i+1) µs: every figure is
// given as the middle of its bucket (i µs + 500 ns), not its floor, to compare with tsnctl's
// exact values without a bias of half a µs in cyclictest's favour.
func (h Histogram) Summary() analysis.Summary {
	over := make([]int64, h.Overflows)
	for i := range over {
		over[i] = h.Max
	}
	s := analysis.FromHistogram(h.Counts, over, h.Min, h.Max)
	if s.N == 0 {
		return s
	}
	for _, p := range []*int64{&s.Min, &s.P50, &s.P90, &s.P99, &s.P999, &s.P9999, &s.Max} {
		*p = *p*1000 + 500
	}
	s.Mean = s.Mean*1000 + 500
	return s
}

// Cyclictest runs cyclictest with the same interval, priority and loop count (one thread,
// mlockall, histogram in µs).
func Cyclictest(ctx context.Context, o Options) (Histogram, error) {
	path, err := exec.LookPath("cyclictest")
	if err != nil {
		return Histogram{}, fmt.Errorf("cyclictest not found: apt-get install rt-tests")
	}
	args := []string{"-m", "-q", "-t", "1", "-i", strconv.FormatInt(o.Interval.Microseconds(), 10),
		"-l", strconv.Itoa(o.Loops), "-h", "20000"}
	if o.FIFO > 0 {
		args = append(args, "-p", strconv.Itoa(o.FIFO))
	}
	if o.CPU >= 0 {
		args = append(args, "-a", strconv.Itoa(o.CPU))
	}
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		return Histogram{}, fmt.Errorf("cyclictest %s: %w", strings.Join(args, " "), err)
	}
	return ParseCyclictest(strings.NewReader(string(out)))
}

// ParseCyclictest reads cyclictest -q -h output (1 µs buckets).
func ParseCyclictest(r io.Reader) (Histogram, error) {
	var counts []int64
	var min, max, overflows int64 = -1, -1, 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "# Min Latencies:"):
			min, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "# Min Latencies:")), 10, 64)
		case strings.HasPrefix(line, "# Max Latencies:"):
			max, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "# Max Latencies:")), 10, 64)
		case strings.HasPrefix(line, "# Histogram Overflows:"):
			overflows, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(line, "# Histogram Overflows:")), 10, 64)
		case line != "" && line[0] >= '0' && line[0] <= '9':
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			b, err1 := strconv.Atoi(f[0])
			c, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			for len(counts) <= b {
				counts = append(counts, 0)
			}
			counts[b] += c
		}
	}
	if min < 0 || max < 0 || len(counts) == 0 {
		return Histogram{}, fmt.Errorf("no histogram in cyclictest's output")
	}
	return Histogram{Counts: counts, Overflows: overflows, Min: min, Max: max, haveMin: true}, nil
}

// Compare runs both loops in rounds, alternating (tsnctl, cyclictest, tsnctl, ...), so that what
// else the machine does at the time falls on both alike; it returns both distributions.
func Compare(ctx context.Context, o Options, rounds int) (tsnctl, cyclictest analysis.Summary, err error) {
	if err := o.Validate(); err != nil {
		return tsnctl, cyclictest, err
	}
	if rounds < 1 || rounds > o.Loops {
		return tsnctl, cyclictest, param.Errorf("rounds", rounds, "from 1 to {loops} (%d)", o.Loops)
	}
	per := o
	per.Loops = max(o.Loops/rounds, 1)
	var lat []int64
	var hist Histogram
	for i := 0; i < rounds; i++ {
		l, err := Tsnctl(ctx, per)
		if err != nil {
			return tsnctl, cyclictest, err
		}
		lat = append(lat, l...)
		h, err := Cyclictest(ctx, per)
		if err != nil {
			return tsnctl, cyclictest, err
		}
		hist.Add(h)
	}
	return analysis.Summarize(lat), hist.Summary(), nil
}

// Recommendation is what to configure for a stream of one cycle, from a measured wake-up latency
// distribution.
type Recommendation struct {
	// WakeAdvance is for tsnctl send --wake-advance: the worst wake-up latency + 20 %, plus the
	// ETF delta (the packet must reach ETF before txtime − delta).
	WakeAdvance time.Duration
	// Holds says whether the machine can hold the cycle at all: a worst wake-up longer than the
	// cycle means skipped cycles whatever the configuration. Reason says why not, and what helps.
	Holds  bool
	Reason string
}

// roundUp rounds ns up to a whole multiple of unit.
func roundUp(ns float64, unit time.Duration) time.Duration {
	return (time.Duration(math.Ceil(ns)) + unit - 1) / unit * unit
}

// Recommend turns the wake-up latencies of a loop at cycle into a wake-up advance, for an ETF
// delta of delta: the sender must have woken and handed the packet to ETF before txtime − delta,
// so the advance covers the worst wake-up (+20 %, rounded up to 10 µs) and delta.
func Recommend(wake analysis.Summary, cycle, delta time.Duration) Recommendation {
	r := Recommendation{WakeAdvance: roundUp(float64(wake.Max)*1.2, 10*time.Microsecond) + delta, Holds: true}
	if worst := time.Duration(wake.Max); worst >= cycle {
		r.Holds = false
		r.Reason = fmt.Sprintf("this machine cannot hold a %v cycle: its worst wake-up latency (%v) is longer than the cycle, "+
			"so the sender skips cycles whatever the wake-up advance; use SCHED_FIFO (--fifo 80), a CPU of its own (--cpu, isolcpus), "+
			"a PREEMPT_RT kernel, or a longer cycle", cycle, worst.Round(time.Microsecond))
	}
	return r
}

// Path is the qdisc-to-wire path of a txtime run through a software ETF: ETF releases each packet
// at txtime − delta, so receive − (txtime − delta) is the time from ETF's release to the wire.
type Path struct {
	Path  analysis.Summary // ns
	Delta time.Duration    // recommended ETF delta
}

// ETFDelta derives the ETF delta from the txtime_to_rx indicator (receive − planned txtime) of a
// run made with ETF delta runDelta: the path is txtime_to_rx + runDelta, and the delta that puts
// each packet on the wire by its txtime is the path's worst case + 20 %, rounded up to 1 µs. This
// is the delta of a software ETF; with launch-time offload the NIC holds the packet until its
// txtime and delta covers the driver-to-NIC path instead (hundreds of µs on an i210).
func ETFDelta(txtimeToRx analysis.Summary, runDelta time.Duration) Path {
	d := int64(runDelta)
	p := analysis.Summary{N: txtimeToRx.N, Min: txtimeToRx.Min + d, P50: txtimeToRx.P50 + d, P90: txtimeToRx.P90 + d,
		P99: txtimeToRx.P99 + d, P999: txtimeToRx.P999 + d, P9999: txtimeToRx.P9999 + d, Max: txtimeToRx.Max + d, Mean: txtimeToRx.Mean + float64(d)}
	return Path{Path: p, Delta: roundUp(max(float64(p.Max), 0)*1.2, time.Microsecond)}
}
