package sender

import (
	"net"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/node"
	"github.com/tsnctl/tsnctl/plan"
)

// planned reads an example configuration's planned streams.
func planned(t *testing.T, name string) ([]plan.Stream, *configs.Config) {
	t.Helper()
	b, err := configs.Examples.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := configs.Parse(name, b)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := plan.Streams(c)
	if err != nil {
		t.Fatal(err)
	}
	return ss, c
}

// The seed's stream planned from seed-streams.yaml is sent at the same txtimes as the seed's
// sender against seed.yaml's hand-written schedule: send --from-qdisc eth1 --priority 6 --cycle
// 2ms --window 1200us,1300us --offset 50us --txtime. (--cycle 2ms: seed.yaml's taprio cycle is
// 1 ms and the seed's window 1200-1300 us is traffic class 1's window in its second cycle, so the
// seed's sender runs two taprio cycles per cycle, as the seed did.) Both compute their first
// packet from the same clock reading; the sequences must be equal packet for packet, cycle start
// and txtime. A txtime off by 1 µs in the planned stream (its plan row, FromPlan's offset, or the
// timeline) fails this test: it compares nanoseconds.
func TestSendStreamMatchesSeedSender(t *testing.T) {
	ss, _ := planned(t, "seed-streams.yaml")
	if len(ss) != 1 || ss[0].Name != "seed" {
		t.Fatalf("streams: %+v", ss)
	}
	cfg := FromPlan(ss[0])
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	stream, err := NewTimeline(cfg.Timing)
	if err != nil {
		t.Fatal(err)
	}

	// seed.yaml's taprio as apply installs it (base-time: auto from the clock now) and what send
	// --from-qdisc makes of it. taprio's base-time auto is a whole number of its 1 ms cycles; the
	// seed's 2 ms sender cycles start at the base-time, so they agree with the planned stream's
	// (counted from the TAI epoch in 2 ms periods, as the planned 2 ms schedule's base-time) when
	// the base-time is a whole number of 2 ms, as the clock readings below are chosen to give.
	b, _ := configs.Examples.ReadFile("seed.yaml")
	seedCfg, err := configs.Parse("seed.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	for _, tai := range []int64{1795372810000000000, 1795372810000000000 + 2*ms + 123*us, 1795372899998000000 + 1} {
		tp := node.Resolve(seedCfg, clock.Snapshot{clock.TAI: tai})[0].Taprio
		if tp.Options.Schedule.BaseTime%(2*ms) != 0 { // an odd ms: the reading 1 ms later gives an even one
			tp = node.Resolve(seedCfg, clock.Snapshot{clock.TAI: tai + 1*ms})[0].Taprio
		}
		if tp.Options.Schedule.BaseTime%(2*ms) != 0 {
			t.Fatalf("base-time %d: not a whole number of 2 ms", tp.Options.Schedule.BaseTime)
		}
		seed, _, err := FromSchedule(&tp.Options, "eth1", 6, 2*ms, [2]int64{1200 * us, 1300 * us})
		if err != nil {
			t.Fatal(err)
		}
		seed.Offset, seed.PerCycle, seed.Txtime, seed.WakeAdvance = 50*us, 1, true, DefaultWakeAdvance(seed.Cycle) // the flags
		if err := seed.Validate(); err != nil {
			t.Fatal(err)
		}
		seedTL, _ := NewTimeline(seed)
		now := tp.Options.Schedule.BaseTime + 7*ms + 345*us // both senders start from this reading
		got, want := stream.Txtimes(now, 10*ms, 1000), seedTL.Txtimes(now, 10*ms, 1000)
		for i := range want {
			gs, ws := cfg.Timing.CycleStart(got[i].Cycle), seed.CycleStart(want[i].Cycle)
			if got[i].Txtime != want[i].Txtime || gs != ws {
				t.Fatalf("clock %d, packet %d: send --stream txtime %d (cycle start %d), the seed's sender %d (cycle start %d): %+d ns",
					tai, i, got[i].Txtime, gs, want[i].Txtime, ws, got[i].Txtime-want[i].Txtime)
			}
		}
		// And inside seed.yaml's gates for priority 6 whatever the phase.
		check := NewWindowCheck(&tp.Options, 1)
		for _, p := range got {
			if !check.Contains(p.Txtime) {
				t.Fatalf("txtime %d outside seed.yaml's class 1 windows", p.Txtime)
			}
		}
	}
}

