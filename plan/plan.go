// Package plan computes a node's schedule from the streams it must carry: streams in, the ordinary
// typed configuration out (traffic classes and queues, the priority map, the VLAN egress map, the
// taprio gate list and ETFs for the mode), with a row per stream, or a refusal that
// names the stream and the constraint it breaks. Pure and deterministic: no netlink, no clock, no
// files; the same input gives the same output, byte for byte once written, because the agent plans
// again at every verification and a plan that varied would look like drift.
//
// What a plan guarantees, by construction (and its tests check over random stream sets):
//   - the cycle is the hyperperiod of the interface's streams (the least common multiple of their
//     periods), or the declared cycle, which must be a multiple of it;
//   - every stream is strictly periodic: the same txtime offset T in each of its periods;
//   - each stream's window covers [T − delta, T + the wire time of its frames] in mode software (a
//     software ETF releases a frame anywhere from delta before its txtime, and drops it after),
//     and [T, T + wire time] in modes txtime-assist and full-offload (launch-time offload: the NIC
//     sends the frame at its txtime);
//   - windows of different streams never overlap;
//   - no stream's frames start at the cycle's start or run past its end: the kernel's taprio takes a
//     frame sent with SO_TXTIME only inside one gate entry, and the gate list's entries end there;
//   - a guard band (the wire time of the largest best-effort frame) precedes every run of scheduled
//     windows, with best-effort gates closed, so that no best-effort frame runs into a window;
//   - the gate list starts in best effort's longest time (base-time-offset), so that a schedule
//     changed in place switches where no window is open;
//   - every deadline holds: T + wire time ≤ offset + max-latency;
//   - best effort keeps at least the reserved share of every cycle.
//
// Placement is first fit in deadline order: streams with the least slack (max-latency minus wire
// time) first, each at the smallest shift from its earliest offset at which all its windows are
// clear of the windows placed before it (and of fixed windows: placeGreedy and exact take the
// windows that must not move as a parameter). The search per stream jumps over sorted busy spans
// (place.go), so it is exact given the streams placed before it; across streams it is greedy. When
// it refuses, an exact search over every order decides (exact.go, which says why it is exact),
// within a node budget (200 000 nodes for at most 6 streams, 20 000 for more); a set it refuses has
// no schedule, or the refusal says that the search gave up.
package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/frame"
	"github.com/tsnctl/tsnctl/taprio"
)

// Defaults and limits.
const (
	DefaultETFDelta  = 300 * time.Microsecond
	DefaultSpeedMbps = configs.DefaultSpeedMbps
	// MaxCycle bounds the cycle (the hyperperiod of periods with no common multiple below it is
	// refused): a taprio interval is at most 2^32−1 ns, and a longer cycle means a long gate list.
	MaxCycle = time.Second
	// MaxEntries bounds the gate list: configs.MaxScheduleEntries, the most entries lint, the CRD
	// and the node's read-back all take (pinned in the lab by node's TestLabGateListLimit).
	MaxEntries = configs.MaxScheduleEntries
	// DefaultAdmissionCycle is the cycle of an interface that admits streams and has none yet (or
	// none left): best effort's gate open throughout, until a stream is admitted.
	DefaultAdmissionCycle = time.Millisecond
	// Best effort and the streams' traffic classes and queues.
	beClass, streamClass = 0, 1
)

// Row is what the plan gives one stream.
type Row struct {
	Stream    string `json:"stream"`
	Interface string `json:"interface"`
	Priority  int    `json:"priority"` // the socket priority (SO_PRIORITY) its sender uses
	PCP       int    `json:"pcp"`
	// Class is a credit-shaped stream's stream reservation class (A or B), "" for a time-scheduled
	// one. A credit-shaped stream has no txtime: Txtime is when its application sends (its
	// offset), its window runs from then to its bound, and it has no guard band.
	Class  string        `json:"class,omitempty"`
	Queue  int           `json:"queue"`  // the TX queue, under the ETF or cbs
	Period time.Duration `json:"period"` // of the stream
	Txtime time.Duration `json:"txtime"` // offset of the txtime in each period
	// Window is [Open, Close) in each period: from Txtime − delta to the last frame's last bit.
	Open  time.Duration `json:"window_open"`
	Close time.Duration `json:"window_close"`
	Wire  time.Duration `json:"wire"`  // the wire time of its frames in a period
	Guard time.Duration `json:"guard"` // the guard band before a run of windows
	// Bound is the worst-case latency: from the earliest offset to the last frame's last bit.
	Bound       time.Duration `json:"bound"`
	Utilisation float64       `json:"utilisation"` // share of the link
}

