package calibrate

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
)

const sample = `# /dev/cpu_dma_latency set to 0us
000000 000000
000012 000003
000013 000005
000020 000001
000094 000001
# Histogram
# Total: 000000010
# Min Latencies: 00012
# Avg Latencies: 00015
# Max Latencies: 00094
# Histogram Overflows: 00000
`

func TestParseCyclictest(t *testing.T) {
	h, err := ParseCyclictest(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	s := h.Summary() // the middle of each 1 µs bucket: cyclictest truncates to whole µs
	if s.N != 10 || s.Min != 12500 || s.P50 != 13500 || s.P90 != 20500 || s.P99 != 94500 || s.Max != 94500 {
		t.Errorf("%+v", s)
	}
	if _, err := ParseCyclictest(strings.NewReader("garbage\n")); err == nil {
		t.Error("garbage parsed")
	}
	var sum Histogram
	sum.Add(h)
	sum.Add(h)
	if d := sum.Summary(); d.N != 20 || d.P50 != 13500 || d.Min != 12500 || d.Max != 94500 {
		t.Errorf("merged: %+v", d)
	}
}

// The wake-up advance covers the worst wake-up (+20 %, up to 10 µs) and the ETF delta; the delta is
// not derived from the wake-up latency (it used to be 1.2 × the worst wake-up: 34.67 ms for a 2 ms cycle).
func TestRecommend(t *testing.T) {
	r := Recommend(analysis.Summary{Max: 94000, P999: 50000}, 2*time.Millisecond, 8*time.Microsecond)
	if r.WakeAdvance != 128*time.Microsecond || !r.Holds || r.Reason != "" {
		t.Errorf("%+v", r)
	}
	r = Recommend(analysis.Summary{Max: 28_890_000}, 2*time.Millisecond, 0)
	if r.Holds || !strings.Contains(r.Reason, "cannot hold a 2ms cycle: its worst wake-up latency (28.89ms) is longer than the cycle") {
		t.Errorf("%+v", r)
	}
	if r := Recommend(analysis.Summary{Max: 1_999_999}, 2*time.Millisecond, 0); !r.Holds {
		t.Errorf("a wake-up just inside the cycle holds: %+v", r)
	}
}

// A run with delta 50 µs whose packets arrived 43.4 ... 42.9 µs before their txtime: the path is
// 6.6 ... 7.1 µs, and the delta that covers it with 20 % is 9 µs.
func TestETFDelta(t *testing.T) {
	p := ETFDelta(analysis.Summary{N: 990, Min: -43_400, P50: -43_200, P99: -43_000, Max: -42_900}, 50*time.Microsecond)
	if p.Path.Min != 6_600 || p.Path.P50 != 6_800 || p.Path.Max != 7_100 || p.Path.N != 990 || p.Delta != 9*time.Microsecond {
		t.Errorf("%+v", p)
	}
}

// The real loop on this machine: every cycle measured, latencies non-negative and plausible.
func TestTsnctlLoopMeasures(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (SO_PRIORITY, mlockall)")
	}
	lat, err := Tsnctl(context.Background(), Options{Interval: time.Millisecond, Loops: 200, CPU: -1})
	if err != nil {
		t.Fatal(err)
	}
	s := analysis.Summarize(lat)
	if s.N != 200 || s.Min < 0 || s.Max > int64(100*time.Millisecond) {
		t.Errorf("%+v", s)
	}
}

// --dest: the loop's packets go there (here a socket of the test's own, which counts them);
// --iface alone is refused before anything is sent.
func TestTsnctlLoopSendsToDest(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	lat, err := Tsnctl(context.Background(), Options{Interval: time.Millisecond, Loops: 50, CPU: -1, Dest: sink.LocalAddr().String()})
	if err != nil || len(lat) != 50 {
		t.Fatalf("%d latencies, %v", len(lat), err)
	}
	got := 0
	buf := make([]byte, 2048)
	for {
		sink.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, _, err := sink.ReadFrom(buf); err != nil {
			break
		}
		got++
	}
	if got != 50 {
		t.Errorf("%d packets at --dest, want 50", got)
	}
	if _, err := Tsnctl(context.Background(), Options{Interval: time.Millisecond, Loops: 5, CPU: -1, Iface: "lo"}); err == nil ||
		!strings.Contains(err.Error(), "iface lo: needs dest") {
		t.Errorf("--iface without --dest: %v", err)
	}
}

// --loops -5 used to panic (makeslice), --loops 0 ran until Ctrl-C and recommended a 0 s delta.
func TestOptionsAreChecked(t *testing.T) {
	for _, c := range []struct {
		o      Options
		rounds int
		want   string
	}{
		{Options{Loops: -5, Interval: time.Millisecond}, 1, "loops -5: from 1 to"},
		{Options{Loops: 0, Interval: time.Millisecond}, 1, "loops 0"},
		{Options{Loops: MaxLoops + 1, Interval: time.Millisecond}, 1, "loops 10000001"},
		{Options{Loops: 10, Interval: 0}, 1, "interval 0s: must be positive"},
		{Options{Loops: 10, Interval: time.Millisecond}, 11, "rounds 11: from 1 to loops (10)"},
		{Options{Loops: 10, Interval: time.Millisecond}, 0, "rounds 0"},
	} {
		_, _, err := Compare(context.Background(), c.o, c.rounds)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v rounds %d: %v, want %q", c.o, c.rounds, err, c.want)
		}
	}
	if _, err := Tsnctl(context.Background(), Options{Loops: -5, Interval: time.Millisecond}); err == nil {
		t.Error("Tsnctl took --loops -5")
	}
}
