//go:build lab

package node

import (
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// The gate list's limit (plan.MaxEntries): the most entries the lab's kernel installs and that both
// iproute2 (tc -j -d qdisc show) and the node package's own read-back return in full while a
// schedule change is pending, so that the dump holds two lists (the running one and the pending
// one). TestLabGateListMeasure bisects each limit (run on demand: -args -measure-gate-list);
// TestLabGateListLimit pins the one that binds.

var measureGateList = flag.Bool("measure-gate-list", false, "TestLabGateListMeasure: bisect the gate list's limits")

// gateListOptions is a software taprio of 2 classes with n entries of 10 us (+ k ns), alternating
// the two classes' gates.
func gateListOptions(n int, base int64, k uint32) taprio.Options {
	tai := clock.TAI
	o := taprio.Options{NumTC: 2, Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}}, ClockID: &tai}
	o.Map[6] = 1
	for i := range n {
		o.Schedule.Entries = append(o.Schedule.Entries, taprio.Entry{Cmd: taprio.SetGates, Gates: uint32(1 + i%2), Interval: 10000 + k})
	}
	o.Schedule.BaseTime = base
	return o
}

// gateListProbe is what one gate list of n entries gives, in a fresh namespace with the veth up:
// installed directly over netlink (tsnctl's encoding, without apply's verification, which needs
// the read-back being measured), with an ETF on TX queue 1 and the gates restarted, as apply does;
// once the schedule runs, and with both, a change of it with base-time an hour ahead, so that the dump
// holds both lists. Then tc's and the node package's read-backs.
type gateListProbe struct {
	installErr          error
	tcOper, tcAdmin     int // entries tc -j reads back
	nodeQdiscs          int // qdiscs the node package's read-back returns (taprio and 4 children)
	nodeOper, nodeSched int // its entries: the running schedule's, and the pending (or running) one's
}

func (p gateListProbe) String() string {
	return fmt.Sprintf("install: %v; tc -j: %d running + %d pending entries; node read-back: %d qdiscs, %d running + %d pending/running entries",
		p.installErr, p.tcOper, p.tcAdmin, p.nodeQdiscs, p.nodeOper, p.nodeSched)
}

func probeGateList(t *testing.T, n int, both bool) gateListProbe {
	t.Helper()
	ns := rollbackNS(t)
	defer labtest.Run(t, "ip", "netns", "del", ns)
	sys, err := Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	live, err := sys.Read("v0")
	if err != nil {
		t.Fatal(err)
	}
	var res gateListProbe
	tp := &Taprio{Handle: 0x100, Options: gateListOptions(n, 0, 0)}
	send := func(tp *Taprio) error {
		q, err := encodeTaprio(live.Ifindex, tp)
		if err != nil {
			return err
		}
		return sys.qdiscs.Replace(q)
	}
	err = send(tp)
	if err == nil {
		e := ETF{Queue: 1, Options: etf.Options{Delta: 300000, ClockID: clock.TAI}, Handle: qdisc.Handle(0xE001, 0)}
		q, _ := encodeETF(live.Ifindex, tp.Handle, e, e.Options)
		err = sys.qdiscs.Replace(q)
	}
	if err == nil {
		err = send(tp) // restart the gates (see RestartSchedule)
	}
	// Wait two cycles for the schedule to run (until then the dump shows it as pending). A change
	// sent before it runs would replace it: the kernel's gate timer then starts the change at once,
	// whatever its base-time.
	time.Sleep(2*time.Duration(n)*10*time.Microsecond + 20*time.Millisecond)
	if err == nil && both {
		tai, err2 := clock.Now(clock.TAI)
		if err2 != nil {
			t.Fatal(err2)
		}
		err = send(&Taprio{Handle: 0x100, Options: gateListOptions(n, (tai/1e9+3600)*1e9, 1)})
	}
	res.installErr = err
	for _, q := range tcShowTyped(t, ns, "v0") {
		if q.Root && q.Kind == "taprio" {
			res.tcOper = len(q.Options.Schedule)
			if q.Options.Admin != nil {
				res.tcAdmin = len(q.Options.Admin.Schedule)
			}
		}
	}
	l, err := sys.Read("v0")
	if err != nil {
		t.Fatal(err)
	}
	res.nodeQdiscs = len(l.Qdiscs)
	if l.Taprio != nil {
		if l.Taprio.Oper != nil {
			res.nodeOper = len(l.Taprio.Oper.Entries)
		}
		res.nodeSched = len(l.Taprio.Schedule.Entries)
	}
	return res
}

