package plan

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
)

// bruteForce tries every shift on the grid of unit (and up to 3 ns past each point) for every task
// (backtracking on the tasks in order, each window checked against every window placed before and
// the cycle's start): whether a placement exists with those shifts.
func bruteForce(ts []task, fixed []interval, cycle, unit time.Duration) bool {
	var rec func(i int, placed []interval) bool
	rec = func(i int, placed []interval) bool {
		if i == len(ts) {
			return true
		}
		// The grid, and up to 3 ns past each point: the cycle's start moves a window's frames 1 ns
		// past it, and a window placed at its end inherits that.
		for g := time.Duration(0); g <= ts[i].slack; g += unit {
			for sh := g; sh <= min(g+3, ts[i].slack); sh++ {
				if w := taskWindows(ts[i], sh, cycle); !overlaps(w, placed, cycle) && !framesCrossStart(ts[i], sh, cycle) && rec(i+1, append(slices.Clone(placed), w...)) {
					return true
				}
			}
		}
		return false
	}
	return rec(0, fixed)
}

// checkPlacement fails the test unless shifts place ts within their slacks with no window
// overlapping another or one of fixed.
func checkPlacement(t *testing.T, ts []task, fixed []interval, cycle time.Duration, shifts []time.Duration) {
	t.Helper()
	all := slices.Clone(fixed)
	for i, tk := range ts {
		if shifts[i] < 0 || shifts[i] > tk.slack {
			t.Fatalf("task %d: shift %v outside [0, %v]", i, shifts[i], tk.slack)
		}
		w := taskWindows(tk, shifts[i], cycle)
		if overlaps(w, all, cycle) {
			t.Fatalf("task %d's windows at shift %v overlap: %v, placed %v", i, shifts[i], w, all)
		}
		if framesCrossStart(tk, shifts[i], cycle) {
			t.Fatalf("task %d's frames at shift %v start at the cycle's start or run past its end", i, shifts[i])
		}
		all = append(all, w...)
	}
}

// With every time a whole number of µs, a feasible set has a placement on the 1 µs grid (the
// least-sum placement puts each window at shift 0 or at another's end, sums of whole µs): the
// exact search and the brute force on that grid must agree on thousands of tiny random sets
// (2-3 tasks, slacks up to 12 µs, sometimes a fixed window), and every placement the exact search
// returns must be valid.
func TestExactAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const us = time.Microsecond
	feasible, infeasible, greedyMissed := 0, 0, 0
	for range 5000 {
		periods := []time.Duration{10 * us, 20 * us, 40 * us}
		n := 2 + r.IntN(2)
		ts := make([]task, n)
		cycle := time.Duration(1)
		for i := range ts {
			p := periods[r.IntN(len(periods))]
			cycle = lcm(cycle, p)
			length := time.Duration(1+r.IntN(int(p/us)/2)) * us
			ts[i] = task{period: p, open: time.Duration(r.IntN(int(p/us))-int(p/us)/4) * us, length: length,
				slack: time.Duration(r.IntN(min(13, int((p-length)/us)+1))) * us, lead: time.Duration(r.IntN(int(length/us))) * us}
		}
		fb := newBusy(cycle)
		var fixed []interval
		if r.IntN(3) == 0 {
			start, length := time.Duration(r.IntN(int(cycle/us)))*us, time.Duration(1+r.IntN(5))*us
			fb.add(start, length)
			fixed = append(fixed, interval{start: start, end: start + length})
		}
		want := bruteForce(ts, fixed, cycle, us)
		shifts, v, _ := exact(ts, fb, Budget{})
		if (v == Feasible) != want || v == Unknown {
			t.Fatalf("tasks %+v, cycle %v, fixed %v: exact search %v, brute force feasible %v", ts, cycle, fixed, v, want)
		}
		if v == Feasible {
			feasible++
			checkPlacement(t, ts, fixed, cycle, shifts)
			if _, bad := placeGreedy(ts, fb); bad >= 0 {
				greedyMissed++
			}
		} else {
			infeasible++
		}
	}
	t.Logf("exact search = brute force on the 1 µs grid: %d feasible, %d infeasible; greedy refused %d of the feasible", feasible, infeasible, greedyMissed)
	if feasible < 1000 || infeasible < 1000 || greedyMissed < 50 {
		t.Errorf("%d feasible, %d infeasible, %d the greedy order misses: the generator no longer exercises the search", feasible, infeasible, greedyMissed)
	}
}