// Result is a plan's table, the cycles it chose per interface (time-scheduled streams) and the
// stream reservation classes it shaped (credit-shaped streams).
type Result struct {
	Rows    []Row
	Cycles  map[string]time.Duration
	Classes []ClassRow
}

// Error is a refusal: the stream (or interface) and the constraint it breaks.
type Error struct {
	Interface  string
	Stream     string // "" when the interface's streams together do not fit
	Constraint string // e.g. deadline, utilisation, cycle, gate list
	Msg        string
}

func (e *Error) Error() string {
	who := "interface " + e.Interface
	if e.Stream != "" {
		who = "stream " + e.Stream + " on " + e.Interface
	}
	return fmt.Sprintf("plan: %s: %s: %s", who, e.Constraint, e.Msg)
}

// Expand returns cfg with its streams planned into their interfaces' schedules: a configuration
// without streams (and without plan: sections), as if written by hand, with cfg as its Source
// (lint's stream-windows rule checks the schedules against the streams). An interface that admits
// streams (plan: admission:) is planned with its reservation installed even before any stream
// runs on it (see WithAdmitted). A configuration without streams or admission is returned as it is.
func Expand(cfg *configs.Config) (*configs.Config, *Result, error) {
	return ExpandPinned(cfg, nil)
}

// Pins are the txtimes of streams already running (by name: each one's txtime offset in its
// period, its Row.Txtime), which a plan must keep.
type Pins map[string]time.Duration

// ExpandPinned is Expand with the time-scheduled streams named in pins kept at their txtimes, the
// others placed around them: how streams are added to a running schedule without moving the
// running ones (admission). A set that fits only by moving a pinned stream is refused with
// constraint "pinned"; a pin its stream can no longer meet (its offset or deadline changed) with
// constraint "deadline". Names in pins that are not streams of cfg are ignored.
func ExpandPinned(cfg *configs.Config, pins Pins) (*configs.Config, *Result, error) {
	res := &Result{Cycles: map[string]time.Duration{}}
	if len(cfg.Streams) == 0 && !slices.ContainsFunc(cfg.Interfaces, func(ifc configs.Interface) bool { return ifc.Plan != nil && ifc.Plan.Admission != nil }) {
		return cfg, res, nil
	}
	out := *cfg
	out.Streams = nil
	out.Source = cfg
	out.Interfaces = slices.Clone(cfg.Interfaces)
	for i := range out.Interfaces {
		ifc := &out.Interfaces[i]
		var streams []configs.Stream
		for _, s := range cfg.Streams {
			if s.Interface == ifc.Name {
				streams = append(streams, s)
			}
		}
		if _, admits := configs.Admits(cfg, ifc.Name); len(streams) == 0 && !admits {
			continue
		}
		if configs.CreditShaped(cfg, ifc.Name) {
			rows, classes, err := planCBS(ifc, streams)
			if err != nil {
				return nil, nil, err
			}
			res.Rows = append(res.Rows, rows...)
			res.Classes = append(res.Classes, classes...)
			continue
		}
		rows, cycle, err := planInterface(ifc, streams, pins)
		if err != nil {
			return nil, nil, err
		}
		res.Rows = append(res.Rows, rows...)
		res.Cycles[string(ifc.Name)] = cycle
	}
	return &out, res, nil
}

// stream is a stream being placed.
type stream struct {
	*configs.Stream
	wire  time.Duration // its frames' wire time in a period
	slack time.Duration // max-latency − wire: how far its txtime may move from its offset
	shift time.Duration // chosen
	prio  int
}

