package sender

import (
	"fmt"
	"slices"

	"github.com/tsnctl/tsnctl/param"
)

// Timeline merges the cycles of several streams (lanes) into one sequence of events in wake-up
// order, so that one real-time loop sends them all: event n is a cycle of one lane. The lanes share
// a base-time; their cycles may differ. In every hyperperiod (the least common multiple of the
// cycles) the events are the same, so one hyperperiod's are computed once and event n is
// event n mod E of hyperperiod n / E (E events per hyperperiod). A timeline of one lane is that
// lane's cycles: event n is cycle n. Pure arithmetic, no clock.
type Timeline struct {
	lanes []Timing
	hyper int64
	ev    []event // one hyperperiod's, by wake-up (then lane)
}

// event is lane's cycle k of the first hyperperiod, waking at wake (from the base-time).
type event struct {
	lane int
	k    int64
	wake int64
}

// maxEvents bounds one hyperperiod's events (a 1 s hyperperiod of 1 ms cycles has 1000 per lane).
const maxEvents = 1 << 16

// NewTimeline merges the lanes' timings.
func NewTimeline(lanes ...Timing) (*Timeline, error) {
	if len(lanes) == 0 {
		return nil, fmt.Errorf("no stream to send")
	}
	hyper := int64(1)
	for i, t := range lanes {
		if t.BaseTime != lanes[0].BaseTime {
			return nil, param.Errorf("base-time", t.BaseTime, "stream %d's base-time differs from the first stream's (%d): one timeline needs one", i, lanes[0].BaseTime)
		}
		if t.Cycle <= 0 {
			return nil, param.Errorf("cycle", t.Cycle, "must be positive")
		}
		hyper = hyper / gcd(hyper, t.Cycle) * t.Cycle
		if hyper > maxCycle {
			return nil, param.Errorf("cycle", hyper, "the streams' cycles have no common multiple up to %d ns", maxCycle)
		}
	}
	tl := &Timeline{lanes: lanes, hyper: hyper}
	for i, t := range lanes {
		if len(tl.ev)+int(hyper/t.Cycle) > maxEvents {
			return nil, param.Errorf("cycle", t.Cycle, "more than %d cycles in the streams' common cycle %d ns", maxEvents, hyper)
		}
		for k := int64(0); k < hyper/t.Cycle; k++ {
			tl.ev = append(tl.ev, event{lane: i, k: k, wake: t.Wake(k) - t.BaseTime})
		}
	}
	slices.SortStableFunc(tl.ev, func(a, b event) int {
		if a.wake != b.wake {
			return compare(a.wake, b.wake)
		}
		return a.lane - b.lane
	})
	return tl, nil
}

// Lanes is the number of lanes.
func (tl *Timeline) Lanes() int { return len(tl.lanes) }

// At returns event n's lane and the lane's cycle.
func (tl *Timeline) At(n int64) (lane int, k int64) {
	e := tl.ev[floorMod(n, int64(len(tl.ev)))]
	return e.lane, floorDiv(n, int64(len(tl.ev)))*(tl.hyper/tl.lanes[e.lane].Cycle) + e.k
}

// Wake returns when the loop wakes for event n.
func (tl *Timeline) Wake(n int64) int64 {
	e := tl.ev[floorMod(n, int64(len(tl.ev)))]
	return tl.lanes[0].BaseTime + floorDiv(n, int64(len(tl.ev)))*tl.hyper + e.wake
}

// First returns the first event whose wake-up is at least lead after now (none before the
// base-time's hyperperiod).
func (tl *Timeline) First(now, lead int64) int64 {
	e := int64(len(tl.ev))
	n := max(0, floorDiv(now+lead-tl.lanes[0].BaseTime, tl.hyper)*e) // none before the base-time
	for tl.Wake(n) < now+lead {
		n++
	}
	for n > 0 && tl.Wake(n-1) >= now+lead {
		n--
	}
	return n
}

// Next returns the event to wake for after event n, at time now: n+1, or, when its wake-up has
// passed (an overrun), the first event whose wake-up is still ahead, as Timing.Next does for one
// stream. Events that wake when n woke (lanes whose wake-ups coincide) are not skipped: the loop
// serves them at once.
func (tl *Timeline) Next(n, now int64) (next, skipped int64) {
	next = n + 1
	if tl.Wake(next) == tl.Wake(n) {
		return next, 0
	}
	next = max(next, tl.First(now, 1))
	return next, next - n - 1
}

// Txtimes lists the first count events from the first one at least lead after now: each event's
// lane and the txtimes of its packets (Txtime mode). What the loop sends, without sending.
func (tl *Timeline) Txtimes(now, lead int64, count int) []Planned {
	var out []Planned
	for n := tl.First(now, lead); len(out) < count; n++ {
		lane, k := tl.At(n)
		t := tl.lanes[lane]
		for i := 0; i < t.PerCycle && len(out) < count; i++ {
			out = append(out, Planned{Lane: lane, Cycle: k, Txtime: t.TxtimeOf(k, i)})
		}
	}
	return out
}

// Planned is one packet of a timeline: its lane, the lane's cycle and its txtime.
type Planned struct {
	Lane   int
	Cycle  int64
	Txtime int64
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
