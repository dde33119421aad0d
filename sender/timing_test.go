package sender

import (
	"errors"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/taprio"
)

const (
	us = int64(1000)
	ms = 1000 * us
)

// The seed's stream: 2 ms cycle, window [1200us, 1300us], offset 50us.
func seedTiming() Timing {
	return Timing{BaseTime: 1000 * 2000 * us, Cycle: 2000 * us, WindowStart: 1200 * us, WindowEnd: 1300 * us,
		Offset: 50 * us, PerCycle: 1, Txtime: true, WakeAdvance: 500 * us}
}

func TestSeedTiming(t *testing.T) {
	tm := seedTiming()
	if err := tm.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := tm.TxtimeOf(3, 0) - tm.CycleStart(3); got != 1250*us {
		t.Errorf("txtime at %d us into the cycle", got/us)
	}
	if got := tm.TxtimeOf(3, 0) - tm.Wake(3); got != 500*us {
		t.Errorf("wakes %d us early", got/us)
	}
	plain := tm
	plain.Txtime = false
	if plain.Wake(3) != plain.CycleStart(3) {
		t.Error("plain mode wakes at the cycle start")
	}
	now := tm.CycleStart(10) + 100*us
	k := tm.FirstCycle(now, 1000*us)
	if tm.Wake(k) < now+1000*us || tm.Wake(k-1) >= now+1000*us {
		t.Errorf("first cycle %d wakes at %d", k, tm.Wake(k)-now)
	}
	// After cycle 10: cycle 11 if its wake-up is still ahead; after an overrun, the first cycle
	// whose wake-up is, and never a cycle already done.
	for _, tc := range []struct {
		now  int64
		want int64
	}{
		{tm.Wake(10) + 50*us, 11},      // on time
		{tm.Wake(11) - 1, 11},          // just in time
		{tm.Wake(11), 12},              // 11's wake-up is now: passed
		{tm.Wake(14) + 300*us, 15},     // 3.x cycles late: 11..14 missed
		{tm.Wake(10) - 5*tm.Cycle, 11}, // the clock behind (stepped back): next in order
	} {
		if got, skipped := tm.Next(10, tc.now); got != tc.want || skipped != tc.want-11 {
			t.Errorf("Next(10) at wake(10)%+d us: %d (%d skipped), want %d (%d skipped)",
				(tc.now-tm.Wake(10))/us, got, skipped, tc.want, tc.want-11)
		}
	}
	multi := tm
	multi.PerCycle, multi.Spacing = 3, 10*us
	if err := multi.Validate(); err != nil || multi.TxtimeOf(9, 2)-multi.CycleStart(9) != 1270*us {
		t.Errorf("3 packets 10us apart: %v, third at %d us", err, (multi.TxtimeOf(9, 2)-multi.CycleStart(9))/us)
	}
}

// Validate names the parameter to fix (cmd/tsnctl names it after the flag: TestErrorsNameTheFlag).
func TestValidateNamesTheParameter(t *testing.T) {
	for _, tc := range []struct {
		edit       func(*Timing)
		name, want string
	}{
		{func(t *Timing) { t.Cycle = 0 }, "cycle", "cycle 0s: must be positive"},
		{func(t *Timing) { t.WindowEnd = 3000 * us }, "window", "window 1.2ms,3ms: the window must lie inside the 2ms cycle"},
		{func(t *Timing) { t.Offset = 100 * us }, "offset", "offset 100µs"},
		{func(t *Timing) { t.PerCycle, t.Spacing = 3, 30*us }, "offset", "with 3 packets 30µs apart"},
		{func(t *Timing) { t.WakeAdvance = 0 }, "wake-advance", "wake-advance 0s"},
		{func(t *Timing) { t.PerCycle = 0 }, "per-cycle", "per-cycle 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := seedTiming()
			tc.edit(&tm)
			err := tm.Validate()
			var pe *param.Error
			if !errors.As(err, &pe) || pe.Name != tc.name || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %s: %q, got %v", tc.name, tc.want, err)
			}
		})
	}
}

func seedSchedule() *taprio.Options {
	tai := clock.TAI
	o := &taprio.Options{NumTC: 4, Map: [16]uint8{3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3}, ClockID: &tai,
		Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}, {Count: 1, Offset: 2}, {Count: 1, Offset: 3}}}
	o.Schedule.BaseTime = 1795372810045000000
	for _, e := range [][2]uint32{{1, 200}, {2, 100}, {4, 100}, {8, 100}, {1, 200}, {2, 100}, {4, 100}, {8, 100}} {
		o.Schedule.Entries = append(o.Schedule.Entries, taprio.Entry{Gates: e[0], Interval: e[1] * 1000})
	}
	return o
}