// interval is [start, end) in the cycle, end > start; it may pass the cycle's end (wrap).
type interval struct {
	start, end time.Duration
	stream     string
}

// problem is an interface's placement problem: its planning inputs, its streams in the order
// they are placed (least slack first, then name) and as tasks, and the cycle.
type problem struct {
	pl                 configs.Planning
	delta, lead, guard time.Duration
	cycle              time.Duration
	ss                 []*stream
	ts                 []task
}

// prepare checks what each stream needs alone (priority, deadline, window), the cycle and the
// utilisation, and states the placement problem.
func prepare(ifc *configs.Interface, in []configs.Stream) (*problem, error) {
	name := string(ifc.Name)
	pl := configs.Planning{}
	if ifc.Plan != nil {
		pl = *ifc.Plan
	}
	refuse := func(stream, constraint, format string, args ...any) error {
		return &Error{Interface: name, Stream: stream, Constraint: constraint, Msg: fmt.Sprintf(format, args...)}
	}
	delta := DefaultETFDelta
	if pl.ETFDelta != nil {
		delta = time.Duration(*pl.ETFDelta)
	}
	speed := pl.Speed()
	// The guard band: a best-effort frame that starts just before a run of windows ends before
	// the run; with preemption the NIC cuts it, and only the rest of a fragment remains.
	guard := frame.Time(frame.Untagged(frame.MaxBestEffort), speed)
	if pl.Preemption {
		guard = frame.Time(frame.PreemptedHold(pl.MinFragOrDefault()), speed)
	}
	// How far a window opens before the txtime: a software ETF releases a frame up to delta
	// before it; with launch-time offload the NIC sends it at its txtime.
	lead, leadWhat := delta, fmt.Sprintf("ETF delta %v", delta)
	switch pl.Mode {
	case taprio.Software:
	case taprio.TxtimeAssist, taprio.FullOffload:
		lead, leadWhat = 0, "launch time"
		if delta > MaxCycle {
			return nil, refuse("", "etf-delta", "etf-delta %v is longer than %v: give plan: {etf-delta: 300us} or the delta tsnctl calibrate delta measures", delta, MaxCycle)
		}
	default:
		return nil, refuse("", "mode", "mode %s is not planned", pl.Mode)
	}

	// The streams, in a fixed order whatever the file's: least slack first, then name.
	ss := make([]*stream, len(in))
	for i := range in {
		s := &stream{Stream: &in[i]}
		one := frame.Time(frame.Bytes(s.Size, s.UDP()), speed)
		s.wire = time.Duration(s.FramesOrOne()) * one
		s.slack = time.Duration(s.MaxLatency) - s.wire
		s.prio = int(s.PCPOrDefault())
		switch {
		case s.prio == 0:
			return nil, refuse(s.Name, "priority", "PCP 0 would give it socket priority 0, best effort's: give pcp: 1 to 7")
		case s.slack < 0:
			return nil, refuse(s.Name, "deadline", "its %d frame(s) of %d bytes take %v on the wire at %d Mb/s, more than max-latency %v: raise max-latency, or send fewer or smaller frames",
				s.FramesOrOne(), s.Size, s.wire, speed, time.Duration(s.MaxLatency))
		case lead+s.wire > time.Duration(s.Period):
			return nil, refuse(s.Name, "window", "its window (%s + wire time %v) is longer than its period %v: lower plan.etf-delta, lengthen the period, or send fewer frames", leadWhat, s.wire, time.Duration(s.Period))
		}
		ss[i] = s
	}
	slices.SortStableFunc(ss, func(a, b *stream) int {
		if a.slack != b.slack {
			return int(a.slack - b.slack)
		}
		return strings.Compare(a.Name, b.Name)
	})

	// The cycle (an interface that only admits streams, none yet: DefaultAdmissionCycle).
	hyper := time.Duration(1)
	if len(ss) == 0 {
		hyper = DefaultAdmissionCycle
	}
	for _, s := range ss {
		hyper = lcm(hyper, time.Duration(s.Period))
		if hyper > MaxCycle {
			return nil, refuse(s.Name, "cycle", "the hyperperiod of the periods passes %v: choose periods with a smaller common multiple", MaxCycle)
		}
	}
	cycle := hyper
	if pl.Cycle != nil {
		cycle = time.Duration(*pl.Cycle)
		if cycle%hyper != 0 || cycle > MaxCycle {
			return nil, refuse("", "cycle", "plan.cycle %v is not a multiple of the streams' hyperperiod %v, or passes %v: remove plan.cycle (the hyperperiod is the default) or give a multiple of %v", cycle, hyper, MaxCycle, hyper)
		}
	}

	// Utilisation first: a set over the link (or over the share left after best effort) never fits.
	var used time.Duration
	for _, s := range ss {
		used += s.wire * (cycle / time.Duration(s.Period))
	}
	if avail := cycle * time.Duration(100-pl.BestEffort) / 100; used > avail {
		return nil, refuse("", "utilisation", "the streams' frames take %.1f %% of the link, more than the %d %% left after best effort's reservation: lower plan.best-effort, or send fewer, smaller or rarer frames",
			100*float64(used)/float64(cycle), 100-pl.BestEffort)
	}

	ts := make([]task, len(ss))
	for i, s := range ss {
		ts[i] = task{period: time.Duration(s.Period), open: time.Duration(s.Offset) - lead, length: lead + s.wire, slack: s.slack, lead: lead}
	}
	return &problem{pl: pl, delta: delta, lead: lead, guard: guard, cycle: cycle, ss: ss, ts: ts}, nil
}

