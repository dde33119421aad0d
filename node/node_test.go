package node

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
)

const ms = int64(1000000)

func seedWants(t *testing.T, now int64) []Iface {
	b, _ := configs.Examples.ReadFile("seed.yaml")
	c, err := configs.Parse("seed.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{})); err != nil {
		t.Fatal(err)
	}
	return Resolve(c, clock.Snapshot{clock.TAI: now})
}

func TestResolveSeed(t *testing.T) {
	w := seedWants(t, 1000*ms+1)[0]
	if w.Name != "eth1" || *w.Channels.Count != 4 || w.VLANs[0].Name != "eth1.3" || w.VLANs[0].Egress[6] != 6 {
		t.Errorf("%+v", w)
	}
	tp := w.Taprio
	if tp.Handle != 0x100 || !tp.BaseAuto || tp.Options.Schedule.BaseTime != 1003*ms || *tp.Options.ClockID != clock.TAI ||
		tp.Options.Schedule.Entries[1] != (taprio.Entry{Cmd: taprio.SetGates, Gates: 2, Interval: 100000}) {
		t.Errorf("taprio %+v", tp)
	}
	if e := w.ETF[0]; e.Queue != 1 || e.Options.Delta != 5000000 || !e.Options.Offload || e.Offload != configs.OffloadAuto || e.Parent(0x100) != 0x01000002 {
		t.Errorf("etf %+v", e)
	}
}