func TestFromSchedule(t *testing.T) {
	o := seedSchedule()
	tm, tc, err := FromSchedule(o, "eth1", 6, 0, [2]int64{})
	if err != nil || tc != 1 || tm.WindowStart != 200*us || tm.WindowEnd != 300*us || tm.Cycle != 1000*us || tm.BaseTime != o.Schedule.BaseTime {
		t.Errorf("%+v tc %d %v", tm, tc, err)
	}
	// Every txtime planned in the derived window is inside an open gate of class 1, and outside class 0's.
	tm.Offset, tm.PerCycle, tm.Txtime, tm.WakeAdvance = 50*us, 1, true, 100*us
	c1, c0 := NewWindowCheck(o, 1), NewWindowCheck(o, 0)
	for k := int64(-3); k < 50; k++ {
		if !c1.Contains(tm.TxtimeOf(k, 0)) || c0.Contains(tm.TxtimeOf(k, 0)) {
			t.Fatalf("cycle %d: txtime not in class 1's window", k)
		}
	}
	if c1.Contains(o.Schedule.BaseTime+150*us) || !c1.Contains(o.Schedule.BaseTime+750*us) || c1.Contains(o.Schedule.BaseTime+650*us) {
		t.Error("InWindow wrong at 150us / 650us / 750us")
	}
	o.Schedule.Entries[1].Gates, o.Schedule.Entries[5].Gates = 1, 1
	if _, _, err := FromSchedule(o, "eth1", 6, 0, [2]int64{}); err == nil || !strings.Contains(err.Error(), "priority 6: maps to traffic class 1, which never has an open gate") {
		t.Errorf("no window: %v", err)
	}
}

// The seed sends every 2 ms through a 1 ms schedule, in [1200, 1300] us: TC 1's window in the
// second taprio cycle.
func TestFromScheduleSenderCycleAndWindow(t *testing.T) {
	o := seedSchedule()
	tm, tc, err := FromSchedule(o, "eth1", 6, 2000*us, [2]int64{1200 * us, 1300 * us})
	if err != nil || tc != 1 || tm.Cycle != 2000*us || tm.WindowStart != 1200*us || tm.WindowEnd != 1300*us || tm.BaseTime != o.Schedule.BaseTime {
		t.Fatalf("%+v tc %d %v", tm, tc, err)
	}
	tm.Offset, tm.PerCycle, tm.Txtime, tm.WakeAdvance = 50*us, 1, true, 600*us
	if err := tm.Validate(); err != nil {
		t.Fatal(err)
	}
	c1 := NewWindowCheck(o, 1)
	for k := int64(0); k < 100; k++ {
		if tx := tm.TxtimeOf(k, 0); !c1.Contains(tx) || (tx-o.Schedule.BaseTime)%(2000*us) != 1250*us {
			t.Fatalf("cycle %d: txtime %d", k, tx)
		}
	}
	// Windows inside an open window: the part of one, the seed's second window of the first cycle.
	for _, w := range [][2]int64{{1220 * us, 1280 * us}, {700 * us, 800 * us}, {1700 * us, 1800 * us}} {
		if _, _, err := FromSchedule(o, "eth1", 6, 2000*us, w); err != nil {
			t.Errorf("window %v: %v", w, err)
		}
	}
	for _, c := range []struct {
		cycle int64
		win   [2]int64
		want  string
	}{
		{1500 * us, [2]int64{}, "cycle 1.5ms: not a whole multiple of the 1ms cycle of the taprio on eth1"},
		{-2000 * us, [2]int64{}, "not a whole multiple"},
		{2000 * us, [2]int64{1150 * us, 1250 * us}, "window 1.15ms,1.25ms: not inside an open window of traffic class 1 (priority 6) of the taprio on eth1; " +
			"in a 2ms cycle its windows are 200µs-300µs, 700µs-800µs, 1.2ms-1.3ms, 1.7ms-1.8ms"},
		{2000 * us, [2]int64{1250 * us, 1350 * us}, "not inside an open window"}, // runs past the gate's close
		{2000 * us, [2]int64{300 * us, 400 * us}, "not inside an open window"},   // TC 2's window
		{1000 * us, [2]int64{1200 * us, 1300 * us}, "not inside an open window"}, // beyond the cycle
		{2000 * us, [2]int64{1300 * us, 1200 * us}, "not inside an open window"}, // reversed
	} {
		_, _, err := FromSchedule(o, "eth1", 6, c.cycle, c.win)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("cycle %v window %v: %v, want %q", c.cycle, c.win, err, c.want)
		}
	}
}