func planInterface(ifc *configs.Interface, in []configs.Stream, pins Pins) ([]Row, time.Duration, error) {
	name := string(ifc.Name)
	refuse := func(stream, constraint, format string, args ...any) error {
		return &Error{Interface: name, Stream: stream, Constraint: constraint, Msg: fmt.Sprintf(format, args...)}
	}
	pr, err := prepare(ifc, in)
	if err != nil {
		return nil, 0, err
	}
	pl, delta, lead, guard, cycle, ss, ts := pr.pl, pr.delta, pr.lead, pr.guard, pr.cycle, pr.ss, pr.ts

	// Pinned streams first, at their txtimes: their windows are fixed, and must not overlap.
	fixed := newBusy(cycle)
	pinnedShift := make([]time.Duration, len(ss))
	var free []int // indices of the streams to place
	for i, s := range ss {
		tx, ok := pins[s.Name]
		if !ok {
			free = append(free, i)
			continue
		}
		sh := tx - time.Duration(s.Offset)
		switch {
		case sh < 0 || sh > s.slack:
			return nil, 0, refuse(s.Name, "deadline", "its running txtime %v is outside offset %v to offset + max-latency − wire time (%v): its offset or deadline changed; remove the stream and add it again", tx, time.Duration(s.Offset), time.Duration(s.Offset)+s.slack)
		case !ts[i].fits(sh, fixed):
			return nil, 0, refuse(s.Name, "pinned", "its running window overlaps another running stream's at this cycle (%v): the running streams cannot keep their txtimes", cycle)
		}
		ts[i].mark(sh, fixed)
		pinnedShift[i] = sh
	}
	freeTasks := make([]task, len(free))
	for j, i := range free {
		freeTasks[j] = ts[i]
	}

	// Placement: greedy, then, when the greedy order refuses a small set, the exact search.
	placedShifts, bad := placeGreedy(freeTasks, fixed)
	if bad >= 0 {
		s := ss[free[bad]]
		why := fmt.Sprintf("no txtime from offset %v to offset + max-latency − wire time (%v) gives windows that overlap no other stream's, with the streams placed before it (least slack first)",
			time.Duration(s.Offset), time.Duration(s.Offset)+s.slack)
		budget := exactNodes
		if len(free) > exactMaxStreams {
			budget = exactNodesLarge
		}
		var v Verdict
		var nodes int
		placedShifts, v, nodes = exact(freeTasks, fixed, Budget{Nodes: budget})
		if v != Feasible && len(free) < len(ss) {
			// Would it fit with the running streams moved? Then say that it is their txtimes.
			again := *ifc // planned on a copy: only the verdict matters
			if _, _, err := planInterface(&again, in, nil); err == nil {
				return nil, 0, refuse(s.Name, "pinned", "%s; the streams fit only if running streams move, and a running stream keeps its txtime: add it at another offset, or remove and add the running streams together", why)
			}
		}
		switch v {
		case Infeasible:
			return nil, 0, refuse(s.Name, "deadline", "%s; an exact search over every order of the %d streams found no placement either: raise its max-latency, move its offset or another stream's, or lower plan.etf-delta", why, len(ss))
		case Unknown:
			return nil, 0, refuse(s.Name, "deadline", "%s; the exact search over other orders gave up after %d nodes: raise its max-latency, move its offset or another stream's, or lower plan.etf-delta", why, nodes)
		}
	}
	shifts := pinnedShift
	for j, i := range free {
		shifts[i] = placedShifts[j]
	}
	var placed []interval
	for i, s := range ss {
		s.shift = shifts[i]
		placed = append(placed, s.windows(cycle, lead)...)
	}
	entries, beTime := gateList(placed, cycle, guard)
	if min := cycle * time.Duration(pl.BestEffort) / 100; beTime < min {
		return nil, 0, refuse("", "best effort", "best effort keeps %v of the %v cycle after the windows and their guard bands (%v each), less than the %d %% reserved: lower plan.best-effort or plan.etf-delta, or give the streams offsets that let their windows run together (one guard band per run)",
			beTime, cycle, guard, pl.BestEffort)
	}
	if len(entries) > MaxEntries {
		return nil, 0, refuse("", "gate list", "the gate list has %d entries, more than %d: a shorter cycle (plan.cycle, or periods with a smaller common multiple), or offsets that let windows run together", len(entries), MaxEntries)
	}
	cs := make([]*configs.Stream, len(ss))
	for i, s := range ss {
		cs[i] = s.Stream
	}
	if err := checkEgress(ifc, append(cs, reserved(ifc)...)); err != nil {
		return nil, 0, err
	}
	write(ifc, pl.Mode, ss, cs, entries, cycle, delta)

	rows := make([]Row, len(ss))
	for i, s := range ss {
		t := time.Duration(s.Offset) + s.shift
		rows[i] = Row{Stream: s.Name, Interface: name, Priority: s.prio, PCP: int(s.PCPOrDefault()), Queue: streamClass,
			Period: time.Duration(s.Period), Txtime: t, Open: t - lead, Close: t + s.wire, Wire: s.wire, Guard: guard,
			Bound: s.shift + s.wire, Utilisation: float64(s.wire) / float64(s.Period)}
	}
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.Stream, b.Stream) })
	return rows, cycle, nil
}

