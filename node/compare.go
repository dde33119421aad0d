package node

import (
	"fmt"
	"reflect"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/taprio"
)

// ChannelTarget resolves intended channels against the device: a plain count means combined
// channels on devices that have them (igb), and rx+tx on those that do not (veth). It returns nil
// a zero update when nothing is to change.
func ChannelTarget(want *Channels, live *Live) nic.ChannelsUpdate {
	if want == nil {
		return nic.ChannelsUpdate{}
	}
	u := nic.ChannelsUpdate{Combined: want.Combined, Rx: want.RX, Tx: want.TX}
	if want.Count != nil {
		if live.Channels.CombinedMax > 0 {
			u.Combined = want.Count
		} else {
			u.Rx, u.Tx = want.Count, want.Count
		}
	}
	same := func(p *uint32, v uint32) bool { return p == nil || *p == v }
	if same(u.Combined, live.Channels.Combined) && same(u.Rx, live.Channels.Rx) && same(u.Tx, live.Channels.Tx) {
		return nic.ChannelsUpdate{}
	}
	return u
}

// MACMergeTarget is the part of the intended MAC merge layer that differs from the NIC's (nil:
// nothing to change). A NIC whose state is not known (none, or not read) differs in every field
// given: the change is tried, and lint --live has refused it where the NIC has no MAC merge layer.
func MACMergeTarget(want *nic.MACMergeUpdate, live *nic.MACMerge) *nic.MACMergeUpdate {
	if want == nil || *want == (nic.MACMergeUpdate{}) {
		return nil
	}
	if live == nil {
		u := *want
		return &u
	}
	var u nic.MACMergeUpdate
	if p := want.PMACEnabled; p != nil && *p != live.PMACEnabled {
		u.PMACEnabled = p
	}
	if p := want.TxEnabled; p != nil && *p != live.TxEnabled {
		u.TxEnabled = p
	}
	if p := want.VerifyEnabled; p != nil && *p != live.VerifyEnabled {
		u.VerifyEnabled = p
	}
	if p := want.VerifyTime; p != nil && *p != live.VerifyTime {
		u.VerifyTime = p
	}
	if p := want.TxMinFragSize; p != nil && *p != live.TxMinFragSize {
		u.TxMinFragSize = p
	}
	if u == (nic.MACMergeUpdate{}) {
		return nil
	}
	return &u
}

// EffectiveTxQueues is the number of TX queues the interface will have once want's channels apply.
func EffectiveTxQueues(want *Channels, live *Live) int {
	u := ChannelTarget(want, live)
	switch {
	case u.Combined != nil:
		return int(*u.Combined)
	case u.Tx != nil:
		return int(*u.Tx)
	case live.ChannelsErr == nil && live.Channels.Combined > 0:
		return int(live.Channels.Combined + live.Channels.Tx)
	case live.ChannelsErr == nil && live.Channels.Tx > 0:
		return int(live.Channels.Tx)
	}
	return live.TxQueues
}

// qosMapsEqual compares QoS maps as the kernel keeps them: an entry mapping to 0 is the default and
// is not dumped.
func qosMapsEqual(a, b map[uint32]uint32) bool {
	for k, v := range a {
		if v != 0 && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if v != 0 && a[k] != v {
			return false
		}
	}
	return true
}

// VLANEqual reports whether a live VLAN is the intended one.
func VLANEqual(want, live VLAN) bool {
	return want.Name == live.Name && want.ID == live.ID && qosMapsEqual(want.Egress, live.Egress) && qosMapsEqual(want.Ingress, live.Ingress)
}

// TaprioDiff says how the live root taprio differs from the intended one ("" when it is the same).
// With base-time auto, any base-time aligned to the cycle is the same phase and counts as equal.
func TaprioDiff(want *Taprio, live *taprio.Options, liveHandle uint16) string {
	if live == nil {
		return "no taprio root"
	}
	w := want.Options
	switch {
	case liveHandle != want.Handle:
		return fmt.Sprintf("handle %x: is %x:", want.Handle, liveHandle)
	case w.NumTC != live.NumTC:
		return fmt.Sprintf("num_tc %d is %d", w.NumTC, live.NumTC)
	case w.Map != live.Map:
		return fmt.Sprintf("map %v is %v", w.Map, live.Map)
	case !reflect.DeepEqual(w.Queues, live.Queues):
		return fmt.Sprintf("queues %v are %v", w.Queues, live.Queues)
	case w.Mode != live.Mode:
		return fmt.Sprintf("mode %s is %s", w.Mode, live.Mode)
	case (w.ClockID == nil) != (live.ClockID == nil) || (w.ClockID != nil && *w.ClockID != *live.ClockID):
		return "clockid differs"
	case w.TxtimeDelay != live.TxtimeDelay:
		return fmt.Sprintf("txtime-delay %d is %d", w.TxtimeDelay, live.TxtimeDelay)
	case !reflect.DeepEqual(w.Schedule.Entries, live.Schedule.Entries):
		return "schedule entries differ"
	case w.Schedule.Cycle() != live.Schedule.Cycle():
		return fmt.Sprintf("cycle-time %d is %d", w.Schedule.Cycle(), live.Schedule.Cycle())
	case w.Schedule.CycleTimeExtension != live.Schedule.CycleTimeExtension:
		return fmt.Sprintf("cycle-time-extension %d is %d", w.Schedule.CycleTimeExtension, live.Schedule.CycleTimeExtension)
	case !sduEqual(w.MaxSDU, live.MaxSDU):
		return fmt.Sprintf("max-sdu %v is %v", w.MaxSDU, live.MaxSDU)
	case !fpEqual(w.Preemptible, live.Preemptible):
		return fmt.Sprintf("fp (preemptible) %v is %v", w.Preemptible, live.Preemptible)
	}
	if want.BaseAuto {
		if !taprio.Aligned(live.Schedule.BaseTime-want.BaseOffset, w.Schedule.Cycle()) {
			if want.BaseOffset != 0 {
				return fmt.Sprintf("base-time %d is not %d ns past a boundary of the %d ns cycle", live.Schedule.BaseTime, want.BaseOffset, w.Schedule.Cycle())
			}
			return fmt.Sprintf("base-time %d is not aligned to the %d ns cycle", live.Schedule.BaseTime, w.Schedule.Cycle())
		}
	} else if w.Schedule.BaseTime != live.Schedule.BaseTime {
		return fmt.Sprintf("base-time %d is %d", w.Schedule.BaseTime, live.Schedule.BaseTime)
	}
	return ""
}