// tightSet is a random stream set on eth1 with n streams crowding a few offsets, so that the
// greedy order often fails; best effort 0 (its reservation and the gate list's length are outside
// the placement problem: a set refused for them is no placement refusal).
func tightSet(r *rand.Rand, n int) string {
	periods := []time.Duration{250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond}
	var b strings.Builder
	mode := []string{"software", "txtime-assist", "full-offload"}[r.IntN(3)]
	fmt.Fprintf(&b, "interfaces:\n  - name: eth1\n    channels: 4\n    plan: {mode: %s, etf-delta: %dns, speed: 100}\nstreams:\n", mode, 5000+r.IntN(20000))
	for i := range n {
		p := periods[r.IntN(len(periods))]
		off := time.Duration(r.IntN(3)) * 60 * time.Microsecond
		lat := time.Duration(20000 + r.Int64N(min(200000, int64(p-off)-20000)))
		fmt.Fprintf(&b, "  - {name: s%d, interface: eth1, dest: 10.0.0.2:%d, vlan: 3, pcp: 5, period: %dns, size: %d, offset: %dns, max-latency: %dns}\n",
			i, 7000+i, p, configs.MinStreamSize+r.IntN(400), off, lat)
	}
	return b.String()
}

// The refusal gap on small sets: plan refuses (constraint deadline) no set of at most 6 streams
// that the exact search, without plan's node budget, schedules; and it does schedule sets its
// greedy order refuses.
func TestRefusalGapSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	planned, rescued, refusedDeadline, provenInfeasible, gap, other := 0, 0, 0, 0, 0, 0
	maxNodes, maxTime := 0, time.Duration(0)
	for range 2000 {
		text := tightSet(r, 2+r.IntN(exactMaxStreams-1))
		cfg := parse(t, text)
		pr, perr := prepare(&cfg.Interfaces[0], cfg.Streams)
		_, _, err := Expand(cfg)
		var pe *Error
		switch {
		case err == nil:
			planned++
			if _, bad := placeGreedy(pr.ts, newBusy(pr.cycle)); bad >= 0 {
				rescued++
				// The exact search's placement is the same whatever the order of the streams.
				a, _ := configs.Marshal(mustExpand(t, parse(t, text)))
				again := parse(t, text)
				r.Shuffle(len(again.Streams), func(i, j int) { again.Streams[i], again.Streams[j] = again.Streams[j], again.Streams[i] })
				if b, _ := configs.Marshal(mustExpand(t, again)); !bytes.Equal(a, b) {
					t.Fatalf("another order of the streams plans otherwise:\n%s\n%s", a, b)
				}
			}
		case perr != nil || !errors.As(err, &pe) || pe.Constraint != "deadline":
			other++ // refused before placement (one stream alone, utilisation) or after it
		default:
			refusedDeadline++
			start := time.Now()
			_, v, nodes := exact(pr.ts, newBusy(pr.cycle), Budget{Deadline: time.Now().Add(10 * time.Second)})
			maxNodes, maxTime = max(maxNodes, nodes), max(maxTime, time.Since(start))
			switch v {
			case Feasible:
				gap++
				t.Errorf("plan refuses a set the exact search schedules: %v\n%s", err, text)
			case Infeasible:
				provenInfeasible++
			default:
				t.Errorf("the exact search did not finish in 10 s on %d streams\n%s", len(pr.ts), text)
			}
		}
	}
	t.Logf("≤%d streams: %d planned (%d of them refused by the greedy order), %d refused on deadline (%d proven infeasible, gap %d), %d refused otherwise; the unbounded search took at most %d nodes (plan's budget: %d), %v",
		exactMaxStreams, planned, rescued, refusedDeadline, provenInfeasible, gap, other, maxNodes, exactNodes, maxTime)
	if planned < 300 || rescued < 30 || provenInfeasible < 100 {
		t.Errorf("the generator no longer exercises the search: %d planned, %d rescued, %d infeasible", planned, rescued, provenInfeasible)
	}
}

