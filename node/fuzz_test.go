package node

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/taprio"
)

// FuzzPlan runs what apply runs before it touches the kernel — parse, lint, resolve, plan — on any
// file. Seeded with files that parse (the examples and variations), so that lint and the planner
// are reached. Whatever lint lets through must resolve, plan against a fresh device, encode to the
// kernel's taprio attributes and decode back to the same schedule.
func FuzzPlan(f *testing.F) {
	for _, name := range []string{"seed.yaml", "txtime-assist.yaml"} {
		b, _ := configs.Examples.ReadFile(name)
		f.Add(string(b))
		f.Add(strings.Replace(string(b), "base-time: auto", "base-time: 1795372809265000000", 1))
		f.Add(strings.Replace(string(b), "channels: 4", "channels: {rx: 4, tx: 4}", 1))
	}
	f.Add("interfaces:\n  - name: eth1\n    taprio: {num-tc: 2, map: [1, 0], queues: [1@0, 1@1], clockid: CLOCK_TAI, base-time: auto, schedule: [{cmd: H, gates: 3, interval: 1ms}, {cmd: R, gates: 1, interval: 1ms}]}\n")
	// base-time-offset, zero and negative intervals, extreme base-times: what once divided by zero
	// or overflowed.
	tp := "interfaces:\n  - name: eth1\n    taprio: {num-tc: 2, map: [1, 0], queues: [1@0, 1@1], clockid: CLOCK_TAI, %s schedule: [{cmd: S, gates: 3, interval: %s}, {cmd: S, gates: 1, interval: %s}]}\n"
	for _, c := range [][3]string{
		{"base-time: auto, base-time-offset: 100us,", "0s", "0s"},
		{"base-time: auto, base-time-offset: 100us,", "1ms", "-1ms"},
		{"base-time: auto, base-time-offset: -1us,", "-1ms", "500us"},
		{"base-time: auto, cycle-time: 0s, base-time-offset: 1us,", "1ms", "1ms"},
		{"base-time: 9223372036854775807, base-time-offset: 1ms,", "1ms", "1ms"},
		{"base-time: 9223372036854775000,", "4294967295ns", "4294967295ns"},
		{"base-time: 0, base-time-offset: 1999999ns,", "1ms", "1ms"},
		{"base-time: 4950000000000000000,", "1ns", "1ns"},
	} {
		f.Add(fmt.Sprintf(tp, c[0], c[1], c[2]))
	}
	f.Add("interfaces:\n  - name: v0\n    vlans: [{id: 4094, name: v0.x, egress-qos-map: {15: 7}, ingress-qos-map: {7: 15}}]\n")
	now := clock.Snapshot{clock.TAI: 1795000000000000000, clock.Realtime: 1794999963000000000, clock.Monotonic: 5e12, clock.Boottime: 5e12}
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := configs.Parse("f.yaml", []byte(text))
		if err != nil {
			return
		}
		if lint.HasErrors(lint.Check(cfg, lint.Facts{})) {
			return
		}
		wants := Resolve(cfg, now) // must not panic on anything lint passed
		for _, w := range wants {
			fresh := &Live{Name: w.Name, Ifindex: 3, Channels: nic.Channels{Combined: 1, CombinedMax: 16, Rx: 1, RxMax: 16, Tx: 1, TxMax: 16}, TxQueues: 16}
			for _, st := range Plan(w, fresh, "") {
				if st.Command == "" || strings.ContainsAny(st.Command, "\n\r") {
					t.Errorf("step %+v: command %q", st.Summary, st.Command)
				}
			}
			if w.Taprio == nil {
				continue
			}
			b, err := w.Taprio.Options.MarshalBinary()
			if err != nil {
				t.Fatalf("lint passed, the taprio does not encode: %v", err)
			}
			var back taprio.Options
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("decode of our own encoding: %v", err)
			}
			if !reflect.DeepEqual(back.Schedule.Entries, w.Taprio.Options.Schedule.Entries) || back.NumTC != w.Taprio.Options.NumTC ||
				back.Map != w.Taprio.Options.Map || back.Schedule.BaseTime != w.Taprio.Options.Schedule.BaseTime {
				t.Errorf("round trip:\n%+v\n%+v", back, w.Taprio.Options)
			}
		}
	})
}
