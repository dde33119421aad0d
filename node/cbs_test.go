package node

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/qdisc"
)

func cbsWants(t *testing.T) Iface {
	t.Helper()
	b, _ := configs.Examples.ReadFile("taprio-cbs.yaml")
	c, err := configs.Parse("taprio-cbs.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{})); err != nil {
		t.Fatal(err)
	}
	return Resolve(c, clock.Snapshot{clock.TAI: 1000 * ms})[0]
}

// liveWithCBS is liveAsWanted with w's cbs children as the kernel dumps them at speedMbps.
func liveWithCBS(w Iface, speedMbps int) *Live {
	l := liveAsWanted(w)
	l.SpeedMbps = speedMbps
	l.CBS = map[int]cbs.Options{}
	for _, c := range w.CBSAt(speedMbps) {
		o := c.Options
		o.Offload = false // offload auto fell back
		l.CBS[c.Queue] = o
		l.Qdiscs = append(l.Qdiscs, qdisc.Qdisc{Ifindex: 3, Parent: c.Parent(w.Taprio.Handle), Handle: qdisc.Handle(uint16(0xC000+c.Queue), 0), Kind: cbs.Kind})
	}
	return l
}

// configs/taprio-cbs.yaml's cbs: installed with the credits derived at the link's speed, grafted
// (so the software taprio's gates are restarted), then kept: the same state plans nothing, other
// credits are changed in place (cbs has a change operation: no graft, no restart), and a link that
// comes up at another speed gets the credits of that speed.
func TestPlanCBS(t *testing.T) {
	w := cbsWants(t)
	noCBS := liveAsWanted(w)
	noCBS.SpeedMbps = 1000
	st := Plan(w, noCBS, "")
	var got []string
	for _, s := range st {
		got = append(got, string(s.Action)+": "+s.Command)
	}
	want := []string{
		"replace-cbs: tc qdisc replace dev eth1 parent 100:3 handle c002: cbs idleslope 20000 sendslope -980000 hicredit 31 locredit -1512 offload 1",
		"restart-schedule: " + st[len(st)-1].Command,
	}
	if !reflect.DeepEqual(got, want) || !strings.Contains(st[0].Summary, "offload: auto") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if left := Plan(w, liveWithCBS(w, 1000), ""); len(left) != 0 {
		t.Errorf("as wanted, planned %+v", left)
	}

	other := liveWithCBS(w, 1000)
	o := other.CBS[2]
	o.HiCredit = 99
	other.CBS[2] = o
	st = Plan(w, other, "")
	if len(st) != 1 || st[0].Action != ChangeCBS || st[0].CBS.Handle != qdisc.Handle(0xC002, 0) ||
		st[0].Command != "tc qdisc replace dev eth1 parent 100:3 handle c002: cbs idleslope 20000 sendslope -980000 hicredit 31 locredit -1512 offload 1" ||
		!strings.Contains(st[0].Summary, "hicredit 31 locredit -1512, was 20000 -980000 99 -1512") {
		t.Errorf("other credits: %+v", st)
	}

	// Up at 10 Gb/s (a veth): sendslope follows the port rate the kernel charges frames at.
	faster := liveWithCBS(w, 1000)
	faster.SpeedMbps = 10000
	st = Plan(w, faster, "")
	if len(st) != 1 || st[0].Action != ChangeCBS || st[0].CBS.Options != (cbs.Options{IdleSlope: 20000, SendSlope: -9980000, HiCredit: 4, LoCredit: -1539, Offload: true}) {
		t.Errorf("at 10 Gb/s: %+v", st)
	}

	// An ETF where the cbs goes: a new qdisc of another kind, so a new handle and a graft.
	etfThere := liveAsWanted(w)
	etfThere.SpeedMbps = 1000
	etfThere.Qdiscs = append(etfThere.Qdiscs, qdisc.Qdisc{Ifindex: 3, Parent: qdisc.Handle(0x100, 3), Handle: qdisc.Handle(0xC002, 0), Kind: "etf"})
	st = Plan(w, etfThere, "")
	if len(st) != 2 || st[0].Action != ReplaceCBS || st[0].CBS.Handle != qdisc.Handle(0xC802, 0) || st[1].Action != RestartSchedule {
		t.Errorf("over another child: %+v", st)
	}
}

// show's output of a node with a cbs loads, lints and plans nothing on that node: the credits are
// written as the four numbers the kernel holds.
func TestToConfigCBS(t *testing.T) {
	w := cbsWants(t)
	live := liveWithCBS(w, 1000)
	b, err := configs.Marshal(&configs.Config{Interfaces: []configs.Interface{ToConfig(live)}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "cbs:\n      - {queue: 2, idleslope: 20000, sendslope: -980000, hicredit: 31, locredit: -1512, offload: false}") {
		t.Errorf("show:\n%s", b)
	}
	c, err := configs.Parse("show.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{SpeedMbps: map[string]int{"eth1": 1000}})); err != nil {
		t.Fatal(err)
	}
	if left := Plan(Resolve(c, nil)[0], live, ""); len(left) != 0 {
		t.Errorf("applying show's output would change %+v\n%s", left, b)
	}
}
