package plan

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// oldPlace is the placement plan used before the busy spans (kept to check the new one against):
// the smallest shift in [0, slack] at which none of the task's windows overlaps a placed one (nor
// has its frames across the cycle's start), from the candidates 0, each shift that starts one of
// its windows where a placed window ends and each that starts a window's frames 1 ns past the
// cycle's start, each checked against every placed window.
func oldPlace(t task, placed []interval, cycle time.Duration) (time.Duration, bool) {
	cands := []time.Duration{0}
	for _, p := range placed {
		for k := time.Duration(0); k < cycle/t.period; k++ {
			base := k*t.period + t.open // window start at shift 0
			if sh := mod(p.end-base, cycle); sh <= t.slack {
				cands = append(cands, sh)
			}
		}
	}
	for k := time.Duration(0); k < cycle/t.period; k++ { // frames 1 ns past the cycle's start
		if sh := mod(1-(k*t.period+t.open+t.lead), cycle); sh <= t.slack {
			cands = append(cands, sh)
		}
	}
	slices.Sort(cands)
	for _, sh := range slices.Compact(cands) {
		if !overlaps(taskWindows(t, sh, cycle), placed, cycle) && !framesCrossStart(t, sh, cycle) {
			return sh, true
		}
	}
	return 0, false
}

// framesCrossStart reports whether a window of t at shift sh has its frames (the last length −
// lead of the window) start at the cycle's start or run past its end, which the kernel's taprio
// refuses for SO_TXTIME frames.
func framesCrossStart(t task, sh, cycle time.Duration) bool {
	for k := time.Duration(0); k < cycle/t.period; k++ {
		f := mod(k*t.period+t.open+sh+t.lead, cycle)
		if f == 0 || f+t.length-t.lead > cycle {
			return true
		}
	}
	return false
}

func taskWindows(t task, sh, cycle time.Duration) []interval {
	var w []interval
	for k := time.Duration(0); k < cycle/t.period; k++ {
		start := mod(k*t.period+t.open+sh, cycle)
		w = append(w, interval{start: start, end: start + t.length})
	}
	return w
}

// overlaps reports whether an interval of a overlaps one of b, on the circle of the cycle.
func overlaps(a, b []interval, cycle time.Duration) bool {
	for _, x := range a {
		for _, y := range b {
			// Bring y next to x: compare x with y shifted by -cycle, 0 and +cycle.
			for _, d := range []time.Duration{-cycle, 0, cycle} {
				if x.start < y.end+d && y.start+d < x.end {
					return true
				}
			}
		}
	}
	return false
}

// randomTasks is a random task set: periods dividing a short cycle, windows at any offset (some
// starting before their period, some passing the cycle's end), slacks up to a period.
func randomTasks(r *rand.Rand, n int, unit time.Duration) ([]task, time.Duration) {
	periods := []time.Duration{20, 40, 50, 100, 200}
	cycle := time.Duration(1)
	ts := make([]task, n)
	for i := range ts {
		p := periods[r.IntN(len(periods))] * unit
		cycle = lcm(cycle, p)
		length := time.Duration(1+r.Int64N(int64(p/unit)/4)) * unit
		ts[i] = task{period: p, open: time.Duration(r.Int64N(int64(p/unit))-int64(p/unit)/4) * unit, length: length,
			slack: time.Duration(r.Int64N(int64((p-length)/unit)+1)) * unit, lead: time.Duration(r.Int64N(int64(length/unit))) * unit}
	}
	return ts, cycle
}

// The jump search gives exactly the old placement's shift (or refusal), task after task, over
// random sets, with and without fixed windows, at the ns (odd lengths and offsets) and µs scale.
func TestEarliestIsOldPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	placedN, refusedN := 0, 0
	for range 3000 {
		unit := time.Duration(1 + r.IntN(7))
		ts, cycle := randomTasks(r, 1+r.IntN(10), unit)
		b := newBusy(cycle)
		var placed []interval
		if r.IntN(2) == 0 { // a fixed window or two, as admission will have
			for range 1 + r.IntN(2) {
				start, length := time.Duration(r.Int64N(int64(cycle))), time.Duration(1+r.Int64N(int64(cycle)/8))
				if overlaps([]interval{{start: start, end: start + length}}, placed, cycle) {
					continue
				}
				b.add(start, length)
				placed = append(placed, interval{start: start, end: start + length})
			}
		}
		for _, tk := range ts {
			want, wok := oldPlace(tk, placed, cycle)
			got, ok := tk.earliest(b)
			if ok != wok || got != want {
				t.Fatalf("task %+v in cycle %v, placed %v: got %v %v, the old placement %v %v", tk, cycle, placed, got, ok, want, wok)
			}
			if !ok {
				refusedN++
				continue
			}
			placedN++
			tk.mark(got, b)
			placed = append(placed, taskWindows(tk, got, cycle)...)
		}
	}
	t.Logf("%d tasks placed, %d refused: both placements agree", placedN, refusedN)
	if placedN < 3000 || refusedN < 1000 {
		t.Errorf("%d placed, %d refused: the generator no longer exercises both outcomes", placedN, refusedN)
	}
}

// busy merges touching and overlapping spans and splits a window at the cycle's end.
func TestBusy(t *testing.T) {
	b := newBusy(100)
	b.add(10, 10)
	b.add(30, 10)
	b.add(20, 10) // touches both: one span [10, 40)
	b.add(95, 10) // [95, 100) and [0, 5)
	b.add(-50, 5) // [50, 55)
	want := []span{{0, 5}, {10, 40}, {50, 55}, {95, 100}}
	if !slices.Equal(b.spans, want) {
		t.Fatalf("spans %v, want %v", b.spans, want)
	}
	for _, c := range []struct {
		start, length, jump time.Duration
		hit                 bool
	}{
		{5, 5, 0, false}, {5, 6, 35, true}, {39, 11, 1, true}, {40, 10, 0, false}, {55, 40, 0, false},
		{55, 41, 45, true}, {90, 15, 10, true}, {99, 7, 1, true}, {0, 100, 5, true},
	} {
		if j, h := b.hit(c.start, c.length); j != c.jump || h != c.hit {
			t.Errorf("hit(%v, %v) = %v %v, want %v %v", c.start, c.length, j, h, c.jump, c.hit)
		}
	}
}