// Lint runs once, before anything is read or written: reset refuses a configuration with errors
// with their file, line and rule (apply does so in Prepare, with the live interfaces' facts).
func TestResetRefusesLintErrors(t *testing.T) {
	c, err := configs.Parse("x.yaml", []byte("interfaces:\n  - name: tsnctl-none0\n    vlans: [{id: 5000}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	if _, err := sys.PrepareReset(c, nil); err == nil || !strings.Contains(err.Error(), "x.yaml:3") || !strings.Contains(err.Error(), "vlan-id") ||
		!strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("got %v", err)
	}
}

// liveAsWanted is what the kernel would dump after applying w.
func liveAsWanted(w Iface) *Live {
	o := w.Taprio.Options
	s := o.Schedule
	s.CycleTime = s.Cycle()
	o.Schedule = s
	o.Oper = &s
	l := &Live{Name: w.Name, Ifindex: 3, Channels: nic.Channels{Combined: 4, CombinedMax: 8},
		Taprio: &o, TaprioHandle: w.Taprio.Handle, ETF: map[int]etf.Options{}}
	for _, v := range w.VLANs {
		l.VLANs = append(l.VLANs, v)
	}
	for _, e := range w.ETF {
		eo := e.Options
		eo.Offload = false // offload auto fell back
		l.ETF[e.Queue] = eo
		l.Qdiscs = append(l.Qdiscs, qdisc.Qdisc{Ifindex: 3, Parent: e.Parent(w.Taprio.Handle), Handle: 0xE0010000, Kind: "etf"})
	}
	return l
}

func TestPlanFromScratchAndIdempotence(t *testing.T) {
	w := seedWants(t, 1000*ms)[0]
	fresh := &Live{Name: "eth1", Ifindex: 3, Channels: nic.Channels{Combined: 2, CombinedMax: 8}}
	steps := Plan(w, fresh, "")
	var got []string
	for _, s := range steps {
		got = append(got, s.Command)
	}
	root := "tc qdisc replace dev eth1 parent root handle 100: taprio num_tc 4 map 3 3 3 3 3 3 1 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 " +
		"base-time 1002000000 sched-entry S 01 200000 sched-entry S 02 100000 sched-entry S 04 100000 sched-entry S 08 100000 " +
		"sched-entry S 01 200000 sched-entry S 02 100000 sched-entry S 04 100000 sched-entry S 08 100000 clockid CLOCK_TAI"
	want := []string{
		"ethtool -L eth1 combined 4",
		"ip link add link eth1 name eth1.3 type vlan id 3 egress-qos-map 6:6",
		root,
		"tc qdisc replace dev eth1 parent 100:2 handle e001: etf clockid CLOCK_TAI delta 5000000 offload",
		root, // the graft stopped the software taprio's gates: the same schedule again restarts them
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// After applying: nothing to do, even when planned again later (another base-time, same phase).
	live := liveAsWanted(w)
	if left := Plan(seedWants(t, 7777*ms+3)[0], live, ""); len(left) != 0 {
		t.Errorf("re-plan: %+v", left)
	}
	// A base-time that is off the phase, an extra map entry, a changed ETF delta: each is a change.
	off := liveAsWanted(w)
	off.Taprio.Schedule.BaseTime += 5
	// (changed in place: the phase is the schedule's; the root and its ETF stay)
	if st := Plan(w, off, ""); len(st) != 1 || st[0].Action != ChangeSchedule || !strings.Contains(st[0].Summary, "not aligned") {
		t.Errorf("off-phase: %+v", st)
	}
	etfChanged := liveAsWanted(w)
	e := etfChanged.ETF[1]
	e.Delta = 1
	etfChanged.ETF[1] = e
	if st := Plan(w, etfChanged, "ns1"); len(st) != 2 || st[0].Action != ReplaceETF || st[1].Action != RestartSchedule ||
		st[0].Command != "tc -n ns1 qdisc replace dev eth1 parent 100:2 handle e801: etf clockid CLOCK_TAI delta 5000000 offload" {
		t.Errorf("etf change: %+v", st)
	}
}

// Grafting a child onto a software-mode taprio stops its gates (taprio_graft -> dev_deactivate ->
// taprio_reset cancels the schedule's timer): the plan restarts them with the same schedule. A
// txtime-assist taprio's gates kept advancing after a graft in the lab; no restart there.
func TestPlanRestartsSoftwareGatesAfterGraft(t *testing.T) {
	w := seedWants(t, 1000*ms)[0]
	noETF := liveAsWanted(w)
	noETF.ETF = nil
	st := Plan(w, noETF, "")
	if len(st) != 2 || st[0].Action != ReplaceETF || st[1].Action != RestartSchedule || st[1].Taprio != w.Taprio ||
		!strings.Contains(st[1].Summary, "restart the gates of taprio 100:") {
		t.Errorf("software: %+v", st)
	}
	w.Taprio.Options.Mode = taprio.TxtimeAssist
	assist := liveAsWanted(w)
	assist.ETF = nil
	if st := Plan(w, assist, ""); len(st) != 1 || st[0].Action != ReplaceETF {
		t.Errorf("txtime-assist: %+v", st)
	}
}

func TestPlanVLANChanges(t *testing.T) {
	w := seedWants(t, 0)[0]
	live := liveAsWanted(w)
	live.VLANs = []VLAN{{Name: "eth1.3", ID: 3, Egress: map[uint32]uint32{6: 5}}}
	st := Plan(w, live, "")
	if len(st) != 1 || st[0].Action != ModifyVLAN || st[0].Command != "ip link set dev eth1.3 type vlan egress-qos-map 6:6" {
		t.Errorf("%+v", st)
	}
	// An ingress entry mapping to 0 is the kernel's default and is not dumped: equal.
	if !VLANEqual(VLAN{Name: "a", ID: 1, Ingress: map[uint32]uint32{3: 0, 1: 2}}, VLAN{Name: "a", ID: 1, Ingress: map[uint32]uint32{1: 2}}) {
		t.Error("a zero ingress entry made VLANs differ")
	}
}

func TestChannelTarget(t *testing.T) {
	four := uint32(4)
	igb := &Live{Channels: nic.Channels{Combined: 2, CombinedMax: 8}}
	if u := ChannelTarget(&Channels{Count: &four}, igb); u.Combined == nil || *u.Combined != 4 || u.Rx != nil || u.Tx != nil {
		t.Error("igb: want combined 4")
	}
	veth := &Live{Channels: nic.Channels{Rx: 1, RxMax: 4, Tx: 1, TxMax: 4}}
	if u := ChannelTarget(&Channels{Count: &four}, veth); u.Combined != nil || *u.Rx != 4 || *u.Tx != 4 {
		t.Error("veth: want rx 4 tx 4")
	}
	veth.Channels.Rx, veth.Channels.Tx = 4, 4
	if u := ChannelTarget(&Channels{Count: &four}, veth); !u.IsZero() {
		t.Error("veth already at 4: want no change")
	}
	if n := EffectiveTxQueues(&Channels{Count: &four}, igb); n != 4 {
		t.Errorf("effective queues %d", n)
	}
}

func TestSDUComparison(t *testing.T) {
	if !sduEqual([]uint32{0, 300}, []uint32{236, 111, 111}) {
		t.Error("a kernel limit below the configured one is the configured limit in effect")
	}
	if sduEqual([]uint32{0, 300}, []uint32{0, 0}) || sduEqual([]uint32{0, 300}, []uint32{0, 400}) {
		t.Error("a missing or larger limit matched")
	}
}

func TestResetPlan(t *testing.T) {
	w := seedWants(t, 0)[0]
	live := liveAsWanted(w)
	st := ResetPlan(w, live, "")
	if len(st) != 2 || st[0].Command != "tc qdisc del dev eth1 root" || st[1].Command != "ip link del dev eth1.3" {
		t.Errorf("%+v", st)
	}
	live.TaprioHandle = 0x200 // someone else's taprio: not ours to remove
	if st := ResetPlan(w, live, ""); len(st) != 1 {
		t.Errorf("%+v", st)
	}
}

func TestToConfigRoundTrip(t *testing.T) {
	w := seedWants(t, 5*ms)[0]
	ci := ToConfig(liveAsWanted(w))
	b, err := configs.Marshal(&configs.Config{Interfaces: []configs.Interface{ci}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := configs.Parse("show.yaml", b)
	if err != nil {
		t.Fatalf("show output does not load: %v\n%s", err, b)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{})); err != nil {
		t.Fatalf("show output does not lint: %v\n%s", err, b)
	}
	w2 := Resolve(c, nil)
	if left := Plan(w2[0], liveAsWanted(w), ""); len(left) != 0 {
		t.Errorf("applying show's output would change %+v\n%s", left, b)
	}
}

// base-time: auto is planned in the schedule's own clock: a CLOCK_MONOTONIC schedule starts a few
// cycles after the monotonic now, not 56 years later at a TAI time.
func TestBaseTimeAutoInTheScheduleClock(t *testing.T) {
	b, _ := configs.Examples.ReadFile("seed.yaml")
	c, err := configs.Parse("seed.yaml", []byte(strings.Replace(string(b), "clockid: CLOCK_TAI\n      base-time", "clockid: CLOCK_MONOTONIC\n      base-time", 1)))
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Snapshot{clock.TAI: 1795000000000000000, clock.Monotonic: 5_000_000_000}
	w := Resolve(c, now)
	if bt := w[0].Taprio.Options.Schedule.BaseTime; bt < now[clock.Monotonic] || bt > now[clock.Monotonic]+10*ms {
		t.Errorf("base-time %d, want a few cycles after the monotonic now %d", bt, now[clock.Monotonic])
	}
}

// base-time-offset puts the schedule that far past a cycle boundary (auto) or past the base-time
// given, and a live schedule in that phase is as wanted; one aligned to the cycle is not.
func TestBaseTimeOffset(t *testing.T) {
	b, _ := configs.Examples.ReadFile("seed.yaml")
	c, err := configs.Parse("seed.yaml", []byte(strings.Replace(string(b), "base-time: auto", "base-time: auto\n      base-time-offset: 250us", 1)))
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Snapshot{clock.TAI: 1795000000000123456}
	w := Resolve(c, now)[0].Taprio
	if bt := w.Options.Schedule.BaseTime; bt%1000000 != 250000 || bt < now[clock.TAI] {
		t.Fatalf("base-time %d: want 250 us past a 1 ms boundary after now", bt)
	}
	live := w.Options
	if d := TaprioDiff(w, &live, w.Handle); d != "" {
		t.Fatalf("the live schedule in phase differs: %s", d)
	}
	live.Schedule.BaseTime -= 250000
	if d := TaprioDiff(w, &live, w.Handle); !strings.Contains(d, "is not 250000 ns past a boundary of the 1000000 ns cycle") {
		t.Fatalf("a cycle-aligned live schedule: %q", d)
	}
	c2, _ := configs.Parse("seed.yaml", []byte(strings.Replace(string(b), "base-time: auto", "base-time: 1000000000\n      base-time-offset: 250us", 1)))
	if bt := Resolve(c2, now)[0].Taprio.Options.Schedule.BaseTime; bt != 1000250000 {
		t.Fatalf("base-time %d, want 1000250000", bt)
	}
}

// A schedule-only difference (entries, base-time, cycle) is changed in place, without deleting the
// root or touching its ETF children; a different map or mode needs a new root, and its ETFs again.
func TestScheduleChangeIsHitless(t *testing.T) {
	w := seedWants(t, 1000*ms)[0]
	live := liveAsWanted(w)
	live.Taprio.Schedule.Entries = live.Taprio.Schedule.Entries[:4]
	live.Taprio.Schedule.Entries[0].Interval = 700000
	st := Plan(w, live, "")
	if len(st) != 1 || st[0].Action != ChangeSchedule || !strings.Contains(st[0].Command, "tc qdisc replace dev eth1 parent root handle 100: taprio") {
		t.Fatalf("schedule only: %+v", st)
	}
	remapped := liveAsWanted(w)
	remapped.Taprio.Map[6] = 2
	st = Plan(w, remapped, "")
	if len(st) != 4 || st[0].Action != DeleteRoot || st[1].Action != ReplaceRoot || st[2].Action != ReplaceETF || st[3].Action != RestartSchedule {
		t.Errorf("map changed: %+v", st)
	}
	moded := liveAsWanted(w)
	moded.Taprio.Mode = 1
	moded.Taprio.Schedule.Entries[0].Interval = 1
	if st := Plan(w, moded, ""); len(st) != 4 || st[0].Action != DeleteRoot {
		t.Errorf("mode and schedule changed: %+v", st)
	}
}

// A snapshot's taprio with a pending change (admin) is re-created with the schedule that was running
// (oper); the pending one is sent afterwards as a change (restoreSchedules, in the lab).
func TestRestorableTaprioRunsTheOperationalSchedule(t *testing.T) {
	tai := clock.TAI
	oper := taprio.Schedule{BaseTime: ms, CycleTime: ms, Entries: []taprio.Entry{{Cmd: taprio.SetGates, Gates: 1, Interval: uint32(ms)}}}
	admin := taprio.Schedule{BaseTime: 3600_000 * ms, CycleTime: ms, Entries: []taprio.Entry{{Cmd: taprio.SetGates, Gates: 3, Interval: uint32(ms)}}}
	o := taprio.Options{NumTC: 2, Queues: []taprio.Queue{{Count: 1}, {Count: 1, Offset: 1}}, ClockID: &tai, Schedule: admin, Oper: &oper}
	b := &Live{Taprio: &o}
	for _, tc := range []struct {
		name string
		oper *taprio.Schedule
		want taprio.Schedule
	}{{"running with a pending change", &oper, oper}, {"pending only", nil, admin}} {
		o.Oper = tc.oper
		q := restorable(qdisc.Qdisc{Kind: taprio.Kind, Handle: qdisc.Handle(0x100, 0), Parent: qdisc.HandleRoot}, b)
		var got taprio.Options
		if err := got.UnmarshalBinary(q.Options); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Schedule, tc.want) {
			t.Errorf("%s: re-created with %+v, want %+v", tc.name, got.Schedule, tc.want)
		}
	}
}
