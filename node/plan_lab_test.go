//go:build lab

package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/plan/plantest"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// What plan.Expand writes, the kernel must take and read back as planned: random stream sets (the
// generator of plan's property tests), each planned and applied with the node package onto the
// same veth in the lab's kernel, each apply replacing the previous plan (in place when only the
// schedule changed), and each compared with iproute2's read-back (tc -j -d qdisc show, ip -j -d
// link show) field by field.

// tcSchedule is one of a taprio's schedules as tc -j prints it: the operational one at the top
// level of the options, a pending one under "admin".
type tcSchedule struct {
	BaseTime           int64 `json:"base_time"`
	CycleTime          int64 `json:"cycle_time"`
	CycleTimeExtension int64 `json:"cycle_time_extension"`
	Schedule           []struct {
		Index    int    `json:"index"`
		Cmd      string `json:"cmd"`
		Gatemask string `json:"gatemask"`
		Interval int64  `json:"interval"`
	} `json:"schedule"`
}

// tcTyped is one qdisc of tc -j -d qdisc show, typed: the taprio fields and the ETF fields (each
// qdisc has one kind's).
type tcTyped struct {
	Kind    string `json:"kind"`
	Handle  string `json:"handle"`
	Parent  string `json:"parent"`
	Root    bool   `json:"root"`
	Options struct {
		// taprio
		TC     int   `json:"tc"`
		Map    []int `json:"map"`
		Queues []struct {
			Offset int `json:"offset"`
			Count  int `json:"count"`
		} `json:"queues"`
		ClockID string `json:"clockid"` // and etf's
		tcSchedule
		Admin *tcSchedule `json:"admin"`
		// etf
		Delta         int64  `json:"delta"`
		Offload       string `json:"offload"`
		DeadlineMode  string `json:"deadline_mode"`
		SkipSockCheck string `json:"skip_sock_check"`
	} `json:"options"`
}

func tcShowTyped(t *testing.T, ns, dev string) []tcTyped {
	t.Helper()
	out := labtest.Run(t, append(append([]string{"tc"}, nsArgs(ns)...), "-j", "-d", "qdisc", "show", "dev", dev)...)
	var qs []tcTyped
	if err := json.Unmarshal([]byte(out), &qs); err != nil {
		t.Fatalf("tc -j: %v\n%s", err, out)
	}
	return qs
}

// planState is a planned interface in the terms both sides can be written in: the plan's
// configuration, and the kernel's read-back. Base-time is apart (the plan says auto).
type planState struct {
	Root     string // the root qdisc: kind and handle
	NumTC    int
	Map      []int
	Queues   []string // COUNT@OFFSET
	ClockID  string
	Cycle    int64
	Ext      int64
	Entries  []string // "S 0x2 63376"
	ETF      map[string]string
	Egress   map[string]map[uint32]uint32 // per VLAN link name
	Schedule string                       // which schedule the read-back's entries are: "admin" (pending) or "oper"
}

// plannedState is what the plan's configuration of one interface says.
func plannedState(ifc configs.Interface) planState {
	tp := ifc.Taprio
	handle := uint16(tp.Handle)
	if handle == 0 {
		handle = 0x100 // plan writes no handle: tsnctl's default
	}
	s := planState{Root: "taprio " + qdisc.FormatHandle(qdisc.Handle(handle, 0)), NumTC: tp.NumTC, ClockID: tp.ClockID.String(),
		ETF: map[string]string{}, Egress: map[string]map[uint32]uint32{}}
	s.Map = make([]int, 16) // tc prints all 16 priorities; the rest map to class 0
	copy(s.Map, tp.Map)
	for _, q := range tp.Queues {
		s.Queues = append(s.Queues, fmt.Sprintf("%d@%d", q.Count, q.Offset))
	}
	var sum int64
	for _, e := range tp.Schedule {
		s.Entries = append(s.Entries, fmt.Sprintf("%s 0x%x %d", e.Cmd, uint32(e.Gates), int64(e.Interval)))
		sum += int64(e.Interval)
	}
	s.Cycle = sum
	if tp.CycleTime != nil {
		s.Cycle = int64(*tp.CycleTime)
	}
	if tp.CycleTimeExtension != nil {
		s.Ext = int64(*tp.CycleTimeExtension)
	}
	for _, e := range ifc.ETF {
		// ETF without offload: a veth refuses launch-time offload, and offload: auto falls back.
		s.ETF[qdisc.FormatHandle(qdisc.Handle(handle, uint16(*e.Queue+1)))] = fmt.Sprintf("etf clockid %s delta %d offload off deadline_mode %s skip_sock_check %s",
			e.ClockID, int64(e.Delta), onOff(e.DeadlineMode), onOff(e.SkipSockCheck))
	}
	for _, v := range ifc.VLANs {
		name := string(v.Name)
		if name == "" {
			name = configs.DefaultVLANName(ifc.Name, v.ID)
		}
		s.Egress[name] = nonZero(v.EgressQoSMap)
	}
	return s
}

