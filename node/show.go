package node

import (
	"encoding/json"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ifname"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/taprio"
)

// ToConfig writes live state in the configuration file's own schema, so that it can be applied
// again. base-time is the live (planned) value.
func ToConfig(l *Live) configs.Interface {
	ci := configs.Interface{Name: ifname.Name(l.Name)}
	if l.ChannelsErr == nil {
		ch := &configs.Channels{}
		c := l.Channels
		if c.CombinedMax > 0 {
			ch.Combined = &c.Combined
		}
		if c.RxMax > 0 {
			ch.RX = &c.Rx
		}
		if c.TxMax > 0 {
			ch.TX = &c.Tx
		}
		if ch.Combined != nil || ch.RX != nil || ch.TX != nil {
			ci.Channels = ch
		}
	}
	if m := l.MM; m != nil {
		ci.MACMerge = &configs.MACMerge{PMACEnabled: &m.PMACEnabled, TxEnabled: &m.TxEnabled, VerifyEnabled: &m.VerifyEnabled,
			VerifyTime: &m.VerifyTime, TxMinFragSize: &m.TxMinFragSize}
	}
	for _, v := range l.VLANs {
		ci.VLANs = append(ci.VLANs, configs.VLAN{ID: v.ID, Name: ifname.Name(v.Name), EgressQoSMap: nonZero(v.Egress), IngressQoSMap: nonZero(v.Ingress)})
	}
	if o := l.Mqprio; o != nil {
		m := &configs.Mqprio{Handle: configs.Handle(l.MqprioHandle), NumTC: int(o.NumTC), HW: o.HW, Mode: o.Mode, Shaper: o.Shaper}
		for _, v := range o.Map {
			m.Map = append(m.Map, int(v))
		}
		for _, q := range o.Queues {
			m.Queues = append(m.Queues, configs.Queue{Count: q.Count, Offset: q.Offset})
		}
		for _, r := range o.MinRate {
			m.MinRate = append(m.MinRate, configs.Rate(r*8))
		}
		for _, r := range o.MaxRate {
			m.MaxRate = append(m.MaxRate, configs.Rate(r*8))
		}
		if slices.Contains(o.FP, mqprio.FPPreemptible) { // the kernel dumps 16 entries, all express by default
			for _, fp := range o.FP[:min(len(o.FP), int(o.NumTC))] {
				m.FP = append(m.FP, configs.FP(fp == mqprio.FPPreemptible))
			}
		}
		ci.Mqprio = m
	}
	if l.Taprio != nil || l.Mqprio != nil {
		ci.ETF, ci.CBS = children(l)
	}
	if e := l.RootETF; e != nil {
		q := 0
		ci.ETF = []configs.ETF{{Queue: &q, ClockID: &e.ClockID, Delta: configs.Duration(e.Delta), Offload: offloadOf(e.Offload),
			DeadlineMode: e.DeadlineMode, SkipSockCheck: e.SkipSockCheck}}
	}
	if o := l.Taprio; o != nil {
		t := &configs.Taprio{Handle: configs.Handle(l.TaprioHandle), NumTC: int(o.NumTC), Mode: o.Mode, ClockID: o.ClockID,
			BaseTime: configs.BaseTime{NS: o.Schedule.BaseTime}}
		for _, m := range o.Map {
			t.Map = append(t.Map, int(m))
		}
		for _, q := range o.Queues {
			t.Queues = append(t.Queues, configs.Queue{Count: q.Count, Offset: q.Offset})
		}
		for _, e := range o.Schedule.Entries {
			t.Schedule = append(t.Schedule, configs.Entry{Cmd: e.Cmd, Gates: configs.Mask(e.Gates), Interval: configs.Duration(e.Interval)})
		}
		if sum := sumIntervals(o.Schedule.Entries); o.Schedule.CycleTime != 0 && o.Schedule.CycleTime != sum {
			d := configs.Duration(o.Schedule.CycleTime)
			t.CycleTime = &d
		}
		if o.Schedule.CycleTimeExtension != 0 {
			d := configs.Duration(o.Schedule.CycleTimeExtension)
			t.CycleTimeExtension = &d
		}
		if o.TxtimeDelay != 0 {
			d := configs.Duration(o.TxtimeDelay)
			t.TxtimeDelay = &d
		}
		if len(o.MaxSDU) > 0 {
			t.MaxSDU = o.MaxSDU[:min(len(o.MaxSDU), int(o.NumTC))]
		}
		for _, p := range o.Preemptible[:min(len(o.Preemptible), int(o.NumTC))] {
			t.FP = append(t.FP, configs.FP(p))
		}
		ci.Taprio = t
	}
	return ci
}

// children are the root's ETF and cbs children in the file's schema, by queue.
func children(l *Live) (etfs []configs.ETF, cbss []configs.CBS) {
	for _, q := range slices.Sorted(maps.Keys(l.ETF)) {
		e := l.ETF[q]
		qq := q
		etfs = append(etfs, configs.ETF{Queue: &qq, ClockID: &e.ClockID, Delta: configs.Duration(e.Delta),
			Offload: offloadOf(e.Offload), DeadlineMode: e.DeadlineMode, SkipSockCheck: e.SkipSockCheck})
	}
	for _, q := range slices.Sorted(maps.Keys(l.CBS)) {
		c := l.CBS[q]
		qq := q
		idle, send, hi, lo := int64(c.IdleSlope), int64(c.SendSlope), int64(c.HiCredit), int64(c.LoCredit)
		cbss = append(cbss, configs.CBS{Queue: &qq, IdleSlope: &idle, SendSlope: &send, HiCredit: &hi, LoCredit: &lo, Offload: offloadOf(c.Offload)})
	}
	return etfs, cbss
}

// offloadOf is the file's word for a qdisc's offload as the kernel dumps it.
func offloadOf(on bool) configs.Offload {
	if on {
		return configs.OffloadTrue
	}
	return configs.OffloadFalse
}

func sumIntervals(es []taprio.Entry) int64 {
	var s int64
	for _, e := range es {
		s += int64(e.Interval)
	}
	return s
}

func nonZero(m map[uint32]uint32) map[uint32]uint32 {
	var out map[uint32]uint32
	for k, v := range m {
		if v != 0 {
			if out == nil {
				out = map[uint32]uint32{}
			}
			out[k] = v
		}
	}
	return out
}

// StateDir is where apply records what it applied (one JSON file per namespace and interface).
var StateDir = "/run/tsnctl/applied"

// AppliedRecord is the record of one apply on one interface.
type AppliedRecord struct {
	AppliedAt time.Time         `json:"applied_at"`
	NetNS     string            `json:"netns,omitempty"`
	BaseTime  int64             `json:"base_time_tai_ns,omitempty"`
	State     configs.Interface `json:"state"`
	Warnings  []string          `json:"warnings,omitempty"`
}

// Record writes what an interface now has, after an apply, to StateDir.
func Record(netns string, l *Live, warnings []string) (string, error) {
	rec := AppliedRecord{AppliedAt: time.Now().UTC(), NetNS: netns, State: ToConfig(l), Warnings: warnings}
	if l.Taprio != nil {
		rec.BaseTime = l.Taprio.Schedule.BaseTime
	}
	ns := netns
	if ns == "" {
		ns = "default"
	}
	dir := filepath.Join(StateDir, ns)
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, l.Name+".json")
	if err := safefile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("record the applied state: %w", err)
	}
	return path, nil
}
