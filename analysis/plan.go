package analysis

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/termsafe"
)

// StreamPlan is what a planned stream's samples are judged by (tsnctl analyze -f FILE): its row
// of the plan. Times are ns in the stream's period.
type StreamPlan struct {
	ID     uint32 `json:"stream_id"`
	Name   string `json:"name"`
	Period int64  `json:"period_ns"`
	Txtime int64  `json:"txtime_ns"`
	// The window [Open, Close): from the ETF's release (txtime − delta) to the last frame's end.
	Open  int64 `json:"window_open_ns"`
	Close int64 `json:"window_close_ns"`
	// Deadline is offset + max-latency: the last frame is received by then.
	Deadline int64 `json:"deadline_ns"`
	// Bound is the plan's worst-case latency from the offset (to the last frame's last bit).
	Bound int64 `json:"bound_ns"`
}

// LoadPlan reads a configuration file's streams as send --stream -f FILE plans them: each with the
// id its packets carry (plan.StreamIDs) and its row.
func LoadPlan(path string) ([]StreamPlan, error) {
	ss, err := plan.LoadStreams(path)
	if err != nil {
		return nil, err
	}
	return PlanOf(ss), nil
}

// PlanOf is what the planned streams ss are judged by, in the order of their ids.
func PlanOf(ss []plan.Stream) []StreamPlan {
	var out []StreamPlan
	for _, st := range ss {
		r := st.Row
		out = append(out, StreamPlan{ID: st.ID, Name: st.Name, Period: int64(r.Period), Txtime: int64(r.Txtime), Open: int64(r.Open),
			Close: int64(r.Close), Deadline: int64(st.Offset) + int64(st.MaxLatency), Bound: int64(r.Bound)})
	}
	slices.SortFunc(out, func(a, b StreamPlan) int { return int(a.ID) - int(b.ID) })
	return out
}

// PlanResult is one planned stream's verdict: its packets against its own window and deadline.
type PlanResult struct {
	StreamPlan
	Sent     uint64 `json:"sent"`
	Received uint64 `json:"received"`
	// TxtimeOutside are packets the sender planned (txtime) outside the window.
	TxtimeOutside uint64 `json:"txtime_outside"`
	// Premature and Late are packets that left (TX timestamp) before the window or after it.
	Premature   uint64 `json:"premature"`
	Late        uint64 `json:"late"`
	WindowCheck string `json:"window_check"` // tx-timestamp, or txtime (no TX timestamps)
	// OverDeadline are packets received (RX timestamp − cycle start) after the deadline.
	OverDeadline uint64 `json:"over_deadline"`
	ScheduledMax *int64 `json:"scheduled_max_ns,omitempty"` // the latest RX timestamp in its period
	OK           bool   `json:"ok"`
	Reason       string `json:"reason,omitempty"`
}

// planOf finds id's plan (nil: none).
func (a *Analyzer) planOf(id uint32) *StreamPlan {
	for i := range a.opts.Plan {
		if a.opts.Plan[i].ID == id {
			return &a.opts.Plan[i]
		}
	}
	return nil
}

// judge is s's verdict against its plan.
func (s *stream) judge(sr *StreamResult) PlanResult {
	p := PlanResult{StreamPlan: *s.plan, Sent: s.sent, Received: sr.Packets.Received, TxtimeOutside: s.planTxOutside,
		OverDeadline: s.overDeadline, WindowCheck: "txtime"}
	if s.windowFromTxTimestamp {
		p.WindowCheck, p.Premature, p.Late = "tx-timestamp", s.premature, s.late
	}
	if in, ok := sr.Indicators[ScheduledTime]; ok {
		p.ScheduledMax = &in.Max
	}
	var why []string
	switch {
	case s.sent == 0 && s.sched.N() == 0:
		why = append(why, "no packets to judge")
	case s.sched.N() == 0:
		why = append(why, "no RX timestamps: the deadline could not be judged (give the receiver's log too)")
	}
	if p.TxtimeOutside > 0 {
		why = append(why, fmt.Sprintf("%d txtimes outside the window", p.TxtimeOutside))
	}
	if p.Premature+p.Late > 0 {
		why = append(why, fmt.Sprintf("%d sent outside the window (%d premature, %d late)", p.Premature+p.Late, p.Premature, p.Late))
	}
	if p.OverDeadline > 0 {
		why = append(why, fmt.Sprintf("%d received after the deadline", p.OverDeadline))
	}
	p.OK, p.Reason = len(why) == 0, strings.Join(why, "; ")
	return p
}

// PlanOK reports whether every planned stream of the result held its window and deadline; false
// when analyze was given a plan and no stream of it was in the logs.
func (res *Result) PlanOK() bool {
	if res.planned && len(res.Plan) == 0 {
		return false
	}
	for _, p := range res.Plan {
		if !p.OK {
			return false
		}
	}
	return true
}

// checkPlanHeaders warns when a sender's log names its planned streams with other ids than the
// plan given to analyze (the file changed between send and analyze).
func (a *Analyzer) checkPlanHeaders(res *Result) {
	for _, f := range a.Files {
		if f.Header == nil || f.Header.Send == nil || f.Header.Send.Streams == "" {
			continue
		}
		for _, kv := range strings.Split(f.Header.Send.Streams, ",") {
			name, idText, _ := strings.Cut(kv, "=")
			id, _ := strconv.ParseUint(idText, 10, 32)
			if p := a.planOf(uint32(id)); p == nil || p.Name != name {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s: the sender sent stream %s as id %s, which the plan given does not: was its file changed since?", f.Path, name, idText))
			}
		}
	}
}

// PlanColumns are the columns of the planned streams' table, one row per stream (PlanResult.Cells):
// analyze -f prints it, tsnctl report -f shows it.
var PlanColumns = []string{"stream", "id", "window (us)", "deadline (us)", "sent", "received", "txtime outside",
	"premature", "late", "over deadline", "scheduled max (us)", "verdict"}

// Cells is p's row of the planned streams' table (PlanColumns). Without TX timestamps premature and
// late are "-" (the window was judged by the txtimes).
func (p PlanResult) Cells() []string {
	mx := "-"
	if p.ScheduledMax != nil {
		mx = Micros(float64(*p.ScheduledMax))
	}
	verdict := "ok"
	if !p.OK {
		verdict = "FAIL: " + p.Reason
	}
	premature, late := fmt.Sprint(p.Premature), fmt.Sprint(p.Late)
	if p.WindowCheck != "tx-timestamp" {
		premature, late = "-", "-"
	}
	return []string{p.Name, fmt.Sprint(p.ID), fmt.Sprintf("[%s, %s)", Micros(float64(p.Open)), Micros(float64(p.Close))),
		Micros(float64(p.Deadline)), fmt.Sprint(p.Sent), fmt.Sprint(p.Received), fmt.Sprint(p.TxtimeOutside),
		premature, late, fmt.Sprint(p.OverDeadline), mx, verdict}
}

// planTable prints the planned streams' verdicts, one row per stream.
func (res *Result) planTable(w *tabwriter.Writer) {
	fmt.Fprintln(w, strings.Join(PlanColumns, "\t"))
	for _, p := range res.Plan {
		cells := p.Cells()
		for i := range cells {
			cells[i] = termsafe.String(cells[i])
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
}
