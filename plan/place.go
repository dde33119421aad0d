package plan

import (
	"slices"
	"sort"
	"time"
)

// task is a stream as placement sees it: in each of its periods its window at shift 0 starts at
// open from the period's start (open may be negative: the window then starts in the period before)
// and is length long; its shift may be anything from 0 to slack. The cycle is a multiple of the
// period, and the cycle's start is the start of one of its periods.
//
// lead is how far into the window its txtime is (the rest, length − lead, is its frames' wire
// time). The kernel's taprio takes a frame sent with SO_TXTIME only when its txtime is strictly
// inside one gate entry and the frame ends within it (net/sched/sch_taprio.c, is_valid_interval),
// and a gate list's entries end at the cycle's end: so no window's frames may start at the
// cycle's start or run past its end. boundaryHit checks it.
type task struct {
	period, open, length, slack, lead time.Duration
}

// boundaryHit reports whether the frames of t's k-th window at shift sh start at the cycle's start
// or run past its end and, if so, the smallest move later that clears it (to 1 ns past the cycle's
// start).
func (t task) boundaryHit(k, sh, cycle time.Duration) (time.Duration, bool) {
	tx := mod(t.base(k, cycle)+sh+t.lead, cycle)
	switch {
	case tx == 0:
		return 1, true
	case tx+t.length-t.lead > cycle:
		return cycle + 1 - tx, true
	}
	return 0, false
}

// base is where the task's k-th window in the cycle starts at shift 0, on [0, cycle).
func (t task) base(k, cycle time.Duration) time.Duration { return mod(k*t.period+t.open, cycle) }

// span is [start, end) on [0, cycle), end > start.
type span struct{ start, end time.Duration }

// busy is the time of the cycle that windows occupy: sorted, disjoint spans on [0, cycle), two that
// touch merged into one (a window overlaps the merged span exactly when it overlaps one of its
// parts, since windows are not empty). A window that passes the cycle's end is two spans.
type busy struct {
	cycle time.Duration
	spans []span
}

func newBusy(cycle time.Duration) *busy { return &busy{cycle: cycle} }

func (b *busy) clone() *busy { return &busy{cycle: b.cycle, spans: slices.Clone(b.spans)} }

// add marks [start, start+length) busy; start is taken mod the cycle, length ≤ the cycle.
func (b *busy) add(start, length time.Duration) {
	s := mod(start, b.cycle)
	if e := s + length; e > b.cycle {
		b.insert(span{s, b.cycle})
		b.insert(span{0, e - b.cycle})
		return
	}
	b.insert(span{s, s + length})
}

func (b *busy) insert(n span) {
	if n.end <= n.start {
		return
	}
	// The spans that overlap or touch n: from the first whose end ≥ n.start to the last whose
	// start ≤ n.end.
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end >= n.start })
	j := i
	for j < len(b.spans) && b.spans[j].start <= n.end {
		n.start, n.end = min(n.start, b.spans[j].start), max(n.end, b.spans[j].end)
		j++
	}
	b.spans = slices.Replace(b.spans, i, j, n)
}

// hit reports whether the window [start, start+length) (start on [0, cycle), length ≤ cycle)
// overlaps a busy span and, if so, by how much the window must move later to reach that span's
// end: no smaller move clears that span.
func (b *busy) hit(start, length time.Duration) (time.Duration, bool) {
	end := start + length
	// The first span that ends after start: the only one that can overlap [start, min(end, cycle)).
	i := sort.Search(len(b.spans), func(i int) bool { return b.spans[i].end > start })
	if i < len(b.spans) && b.spans[i].start < end {
		return b.spans[i].end - start, true
	}
	// The part past the cycle's end, [0, end − cycle).
	if end > b.cycle && len(b.spans) > 0 && b.spans[0].start < end-b.cycle {
		return b.spans[0].end + b.cycle - start, true
	}
	return 0, false
}

// fits reports whether all of t's windows at shift sh are clear of b.
func (t task) fits(sh time.Duration, b *busy) bool {
	for k := time.Duration(0); k < b.cycle/t.period; k++ {
		if _, h := b.hit(mod(t.base(k, b.cycle)+sh, b.cycle), t.length); h {
			return false
		}
		if _, h := t.boundaryHit(k, sh, b.cycle); h {
			return false
		}
	}
	return true
}

// mark adds t's windows at shift sh to b.
func (t task) mark(sh time.Duration, b *busy) {
	for k := time.Duration(0); k < b.cycle/t.period; k++ {
		b.add(t.base(k, b.cycle)+sh, t.length)
	}
}

// earliest is the smallest shift in [0, slack] at which none of t's windows overlaps b (nor puts
// its frames across the cycle's start: boundaryHit), found by
// jumping: from shift 0, a window that hits a busy span moves the shift to where that window starts
// at the span's end (no shift in between clears it), until every window is clear at one shift or
// the shift passes the slack. Each check is a binary search: O((windows + jumps) log spans).
func (t task) earliest(b *busy) (time.Duration, bool) {
	n := b.cycle / t.period
	var sh time.Duration
	clear, k := time.Duration(0), time.Duration(0)
	for clear < n {
		d, h := b.hit(mod(t.base(k, b.cycle)+sh, b.cycle), t.length)
		if !h {
			d, h = t.boundaryHit(k, sh, b.cycle)
		}
		if h {
			sh += d
			if sh > t.slack {
				return 0, false
			}
			clear = 0
			continue // the same window again, at the new shift
		}
		clear++
		k = (k + 1) % n
	}
	return sh, true
}

// placeGreedy places the tasks in the order given, each at its earliest shift around the windows
// of fixed (windows already placed, e.g. those of streams admitted before: they do not move) and of
// the tasks placed before it. It returns the shifts, or the index of the first task that has no
// shift in [0, slack].
func placeGreedy(ts []task, fixed *busy) ([]time.Duration, int) {
	b := fixed.clone()
	shifts := make([]time.Duration, len(ts))
	for i, t := range ts {
		sh, ok := t.earliest(b)
		if !ok {
			return nil, i
		}
		shifts[i] = sh
		t.mark(sh, b)
	}
	return shifts, -1
}
