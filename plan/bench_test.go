package plan

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/frame"
	"github.com/tsnctl/tsnctl/taprio"
)

// benchSet is make bench-plan's stream set: n streams on eth1 at 1 Gb/s, launch-time windows
// (txtime-assist), periods from {1, 2, 5, 10} ms and UDP payloads from 64 to 1500 bytes drawn from
// a fixed seed, then adjusted one stream at a time (a longer period or a smaller payload while the
// set is over util, a larger payload while under) until the frames take util of the link to
// within 0.05 %. A stream may go anywhere in its period (offset 0, max-latency the period) but
// the 2 ms ones, every other of which is sent in the second millisecond of its period (offset 1 ms)
// and the rest in the first (max-latency 1 ms): so each millisecond carries the same load. Left
// free, first fit puts every 2 ms stream in the even milliseconds, and at 90 % the 5 ms streams,
// whose two windows fall in milliseconds of opposite parity, find no room. The placement packs
// the windows back to back, which keeps the gate list short.
func benchSet(n int, util float64, balanced bool, speed int) *configs.Config {
	r := rand.New(rand.NewPCG(2026, 12))
	periods := []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond}
	type st struct {
		p    int // index in periods
		size int
	}
	ss := make([]st, n)
	share := func(s st) float64 {
		return float64(frame.Time(frame.Bytes(s.size, true), speed)) / float64(periods[s.p])
	}
	var total float64
	for i := range ss {
		ss[i] = st{p: r.IntN(len(periods)), size: 64 + r.IntN(1500-64+1)}
		total += share(ss[i])
	}
	for steps := 0; (total > util+0.0005 || total < util-0.0005) && steps < 1_000_000; steps++ {
		i := r.IntN(n)
		old := share(ss[i])
		switch {
		case total > util && ss[i].p < len(periods)-1 && r.IntN(2) == 0:
			ss[i].p++
		case total > util:
			ss[i].size = max(64, ss[i].size/2)
		default:
			ss[i].size = min(1500, ss[i].size+1+r.IntN(64))
		}
		total += share(ss[i]) - old
	}
	delta := configs.Duration(50 * time.Microsecond)
	cfg := &configs.Config{Interfaces: []configs.Interface{{Name: "eth1", Plan: &configs.Planning{Mode: taprio.TxtimeAssist, ETFDelta: &delta, SpeedMbps: speed}}}}
	twoMs := 0
	for i, s := range ss {
		pcp := uint8(5)
		p := periods[s.p]
		off, lat := time.Duration(0), p
		if p == 2*time.Millisecond && balanced { // every other one in the second half of its period
			off, lat = time.Duration(twoMs%2)*time.Millisecond, time.Millisecond
			twoMs++
		}
		cfg.Streams = append(cfg.Streams, configs.Stream{Name: fmt.Sprintf("s%04d", i), Interface: "eth1", Dest: fmt.Sprintf("10.0.0.2:%d", 7000+i),
			VLAN: 3, PCP: &pcp, Period: configs.Duration(p), Size: s.size, Offset: configs.Duration(off), MaxLatency: configs.Duration(lat)})
	}
	return cfg
}

// setStats describes a bench set: streams per period, payload range, utilisation, windows in the
// cycle.
func setStats(cfg *configs.Config) string {
	per := map[time.Duration]int{}
	lo, hi, windows := 1<<30, 0, time.Duration(0)
	var used float64
	for _, s := range cfg.Streams {
		per[time.Duration(s.Period)]++
		lo, hi = min(lo, s.Size), max(hi, s.Size)
		windows += 10 * time.Millisecond / time.Duration(s.Period)
		used += float64(frame.Time(frame.Bytes(s.Size, true), cfg.Interfaces[0].Plan.SpeedMbps)) / float64(s.Period)
	}
	return fmt.Sprintf("%d streams at %d Mb/s (1/2/5/10 ms: %d/%d/%d/%d), payloads %d-%d B, utilisation %.2f %%, %d windows in the 10 ms cycle",
		len(cfg.Streams), cfg.Interfaces[0].Plan.SpeedMbps, per[time.Millisecond], per[2*time.Millisecond], per[5*time.Millisecond], per[10*time.Millisecond], lo, hi, 100*used, windows)
}

// peakHeap is the heap that one call of f allocates, with the garbage collector off: an upper
// bound of its peak heap.
func peakHeap(f func()) uint64 {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// BenchmarkPlan1000: plan's time on the two 1000-stream sets (60 % and 90 % of a 1 Gb/s link),
// with the set's statistics, the gate list's entries and the heap one plan allocates.
func BenchmarkPlan1000(b *testing.B) {
	for _, util := range []float64{0.60, 0.90} {
		b.Run(fmt.Sprintf("util%.0f", 100*util), func(b *testing.B) {
			cfg := benchSet(1000, util, true, 1000)
			out, _, err := Expand(cfg)
			if err != nil {
				b.Fatalf("%s: %v", setStats(cfg), err)
			}
			entries := len(out.Interfaces[0].Taprio.Schedule)
			peak := peakHeap(func() { Expand(cfg) })
			b.Logf("%s; %d gate entries (at most %d); peak heap ≤ %.1f MiB", setStats(cfg), entries, MaxEntries, float64(peak)/(1<<20))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := Expand(cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(entries), "entries")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		})
	}
}

// BenchmarkExactSearch: the exact search's time, stepping the set size up, on two kinds of sets:
// the 60 % bench set's first n streams (which greedy places: the search's first branch follows
// the greedy order, so its cost is its bookkeeping along one path), and sets of n streams at 90 %
// drawn like the bench's but without its balanced 2 ms offsets and at 100 Mb/s (so that a few
// streams reach 90 %); only those greedy refuses count there, where the search must decide. Each
// run has 60 s; the figures are the largest n it finished and its time.
func BenchmarkExactSearch(b *testing.B) {
	full := benchSet(1000, 0.60, true, 1000)
	for _, kind := range []string{"greedy-placed", "greedy-refused"} {
		largest, took := 0, time.Duration(0)
		sizes := []int{6, 12, 25, 50, 100, 200, 400, 700, 1000}
		if kind == "greedy-refused" {
			sizes = []int{8, 10, 12, 14, 16, 20, 25, 30, 40, 50, 60, 80, 100, 150, 200}
		}
		for _, n := range sizes {
			cfg := benchSet(n, 0.90, false, 100)
			if kind == "greedy-placed" {
				c := *full
				c.Streams = full.Streams[:n]
				cfg = &c
			}
			pr, err := prepare(&cfg.Interfaces[0], cfg.Streams)
			if err != nil {
				b.Fatal(err)
			}
			_, bad := placeGreedy(pr.ts, newBusy(pr.cycle))
			if kind == "greedy-refused" && bad < 0 {
				b.Logf("%s: %s; greedy placed it: not counted", kind, setStats(cfg))
				continue
			}
			start := time.Now()
			_, v, nodes := exact(pr.ts, newBusy(pr.cycle), Budget{Deadline: start.Add(60 * time.Second)})
			d := time.Since(start)
			b.Logf("%s: %s; greedy placed it: %v; exact search: %v after %d nodes, %v", kind, setStats(cfg), bad < 0, v, nodes, d.Round(time.Microsecond))
			if v == Unknown {
				break
			}
			largest, took = n, d
		}
		b.ReportMetric(float64(largest), kind+"-streams")
		b.ReportMetric(took.Seconds(), kind+"-s")
	}
}