// windows are the stream's windows in the cycle at its shift; each opens lead before the txtime.
func (s *stream) windows(cycle, lead time.Duration) []interval {
	t := time.Duration(s.Offset) + s.shift
	var w []interval
	for k := time.Duration(0); k < cycle/time.Duration(s.Period); k++ {
		start := mod(k*time.Duration(s.Period)+t-lead, cycle)
		w = append(w, interval{start, start + lead + s.wire, s.Name})
	}
	return w
}

// gateList is the cycle's gate control list: the scheduled windows merged into runs (windows
// closer than a guard band are one run), each preceded by a guard band; the scheduled class's gate
// open from each guard band's start to its run's end, best effort's in the rest. It returns the
// entries from the cycle's start and best effort's time in the cycle.
func gateList(placed []interval, cycle, guard time.Duration) ([]configs.Entry, time.Duration) {
	// Scheduled time on [0, cycle): each window with its guard band, cut at the cycle's end.
	var busy []interval
	for _, w := range placed {
		start, end := w.start-guard, w.end
		for _, d := range []time.Duration{-cycle, 0, cycle} {
			if s, e := max(start+d, 0), min(end+d, cycle); s < e {
				busy = append(busy, interval{start: s, end: e})
			}
		}
	}
	slices.SortFunc(busy, func(a, b interval) int { return int(a.start - b.start) })
	// Merge, and fill the gaps shorter than a guard band (best effort could not use them).
	var runs []interval
	for _, b := range busy {
		if n := len(runs); n > 0 && b.start-runs[n-1].end < guard {
			runs[n-1].end = max(runs[n-1].end, b.end)
			continue
		}
		runs = append(runs, b)
	}
	if n := len(runs); n > 1 && runs[0].start+cycle-runs[n-1].end < guard { // around the cycle's end
		runs[0].start, runs[n-1].end = 0, cycle
	}
	var entries []configs.Entry
	add := func(gates uint32, d time.Duration) {
		if d <= 0 {
			return
		}
		if n := len(entries); n > 0 && uint32(entries[n-1].Gates) == gates {
			entries[n-1].Interval += configs.Duration(d)
			return
		}
		entries = append(entries, configs.Entry{Cmd: taprio.SetGates, Gates: configs.Mask(gates), Interval: configs.Duration(d)})
	}
	at, be := time.Duration(0), time.Duration(0)
	for _, r := range runs {
		add(1<<beClass, r.start-at)
		be += r.start - at
		add(1<<streamClass, r.end-r.start)
		at = r.end
	}
	add(1<<beClass, cycle-at)
	be += cycle - at
	return entries, be
}

