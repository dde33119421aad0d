package taprio_test

import (
	"fmt"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/taprio"
)

// seedEntries is the gate control list of configs/seed.yaml: in each 1 ms cycle, traffic class 1
// (socket priority 6) has two 100 us windows.
var seedEntries = []taprio.Entry{
	{Cmd: taprio.SetGates, Gates: 0x01, Interval: 200000}, {Cmd: taprio.SetGates, Gates: 0x02, Interval: 100000},
	{Cmd: taprio.SetGates, Gates: 0x04, Interval: 100000}, {Cmd: taprio.SetGates, Gates: 0x08, Interval: 100000},
	{Cmd: taprio.SetGates, Gates: 0x01, Interval: 200000}, {Cmd: taprio.SetGates, Gates: 0x02, Interval: 100000},
	{Cmd: taprio.SetGates, Gates: 0x04, Interval: 100000}, {Cmd: taprio.SetGates, Gates: 0x08, Interval: 100000},
}

// The seed's taprio qdisc, encoded as the TCA_OPTIONS of an RTM_NEWQDISC (hand the bytes to
// qdisc.Qdisc's Options), and decoded again as a dump of it would be.
func Example() {
	tai := clock.TAI
	o := taprio.Options{
		NumTC:    4,
		Map:      [16]uint8{3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3}, // priority 6 -> class 1
		Queues:   []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}, {Count: 1, Offset: 2}, {Count: 1, Offset: 3}},
		ClockID:  &tai,
		Mode:     taprio.Software,
		Schedule: taprio.Schedule{BaseTime: 1588076872000000000, Entries: seedEntries},
	}
	b, err := o.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("TCA_OPTIONS: %d bytes\n", len(b))

	var got taprio.Options
	if err := got.UnmarshalBinary(b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("queues:", got.Queues, "clock:", got.ClockID, "mode:", got.Mode)
	fmt.Println("cycle:", time.Duration(got.Schedule.Cycle()), "entries:", len(got.Schedule.Entries))
	for _, e := range got.Schedule.Entries[:4] {
		fmt.Printf("sched-entry %s %02x %d\n", e.Cmd, e.Gates, e.Interval)
	}
	// Output:
	// TCA_OPTIONS: 400 bytes
	// queues: [1@0 1@1 1@2 1@3] clock: CLOCK_TAI mode: software
	// cycle: 1ms entries: 8
	// sched-entry S 01 200000
	// sched-entry S 02 100000
	// sched-entry S 04 100000
	// sched-entry S 08 100000
}

// The open windows of traffic class 1 in the seed's schedule: where a sender of priority 6 may
// plan its txtimes.
func ExampleWindows() {
	for _, w := range taprio.Windows(seedEntries, 1) {
		fmt.Printf("entry %d: %v to %v\n", w.Start, time.Duration(w.Offset), time.Duration(w.End()))
	}
	// Output:
	// entry 1: 200µs to 300µs
	// entry 5: 700µs to 800µs
}

// A base-time for `base-time: auto`: the first cycle boundary at least two cycles ahead, counted
// from the clock's epoch, so that every node planning the same cycle gets the same phase.
func ExamplePlanBaseTime() {
	s := taprio.Schedule{Entries: seedEntries}
	cycle := s.Cycle()
	now := int64(1795000000123456789) // TAI ns, e.g. from clock_gettime(CLOCK_TAI)
	base := taprio.PlanBaseTime(now, cycle, 2)
	fmt.Println("cycle:", time.Duration(cycle))
	fmt.Println("base-time:", base, "ahead by", time.Duration(base-now))
	fmt.Println("aligned:", taprio.Aligned(base, cycle), taprio.Aligned(now, cycle))
	// Output:
	// cycle: 1ms
	// base-time: 1795000000126000000 ahead by 2.543211ms
	// aligned: true false
}

// CycleTime, when set, overrides the sum of the intervals: here a 2 ms cycle whose gates are all
// closed after the seed's 1 ms of entries.
func ExampleSchedule_Cycle() {
	s := taprio.Schedule{Entries: seedEntries}
	fmt.Println(time.Duration(s.Cycle()))
	s.CycleTime = int64(2 * time.Millisecond)
	fmt.Println(time.Duration(s.Cycle()))
	// Output:
	// 1ms
	// 2ms
}

// What the kernel cannot take is refused before anything is sent.
func ExampleOptions_MarshalBinary_tooManyClasses() {
	o := taprio.Options{NumTC: 17}
	_, err := o.MarshalBinary()
	fmt.Println(err)
	// Output:
	// taprio: 17 traffic classes, the kernel takes at most 16
}

// Modes read as a configuration writes them (the value is TCA_TAPRIO_ATTR_FLAGS); a wrong word
// says what is accepted.
func ExampleParseMode() {
	m, err := taprio.ParseMode("txtime-assist")
	fmt.Println(m, uint32(m), err)
	_, err = taprio.ParseMode("offload")
	fmt.Println(err)
	// Output:
	// txtime-assist 1 <nil>
	// unknown mode "offload": use software, txtime-assist or full-offload
}

// Gate commands are tc's letters.
func ExampleParseCmd() {
	c, err := taprio.ParseCmd("H")
	fmt.Println(c, uint8(c), err)
	_, err = taprio.ParseCmd("X")
	fmt.Println(err)
	// Output:
	// H 1 <nil>
	// unknown schedule command "X": use S (set gates), H (set and hold) or R (set and release)
}