// MqprioDiff says how the live root mqprio differs from the intended one ("" when it is the same).
// The kernel dumps a TC entry (frame preemption) for every possible class: they count only when
// the intent names them.
func MqprioDiff(want *Mqprio, live *mqprio.Options, liveHandle uint16) string {
	if live == nil {
		return "no mqprio root"
	}
	w, l := want.Options, *live
	if len(w.FP) == 0 {
		l.FP = nil
	} else if len(l.FP) > len(w.FP) {
		l.FP = l.FP[:len(w.FP)]
	}
	switch {
	case liveHandle != want.Handle:
		return fmt.Sprintf("handle %x: is %x:", want.Handle, liveHandle)
	case w.NumTC != l.NumTC:
		return fmt.Sprintf("num_tc %d is %d", w.NumTC, l.NumTC)
	case w.Map != l.Map:
		return fmt.Sprintf("map %v is %v", w.Map, l.Map)
	case !reflect.DeepEqual(w.Queues, l.Queues):
		return fmt.Sprintf("queues %v are %v", w.Queues, l.Queues)
	case !reflect.DeepEqual(w, l):
		return "hw, mode, shaper, rates or frame preemption differ"
	}
	return ""
}

// ScheduleOnly reports whether want differs from the live taprio only in what the kernel changes
// on a running schedule (its entries, base-time, cycle-time and extension): same handle, traffic
// classes, map, queues, mode, clock, txtime-delay and max-sdu. taprio refuses to change the others
// of a running schedule ("Changing the traffic mapping of a running schedule is not supported",
// "Changing 'flags' of a running schedule is not supported"), so they need a new root.
func ScheduleOnly(want *Taprio, live *taprio.Options, liveHandle uint16) bool {
	if live == nil {
		return false
	}
	w := want.Options
	return liveHandle == want.Handle && w.NumTC == live.NumTC && w.Map == live.Map && reflect.DeepEqual(w.Queues, live.Queues) &&
		w.Mode == live.Mode && w.TxtimeDelay == live.TxtimeDelay && sduEqual(w.MaxSDU, live.MaxSDU) && fpEqual(w.Preemptible, live.Preemptible) &&
		(w.ClockID == nil) == (live.ClockID == nil) && (w.ClockID == nil || *w.ClockID == *live.ClockID) &&
		w.Mode != taprio.FullOffload // a NIC's own gate control list: replaced, as its driver expects
}

// fpEqual compares per-class preemption; a class not listed is express.
func fpEqual(a, b []bool) bool {
	for i := range max(len(a), len(b)) {
		if (i < len(a) && a[i]) != (i < len(b) && b[i]) {
			return false
		}
	}
	return true
}

// sduEqual compares intended per-class max-sdu with the dumped one. The kernel dumps the effective
// limit: the smaller of the configured value and what the class's longest gate window carries at
// link speed (taprio assumes 10 Mb/s when the driver reports no speed). So a configured limit must
// be met or undercut, and an unconfigured class may show any value.
func sduEqual(want, live []uint32) bool {
	for i, w := range want {
		if w == 0 {
			continue
		}
		if i >= len(live) || live[i] == 0 || live[i] > w {
			return false
		}
	}
	return true
}

// CBSEqual reports whether a live cbs is the intended one; with offload auto, either offload state is.
func CBSEqual(want CBS, live cbs.Options) bool {
	w := want.Options
	if want.Offload == configs.OffloadAuto {
		w.Offload = live.Offload
	}
	return w == live
}

// ETFEqual reports whether a live ETF is the intended one; with offload auto, either offload state is.
func ETFEqual(want ETF, live etf.Options) bool {
	w := want.Options
	if want.Offload == "auto" {
		w.Offload = live.Offload
	}
	return w == live
}
