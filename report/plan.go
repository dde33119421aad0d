package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
)

// PlanTimelines are the timelines of a plan, one per planned interface in the configuration's
// order: cfg is the expanded configuration (plan.Expand's), res its result. Each shows the
// interface's gate list and each stream's windows, txtimes and guard bands in one cycle.
func PlanTimelines(cfg *configs.Config, res *plan.Result) []*Timeline {
	var out []*Timeline
	for _, ifc := range cfg.Interfaces {
		name := string(ifc.Name)
		cycle, ok := res.Cycles[name]
		if !ok || ifc.Taprio == nil {
			continue
		}
		tp := ifc.Taprio
		tl := &Timeline{Name: "plan-" + fileSafe(name), Cycle: cycle,
			Title: fmt.Sprintf("Schedule of %s: one %v cycle", name, cycle)}
		for _, e := range plan.FromCycleStart(tp) { // drawn from the cycle's start, as the streams' windows
			tl.Gates = append(tl.Gates, Gate{Open: uint32(e.Gates), Interval: time.Duration(e.Interval)})
		}
		for c := range tp.NumTC {
			label := fmt.Sprintf("TC%d gate", c)
			if len(tp.Map) > 0 && tp.Map[0] == c {
				label += " (best effort)"
			}
			tl.Classes = append(tl.Classes, label)
		}
		var rows []plan.Row
		for _, r := range res.Rows {
			if r.Interface == name {
				rows = append(rows, r)
			}
		}
		for _, r := range rows {
			l := Lane{Name: r.Stream}
			for k := time.Duration(0); k < cycle/r.Period; k++ {
				start := mod(r.Open+k*r.Period, cycle)
				l.Windows = append(l.Windows, Span{start, start + r.Close - r.Open})
				l.Txtimes = append(l.Txtimes, mod(r.Txtime+k*r.Period, cycle))
			}
			tl.Streams = append(tl.Streams, l)
		}
		addGuards(tl, rows, tp)
		out = append(out, tl)
	}
	return out
}

// addGuards puts each guard band on the stream whose window it precedes. The plan opens the
// streams' gate a guard band before each run of windows: each stretch in which a streams' class's
// gate is open (around the cycle's end too) starts with a guard band, and its first window starts
// at its end.
func addGuards(tl *Timeline, rows []plan.Row, tp *configs.Taprio) {
	cycle := tl.Cycle
	for i, r := range rows {
		class := slices.IndexFunc(tp.Queues, func(q configs.Queue) bool { return r.Queue >= int(q.Offset) && r.Queue < int(q.Offset)+int(q.Count) })
		if class < 0 {
			continue
		}
		for _, open := range openSpans(tl.Gates, class, cycle) {
			for _, w := range tl.Streams[i].Windows {
				if mod(w.Start-open.Start, cycle) == r.Guard && r.Guard <= open.End-open.Start {
					tl.Streams[i].Guards = append(tl.Streams[i].Guards, Span{open.Start, open.Start + r.Guard})
				}
			}
		}
	}
}

// openSpans are the stretches of the cycle in which the class's gate is open, one stretch for one
// that runs over the cycle's end into its start.
func openSpans(gates []Gate, class int, cycle time.Duration) []Span {
	var spans []Span
	at := time.Duration(0)
	for _, g := range gates {
		if g.Open&(1<<class) != 0 {
			if n := len(spans); n > 0 && spans[n-1].End == at {
				spans[n-1].End += g.Interval
			} else {
				spans = append(spans, Span{at, at + g.Interval})
			}
		}
		at += g.Interval
	}
	if n := len(spans); n > 1 && spans[0].Start == 0 && spans[n-1].End == cycle {
		spans[n-1].End += spans[0].End
		spans = spans[1:]
	}
	return spans
}

func mod(a, m time.Duration) time.Duration { return ((a % m) + m) % m }

// PlanFigure draws a plan's timelines, one interface under the other, as PNG and SVG.
func PlanFigure(cfg *configs.Config, res *plan.Result) (*Plot, error) {
	tls := PlanTimelines(cfg, res)
	switch {
	case len(tls) == 0 && len(res.Classes) > 0:
		return nil, fmt.Errorf("no schedule to draw: the streams have a class (credit-shaped, no cycle); the table gives their reservations and bounds")
	case len(tls) == 0:
		return nil, fmt.Errorf("no schedule to draw: the configuration has no streams")
	}
	names := make([]string, len(tls))
	for i, tl := range tls {
		names[i] = strings.TrimPrefix(tl.Name, "plan-")
	}
	return TimelineFigure("plan-"+strings.Join(names, "-"), tls)
}