// rotate starts the gate list (entries from the cycle's start) in the middle of its longest
// best-effort-only entry, and returns it with that phase: the schedule's base-time is then that far
// past a cycle boundary (base-time-offset). A schedule changed in place switches at its new
// base-time, and the kernel's taprio may switch up to one entry early, cutting the entry it is in:
// in best effort's time, no stream's window is cut (the lab found frames at a switch dropped when the
// cycle started in a window). The cycle's end is then in best effort's time too, so no window is
// split into two entries there. A schedule without a best-effort-only entry is left as it is.
func rotate(entries []configs.Entry, cycle time.Duration) ([]configs.Entry, time.Duration) {
	n := len(entries)
	beOnly := func(i int) bool { return uint32(entries[(i%n+n)%n].Gates) == 1<<beClass }
	starts := make([]time.Duration, n)
	var at time.Duration
	for i, e := range entries {
		starts[i] = at
		at += time.Duration(e.Interval)
	}
	// The longest run of best-effort-only entries, around the cycle's end too.
	best, bestLen := -1, time.Duration(0)
	for i := range n {
		if !beOnly(i) || beOnly(i-1) {
			continue // not the first entry of a run
		}
		var l time.Duration
		for j := i; j < i+n && beOnly(j); j++ {
			l += time.Duration(entries[j%n].Interval)
		}
		if l > bestLen {
			best, bestLen = i, l
		}
	}
	if best < 0 {
		return entries, 0 // no best-effort-only entry (or nothing else)
	}
	// Its middle, on a whole µs when that is still inside it.
	phase := starts[best] + bestLen/2
	if r := phase - phase%time.Microsecond; r > starts[best] {
		phase = r
	}
	phase = mod(phase, cycle)
	return cut(entries, phase), phase
}

// cut is the gate list entries (from the cycle's start) from at instead: the entry at at split,
// entries of the same gates that meet merged (but not across at).
func cut(entries []configs.Entry, at time.Duration) []configs.Entry {
	n := len(entries)
	k, start := 0, time.Duration(0)
	for k+1 < n && start+time.Duration(entries[k].Interval) <= at {
		start += time.Duration(entries[k].Interval)
		k++
	}
	var out []configs.Entry
	add := func(e configs.Entry, d time.Duration) {
		if d <= 0 {
			return
		}
		if m := len(out); m > 0 && out[m-1].Gates == e.Gates && out[m-1].Cmd == e.Cmd {
			out[m-1].Interval += configs.Duration(d)
			return
		}
		e.Interval = configs.Duration(d)
		out = append(out, e)
	}
	add(entries[k], start+time.Duration(entries[k].Interval)-at)
	for j := 1; j < n; j++ {
		e := entries[(k+j)%n]
		add(e, time.Duration(e.Interval))
	}
	add(entries[k], at-start)
	return out
}

