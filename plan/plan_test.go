package plan

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/plan/plantest"
	"github.com/tsnctl/tsnctl/taprio"
)

const seedStreams = `interfaces:
  - name: eth1
    channels: 4
    plan: {etf-delta: 50us, best-effort: 50}
streams:
  - name: control
    interface: eth1
    dest: 10.0.0.2:7788
    vlan: 3
    pcp: 6
    period: 2ms
    size: 64
    offset: 1200us
    max-latency: 100us
`

func parse(t testing.TB, text string) *configs.Config {
	t.Helper()
	c, err := configs.Parse("s.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The seed's stream: one 64-byte UDP frame every 2 ms, from 1200 us. Its txtime is its offset, its
// window opens the ETF delta before, and the guard band before it keeps best effort out.
func TestSeedStream(t *testing.T) {
	out, res, err := Expand(parse(t, seedStreams))
	if err != nil {
		t.Fatal(err)
	}
	b, err := configs.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	want := `interfaces:
  - name: eth1
    channels: 4
    vlans:
      - id: 3
        egress-qos-map: {6: 6}
    taprio:
      num-tc: 2
      map: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
      queues: [1@0, 1@1]
      clockid: CLOCK_TAI
      base-time: auto
      base-time-offset: 169us
      cycle-time: 2ms
      schedule:
        - {cmd: S, gates: 0x01, interval: 968696ns}
        - {cmd: S, gates: 0x02, interval: 63376ns}
        - {cmd: S, gates: 0x01, interval: 967928ns}
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 50us, offload: auto}
`
	// The cycle starts 169 µs past a 2 ms boundary, in the middle of best effort's time: from a
	// boundary, the gate list is 1137696 ns of best effort, 63376 ns of the stream's class, 798928
	// ns of best effort.
	if g := FromCycleStart(out.Interfaces[0].Taprio); len(g) != 3 || g[0].Interval != 1137696 || g[1].Interval != 63376 || g[2].Interval != 798928 {
		t.Errorf("from the cycle's start: %+v", g)
	}
	if string(b) != want {
		t.Errorf("expanded:\n%s\nwant:\n%s", b, want)
	}
	r := res.Rows[0]
	// 64 + 28 + 14 + 4 + 4 = 114 bytes, + 8 + 12: 134 byte times, 1072 ns at 1 Gb/s; the guard
	// band is a 1518-byte frame's 1538 byte times, 12304 ns: the stream's gate opens at
	// 1150000 − 12304 = 1137696 ns and stays open to the window's end, 1201072 ns.
	if r.Txtime != 1200*time.Microsecond || r.Open != 1150*time.Microsecond || r.Wire != 1072 || r.Close != 1201072 ||
		r.Guard != 12304 || r.Bound != 1072 || r.Priority != 6 || r.Queue != 1 {
		t.Errorf("row %+v", r)
	}
	if fs := lint.Check(out, lint.Facts{TxQueues: map[string]int{"eth1": 4}}); lint.HasErrors(fs) {
		t.Errorf("lint: %v", fs)
	}
}

// Refusals name the stream and the constraint.
func TestRefusals(t *testing.T) {
	for _, c := range []struct{ edit, want string }{
		{"max-latency: 100us|max-latency: 500ns", "stream control on eth1: deadline: its 1 frame(s) of 64 bytes take 1.072µs on the wire at 1000 Mb/s, more than max-latency 500ns"},
		{"pcp: 6|pcp: 0", "stream control on eth1: priority: PCP 0"},
		{"best-effort: 50|best-effort: 99", "interface eth1: best effort: best effort keeps"},
		{"etf-delta: 50us|etf-delta: 2ms", "stream control on eth1: window: its window (ETF delta 2ms + wire time 1.072µs) is longer than its period 2ms"},
		{"period: 2ms|period: 1999999ns", "cycle: the hyperperiod of the periods passes 1s"},
	} {
		old, new, _ := strings.Cut(c.edit, "|")
		cfg := parse(t, strings.Replace(seedStreams, old, new, 1))
		if c.edit == "period: 2ms|period: 1999999ns" {
			cfg.Streams = append(cfg.Streams, cfg.Streams[0])
			cfg.Streams[1].Name, cfg.Streams[1].Period = "other", configs.Duration(2*time.Millisecond-3)
			cfg.Streams[1].Offset = 0
		}
		_, _, err := Expand(cfg)
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.edit, err, c.want)
		}
	}
	// Two streams that both must go near 1200 us: the one with less slack is placed first, the
	// other's windows would overlap it anywhere up to its deadline.
	two := strings.Replace(seedStreams, "max-latency: 100us", "max-latency: 20us", 1) + "  - {name: second, interface: eth1, dest: 10.0.0.3:7788, vlan: 3, pcp: 5, period: 2ms, size: 64, offset: 1200us, max-latency: 5us}\n"
	if _, _, err := Expand(parse(t, two)); err == nil || !strings.Contains(err.Error(), "stream control on eth1: deadline: no txtime") ||
		!strings.Contains(err.Error(), "an exact search over every order of the 2 streams found no placement either") {
		t.Errorf("two streams in one slot: %v", err)
	}
}