// TestLabGateListMeasure bisects, for one list and for two (a change pending on a running
// schedule), the largest gate list that tsnctl installs, that tc -j reads back in full, and that
// the node package reads back in full; and the most entries iproute2's tc command takes.
//
//	go test -tags lab -exec testbed/go-exec -run TestLabGateListMeasure -v ./node -args -measure-gate-list
func TestLabGateListMeasure(t *testing.T) {
	if !*measureGateList {
		t.Skip("a measurement (about 2 min): -args -measure-gate-list")
	}
	last := func(ok func(n int) bool) int {
		return sort.Search(2500, func(n int) bool { return n > 0 && !ok(n) }) - 1
	}
	for _, both := range []bool{false, true} {
		lists := map[bool]string{false: "one list", true: "two lists (a change pending)"}[both]
		full := func(n int, p gateListProbe, node bool) bool {
			if p.installErr != nil {
				return false
			}
			if node {
				return p.nodeQdiscs == 5 && p.nodeSched == n && (p.nodeOper == n)
			}
			return p.tcOper == n && (!both || p.tcAdmin == n)
		}
		nInstall := last(func(n int) bool { return probeGateList(t, n, both).installErr == nil })
		nTC := last(func(n int) bool { return full(n, probeGateList(t, n, both), false) })
		nNode := last(func(n int) bool { return full(n, probeGateList(t, n, both), true) })
		t.Logf("%s: installs up to %d entries, tc -j reads back up to %d, the node package up to %d", lists, nInstall, nTC, nNode)
		for _, n := range []int{nNode, nNode + 1, nTC, nTC + 1, nInstall, nInstall + 1} {
			t.Logf("%s, %d entries: %v", lists, n, probeGateList(t, n, both))
		}
	}
	nCmd := last(func(n int) bool {
		ns := rollbackNS(t)
		defer labtest.Run(t, "ip", "netns", "del", ns)
		args := []string{"-n", ns, "qdisc", "replace", "dev", "v0", "parent", "root", "handle", "100", "taprio", "num_tc", "2",
			"map", "0", "0", "0", "0", "0", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "queues", "1@0", "1@1", "base-time", "0", "clockid", "CLOCK_TAI"}
		for i := range n {
			args = append(args, "sched-entry", "S", fmt.Sprint(1+i%2), "10000")
		}
		out, err := exec.Command("tc", args...).CombinedOutput()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Logf("tc qdisc replace … taprio with %d sched-entry: %v: %q … %q", n, err, lines[0], lines[len(lines)-1])
		}
		return err == nil
	})
	t.Logf("iproute2's tc qdisc replace … taprio takes up to %d sched-entry", nCmd)
}

// gateListPlan is a stream set whose plan has n entries: one stream every 100 us, its window and
// guard band a run of the streams' gate each period, over a declared cycle of n/2 periods; for an
// odd n the run starts after the period's start (best effort first), for an even n at it.
func gateListPlan(n, size int) string {
	offset := "50us" // busy from 50us − 10us (delta) − 12304ns (guard band at 1 Gb/s)
	if n%2 == 0 {
		offset = "22304ns" // delta + guard band: the run starts at the period's start
	}
	return fmt.Sprintf(`interfaces:
  - name: v0
    plan: {etf-delta: 10us, best-effort: 10, speed: 1000, cycle: %dus}
streams:
  - {name: s, interface: v0, dest: 10.0.0.2:7000, vlan: 3, pcp: 6, period: 100us, size: %d, offset: %s, max-latency: 20us}
`, n/2*100, size, offset)
}