// FromCycleStart is a planned taprio's gate list from the cycle's start (a multiple of the cycle
// on the schedule's clock), undoing the rotation to its base-time-offset: what the streams' rows
// (txtimes and windows, from the periods' starts) line up with.
func FromCycleStart(tp *configs.Taprio) []configs.Entry {
	if tp.BaseTimeOffset == nil || *tp.BaseTimeOffset == 0 || tp.CycleTime == nil {
		return tp.Schedule
	}
	cycle := time.Duration(*tp.CycleTime)
	return cut(tp.Schedule, mod(cycle-time.Duration(*tp.BaseTimeOffset), cycle))
}

// write sets the interface's schedule: two traffic classes (best effort on queue 0, the streams
// on queue 1 under an ETF), the priority map, each stream's VLAN with its priority's PCP, for the
// mode:
//   - software: taprio on CLOCK_TAI, an ETF with offload auto on the streams' queue (the windows
//     open delta before each txtime, so a software ETF is enough);
//   - txtime-assist: taprio with that flag and a txtime-delay of twice the ETF delta (it must be
//     larger than every ETF's delta), and an ETF on both queues with skip-sock-check (taprio sets
//     every packet's txtime and leaves the timing to the ETFs: a queue without one would send
//     regardless of the gates) and offload true, launch time, since the windows open at the txtime;
//   - full-offload: taprio with that flag and no clockid (the NIC's PTP clock runs the gate list),
//     and an ETF with offload true on the streams' queue, so that each frame leaves at its txtime.
func write(ifc *configs.Interface, mode taprio.Mode, ss []*stream, cs []*configs.Stream, entries []configs.Entry, cycle, delta time.Duration) {
	tai := clock.TAI
	m := make([]int, 16)
	for _, s := range ss {
		m[s.prio] = streamClass
	}
	// What admission reserves is installed now, whatever streams run: its PCPs go to the streams'
	// class and its VLANs exist with their egress maps, so that admitting a stream changes only the
	// schedule.
	res := reserved(ifc)
	for _, s := range res {
		m[s.PCPOrDefault()] = streamClass
	}
	writeVLANs(ifc, append(slices.Clone(cs), res...))
	ct := configs.Duration(cycle)
	rotated, phase := rotate(entries, cycle)
	if len(rotated) <= MaxEntries { // the cut may add an entry: not past the limit
		entries = rotated
	} else {
		phase = 0
	}
	ifc.Taprio = &configs.Taprio{NumTC: 2, Map: m, Queues: []configs.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}},
		ClockID: &tai, BaseTime: configs.BaseTime{Auto: true}, Mode: mode, CycleTime: &ct, Schedule: entries, Pos: ifc.Pos}
	if phase > 0 {
		off := configs.Duration(phase)
		ifc.Taprio.BaseTimeOffset = &off
	}
	etf := func(q int, offload configs.Offload, skip bool) configs.ETF {
		return configs.ETF{Queue: &q, ClockID: &tai, Delta: configs.Duration(delta), Offload: offload, SkipSockCheck: skip, Pos: ifc.Pos}
	}
	switch mode {
	case taprio.TxtimeAssist:
		td := configs.Duration(2 * delta)
		ifc.Taprio.TxtimeDelay = &td
		ifc.ETF = []configs.ETF{etf(beClass, configs.OffloadTrue, true), etf(streamClass, configs.OffloadTrue, true)}
	case taprio.FullOffload:
		ifc.Taprio.ClockID = nil
		ifc.ETF = []configs.ETF{etf(streamClass, configs.OffloadTrue, false)}
		if ifc.Plan != nil && ifc.Plan.Preemption {
			ifc.Taprio.FP = make([]configs.FP, 2)
			ifc.Taprio.FP[beClass], ifc.Taprio.FP[streamClass] = configs.Preemptible, configs.Express
		}
	default:
		ifc.ETF = []configs.ETF{etf(streamClass, configs.OffloadAuto, false)}
	}
	ifc.Plan = nil
}

