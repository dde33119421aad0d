package node

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
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

func mqprioWants(t *testing.T) Iface {
	t.Helper()
	b, _ := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	c, err := configs.Parse("mqprio-cbs-etf.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{})); err != nil {
		t.Fatal(err)
	}
	return Resolve(c, nil)[0]
}

// configs/mqprio-cbs-etf.yaml from a node with no root of tsnctl's: the mqprio, the ETF and the two
// shapers with tsn-doc's credits at 1 Gb/s, and no gate restart (there are no gates); the same
// node plans nothing; another mqprio is deleted and made again (mqprio has no change operation),
// and so are its children; a taprio root is deleted before the mqprio is made.
func TestPlanMqprio(t *testing.T) {
	w := mqprioWants(t)
	fresh := &Live{Name: "eth1", Ifindex: 3, SpeedMbps: 1000, Channels: nic.Channels{Combined: 4, CombinedMax: 8}}
	var got []string
	for _, s := range Plan(w, fresh, "") {
		got = append(got, string(s.Action)+": "+s.Command)
	}
	want := []string{
		"add-vlan: ip link add link eth1 name eth1.3 type vlan id 3 egress-qos-map 2:2 3:3 6:6",
		"replace-root: tc qdisc replace dev eth1 parent root handle 100: mqprio num_tc 4 map 3 3 1 0 3 3 2 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 hw 0",
		"replace-etf: tc qdisc replace dev eth1 parent 100:3 handle e002: etf clockid CLOCK_TAI delta 200000 offload",
		"replace-cbs: tc qdisc replace dev eth1 parent 100:1 handle c000: cbs idleslope 98688 sendslope -901312 hicredit 153 locredit -1390 offload 1",
		"replace-cbs: tc qdisc replace dev eth1 parent 100:2 handle c001: cbs idleslope 3648 sendslope -996352 hicredit 12 locredit -114 offload 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	live := &Live{Name: "eth1", Ifindex: 3, SpeedMbps: 1000, Channels: nic.Channels{Combined: 4, CombinedMax: 8}, VLANs: w.VLANs,
		ETF: map[int]etf.Options{}, CBS: map[int]cbs.Options{}}
	o := w.Mqprio.Options
	o.FP = make([]mqprio.FP, 16) // as dumped: an entry per possible class
	live.Mqprio, live.MqprioHandle = &o, 0x100
	for _, e := range w.ETF {
		live.ETF[e.Queue] = e.Options
	}
	for _, c := range w.CBSAt(1000) {
		live.CBS[c.Queue] = c.Options
		live.Qdiscs = append(live.Qdiscs, qdisc.Qdisc{Parent: c.Parent(0x100), Handle: qdisc.Handle(uint16(0xC000+c.Queue), 0), Kind: cbs.Kind})
	}
	if left := Plan(w, live, ""); len(left) != 0 {
		t.Errorf("as wanted, planned %+v", left)
	}

	other := *live
	om := *live.Mqprio
	om.Map[6] = 3
	other.Mqprio = &om
	st := Plan(w, &other, "")
	if len(st) != 5 || st[0].Action != DeleteRoot || !strings.Contains(st[0].Summary, "map") || st[1].Action != ReplaceRoot ||
		st[3].Action != ReplaceCBS || st[3].CBS.Handle != qdisc.Handle(0xC000, 0) {
		t.Errorf("another mqprio: %+v", st)
	}

	tap := &Live{Name: "eth1", Ifindex: 3, SpeedMbps: 1000, Channels: nic.Channels{Combined: 4, CombinedMax: 8}, VLANs: w.VLANs, Taprio: &taprio.Options{}, TaprioHandle: 0x100}
	if st := Plan(w, tap, ""); len(st) < 2 || st[0].Action != DeleteRoot || st[1].Action != ReplaceRoot || st[1].Mqprio == nil {
		t.Errorf("over a taprio: %+v", st)
	}
	if st := ResetPlan(w, live, ""); len(st) != 2 || st[0].Action != DeleteRoot || st[1].Action != DeleteVLAN {
		t.Errorf("reset: %+v", st)
	}
}

// show's output of the mqprio node loads, lints and plans nothing there.
func TestToConfigMqprio(t *testing.T) {
	w := mqprioWants(t)
	o := w.Mqprio.Options
	live := &Live{Name: "eth1", Ifindex: 3, SpeedMbps: 1000, Mqprio: &o, MqprioHandle: 0x100, ETF: map[int]etf.Options{}, CBS: map[int]cbs.Options{}}
	for _, e := range w.ETF {
		live.ETF[e.Queue] = e.Options
	}
	for _, c := range w.CBSAt(1000) {
		live.CBS[c.Queue] = c.Options
	}
	b, err := configs.Marshal(&configs.Config{Interfaces: []configs.Interface{ToConfig(live)}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := configs.Parse("show.yaml", b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{SpeedMbps: map[string]int{"eth1": 1000}})); err != nil {
		t.Fatal(err)
	}
	if left := Plan(Resolve(c, nil)[0], live, ""); len(left) != 0 {
		t.Errorf("applying show's output would change %+v\n%s", left, b)
	}
}