func expandPlan(t *testing.T, text string) (*configs.Config, error) {
	t.Helper()
	cfg, err := configs.Parse("gate-list.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := plan.Expand(cfg)
	return out, err
}

// TestLabGateListLimit pins the gate list's limits. configs.MaxScheduleEntries (lint's, plan's and
// the CRD's): a plan of that many entries is applied by the node package, then a change of it is
// applied on top of the running schedule (pending an hour), and tc and the node package read back
// both lists in full; a plan of one entry more is refused by the planner before anything changes.
// The read-back's own limit, readBackEntries: that many entries in both lists, installed directly,
// are read back in full by tc and by the node package alike (its first dump is sized as tc's: see
// qdisc.DumpBufferSize; with page-sized reads it lost a taprio of 42), and one more by neither (the
// kernel leaves the taprio out of the dump). If that part fails, the read-back or the kernel
// changed: measure again with TestLabGateListMeasure.
func TestLabGateListLimit(t *testing.T) {
	n := plan.MaxEntries
	first, err := expandPlan(t, gateListPlan(n, 64))
	if err != nil {
		t.Fatalf("a plan of %d entries: %v", n, err)
	}
	if got := len(first.Interfaces[0].Taprio.Schedule); got != n {
		t.Fatalf("gateListPlan(%d) plans %d entries", n, got)
	}
	change, err := expandPlan(t, gateListPlan(n, 1000)) // larger frames: other intervals, as many
	if err != nil || len(change.Interfaces[0].Taprio.Schedule) != n {
		t.Fatalf("the change: %v", err)
	}
	ns := rollbackNS(t)
	sys, err := Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	applyCfg := func(cfg *configs.Config) *Prepared {
		t.Helper()
		now, err := clock.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		p, err := sys.Prepare(cfg, now)
		if err != nil {
			t.Fatalf("prepare: %v", err)
		}
		if _, err := sys.Apply(p); err != nil {
			t.Fatalf("apply: %v", err)
		}
		return p
	}
	applyCfg(first)
	want := plannedState(first.Interfaces[0])
	labtest.Eventually(t, time.Second, "the first schedule runs", func() bool {
		qs := tcShowTyped(t, ns, "v0")
		return len(qs) > 0 && qs[0].Root && qs[0].Options.Admin == nil && len(qs[0].Options.Schedule) == n
	})
	got, _ := readBackState(t, ns, "v0", want)
	if d := diffStates(got, want); len(d) > 0 {
		t.Fatalf("%d entries read back other than planned:\n  %s", n, strings.Join(d, "\n  "))
	}
	tai, err := clock.Now(clock.TAI)
	if err != nil {
		t.Fatal(err)
	}
	change.Interfaces[0].Taprio.BaseTime = configs.BaseTime{NS: (tai/1e9 + 3600) * 1e9}
	p := applyCfg(change)
	if a := stepNames(p.Steps); !slices.Equal(a, []Action{ChangeSchedule}) {
		t.Fatalf("the change planned %v, want a change-schedule", a)
	}
	for _, q := range tcShowTyped(t, ns, "v0") {
		if q.Root && (len(q.Options.Schedule) != n || q.Options.Admin == nil || len(q.Options.Admin.Schedule) != n) {
			t.Errorf("tc -j after the change: %d running entries, pending %+v; want %d and %d", len(q.Options.Schedule), q.Options.Admin, n, n)
		}
	}
	got, _ = readBackState(t, ns, "v0", plannedState(change.Interfaces[0]))
	if d := diffStates(got, plannedState(change.Interfaces[0])); len(d) > 0 || got.Schedule != "admin" {
		t.Errorf("the pending change (%s) reads back other than planned:\n  %s", got.Schedule, strings.Join(d, "\n  "))
	}
	l, err := sys.Read("v0")
	if err != nil {
		t.Fatal(err)
	}
	if l.Taprio == nil || l.Taprio.Oper == nil || len(l.Taprio.Oper.Entries) != n || len(l.Taprio.Schedule.Entries) != n {
		t.Errorf("the node package's read-back of %d running + %d pending entries: %+v", n, n, l.Taprio)
	}

	// One more: the planner refuses it, naming the limit.
	_, err = expandPlan(t, gateListPlan(n+1, 64))
	var pe *plan.Error
	if !errors.As(err, &pe) || pe.Constraint != "gate list" || !strings.Contains(err.Error(), fmt.Sprintf("%d entries, more than %d", n+1, n)) {
		t.Errorf("a plan of %d entries: %v, want the gate list's refusal", n+1, err)
	}
	// The read-back's limit, the same for tc and the node package.
	pr := probeGateList(t, readBackEntries, true)
	t.Logf("%d entries in both lists: %v", readBackEntries, pr)
	if pr.installErr != nil || pr.tcOper != readBackEntries || pr.tcAdmin != readBackEntries || pr.nodeQdiscs != 5 ||
		pr.nodeOper != readBackEntries || pr.nodeSched != readBackEntries {
		t.Errorf("%d entries in both lists: %v; want both read-backs in full: measure again", readBackEntries, pr)
	}
	pr = probeGateList(t, readBackEntries+1, true)
	t.Logf("%d entries in both lists: %v", readBackEntries+1, pr)
	if pr.installErr != nil || pr.tcOper != 0 || pr.nodeQdiscs != 0 {
		t.Errorf("%d entries in both lists: %v; want the taprio out of both dumps: measure again", readBackEntries+1, pr)
	}
}

// readBackEntries is the longest gate list, with a change pending, that tc -j and the node package
// read back from the lab's kernel (measured 2026-12-06 by TestLabGateListMeasure).
const readBackEntries = 439