// The seed's stream under the launch-time modes: its window opens at its txtime; txtime-assist
// writes the taprio flag, a txtime-delay above the ETF delta and an ETF with skip-sock-check and
// launch time on both queues; full-offload a taprio without clockid and a launch-time ETF on the
// streams' queue. lint passes both.
func TestLaunchTimeModes(t *testing.T) {
	for _, mode := range []taprio.Mode{taprio.TxtimeAssist, taprio.FullOffload} {
		out, res, err := Expand(parse(t, strings.Replace(seedStreams, "plan: {", "plan: {mode: "+mode.String()+", ", 1)))
		if err != nil {
			t.Fatal(err)
		}
		r, ifc := res.Rows[0], out.Interfaces[0]
		if r.Txtime != 1200*time.Microsecond || r.Open != r.Txtime || r.Close != r.Txtime+1072 {
			t.Errorf("%v: row %+v", mode, r)
		}
		tp := ifc.Taprio
		// The gate opens a guard band before the window: 1200000 − 12304 ns, for the guard band and
		// the 1072 ns window (from the cycle's start; the schedule starts in best effort's time).
		if g := FromCycleStart(tp); tp.Mode != mode || len(g) != 3 || g[0].Interval != 1187696 || g[1].Interval != 12304+1072 {
			t.Errorf("%v: taprio %+v", mode, tp)
		}
		switch mode {
		case taprio.TxtimeAssist:
			if tp.TxtimeDelay == nil || *tp.TxtimeDelay != configs.Duration(100*time.Microsecond) || tp.ClockID == nil || len(ifc.ETF) != 2 {
				t.Fatalf("txtime-assist: taprio %+v, ETFs %+v", tp, ifc.ETF)
			}
			for i, e := range ifc.ETF {
				if *e.Queue != i || !e.SkipSockCheck || e.Offload != configs.OffloadTrue || e.Delta != configs.Duration(50*time.Microsecond) {
					t.Errorf("txtime-assist: ETF %+v", e)
				}
			}
		case taprio.FullOffload:
			if tp.ClockID != nil || tp.TxtimeDelay != nil || len(ifc.ETF) != 1 || *ifc.ETF[0].Queue != streamClass || ifc.ETF[0].Offload != configs.OffloadTrue || ifc.ETF[0].SkipSockCheck {
				t.Errorf("full-offload: taprio %+v, ETFs %+v", tp, ifc.ETF)
			}
		}
		if fs := lint.Check(out, lint.Facts{TxQueues: map[string]int{"eth1": 4}}); lint.HasErrors(fs) {
			t.Errorf("%v: lint: %v", mode, fs)
		}
	}
}

// gateOpen reports whether class tc's gate is open over [from, to) of the cycle (mod the cycle).
func gateOpen(entries []configs.Entry, phase, cycle, from, to time.Duration, tc int) bool {
	for t := from; t < to; {
		at := mod(t-phase, cycle)
		var start time.Duration
		for _, e := range entries {
			end := start + time.Duration(e.Interval)
			if at >= start && at < end {
				if uint32(e.Gates)&(1<<tc) == 0 {
					return false
				}
				t += end - at
				break
			}
			start = end
		}
	}
	return true
}