// A planned stream's txtimes are inside the window of its own planned schedule, as apply installs
// it, and its socket options are the plan's.
func TestFromPlanFitsItsSchedule(t *testing.T) {
	ss, _ := planned(t, "seed-streams.yaml")
	cfg := FromPlan(ss[0])
	if cfg.Priority != 6 || cfg.Iface != "eth1.3" || cfg.Dest != "192.168.3.2:7788" || cfg.Size != 64 || cfg.Raw || cfg.Stream != 1 ||
		!cfg.Timing.Txtime || cfg.Timing.Cycle != 2*ms || cfg.Timing.TxtimeOf(0, 0) != 1250*us {
		t.Fatalf("%+v", cfg)
	}
	out, err := plan.Parse("seed-streams.yaml", mustRead(t, "seed-streams.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tp := node.Resolve(out, clock.Snapshot{clock.TAI: 1795372810000000000 + 777*us})[0].Taprio
	check := NewWindowCheck(&tp.Options, int(tp.Options.Map[cfg.Priority]))
	tl, _ := NewTimeline(cfg.Timing)
	for _, p := range tl.Txtimes(tp.Options.Schedule.BaseTime, 10*ms, 500) {
		// The gate must be open from the ETF's release (txtime − delta) to the frame's end.
		if !check.Covers(p.Txtime-300*us, p.Txtime+int64(ss[0].Row.Wire)) {
			t.Fatalf("txtime %d: its window is not open in the planned schedule", p.Txtime)
		}
	}
}

// A raw stream (dest a MAC) goes out on the port with the VLAN tag and the plan's PCP, several
// frames a period one wire time apart, and an ETF delta longer than the txtime's offset in the
// period clamps the window at the period's start.
func TestFromPlanRawFrames(t *testing.T) {
	c, err := configs.Parse("s.yaml", []byte(`interfaces:
  - name: eth2
    plan: {etf-delta: 200us}
streams:
  - {name: b, interface: eth2, dest: "52:54:00:00:02:01", vlan: 5, pcp: 5, period: 1ms, frames: 3, size: 200, offset: 100us, max-latency: 200us}
  - {name: a, interface: eth2, dest: "10.0.0.2:7788", vlan: 4, period: 2ms, size: 64, offset: 600us, max-latency: 300us}
`))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := plan.Streams(c)
	if err != nil {
		t.Fatal(err)
	}
	b, a := FromPlan(ss[0]), FromPlan(ss[1])
	mac, _ := net.ParseMAC("52:54:00:00:02:01")
	if !b.Raw || b.Iface != "eth2" || b.VLAN != 5 || b.PCP != 5 || b.Priority != 5 || b.DestMAC.String() != mac.String() || b.Stream != 2 ||
		b.Timing.PerCycle != 3 || b.Timing.Spacing != int64(ss[0].Row.Wire)/3 || b.Timing.WindowStart != 0 || b.Timing.TxtimeOf(0, 0) != int64(ss[0].Row.Txtime) {
		t.Errorf("raw: %+v (row %+v)", b, ss[0].Row)
	}
	if a.Raw || a.Iface != "eth2.4" || a.Stream != 1 || a.Priority != 6 {
		t.Errorf("udp: %+v", a)
	}
	for _, cfg := range []Config{a, b} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("stream %d: %v", cfg.Stream, err)
		}
	}
	if _, err := NewTimeline(a.Timing, b.Timing); err != nil {
		t.Error(err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, err := configs.Examples.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A credit-shaped stream (configs/cbs-streams.yaml) is sent in plain mode: no SO_TXTIME, its
// period's frames at once at its offset, with its class's socket priority; its window runs from
// the offset to the plan's bound.
func TestFromPlanCreditShaped(t *testing.T) {
	ss, _ := planned(t, "cbs-streams.yaml")
	for _, st := range ss {
		cfg := FromPlan(st)
		tm := cfg.Timing
		want := map[string]int{"video": 3, "audio": 2}[st.Name]
		if tm.Txtime || cfg.Priority != want || !cfg.Raw || cfg.PCP != uint8(want) || tm.Release != int64(st.Offset) ||
			tm.Wake(2) != 2*int64(st.Period)+int64(st.Offset) || tm.WindowEnd-tm.WindowStart != int64(st.Row.Bound) || tm.PerCycle != 1 {
			t.Errorf("%s: %+v (row %+v)", st.Name, cfg, st.Row)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", st.Name, err)
		}
	}
	// A release at an offset: woken there, not at the period's start.
	tm := Timing{Cycle: 1000, WindowStart: 300, WindowEnd: 400, PerCycle: 1, Release: 300}
	if tm.Wake(1) != 1300 || tm.Validate() != nil {
		t.Errorf("release 300 in a 1000 ns cycle: woken at %d (%v)", tm.Wake(1), tm.Validate())
	}
	if tm.Release = 1000; tm.Validate() == nil {
		t.Error("a release at the cycle's end is accepted")
	}
}
