//go:build lab && soak

package agent

import (
	"flag"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// rssKiB is this process's resident set (the agent runs in it).
func rssKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

var soakFor = flag.Duration("soak", 10*time.Minute, "how long TestLabSoak injects drift")

// TestLabSoak injects a random drift every 2 s for -soak (default 10m) of wall time and
// checks that each is repaired, that the resident memory grows by less than 5 MiB and the
// goroutine count stays constant after a one-minute warm-up. make soak-agent runs it.
func TestLabSoak(t *testing.T) {
	dur := *soakFor
	ns := "agentsoak"
	labVeth(t, ns)
	a, stop := runAgent(t, labFile, ns, 30*time.Second)
	defer stop()
	configured := func() bool { s := a.Snapshot(); return len(s.Interfaces) > 0 && s.Interfaces[0].State == Configured }
	repairs := func() uint64 {
		if configured() {
			return a.Snapshot().Interfaces[0].Repairs
		}
		return 0
	}
	labtest.Eventually(t, 20*time.Second, "configured", func() bool { return configured() && asFile(t, ns) })
	injections := [][]string{
		{"tc", "qdisc", "del", "dev", "v0", "root"},
		{"tc", "qdisc", "del", "dev", "v0", "parent", "100:2"},
		{"ip", "link", "del", "v0.3"},
		{"ip", "link", "set", "v0.3", "type", "vlan", "egress-qos-map", "6:1"},
		{"tc", "qdisc", "replace", "dev", "v0", "parent", "root", "handle", "100:", "taprio", "num_tc", "4", "map", "3", "3", "3", "3", "3", "3", "1",
			"3", "3", "3", "3", "3", "3", "3", "3", "3", "queues", "1@0", "1@1", "1@2", "1@3", "base-time", "0", "sched-entry", "S", "0f", "1000000",
			"flags", "0x1", "txtime-delay", "600000", "clockid", "CLOCK_TAI"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	var rss0, g0, n, maxGoroutines int
	var worst time.Duration
	for time.Since(start) < dur {
		before := repairs()
		inj := injections[r.IntN(len(injections))]
		t0 := time.Now()
		labtest.Run(t, append([]string{"ip", "netns", "exec", ns}, inj...)...)
		took := labtest.Eventually(t, 10*time.Second, "repair of "+strings.Join(inj, " "), func() bool { return repairs() > before && asFile(t, ns) })
		worst = max(worst, took)
		n++
		if rss0 == 0 && time.Since(start) > time.Minute {
			runtime.GC()
			rss0, g0 = rssKiB(t), runtime.NumGoroutine()
		}
		if g0 > 0 {
			maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
		}
		time.Sleep(2*time.Second - time.Since(t0))
	}
	runtime.GC()
	rss1, g1 := rssKiB(t), runtime.NumGoroutine()
	t.Logf("%d drifts over %v, every one repaired (slowest %v as the test saw it); after the warm-up RSS %d -> %d KiB (%+d), goroutines %d -> %d (max %d); failures %d",
		n, time.Since(start).Round(time.Second), worst, rss0, rss1, rss1-rss0, g0, g1, maxGoroutines, a.Snapshot().Interfaces[0].Failures)
	if rss1-rss0 >= 5*1024 {
		t.Errorf("resident memory grew by %d KiB", rss1-rss0)
	}
	if g1 != g0 || maxGoroutines > g0+2 {
		t.Errorf("goroutines %d -> %d (max %d)", g0, g1, maxGoroutines)
	}
}
