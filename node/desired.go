// Package node reads, plans, applies and rolls back a node's TSN configuration: NIC channels,
// 802.1Q VLANs with QoS maps, a taprio root qdisc and its ETF and cbs children, in any network
// namespace.
//
// The pure half (desired.go, compare.go, plan.go, commands.go) turns a configuration and the live
// state into a plan and equivalent iproute2/ethtool commands; the other half (live.go, apply.go)
// talks netlink.
package node

import (
	"sort"

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

// BaseTimeAhead is how many cycles ahead `base-time: auto` starts the schedule.
const BaseTimeAhead = 2

// VLAN is a VLAN link's intended (or live) state.
type VLAN struct {
	Name    string
	ID      uint16
	Egress  map[uint32]uint32
	Ingress map[uint32]uint32
}

// Channels is the intended channel counts; nil fields are left alone. Count (a plain number in
// the file) becomes Combined or RX+TX once the device is known.
type Channels struct {
	Count            *uint32
	Combined, RX, TX *uint32
}

// Taprio is the intended root taprio qdisc.
type Taprio struct {
	Handle   uint16
	Options  taprio.Options
	BaseAuto bool // base-time was `auto`: any cycle-aligned live base-time is as good
	// BaseOffset is base-time-offset (ns): with BaseAuto, a live base-time BaseOffset past a cycle
	// boundary is as good.
	BaseOffset int64
}

// Mqprio is the intended root mqprio qdisc.
type Mqprio struct {
	Handle  uint16
	Options mqprio.Options
}

// ETF is an intended ETF child on one TX queue.
type ETF struct {
	Queue   int
	Options etf.Options
	Offload configs.Offload
	Handle  uint32 // chosen by Plan
}

// Parent is the ETF's tc parent: HANDLE:QUEUE+1.
func (e ETF) Parent(handle uint16) uint32 { return qdisc.Handle(handle, uint16(e.Queue+1)) }

// CBS is an intended cbs child on one TX queue.
type CBS struct {
	Queue   int
	Options cbs.Options
	Offload configs.Offload
	Handle  uint32 // chosen by Plan
}

// Parent is the cbs's tc parent: HANDLE:QUEUE+1.
func (c CBS) Parent(handle uint16) uint32 { return qdisc.Handle(handle, uint16(c.Queue+1)) }

// Iface is everything intended for one interface.
type Iface struct {
	Name     string
	Channels *Channels
	// MACMerge is the intended MAC merge layer (nil fields: left alone).
	MACMerge *nic.MACMergeUpdate
	VLANs    []VLAN
	Taprio   *Taprio
	Mqprio   *Mqprio
	// RootETF is an etf at the root: the file's one ETF on queue 0 of an interface without a
	// taprio or mqprio (a single-queue device).
	RootETF *ETF
	ETF     []ETF
	// cbs is the file's interface, whose cbs: entries CBSAt turns into shapers at the link's speed.
	cbs *configs.Interface
}

// RootHandle is the major handle of the intended root, taprio or mqprio (0: none).
func (w Iface) RootHandle() uint16 {
	switch {
	case w.Taprio != nil:
		return w.Taprio.Handle
	case w.Mqprio != nil:
		return w.Mqprio.Handle
	}
	return 0
}

// CBSAt is the intended cbs children, by queue, for a link of speedMbps as the driver reports it
// (0: none reported): credits the file leaves to tsnctl follow the speed (lint.CBSOptions). It is
// empty when the entries do not convert at this speed, which lint's cbs-credits rule refuses with
// the same facts.
func (w Iface) CBSAt(speedMbps int) []CBS {
	if w.cbs == nil || len(w.cbs.CBS) == 0 {
		return nil
	}
	os, err := lint.CBSOptions(w.cbs, speedMbps)
	if err != nil {
		return nil
	}
	var out []CBS
	for _, c := range w.cbs.CBS {
		out = append(out, CBS{Queue: *c.Queue, Options: os[*c.Queue], Offload: c.Offload})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Queue < out[b].Queue })
	return out
}