func onOff(b bool) string { return map[bool]string{true: "on", false: "off"}[b] }

// readBackState is what iproute2 reads back of the interface dev (and its VLANs named in want),
// with the root taprio's base-time. The entries are the pending (admin) schedule's when there is
// one: a change waits for its base-time, and that is the schedule the plan asked for.
func readBackState(t *testing.T, ns, dev string, want planState) (planState, int64) {
	t.Helper()
	s := planState{ETF: map[string]string{}, Egress: map[string]map[uint32]uint32{}}
	var base int64
	for _, q := range tcShowTyped(t, ns, dev) {
		o := q.Options
		switch {
		case q.Root:
			s.Root = q.Kind + " " + q.Handle
			if q.Kind != "taprio" {
				continue
			}
			s.NumTC, s.Map, s.ClockID = o.TC, o.Map, "CLOCK_"+o.ClockID
			for _, qq := range o.Queues {
				s.Queues = append(s.Queues, fmt.Sprintf("%d@%d", qq.Count, qq.Offset))
			}
			sched, which := o.tcSchedule, "oper"
			if o.Admin != nil {
				sched, which = *o.Admin, "admin"
			}
			s.Schedule, base = which, sched.BaseTime
			s.Cycle, s.Ext = sched.CycleTime, sched.CycleTimeExtension
			for _, e := range sched.Schedule {
				s.Entries = append(s.Entries, fmt.Sprintf("%s 0x%x %d", e.Cmd, hexNum(e.Gatemask), e.Interval))
			}
		case q.Kind == "etf":
			s.ETF[q.Parent] = fmt.Sprintf("etf clockid CLOCK_%s delta %d offload %s deadline_mode %s skip_sock_check %s",
				o.ClockID, o.Delta, o.Offload, o.DeadlineMode, o.SkipSockCheck)
		}
	}
	out := labtest.Run(t, append(append([]string{"ip"}, nsArgs(ns)...), "-j", "-d", "link", "show")...)
	var links []struct {
		Name     string `json:"ifname"`
		Link     string `json:"link"`
		LinkInfo struct {
			Kind string `json:"info_kind"`
			Data struct {
				ID     int `json:"id"`
				Egress []struct {
					From uint32 `json:"from"`
					To   uint32 `json:"to"`
				} `json:"egress_qos"`
			} `json:"info_data"`
		} `json:"linkinfo"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		t.Fatalf("ip -j: %v\n%s", err, out)
	}
	for _, l := range links {
		if _, ok := want.Egress[l.Name]; !ok || l.LinkInfo.Kind != "vlan" || l.Link != dev {
			continue
		}
		m := map[uint32]uint32{}
		for _, e := range l.LinkInfo.Data.Egress {
			if e.To != 0 {
				m[e.From] = e.To
			}
		}
		s.Egress[l.Name] = m
	}
	return s, base
}

// diffStates lists the fields in which the read-back differs from the plan.
func diffStates(got, want planState) []string {
	var d []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if name == "Schedule" {
			continue
		}
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			if name == "Entries" {
				gl, wl := g.([]string), w.([]string)
				for k := range max(len(gl), len(wl)) {
					ge, we := "(none)", "(none)"
					if k < len(gl) {
						ge = gl[k]
					}
					if k < len(wl) {
						we = wl[k]
					}
					if ge != we {
						d = append(d, fmt.Sprintf("entry %d of %d (%s schedule): tc says %s, the plan says %s", k, len(wl), got.Schedule, ge, we))
					}
				}
				continue
			}
			d = append(d, fmt.Sprintf("%s: tc/ip say %v, the plan says %v", name, g, w))
		}
	}
	return d
}

// planMutation, when not nil, changes the planned state before the comparison (to show that the
// comparison fails).
var planMutation func(*planState)

// TestLabRandomPlansReadBack: at least 200 random stream sets that the planner accepts (a fixed
// seed), each expanded by plan.Expand and applied by the node package onto one veth, on top of the
// previous one, read back by iproute2 equal to the plan: the root taprio (handle, traffic classes,
// map, queues, clock), the gate list (each entry's command, gates and interval), the cycle, the
// ETF on the scheduled queue's class (its parent, clock, delta, flags), each VLAN's egress map;
// base-time is the one apply planned, on a cycle boundary.
func TestLabRandomPlansReadBack(t *testing.T) {
	const want = 200
	ns := labNetns(t, 4)
	sys, err := Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	r := rand.New(rand.NewPCG(25, 200))
	applied, refused, steps, schedules := 0, map[string]int{}, map[Action]int{}, map[string]int{}
	entries := map[int]int{} // plans by gate list length
	start := time.Now()
	for applied < want {
		text := plantest.RandomSet(r, "v0")
		cfg, err := configs.Parse("random.yaml", []byte(text))
		if err != nil {
			t.Fatalf("the generator wrote a file configs refuses: %v\n%s", err, text)
		}
		out, _, err := plan.Expand(cfg)
		var pe *plan.Error
		if errors.As(err, &pe) {
			refused[pe.Constraint]++
			continue
		}
		if err != nil {
			t.Fatalf("plan: %v\n%s", err, text)
		}
		now, err := clock.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		p, err := sys.Prepare(out, now)
		if err != nil {
			t.Fatalf("plan %d: prepare: %v\n%s", applied, err, text)
		}
		if _, err := sys.Apply(p); err != nil {
			t.Fatalf("plan %d: apply: %v\n%s", applied, err, text)
		}
		taprioStep := false
		for _, st := range p.Steps {
			steps[st.Action]++
			taprioStep = taprioStep || st.Taprio != nil
		}
		wantState := plannedState(out.Interfaces[0])
		entries[len(wantState.Entries)]++
		if planMutation != nil {
			planMutation(&wantState)
		}
		got, base := readBackState(t, ns, "v0", wantState)
		schedules[got.Schedule]++
		d := diffStates(got, wantState)
		var phase int64 // the plan starts its gate list in best effort's time: base-time-offset
		if off := out.Interfaces[0].Taprio.BaseTimeOffset; off != nil {
			phase = int64(*off)
		}
		if wantState.Cycle <= 0 || (base-phase)%wantState.Cycle != 0 {
			d = append(d, fmt.Sprintf("base-time %d is not %d ns past a boundary of the %d ns cycle", base, phase, wantState.Cycle))
		}
		if pb := p.Wants[0].Taprio.Options.Schedule.BaseTime; taprioStep && base != pb {
			d = append(d, fmt.Sprintf("base-time: tc says %d, apply planned %d", base, pb))
		}
		if len(d) > 0 {
			y, _ := configs.Marshal(out)
			t.Fatalf("plan %d (steps %v) reads back other than planned:\n  %s\nthe streams:\n%s\nthe plan:\n%s", applied, stepNames(p.Steps), strings.Join(d, "\n  "), text, y)
		}
		applied++
	}
	took := time.Since(start)
	t.Logf("%d plans applied and read back equal in %v (%v a plan, in the guest's virtual time); %v refused by the planner; steps %v; the read-back's schedule: %v; gate lists of %d to %d entries (plans by length: %v)",
		applied, took.Round(time.Millisecond), (took / time.Duration(applied)).Round(time.Microsecond), refused, steps, schedules,
		slices.Min(slices.Collect(maps.Keys(entries))), slices.Max(slices.Collect(maps.Keys(entries))), entries)
}

func stepNames(steps []Step) []Action {
	var a []Action
	for _, s := range steps {
		a = append(a, s.Action)
	}
	return a
}
