package plan

import (
	"encoding/binary"
	"slices"
	"time"
)

// Verdict is what the exact search concludes.
type Verdict int

const (
	Infeasible Verdict = iota // no placement exists
	Feasible                  // a placement exists (and the search returns one)
	Unknown                   // the budget ran out first
)

func (v Verdict) String() string {
	return [...]string{"infeasible", "feasible", "unknown"}[v]
}

// Budget bounds the exact search: at most Nodes nodes (0: no bound) and no later than Deadline
// (zero: none). plan itself gives a node budget only, so that its answer does not depend on the
// machine's speed.
type Budget struct {
	Nodes    int
	Deadline time.Time
}

// When the greedy placement refuses a set, plan runs the exact search: with a budget of exactNodes
// on an interface of at most exactMaxStreams streams (enough for every such set the tests draw,
// which makes plan's refusals there exact in practice), and of exactNodesLarge on a larger one (a
// bound on the time a refusal takes: about 0.1 s on the development VM), where a refusal may still
// be a set the search gave up on, and says so.
const (
	exactMaxStreams = 6
	exactNodes      = 200_000
	exactNodesLarge = 20_000
	// seenBytes bounds the memory of the partial placements the search remembers; past it, it
	// remembers no more (and may visit one again: slower, as exact).
	seenBytes = 64 << 20
)

// exact decides whether the tasks have shifts (each in [0, slack]) at which no two windows
// overlap, nor any window one of fixed (windows placed before, which do not move). It returns the
// shifts when they exist, the verdict and the nodes it visited.
//
// Why the search is exact. Take a feasible placement with the least sum of shifts. Call a task
// reachable if its shift is 0, or one of its windows starts where a window of fixed or of a
// reachable task ends. Let C be the tasks that are not reachable. If C were not empty, move every
// task of C 1 ns earlier, all together: the windows of C keep their places relative to each other;
// no window of C starts where a window outside C (fixed or reachable) ends, so none comes to
// overlap one; every shift in C is above 0, so it stays ≥ 0; and deadlines only get easier. (The
// cycle's start is one more obstacle, for a window's frames (boundaryHit): a task whose frames
// start 1 ns past it counts as reachable, and a frame moved 1 ns earlier reaches it only from
// there.) That placement is feasible with a smaller sum: a contradiction. So every task is reachable, and
// placing the tasks in the order they are reached puts each at shift 0 or at a shift that starts
// one of its windows at the end of a window of fixed or of a task placed before it. The search
// tries exactly those: a depth-first search over (task not yet placed, candidate shift), the
// candidates being 0 and, for every end of a busy span and every window of the task, the shift
// that starts that window there, kept when within the slack and clear of every placed window (a
// window's end inside a busy span is no candidate: a window starting there overlaps the span). It
// visits each partial placement once while its memory of them lasts (seenBytes; a set of (task,
// shift) pairs is the same whatever the order it was reached in) and prunes a node where some task
// left has no clear shift at all.
//
// The order is the tasks' order and then ascending shifts, so the same tasks give the same
// placement.
func exact(ts []task, fixed *busy, budget Budget) ([]time.Duration, Verdict, int) {
	e := &exactSearch{ts: ts, budget: budget, shifts: make([]time.Duration, len(ts)), placed: make([]bool, len(ts)), seen: map[string]bool{}}
	switch e.dfs(fixed.clone(), 0) {
	case Feasible:
		return e.shifts, Feasible, e.nodes
	case Unknown:
		return nil, Unknown, e.nodes
	}
	return nil, Infeasible, e.nodes
}

type exactSearch struct {
	ts     []task
	budget Budget
	nodes  int
	shifts []time.Duration
	placed []bool
	seen   map[string]bool
	kept   int // bytes of the keys in seen
}

func (e *exactSearch) key() string {
	b := make([]byte, 0, 8*len(e.ts))
	for i, sh := range e.shifts {
		if !e.placed[i] {
			sh = -1
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(sh))
	}
	return string(b)
}

func (e *exactSearch) dfs(b *busy, done int) Verdict {
	if done == len(e.ts) {
		return Feasible
	}
	e.nodes++
	if e.budget.Nodes > 0 && e.nodes > e.budget.Nodes {
		return Unknown
	}
	if !e.budget.Deadline.IsZero() && e.nodes%256 == 0 && time.Now().After(e.budget.Deadline) {
		return Unknown
	}
	k := e.key()
	if e.seen[k] {
		return Infeasible // explored already, from another order
	}
	if e.kept+len(k) <= seenBytes {
		e.seen[k] = true
		e.kept += len(k)
	}
	// Prune: a task left with no clear shift at all cannot be placed later either.
	for i, t := range e.ts {
		if !e.placed[i] {
			if _, ok := t.earliest(b); !ok {
				return Infeasible
			}
		}
	}
	for i, t := range e.ts {
		if e.placed[i] {
			continue
		}
		for _, sh := range candidates(t, b) {
			nb := b.clone()
			t.mark(sh, nb)
			e.placed[i], e.shifts[i] = true, sh
			v := e.dfs(nb, done+1)
			if v == Feasible {
				return v
			}
			e.placed[i] = false
			if v == Unknown {
				return v
			}
		}
	}
	return Infeasible
}

// candidates are t's clear shifts in [0, slack] that are 0, start one of its windows at the end
// of a busy span, or start one window's frames 1 ns past the cycle's start, ascending.
func candidates(t task, b *busy) []time.Duration {
	cs := []time.Duration{0}
	for k := time.Duration(0); k < b.cycle/t.period; k++ {
		base := t.base(k, b.cycle)
		for _, s := range b.spans {
			if sh := mod(s.end-base, b.cycle); sh <= t.slack {
				cs = append(cs, sh)
			}
		}
		// The cycle's start is an obstacle too, for the frames: 1 ns past it is where a window's
		// frames start when the boundary stops it moving earlier.
		if sh := mod(1-base-t.lead, b.cycle); sh <= t.slack {
			cs = append(cs, sh)
		}
	}
	slices.Sort(cs)
	cs = slices.Compact(cs)
	return slices.DeleteFunc(cs, func(sh time.Duration) bool { return !t.fits(sh, b) })
}
