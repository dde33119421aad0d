// Package taprio encodes and decodes the netlink options (TCA_OPTIONS) of the taprio qdisc, the
// Linux implementation of IEEE 802.1Qbv time-aware scheduling. Attribute numbers follow
// <linux/pkt_sched.h>: TCA_TAPRIO_ATTR_*, TCA_TAPRIO_SCHED_ENTRY_*, TCA_TAPRIO_TC_ENTRY_*.
package taprio

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/clock"
)

// Kind is the qdisc kind string.
const Kind = "taprio"

// Top-level attributes (enum TCA_TAPRIO_ATTR_*).
const (
	attrPriomap                  = 1  // struct tc_mqprio_qopt
	attrSchedEntryList           = 2  // nest of attrSchedEntry
	attrSchedBaseTime            = 3  // s64, ns
	attrSchedClockID             = 5  // s32
	attrAdminSched               = 7  // nest, dump only: the pending (admin) schedule
	attrSchedCycleTime           = 8  // s64, ns
	attrSchedCycleTimeExt        = 9  // s64, ns
	attrFlags                    = 10 // u32
	attrTxtimeDelay              = 11 // u32, ns
	attrTCEntry                  = 12 // nest, one per traffic class
	attrSchedEntry               = 1  // TCA_TAPRIO_SCHED_ENTRY, inside the list
	entryIndex                   = 1  // u32
	entryCmd                     = 2  // u8
	entryGateMask                = 3  // u32
	entryInterval                = 4  // u32, ns
	tcEntryIndex                 = 1  // u32
	tcEntryMaxSDU                = 2  // u32, bytes (0: no limit)
	tcEntryFP                    = 3  // u32: 1 express, 2 preemptible
	maxTC                        = 16 // TC_QOPT_MAX_QUEUE
	priomapLen                   = 16 // TC_QOPT_BITMASK + 1
	flagTxtimeAssist             = 1 << 0
	flagFullOffload              = 1 << 1
	fpExpress             uint32 = 1
	fpPreemptible         uint32 = 2
)

// Cmd is a schedule entry's gate operation.
type Cmd uint8

// Gate operations (TC_TAPRIO_CMD_*), with the letters tc uses.
const (
	SetGates      Cmd = 0 // S
	SetAndHold    Cmd = 1 // H: 802.1Qbu, preemptible frames held
	SetAndRelease Cmd = 2 // R: 802.1Qbu, preemptible frames released
)

// String returns tc's letter for the command.
func (c Cmd) String() string {
	switch c {
	case SetGates:
		return "S"
	case SetAndHold:
		return "H"
	case SetAndRelease:
		return "R"
	}
	return fmt.Sprintf("cmd(%d)", uint8(c))
}

// ParseCmd reads S, H or R.
func ParseCmd(s string) (Cmd, error) {
	switch s {
	case "S", "s":
		return SetGates, nil
	case "H", "h":
		return SetAndHold, nil
	case "R", "r":
		return SetAndRelease, nil
	}
	return 0, fmt.Errorf("unknown schedule command %q: use S (set gates), H (set and hold) or R (set and release)", s)
}

// UnmarshalText reads tc's letter for a command (ParseCmd).
func (c *Cmd) UnmarshalText(b []byte) error {
	v, err := ParseCmd(string(b))
	*c = v
	return err
}

// MarshalText writes tc's letter.
func (c Cmd) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Entry is one schedule entry: for Interval nanoseconds, the gates of the traffic classes whose bits
// are set in Gates are open.
type Entry struct {
	Cmd      Cmd
	Gates    uint32
	Interval uint32
}

// Schedule is a gate control list.
type Schedule struct {
	BaseTime           int64 // ns on the qdisc's clock
	CycleTime          int64 // ns; 0: the sum of the intervals
	CycleTimeExtension int64 // ns
	Entries            []Entry
}

// Mode is how taprio runs: in software, with txtime assistance (ETF children do the timing), or
// offloaded to the NIC.
type Mode uint32

// Modes, as the value of TCA_TAPRIO_ATTR_FLAGS.
const (
	Software     Mode = 0
	TxtimeAssist Mode = flagTxtimeAssist
	FullOffload  Mode = flagFullOffload
)

// String returns the mode's name as tsnctl's configuration writes it.
func (m Mode) String() string {
	switch m {
	case Software:
		return "software"
	case TxtimeAssist:
		return "txtime-assist"
	case FullOffload:
		return "full-offload"
	}
	return fmt.Sprintf("flags(0x%x)", uint32(m))
}

