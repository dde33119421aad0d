package taprio

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/clock"
)

func seed() *Options {
	tai := clock.TAI
	o := &Options{
		NumTC:   4,
		Map:     [16]uint8{3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3},
		Queues:  []Queue{{1, 0}, {1, 1}, {1, 2}, {1, 3}},
		ClockID: &tai,
		Schedule: Schedule{BaseTime: 1588076872000000000, Entries: []Entry{
			{SetGates, 0x01, 200000}, {SetGates, 0x02, 100000}, {SetGates, 0x04, 100000}, {SetGates, 0x08, 100000},
			{SetGates, 0x01, 200000}, {SetGates, 0x02, 100000}, {SetGates, 0x04, 100000}, {SetGates, 0x08, 100000},
		}},
	}
	return o
}

func TestRoundTrip(t *testing.T) {
	for name, o := range map[string]*Options{
		"seed": seed(),
		"txtime-assist with cycle and max-sdu": func() *Options {
			o := seed()
			o.Mode = TxtimeAssist
			o.TxtimeDelay = 200000
			o.Schedule.CycleTime = 1000000
			o.Schedule.CycleTimeExtension = 10000
			o.Schedule.Entries[1].Cmd = SetAndHold
			o.Schedule.Entries[2].Cmd = SetAndRelease
			o.MaxSDU = []uint32{0, 300, 0, 0}
			o.Preemptible = []bool{false, true, false, false}
			return o
		}(),
		"full offload, no clock": func() *Options { o := seed(); o.ClockID = nil; o.Mode = FullOffload; return o }(),
	} {
		t.Run(name, func(t *testing.T) {
			b, err := o.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Options
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			want := *o
			s := want.Schedule
			want.Oper = &s // what was sent at top level decodes as the running schedule
			if !reflect.DeepEqual(&got, &want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// The priomap is struct tc_mqprio_qopt: num_tc, prio_tc_map[16], hw, count[16], offset[16].
func TestPriomapLayout(t *testing.T) {
	o := seed()
	o.Queues = []Queue{{1, 0}, {2, 1}, {1, 3}, {4, 4}}
	b, err := binary.Append(nil, binary.NativeEndian, o.priomap())
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 82 || b[0] != 4 || b[7] != 1 || b[1] != 3 || b[17] != 0 {
		t.Fatalf("header bytes wrong: % x", b[:18])
	}
	counts := []uint16{1, 2, 1, 4}
	offsets := []uint16{0, 1, 3, 4}
	for i := range counts {
		if c := binary.NativeEndian.Uint16(b[18+2*i:]); c != counts[i] {
			t.Errorf("count[%d] = %d", i, c)
		}
		if off := binary.NativeEndian.Uint16(b[50+2*i:]); off != offsets[i] {
			t.Errorf("offset[%d] = %d", i, off)
		}
	}
}

// A kernel dump with a pending schedule has it in TCA_TAPRIO_ATTR_ADMIN_SCHED; the running one at top level.
func TestDecodeAdminAndOper(t *testing.T) {
	oper := Schedule{BaseTime: 100, Entries: []Entry{{SetGates, 0xff, 1000}}}
	admin := Schedule{BaseTime: 5000, CycleTime: 2000, Entries: []Entry{{SetGates, 0x1, 1000}, {SetGates, 0x2, 1000}}}
	ae := netlink.NewAttributeEncoder()
	pm, _ := binary.Append(nil, binary.NativeEndian, seed().priomap())
	ae.Bytes(attrPriomap, pm)
	oper.encode(ae)
	ae.Nested(attrAdminSched, func(nae *netlink.AttributeEncoder) error { admin.encode(nae); return nil })
	ae.Int32(attrSchedClockID, int32(clock.TAI))
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var o Options
	if err := o.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(o.Schedule, admin) || o.Oper == nil || !reflect.DeepEqual(*o.Oper, oper) {
		t.Errorf("schedule %+v oper %+v", o.Schedule, o.Oper)
	}
	if o.Schedule.Cycle() != 2000 || oper.Cycle() != 1000 {
		t.Errorf("cycles %d %d", o.Schedule.Cycle(), oper.Cycle())
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	var o Options
	if err := o.UnmarshalBinary([]byte{1, 2, 3}); err == nil {
		t.Error("decoded 3 bytes of garbage")
	}
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(attrPriomap, []byte{4, 0, 0})
	b, _ := ae.Encode()
	if err := o.UnmarshalBinary(b); err == nil {
		t.Error("accepted a 3-byte priomap")
	}
}

func TestCmdLetters(t *testing.T) {
	for _, c := range []Cmd{SetGates, SetAndHold, SetAndRelease} {
		got, err := ParseCmd(c.String())
		if err != nil || got != c {
			t.Errorf("%v: %v %v", c, got, err)
		}
	}
	if _, err := ParseCmd("X"); err == nil {
		t.Error("accepted X")
	}
}

func TestPlanBaseTime(t *testing.T) {
	const ms = int64(1000000)
	for _, tc := range []struct{ now, cycle, ahead, want int64 }{
		{0, ms, 2, 2 * ms},        // on a boundary: exactly 2 cycles ahead
		{1, ms, 2, 3 * ms},        // just past one: the next boundary after now+2 cycles
		{2*ms - 1, ms, 2, 4 * ms}, // just before one
		{1795371687982285274, ms, 2, 1795371687985000000},
		{1795371687982285274, 1234567, 2, 1795371687983935731 - 1795371687983935731%1234567 + 1234567},
		{5, 0, 2, 5}, // no cycle: now
	} {
		got := PlanBaseTime(tc.now, tc.cycle, tc.ahead)
		if got != tc.want {
			t.Errorf("PlanBaseTime(%d, %d, %d) = %d, want %d", tc.now, tc.cycle, tc.ahead, got, tc.want)
		}
		if tc.cycle > 0 && (!Aligned(got, tc.cycle) || got < tc.now+tc.ahead*tc.cycle || got >= tc.now+(tc.ahead+1)*tc.cycle) {
			t.Errorf("PlanBaseTime(%d, %d, %d) = %d is not the first aligned boundary 2 cycles ahead", tc.now, tc.cycle, tc.ahead, got)
		}
	}
	// Two nodes applying at different times get the same phase.
	a, b := PlanBaseTime(1000*ms+123, 2*ms, 2), PlanBaseTime(5000*ms+999, 2*ms, 2)
	if (b-a)%(2*ms) != 0 {
		t.Errorf("phases differ: %d %d", a, b)
	}
}