// A window that runs through the end of the cycle into its start covers both parts.
func TestCoversWrappingWindow(t *testing.T) {
	o := seedSchedule()
	c0 := NewWindowCheck(o, 0) // TC 0: 0-200 us and 500-700 us; not wrapping in the seed
	if !c0.Covers(o.Schedule.BaseTime, o.Schedule.BaseTime+200*us) || c0.Covers(o.Schedule.BaseTime+100*us, o.Schedule.BaseTime+201*us) {
		t.Error("TC 0's first window")
	}
	o.Schedule.Entries[7].Gates = 1 // TC 0 now open 900 us - 200 us of the next cycle
	c0 = NewWindowCheck(o, 0)
	b := o.Schedule.BaseTime + 5000*us
	for _, c := range []struct {
		from, to int64
		want     bool
	}{{900, 1200, true}, {950, 1100, true}, {1000, 1200, true}, {0, 200, true}, {-100, 150, true}, {850, 950, false}, {900, 1201, false}, {100, 300, false}} {
		if got := c0.Covers(b+c.from*us, b+c.to*us); got != c.want {
			t.Errorf("Covers(%d us, %d us) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestSeqOfTxtimeNewestFirst(t *testing.T) {
	s := &Sender{}
	put := func(seq uint64, tx int64) {
		r := &s.recent[seq%uint64(len(s.recent))]
		r.txtime, r.seq, s.lastSeq = tx, seq, seq
	}
	for seq := uint64(0); seq < 5000; seq++ {
		put(seq, int64(seq)*1000)
	}
	put(5000, 4998*1000) // a late packet reusing seq 4998's txtime
	if got := s.seqOfTxtime(4998 * 1000); got != 5000 {
		t.Errorf("got %d, want the newest, 5000", got)
	}
	if got := s.seqOfTxtime(4000 * 1000); got != 4000 {
		t.Errorf("got %d", got)
	}
	if got := s.seqOfTxtime(10 * 1000); got != ^uint64(0) {
		t.Errorf("an overwritten entry matched: %d", got)
	}
}

// ETF without offload under a software taprio releases at txtime − delta: a delta longer than
// the offset in the window releases before the gate opens, which the lab saw drop most packets.
func TestSoftwareETFEarlyRelease(t *testing.T) {
	o := seedSchedule()
	etfs := map[int]etf.Options{1: {Delta: 60000}, 2: {Delta: 900000}}
	e := softwareETF(o, etfs, 1)
	if e == nil || e.Queue != 1 || e.Delta != 60000 {
		t.Fatalf("%+v", e)
	}
	tm := Timing{Txtime: true, Offset: 50 * us}
	if w := e.EarlyRelease(tm, "v0"); !strings.Contains(w, "the ETF on TX queue 1 of v0 (no offload) has delta 60µs, longer than --offset 50µs: it releases each packet 10µs before its window opens") {
		t.Errorf("%q", w)
	}
	for _, c := range []struct {
		name string
		e    *SoftwareETF
		t    Timing
	}{
		{"delta below the offset", &SoftwareETF{1, 22000}, tm},
		{"delta equal to the offset", &SoftwareETF{1, 50000}, tm},
		{"plain sends", e, Timing{Offset: 50 * us}},
		{"no software ETF", nil, tm},
	} {
		if w := c.e.EarlyRelease(c.t, "v0"); w != "" {
			t.Errorf("%s: %q", c.name, w)
		}
	}
	if softwareETF(o, map[int]etf.Options{1: {Delta: 60000, Offload: true}}, 1) != nil {
		t.Error("an offloaded ETF launches at txtime: no early release")
	}
	o.Mode = taprio.TxtimeAssist
	if softwareETF(o, etfs, 1) != nil {
		t.Error("txtime-assist: taprio sets the txtime itself")
	}
}

// The derived defaults are the seed's at its 2 ms cycle and fit every other cycle a sender takes.
func TestDefaultsFitTheCycle(t *testing.T) {
	if s, e := DefaultWindow(SeedCycle); s != 1200*us || e != 1300*us || DefaultOffset(s, e) != 50*us || DefaultWakeAdvance(SeedCycle) != 500*us {
		t.Errorf("at 2ms: window %d,%d offset %d wake-advance %d, want the seed's", s, e, DefaultOffset(s, e), DefaultWakeAdvance(SeedCycle))
	}
	for _, c := range []int64{20, 1000, 125 * us, 200 * us, 1000 * us, 1001 * us, 2 * ms, 10 * ms, 1000 * ms, maxCycle} {
		tm := Timing{Cycle: c, PerCycle: 1, Txtime: true, WakeAdvance: DefaultWakeAdvance(c)}
		tm.WindowStart, tm.WindowEnd = DefaultWindow(c)
		tm.Offset = DefaultOffset(tm.WindowStart, tm.WindowEnd)
		if err := tm.Validate(); err != nil {
			t.Errorf("cycle %dns: %v", c, err)
		}
	}
}