// checkEgress refuses a stream whose VLAN's egress-qos-map, as written, sends its socket priority
// (its PCP, as plan gives it) as another PCP.
func checkEgress(ifc *configs.Interface, ss []*configs.Stream) error {
	for _, s := range ss {
		prio := uint32(s.PCPOrDefault())
		for _, v := range ifc.VLANs {
			if p, ok := v.EgressQoSMap[prio]; ok && v.ID == s.VLAN && p != prio {
				return &Error{Interface: string(ifc.Name), Stream: s.Name, Constraint: "pcp",
					Msg: fmt.Sprintf("VLAN %d's egress-qos-map sends priority %d as PCP %d, the stream asks PCP %d: remove the entry or change the stream's pcp", v.ID, prio, p, prio)}
			}
		}
	}
	return nil
}

// reserved is the interface's admission reservation as streams: one for each reserved VLAN and
// PCP, so that the priority map, the VLANs and their egress maps are written and checked as for
// the streams themselves. None when the interface admits no streams.
func reserved(ifc *configs.Interface) []*configs.Stream {
	if ifc.Plan == nil || ifc.Plan.Admission == nil {
		return nil
	}
	var out []*configs.Stream
	for _, v := range ifc.Plan.Admission.VLANs {
		for _, p := range ifc.Plan.Admission.PCPs() {
			out = append(out, &configs.Stream{Name: fmt.Sprintf("(admission: VLAN %d, PCP %d)", v, p), VLAN: v, PCP: &p})
		}
	}
	return out
}

// writeVLANs gives each stream's VLAN (added when the interface does not list it) an egress-qos-map
// entry sending the stream's socket priority as its PCP.
func writeVLANs(ifc *configs.Interface, ss []*configs.Stream) {
	ifc.VLANs = slices.Clone(ifc.VLANs)
	for _, s := range ss {
		i := slices.IndexFunc(ifc.VLANs, func(v configs.VLAN) bool { return v.ID == s.VLAN })
		if i < 0 {
			ifc.VLANs = append(ifc.VLANs, configs.VLAN{ID: s.VLAN})
			i = len(ifc.VLANs) - 1
		}
		v := &ifc.VLANs[i]
		egress := map[uint32]uint32{}
		for k, p := range v.EgressQoSMap {
			egress[k] = p
		}
		egress[uint32(s.PCPOrDefault())] = uint32(s.PCPOrDefault())
		v.EgressQoSMap = egress
	}
}

func mod(a, m time.Duration) time.Duration { return ((a % m) + m) % m }

func gcd(a, b time.Duration) time.Duration {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b time.Duration) time.Duration { return a / gcd(a, b) * b }

// WriteTable prints the rows as `tsnctl plan` shows them: per stream its priority, queue, txtime
// and window in each period (a credit-shaped stream: its class), wire time, guard band, latency
// bound and share of the link; then each interface's cycle and each class's reservation and
// credits.
func WriteTable(w io.Writer, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tINTERFACE\tPRIO\tPCP\tQUEUE\tPERIOD\tTXTIME\tWINDOW\tWIRE\tGUARD\tBOUND\tLINK")
	for _, r := range res.Rows {
		txtime, window, guard := r.Txtime.String(), fmt.Sprintf("[%v, %v)", r.Open, r.Close), r.Guard.String()
		if r.Class != "" {
			// Credit-shaped: sent at its offset, no txtime, no window of its own.
			txtime, window, guard = "-", "class "+r.Class, "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%v\t%s\t%s\t%v\t%s\t%v\t%.2f%%\n", r.Stream, r.Interface, r.Priority, r.PCP, r.Queue,
			r.Period, txtime, window, r.Wire, guard, r.Bound, 100*r.Utilisation)
	}
	for _, name := range slices.Sorted(maps.Keys(res.Cycles)) {
		fmt.Fprintf(tw, "cycle of %s: %v\n", name, res.Cycles[name])
	}
	for _, c := range res.Classes {
		fmt.Fprintf(tw, "class %s of %s: queue %d (%s), idleslope %d kbit/s; at %d Mb/s sendslope %d, hicredit %d, locredit %d\n",
			c.Class, c.Interface, c.Queue, strings.Join(c.Streams, ", "), c.IdleSlope, c.SpeedMbps, c.SendSlope, c.HiCredit, c.LoCredit)
	}
	return tw.Flush()
}