func mustExpand(t *testing.T, c *configs.Config) *configs.Config {
	t.Helper()
	out, _, err := Expand(c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The refusal gap of the greedy order on larger sets (7-12 streams, where plan does not search):
// the sets it refuses that the exact search schedules within 300 ms, time-outs counted apart; and
// plan's own gap there, its exact search being bounded by exactNodesLarge nodes.
func TestRefusalGapLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	sets, greedyOK, greedyRefused, gap, infeasible, timeouts, refusedByPlan, planGap := 0, 0, 0, 0, 0, 0, 0, 0
	for range 600 {
		cfg := parse(t, tightSet(r, 7+r.IntN(6)))
		pr, err := prepare(&cfg.Interfaces[0], cfg.Streams)
		if err != nil {
			continue
		}
		sets++
		if _, bad := placeGreedy(pr.ts, newBusy(pr.cycle)); bad < 0 {
			greedyOK++
			continue
		}
		greedyRefused++
		_, _, planErr := Expand(cfg)
		var pe *Error
		planRefused := errors.As(planErr, &pe) && pe.Constraint == "deadline"
		if planErr != nil && !planRefused {
			continue // refused for another reason (best effort, gate list): outside placement
		}
		if planRefused {
			refusedByPlan++
		}
		shifts, v, _ := exact(pr.ts, newBusy(pr.cycle), Budget{Deadline: time.Now().Add(300 * time.Millisecond)})
		switch v {
		case Feasible:
			gap++
			if planRefused {
				planGap++
			}
			var fixed []interval
			checkPlacement(t, pr.ts, fixed, pr.cycle, shifts)
		case Infeasible:
			infeasible++
			if !planRefused {
				t.Errorf("plan placed a set the exact search proves infeasible:\n%s", planErr)
			}
		default:
			timeouts++
		}
	}
	t.Logf("7-12 streams: %d sets placed on their own; greedy placed %d, refused %d: the exact search (300 ms) schedules %d of those (the greedy order's gap), proves %d infeasible, times out on %d; plan (greedy, then the exact search with %d nodes) refuses %d, of which the exact search schedules %d (plan's gap)",
		sets, greedyOK, greedyRefused, gap, infeasible, timeouts, exactNodesLarge, refusedByPlan, planGap)
	if greedyRefused < 50 || greedyOK < 50 || gap < 20 {
		t.Errorf("greedy placed %d, refused %d, of which %d feasible: the generator no longer makes a comparison", greedyOK, greedyRefused, gap)
	}
	if planGap*4 > gap {
		t.Errorf("plan refuses %d of the %d sets the exact search schedules and the greedy order refuses: its budgeted search should find most", planGap, gap)
	}
}

// The budget: a set the search cannot decide quickly (25 streams at 90 % that greedy refuses,
// make bench-plan's) gives Unknown after the node budget, or by the deadline, not a verdict.
func TestExactBudget(t *testing.T) {
	cfg := benchSet(25, 0.90, false, 100)
	pr, err := prepare(&cfg.Interfaces[0], cfg.Streams)
	if err != nil {
		t.Fatal(err)
	}
	if _, bad := placeGreedy(pr.ts, newBusy(pr.cycle)); bad < 0 {
		t.Fatal("greedy places the set: it no longer tests the budget")
	}
	if _, v, nodes := exact(pr.ts, newBusy(pr.cycle), Budget{Nodes: 1000}); v != Unknown || nodes != 1001 {
		t.Errorf("node budget 1000: %v after %d nodes", v, nodes)
	}
	start := time.Now()
	if _, v, _ := exact(pr.ts, newBusy(pr.cycle), Budget{Deadline: start.Add(50 * time.Millisecond)}); v != Unknown || time.Since(start) > 2*time.Second {
		t.Errorf("deadline 50 ms: %v after %v", v, time.Since(start))
	}
}