// ParseMode reads a mode as tsnctl's configuration writes it ("" is software, tc's default).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "software":
		return Software, nil
	case "txtime-assist":
		return TxtimeAssist, nil
	case "full-offload":
		return FullOffload, nil
	}
	return 0, fmt.Errorf("unknown mode %q: use software, txtime-assist or full-offload", s)
}

// UnmarshalText reads a mode (ParseMode), so that a configuration holds a Mode, not a word.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	*m = v
	return err
}

// MarshalText writes the mode's name.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Queue is the range of TX queues of one traffic class: Count@Offset in tc's notation.
type Queue struct {
	Count, Offset uint16
}

// String returns tc's notation, "1@0".
func (q Queue) String() string { return fmt.Sprintf("%d@%d", q.Count, q.Offset) }

// Options is a taprio qdisc's configuration.
type Options struct {
	NumTC  uint8
	Map    [priomapLen]uint8 // socket priority -> traffic class
	Queues []Queue           // one per traffic class
	// ClockID is the schedule's clock. It must be nil with full offload (the NIC's PHC is used).
	ClockID     *clock.ID
	Mode        Mode
	TxtimeDelay uint32 // ns, txtime-assist only
	// Schedule is the schedule to install. In a dump it is the pending (admin) schedule if there is
	// one, otherwise the running (oper) one.
	Schedule Schedule
	// Oper is, in a dump, the schedule currently running (nil before its base-time is reached).
	Oper *Schedule
	// MaxSDU is the per-traffic-class maximum frame size in bytes (0: no limit); empty: not set.
	MaxSDU []uint32
	// Preemptible lists, per traffic class, whether it is preemptible (802.1Qbu); empty: not set.
	Preemptible []bool
}

// mqprioQopt mirrors struct tc_mqprio_qopt, the TCA_TAPRIO_ATTR_PRIOMAP payload, field for field;
// encoding/binary lays it out as the C compiler does (every field is naturally aligned, 82 bytes).
type mqprioQopt struct {
	NumTC     uint8
	PrioTCMap [priomapLen]uint8
	HW        uint8 // 0: taprio takes offload from its flags
	Count     [maxTC]uint16
	Offset    [maxTC]uint16
}

func (o *Options) priomap() mqprioQopt {
	q := mqprioQopt{NumTC: o.NumTC, PrioTCMap: o.Map}
	for i, tq := range o.Queues[:min(len(o.Queues), maxTC)] {
		q.Count[i], q.Offset[i] = tq.Count, tq.Offset
	}
	return q
}

func (o *Options) setPriomap(q *mqprioQopt) {
	o.NumTC, o.Map, o.Queues = q.NumTC, q.PrioTCMap, nil
	for i := range min(int(q.NumTC), maxTC) {
		o.Queues = append(o.Queues, Queue{Count: q.Count[i], Offset: q.Offset[i]})
	}
}

// decodePriomap reads a TCA_TAPRIO_ATTR_PRIOMAP payload.
func (o *Options) decodePriomap(b []byte) error {
	var q mqprioQopt
	if len(b) < binary.Size(q) {
		return fmt.Errorf("taprio: priomap is %d bytes, want %d", len(b), binary.Size(q))
	}
	if _, err := binary.Decode(b, binary.NativeEndian, &q); err != nil {
		return fmt.Errorf("taprio: priomap: %w", err)
	}
	o.setPriomap(&q)
	return nil
}

// encode writes the schedule's attributes: the entry list, base-time, cycle time and extension.
func (s *Schedule) encode(ae *netlink.AttributeEncoder) {
	ae.Nested(attrSchedEntryList, func(nae *netlink.AttributeEncoder) error {
		for i, e := range s.Entries {
			nae.Nested(attrSchedEntry, func(eae *netlink.AttributeEncoder) error {
				e.encode(eae, uint32(i))
				return nil
			})
		}
		return nil
	})
	ae.Int64(attrSchedBaseTime, s.BaseTime)
	if s.CycleTime != 0 {
		ae.Int64(attrSchedCycleTime, s.CycleTime)
	}
	if s.CycleTimeExtension != 0 {
		ae.Int64(attrSchedCycleTimeExt, s.CycleTimeExtension)
	}
}

// decodeAttr reads one schedule attribute into s; it reports whether the attribute was one.
func (s *Schedule) decodeAttr(ad *netlink.AttributeDecoder) bool {
	switch ad.Type() {
	case attrSchedBaseTime:
		s.BaseTime = ad.Int64()
	case attrSchedCycleTime:
		s.CycleTime = ad.Int64()
	case attrSchedCycleTimeExt:
		s.CycleTimeExtension = ad.Int64()
	case attrSchedEntryList:
		ad.Nested(s.decodeEntries)
	default:
		return false
	}
	return true
}