// lint checks a plan's schedule against the streams it was planned from (its stream-windows rule,
// not a copy of the planner): the plan passes, and the same plan with the streams' class open for
// less than their frames' wire time is refused, naming the class, the stream and both times.
func TestLintChecksPlannedWindows(t *testing.T) {
	cfg := parse(t, strings.Replace(seedStreams, "size: 64", "size: 64\n    frames: 40", 1))
	out, _, err := Expand(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out.Source != cfg {
		t.Fatal("the plan does not name the configuration it was planned from")
	}
	if fs := lint.Check(out, lint.Facts{}); len(fs) != 0 {
		t.Fatalf("lint refuses the plan: %v", fs)
	}
	// 40 frames of 134 byte times: 42.88us on the wire; the window is 12.304us (the guard band) +
	// 50us (the ETF delta) longer. 10us less is still enough; 60us less again is not.
	sched := out.Interfaces[0].Taprio.Schedule
	i := slices.IndexFunc(sched, func(e configs.Entry) bool { return e.Gates == 1<<streamClass })
	sched[i].Interval -= configs.Duration(10 * time.Microsecond)
	sched[i+1].Interval += configs.Duration(10 * time.Microsecond)
	if fs := lint.Check(out, lint.Facts{}); lint.HasErrors(fs) {
		t.Fatalf("lint refuses a window 10us shorter: %v", fs)
	}
	sched[i].Interval -= configs.Duration(60 * time.Microsecond)
	sched[i+1].Interval += configs.Duration(60 * time.Microsecond)
	fs := lint.Check(out, lint.Facts{})
	want := fmt.Sprintf("traffic class 1 (streams control) is open %v per 2ms cycle, less than the 42.88µs", time.Duration(sched[i].Interval))
	if len(fs) != 1 || fs[0].Rule != "stream-windows" || !strings.Contains(fs[0].Msg, want) {
		t.Fatalf("findings %v, want stream-windows: %s", fs, want)
	}
}

// TestRandomPlans: over thousands of random stream sets, every plan passes lint, its windows of
// different streams never overlap, every frame's txtime is one the kernel's taprio takes, each window has the stream's gate open and is preceded by a
// guard band in which best effort's gate is closed, every deadline holds, the cycle is the
// hyperperiod, best effort keeps its share, and planning is deterministic (the same bytes from
// the same file, and from the streams in another order).
func TestRandomPlans(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	planned, refused, modes := 0, map[string]int{}, map[taprio.Mode]int{}
	for range 3000 {
		text := plantest.RandomSet(r, "eth1", taprio.Software, taprio.TxtimeAssist, taprio.FullOffload)
		cfg := parse(t, text)
		out, res, err := Expand(cfg)
		var pe *Error
		if errors.As(err, &pe) {
			refused[pe.Constraint]++
			continue
		}
		if err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		planned++
		modes[cfg.Interfaces[0].Plan.Mode]++
		if fs := lint.Check(out, lint.Facts{TxQueues: map[string]int{"eth1": 4}}); lint.HasErrors(fs) {
			t.Fatalf("lint refuses the plan: %v\n%s", fs, text)
		}
		ifc := out.Interfaces[0]
		cycle, phase := time.Duration(*ifc.Taprio.CycleTime), phaseOf(ifc.Taprio)
		if phase < 0 || phase >= cycle || !closed(ifc.Taprio.Schedule, phase, cycle, phase-1, phase+1, streamClass) && bestEffortOnly(ifc.Taprio.Schedule) {
			t.Fatalf("the schedule starts at %v of its %v cycle, not in best effort's time\n%s", phase, cycle, text)
		}
		var hyper time.Duration = 1
		for _, s := range cfg.Streams {
			hyper = lcm(hyper, time.Duration(s.Period))
		}
		if cycle != hyper {
			t.Fatalf("cycle %v, hyperperiod %v\n%s", cycle, hyper, text)
		}
		var sum time.Duration
		for _, e := range ifc.Taprio.Schedule {
			sum += time.Duration(e.Interval)
		}
		if sum != cycle {
			t.Fatalf("the entries sum to %v, the cycle is %v\n%s", sum, cycle, text)
		}
		var all []interval
		for _, row := range res.Rows {
			s := cfg.Streams[indexOf(cfg.Streams, row.Stream)]
			lead := time.Duration(*cfg.Interfaces[0].Plan.ETFDelta) // a software ETF's window opens delta before the txtime
			if cfg.Interfaces[0].Plan.Mode != taprio.Software {
				lead = 0 // launch time: at the txtime
			}
			if row.Bound > time.Duration(s.MaxLatency) || row.Txtime < time.Duration(s.Offset) || row.Open != row.Txtime-lead || row.Close != row.Txtime+row.Wire {
				t.Fatalf("%s: row %+v, max-latency %v\n%s", row.Stream, row, time.Duration(s.MaxLatency), text)
			}
			for k := time.Duration(0); k < cycle/row.Period; k++ {
				w := interval{start: k*row.Period + row.Open, end: k*row.Period + row.Close, stream: row.Stream}
				if !gateOpen(ifc.Taprio.Schedule, phase, cycle, w.start, w.end, streamClass) {
					t.Fatalf("%s: the gate is not open over its window [%v, %v)\n%s", row.Stream, w.start, w.end, text)
				}
				if tx := mod(k*row.Period+row.Txtime, cycle); !taprioTakes(ifc.Taprio.Schedule, phase, cycle, tx, row.Wire, streamClass) {
					t.Fatalf("%s: a frame with txtime %v in the cycle is not strictly inside one open gate entry: the kernel's taprio drops it\n%s", row.Stream, tx, text)
				}
				if !gateOpen(ifc.Taprio.Schedule, phase, cycle, w.start-row.Guard, w.end, streamClass) || !closed(ifc.Taprio.Schedule, phase, cycle, w.start-row.Guard, w.end, beClass) {
					t.Fatalf("%s: no guard band before [%v, %v)\n%s", row.Stream, w.start, w.end, text)
				}
				for _, o := range all {
					if o.stream != w.stream && overlaps([]interval{w}, []interval{o}, cycle) {
						t.Fatalf("%s's window [%v, %v) overlaps %s's [%v, %v)\n%s", w.stream, w.start, w.end, o.stream, o.start, o.end, text)
					}
				}
				all = append(all, w)
			}
		}
		var be time.Duration
		for _, e := range ifc.Taprio.Schedule {
			if uint32(e.Gates)&(1<<beClass) != 0 {
				be += time.Duration(e.Interval)
			}
		}
		if be < cycle*time.Duration(cfg.Interfaces[0].Plan.BestEffort)/100 {
			t.Fatalf("best effort has %v of %v, less than %d %%\n%s", be, cycle, cfg.Interfaces[0].Plan.BestEffort, text)
		}
		// Deterministic, whatever the order of the streams.
		a, _ := configs.Marshal(out)
		again := parse(t, text)
		r.Shuffle(len(again.Streams), func(i, j int) { again.Streams[i], again.Streams[j] = again.Streams[j], again.Streams[i] })
		out2, _, err := Expand(again)
		if err != nil {
			t.Fatalf("shuffled: %v", err)
		}
		if b, _ := configs.Marshal(out2); !bytes.Equal(a, b) {
			t.Fatalf("another order of the streams plans otherwise:\n%s\n%s", a, b)
		}
	}
	t.Logf("%d planned (per mode: %v), refused: %v", planned, modes, refused)
	for _, m := range []taprio.Mode{taprio.Software, taprio.TxtimeAssist, taprio.FullOffload} {
		if modes[m] < 300 {
			t.Errorf("only %d plans in mode %v", modes[m], m)
		}
	}
	if planned < 1000 {
		t.Errorf("only %d of 3000 random sets planned: the generator no longer exercises the planner", planned)
	}
}

func closed(entries []configs.Entry, phase, cycle, from, to time.Duration, tc int) bool {
	for t := from; t < to; t++ {
		at := mod(t-phase, cycle)
		var start time.Duration
		for _, e := range entries {
			end := start + time.Duration(e.Interval)
			if at >= start && at < end {
				if uint32(e.Gates)&(1<<tc) != 0 {
					return false
				}
				t = t + (end - at) - 1
				break
			}
			start = end
		}
	}
	return true
}

func indexOf(ss []configs.Stream, name string) int {
	for i, s := range ss {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// With preemption (full offload, a NIC with a MAC merge layer), the best-effort class is
// preemptible and the streams' express: a best-effort frame is cut when the streams' gate opens,
// so the guard band holds the rest of a fragment (less than two 64-byte fragments with preamble
// and gap: 148 byte times, 1184 ns at 1 Gb/s) instead of a whole 1518-byte frame (12304 ns).
// lint passes the plan; on a NIC without a MAC merge layer it refuses it (the fp rule); the loader
// refuses preemption outside full offload.
func TestPreemptionShrinksTheGuardBand(t *testing.T) {
	text := strings.Replace(seedStreams, "plan: {", "plan: {mode: full-offload, preemption: true, ", 1)
	out, res, err := Expand(parse(t, text))
	if err != nil {
		t.Fatal(err)
	}
	r, tp := res.Rows[0], out.Interfaces[0].Taprio
	if r.Guard != 1184*time.Nanosecond {
		t.Errorf("guard band %v, want 1184ns", r.Guard)
	}
	if g := FromCycleStart(tp); g[0].Interval != configs.Duration(1200*time.Microsecond-1184) || g[1].Interval != 1184+1072 {
		t.Errorf("taprio schedule %+v", tp.Schedule)
	}
	if !slices.Equal(tp.FP, []configs.FP{configs.Preemptible, configs.Express}) {
		t.Errorf("fp %v, want [P E] (best effort preemptible, the streams express)", tp.FP)
	}
	if fs := lint.Check(out, lint.Facts{TxQueues: map[string]int{"eth1": 4}}); lint.HasErrors(fs) {
		t.Errorf("lint: %v", fs)
	}
	if fs := lint.Check(out, lint.Facts{MACMerge: map[string]bool{"eth1": false}}); !slices.ContainsFunc(fs, func(f lint.Finding) bool { return f.Rule == "fp" }) {
		t.Errorf("a NIC without a MAC merge layer: %v", fs)
	}
	// A larger smallest fragment holds the link longer: 188 bytes, 2 × 192 + 20 byte times.
	big, res2, err := Expand(parse(t, strings.Replace(text, "preemption: true, ", "preemption: true, min-frag: 188, ", 1)))
	if err != nil || res2.Rows[0].Guard != 3232*time.Nanosecond || big == nil {
		t.Errorf("min-frag 188: guard %v, %v", res2.Rows[0].Guard, err)
	}
	if _, err := configs.Parse("s.yaml", []byte(strings.Replace(seedStreams, "plan: {", "plan: {preemption: true, ", 1))); err == nil ||
		!strings.Contains(err.Error(), "plan.preemption") || !strings.Contains(err.Error(), "full-offload mode only") {
		t.Errorf("preemption in software mode: %v", err)
	}
}

// taprioTakes is the kernel's check of a frame sent with SO_TXTIME (net/sched/sch_taprio.c,
// is_valid_interval, as read for 6.12): its txtime strictly after the start of one gate entry that
// has the class's gate open, and the frame's end (here its wire time, more than the kernel counts)
// within that entry. Entries end at the cycle's end: a frame at the cycle's start, or across its
// end, is dropped.
func taprioTakes(entries []configs.Entry, phase, cycle, tx, wire time.Duration, class int) bool {
	tx = mod(tx-phase, cycle)
	var start time.Duration
	for _, e := range entries {
		end := start + time.Duration(e.Interval)
		if uint32(e.Gates)&(1<<class) != 0 && start < tx && tx+wire <= end {
			return true
		}
		start = end
	}
	return false
}

// A stream whose earliest offset is the period's start is sent 1 ns later: the kernel's taprio
// drops a frame whose txtime is exactly the start of a gate entry, and a cycle's start is one
// (the lab found it: every frame of such a stream dropped by the taprio root).
func TestTxtimeNotAtTheCycleStart(t *testing.T) {
	for _, mode := range []string{"software", "txtime-assist"} {
		out, res, err := Expand(parse(t, `interfaces:
  - name: eth1
    channels: 4
    plan: {mode: `+mode+`, etf-delta: 100us}
streams:
  - {name: s, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, period: 1ms, size: 64, offset: 0us, max-latency: 200us}
`))
		if err != nil {
			t.Fatal(err)
		}
		r := res.Rows[0]
		tp := out.Interfaces[0].Taprio
		if r.Txtime != 1 || !taprioTakes(tp.Schedule, phaseOf(tp), time.Duration(*tp.CycleTime), r.Txtime, r.Wire, streamClass) {
			t.Errorf("%s: txtime %v, schedule %+v: want 1ns, inside an open entry", mode, r.Txtime, out.Interfaces[0].Taprio.Schedule)
		}
	}
}

// phaseOf is where in the cycle a planned schedule starts (its base-time-offset).
func phaseOf(tp *configs.Taprio) time.Duration {
	if tp.BaseTimeOffset == nil {
		return 0
	}
	return time.Duration(*tp.BaseTimeOffset)
}

// bestEffortOnly reports whether a schedule has an entry with best effort's gate alone open.
func bestEffortOnly(entries []configs.Entry) bool {
	for _, e := range entries {
		if uint32(e.Gates) == 1<<beClass {
			return true
		}
	}
	return false
}