// Resolve turns a configuration that lint passed into intent: a conversion of typed values that
// cannot fail (lint has refused what it could not convert, such as an ETF without a queue or a
// clock; the caller lints, once, with the facts it has). now is the time of the clocks, used to
// plan `base-time: auto` in the schedule's own clock (a CLOCK_MONOTONIC schedule counts from boot,
// not from 1970).
func Resolve(cfg *configs.Config, now clock.Snapshot) []Iface {
	var out []Iface
	for _, ci := range cfg.Interfaces {
		ifc := Iface{Name: string(ci.Name)}
		if ch := ci.Channels; ch != nil {
			ifc.Channels = &Channels{Count: ch.Count, Combined: ch.Combined, RX: ch.RX, TX: ch.TX}
		}
		if m := ci.MACMerge; m != nil {
			ifc.MACMerge = &nic.MACMergeUpdate{PMACEnabled: m.PMACEnabled, TxEnabled: m.TxEnabled, VerifyEnabled: m.VerifyEnabled,
				VerifyTime: m.VerifyTime, TxMinFragSize: m.TxMinFragSize}
		}
		for _, v := range ci.VLANs {
			name := v.LinkName(ci.Name)
			ifc.VLANs = append(ifc.VLANs, VLAN{Name: name, ID: v.ID, Egress: v.EgressQoSMap, Ingress: v.IngressQoSMap})
		}
		if t := ci.Taprio; t != nil {
			ifc.Taprio = resolveTaprio(t, now)
		}
		if m := ci.Mqprio; m != nil {
			ifc.Mqprio = resolveMqprio(m)
		}
		for _, e := range ci.ETF {
			var id clock.ID
			if e.ClockID != nil { // lint refuses an ETF without a clock
				id = *e.ClockID
			}
			ifc.ETF = append(ifc.ETF, ETF{Queue: *e.Queue, Offload: e.Offload, Options: etf.Options{
				Delta: int32(e.Delta), ClockID: id, DeadlineMode: e.DeadlineMode, SkipSockCheck: e.SkipSockCheck,
				Offload: e.Offload == configs.OffloadTrue || e.Offload == configs.OffloadAuto,
			}})
		}
		sort.Slice(ifc.ETF, func(a, b int) bool { return ifc.ETF[a].Queue < ifc.ETF[b].Queue })
		if ci.Taprio == nil && ci.Mqprio == nil && len(ifc.ETF) == 1 && ifc.ETF[0].Queue == 0 {
			ifc.RootETF, ifc.ETF = &ifc.ETF[0], nil
		}
		if len(ci.CBS) > 0 {
			c := ci
			ifc.cbs = &c
		}
		out = append(out, ifc)
	}
	return out
}

func resolveMqprio(m *configs.Mqprio) *Mqprio {
	o := mqprio.Options{NumTC: uint8(m.NumTC), HW: m.HW, Mode: m.Mode, Shaper: m.Shaper}
	for i, tc := range m.Map {
		o.Map[i] = uint8(tc)
	}
	for _, q := range m.Queues {
		o.Queues = append(o.Queues, mqprio.Queue{Count: q.Count, Offset: q.Offset})
	}
	for _, r := range m.MinRate {
		o.MinRate = append(o.MinRate, uint64(r)/8) // the kernel's rates are bytes per second
	}
	for _, r := range m.MaxRate {
		o.MaxRate = append(o.MaxRate, uint64(r)/8)
	}
	for _, fp := range m.FP {
		o.FP = append(o.FP, map[configs.FP]mqprio.FP{configs.Express: mqprio.FPExpress, configs.Preemptible: mqprio.FPPreemptible}[fp])
	}
	handle := uint16(m.Handle)
	if handle == 0 {
		handle = 0x100
	}
	return &Mqprio{Handle: handle, Options: o}
}

func resolveTaprio(t *configs.Taprio, now clock.Snapshot) *Taprio {
	o := taprio.Options{NumTC: uint8(t.NumTC), Mode: t.Mode, MaxSDU: t.MaxSDU, ClockID: t.ClockID}
	for _, fp := range t.FP {
		o.Preemptible = append(o.Preemptible, bool(fp))
	}
	for i, tc := range t.Map {
		o.Map[i] = uint8(tc)
	}
	for _, q := range t.Queues {
		o.Queues = append(o.Queues, taprio.Queue{Count: q.Count, Offset: q.Offset})
	}
	if t.TxtimeDelay != nil {
		o.TxtimeDelay = uint32(*t.TxtimeDelay)
	}
	for _, e := range t.Schedule {
		o.Schedule.Entries = append(o.Schedule.Entries, taprio.Entry{Cmd: e.Cmd, Gates: uint32(e.Gates), Interval: uint32(e.Interval)})
	}
	if t.CycleTime != nil {
		o.Schedule.CycleTime = int64(*t.CycleTime)
	}
	if t.CycleTimeExtension != nil {
		o.Schedule.CycleTimeExtension = int64(*t.CycleTimeExtension)
	}
	handle := uint16(t.Handle)
	if handle == 0 {
		handle = 0x100
	}
	tp := &Taprio{Handle: handle, Options: o, BaseAuto: t.BaseTime.Auto}
	if t.BaseTimeOffset != nil {
		tp.BaseOffset = int64(*t.BaseTimeOffset)
	}
	if t.BaseTime.Auto {
		id := clock.TAI // full offload runs on the NIC's PHC, which ptp4l keeps in TAI
		if o.ClockID != nil {
			id = *o.ClockID
		}
		tp.Options.Schedule.BaseTime = taprio.PlanBaseTime(now[id], o.Schedule.Cycle(), BaseTimeAhead) + tp.BaseOffset
	} else {
		tp.Options.Schedule.BaseTime = t.BaseTime.NS + tp.BaseOffset
	}
	return tp
}