// decode reads a nest of schedule attributes (TCA_TAPRIO_ATTR_ADMIN_SCHED).
func (s *Schedule) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		s.decodeAttr(ad)
	}
	return nil
}

// decodeEntries reads TCA_TAPRIO_ATTR_SCHED_ENTRY_LIST.
func (s *Schedule) decodeEntries(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		if ad.Type() != attrSchedEntry {
			continue
		}
		var e Entry
		ad.Nested(e.decode)
		s.Entries = append(s.Entries, e)
	}
	return nil
}

// encode writes one TCA_TAPRIO_SCHED_ENTRY's attributes.
func (e *Entry) encode(ae *netlink.AttributeEncoder, index uint32) {
	ae.Uint32(entryIndex, index)
	ae.Uint8(entryCmd, uint8(e.Cmd))
	ae.Uint32(entryGateMask, e.Gates)
	ae.Uint32(entryInterval, e.Interval)
}

// decode reads one TCA_TAPRIO_SCHED_ENTRY.
func (e *Entry) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case entryCmd:
			e.Cmd = Cmd(ad.Uint8())
		case entryGateMask:
			e.Gates = ad.Uint32()
		case entryInterval:
			e.Interval = ad.Uint32()
		}
	}
	return nil
}

// tcEntry is one TCA_TAPRIO_ATTR_TC_ENTRY: a traffic class's max-sdu and frame preemption.
type tcEntry struct {
	index, maxSDU, fp uint32
}

func (t *tcEntry) encode(ae *netlink.AttributeEncoder) {
	ae.Uint32(tcEntryIndex, t.index)
	if t.maxSDU != noValue {
		ae.Uint32(tcEntryMaxSDU, t.maxSDU)
	}
	if t.fp != noValue {
		ae.Uint32(tcEntryFP, t.fp)
	}
}

func (t *tcEntry) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case tcEntryIndex:
			t.index = ad.Uint32()
		case tcEntryMaxSDU:
			t.maxSDU = ad.Uint32()
		case tcEntryFP:
			t.fp = ad.Uint32()
		}
	}
	return nil
}

// noValue marks a tcEntry field left out of the message.
const noValue = ^uint32(0)

// tcEntries are the per-class entries of o: one per class up to the last with a max-sdu or a
// preemption setting.
func (o *Options) tcEntries() []tcEntry {
	out := make([]tcEntry, max(len(o.MaxSDU), len(o.Preemptible)))
	for tc := range out {
		out[tc] = tcEntry{index: uint32(tc), maxSDU: noValue, fp: noValue}
		if tc < len(o.MaxSDU) {
			out[tc].maxSDU = o.MaxSDU[tc]
		}
		if tc < len(o.Preemptible) {
			out[tc].fp = fpExpress
			if o.Preemptible[tc] {
				out[tc].fp = fpPreemptible
			}
		}
	}
	return out
}

// setTCEntries keeps the classes' max-sdu and preemption, each only if any class has one set.
func (o *Options) setTCEntries(entries []tcEntry) {
	var maxSDU []uint32
	var fp []bool
	anyMaxSDU, anyFP := false, false
	for _, t := range entries {
		if t.index >= maxTC {
			continue
		}
		for len(maxSDU) <= int(t.index) {
			maxSDU = append(maxSDU, 0)
			fp = append(fp, false)
		}
		maxSDU[t.index] = t.maxSDU
		fp[t.index] = t.fp == fpPreemptible
		anyMaxSDU = anyMaxSDU || t.maxSDU != 0
		anyFP = anyFP || t.fp == fpPreemptible
	}
	if anyMaxSDU {
		o.MaxSDU = maxSDU
	}
	if anyFP {
		o.Preemptible = fp
	}
}

// MarshalBinary encodes the options as the kernel takes them in RTM_NEWQDISC.
func (o *Options) MarshalBinary() ([]byte, error) {
	if int(o.NumTC) > maxTC || len(o.Queues) > maxTC {
		return nil, fmt.Errorf("taprio: %d traffic classes, the kernel takes at most %d", max(int(o.NumTC), len(o.Queues)), maxTC)
	}
	ae := netlink.NewAttributeEncoder()
	pm, err := binary.Append(nil, binary.NativeEndian, o.priomap())
	if err != nil {
		return nil, fmt.Errorf("taprio: priomap: %w", err)
	}
	ae.Bytes(attrPriomap, pm)
	o.Schedule.encode(ae)
	if o.ClockID != nil {
		ae.Int32(attrSchedClockID, int32(*o.ClockID))
	}
	if o.Mode != Software {
		ae.Uint32(attrFlags, uint32(o.Mode))
	}
	if o.TxtimeDelay != 0 {
		ae.Uint32(attrTxtimeDelay, o.TxtimeDelay)
	}
	for _, t := range o.tcEntries() {
		ae.Nested(attrTCEntry, func(tae *netlink.AttributeEncoder) error {
			t.encode(tae)
			return nil
		})
	}
	return ae.Encode()
}

// UnmarshalBinary decodes the options of a taprio qdisc as the kernel dumps them: the running
// (oper) schedule's attributes at top level, the pending (admin) one in a nest of its own.
func (o *Options) UnmarshalBinary(b []byte) error {
	*o = Options{}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return fmt.Errorf("taprio: %w", err)
	}
	var oper, admin Schedule
	var tcs []tcEntry
	for ad.Next() {
		if oper.decodeAttr(ad) {
			continue
		}
		switch ad.Type() {
		case attrPriomap:
			ad.Do(o.decodePriomap)
		case attrSchedClockID:
			id := clock.ID(ad.Int32())
			o.ClockID = &id
		case attrFlags:
			o.Mode = Mode(ad.Uint32())
		case attrTxtimeDelay:
			o.TxtimeDelay = ad.Uint32()
		case attrAdminSched:
			ad.Nested(admin.decode)
		case attrTCEntry:
			var t tcEntry
			ad.Nested(t.decode)
			tcs = append(tcs, t)
		}
	}
	if err := ad.Err(); err != nil {
		return fmt.Errorf("taprio: %w", err)
	}
	o.setTCEntries(tcs)
	if len(oper.Entries) > 0 {
		o.Oper = &oper
	}
	switch {
	case len(admin.Entries) > 0:
		o.Schedule = admin
	case o.Oper != nil:
		o.Schedule = *o.Oper
	}
	return nil
}

// Cycle returns the schedule's cycle: CycleTime if set, otherwise the sum of the intervals.
func (s *Schedule) Cycle() int64 {
	if s.CycleTime > 0 {
		return s.CycleTime
	}
	var sum int64
	for _, e := range s.Entries {
		sum += int64(e.Interval)
	}
	return sum
}

// PlanBaseTime returns the base-time tsnctl uses for `base-time: auto`: the first cycle boundary at
// least ahead cycles after now, counted in whole cycles since the clock's epoch. Every node that
// plans with the same cycle therefore gets the same phase, whenever it applies. now and the result
// are nanoseconds on the schedule's clock (TAI).
func PlanBaseTime(now, cycle, ahead int64) int64 {
	if cycle <= 0 {
		return now
	}
	earliest := now + ahead*cycle
	k := earliest / cycle
	if k*cycle < earliest {
		k++
	}
	return k * cycle
}

// Aligned reports whether baseTime is a whole number of cycles since the epoch (as PlanBaseTime makes it).
func Aligned(baseTime, cycle int64) bool { return cycle > 0 && baseTime%cycle == 0 }

// Window is a run of consecutive schedule entries in which one traffic class's gate is open.
type Window struct {
	Start  int   // index of the first entry
	Offset int64 // ns from the cycle start
	Length int64 // ns
}

// End is the window's end, ns from the cycle start (it may pass the cycle's end when it wraps).
func (w Window) End() int64 { return w.Offset + w.Length }

// Windows returns the open windows of traffic class tc in one cycle, in cycle order; a window that
// runs through the end of the cycle into its start is one window (starting at its later part).
func Windows(entries []Entry, tc int) []Window {
	var out []Window
	var off int64
	open := func(e Entry) bool { return e.Gates&(1<<uint(tc)) != 0 }
	for i, e := range entries {
		if open(e) {
			if i > 0 && open(entries[i-1]) {
				out[len(out)-1].Length += int64(e.Interval)
			} else {
				out = append(out, Window{Start: i, Offset: off, Length: int64(e.Interval)})
			}
		}
		off += int64(e.Interval)
	}
	if len(out) > 1 && open(entries[0]) && open(entries[len(entries)-1]) {
		last := out[len(out)-1]
		out[0].Length += last.Length
		out[0].Start, out[0].Offset = last.Start, last.Offset
		out = out[:len(out)-1]
	}
	return out
}
