package configs

import (
	"strings"
	"testing"
)

const streamBase = `interfaces:
  - name: eth1
    channels: 4
streams:
  - name: control
    interface: eth1
    dest: 10.0.0.2:7788
    vlan: 3
    period: 2ms
    size: 64
    offset: 1200us
    max-latency: 100us
`

// What a stream cannot mean is refused at load, naming the field, the value and the fix.
func TestStreamsRefused(t *testing.T) {
	if _, err := Parse("s.yaml", []byte(streamBase)); err != nil {
		t.Fatalf("the base: %v", err)
	}
	for _, c := range []struct{ old, new, want string }{
		{"name: control", "name: ''", `s.yaml:5: streams[0].name: missing`},
		{"interface: eth1\n    dest", "interface: eth2\n    dest", `s.yaml:6: streams[0].interface: "eth2": no interface of this name in interfaces:`},
		{"dest: 10.0.0.2:7788", "dest: somewhere", `streams[0].dest: "somewhere": want host:port with an IPv4 address`},
		{"dest: 10.0.0.2:7788", "dest: '[fd00::2]:7788'", `streams[0].dest: "[fd00::2]:7788": want host:port with an IPv4 address`},
		{"vlan: 3", "vlan: 4095", `streams[0].vlan: "4095": want a VLAN id from 1 to 4094`},
		{"period: 2ms", "period: 0", `streams[0].period: "0ns": want a positive period`},
		{"size: 64", "size: 0", `streams[0].size: "0": want a payload of 52 (tsnctl's packet header, which send --stream writes in every frame) to 9000 bytes`},
		{"offset: 1200us", "offset: 2ms", `streams[0].offset: "2ms": want an offset from 0 to less than the period 2ms`},
		{"max-latency: 100us", "max-latency: 900us", `streams[0].max-latency: "900us": offset + max-latency passes the end of the period 2ms`},
		{"max-latency: 100us", "max-latency: 100us\n    pcp: 8", `streams[0].pcp: "8": want a PCP from 0 to 7`},
		{"channels: 4", "channels: 4\n    taprio: {num-tc: 1}", `interfaces[0].taprio: this interface carries streams: tsnctl plan writes its taprio: and etf:`},
		{"channels: 4", "channels: 4\n    plan: {best-effort: 100}", `interfaces[0].plan.best-effort: "100": want a share of the cycle from 0 to 99`},
		{"max-latency: 100us", "max-latency: 100us\n  - {name: control, interface: eth1, dest: 10.0.0.2:1, vlan: 3, period: 1ms, size: 52, max-latency: 1us}", `streams[1].name: "control": two streams have this name`},
		{"vlan: 3", "vlan: 3\n    class: C", `streams[0].class: "C": want A or B, 802.1Q's stream reservation classes`},
		{"max-latency: 100us", "max-latency: 100us\n  - {name: video, interface: eth1, dest: 10.0.0.2:1, vlan: 3, class: A, period: 1ms, size: 52, max-latency: 1ms}",
			`s.yaml:13: streams[1].class: "A": stream video has a class and stream control has none, both on eth1`},
		{"max-latency: 100us", "max-latency: 100us\n    class: a\n  - {name: c2, interface: eth1, dest: 10.0.0.2:1, vlan: 3, period: 1ms, size: 52, max-latency: 1ms}",
			`streams[1].class: "(none)": stream control has a class and stream c2 has none`},
	} {
		text := strings.Replace(streamBase, c.old, c.new, 1)
		if _, err := Parse("s.yaml", []byte(text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: %v, want %q", c.old, c.new, err, c.want)
		}
	}
	noStreams := "interfaces:\n  - name: eth1\n    plan: {speed: 100}\n"
	if _, err := Parse("s.yaml", []byte(noStreams)); err == nil || !strings.Contains(err.Error(), "no stream is sent on this interface") {
		t.Errorf("plan: without streams: %v", err)
	}
}

// A credit-shaped stream (class A or B): its interface's mqprio and cbs are plan's, and what only
// a taprio plan takes is refused, naming the key; its PCP defaults to its class's.
func TestCreditShapedStreams(t *testing.T) {
	classB := strings.Replace(streamBase, "vlan: 3", "vlan: 3\n    class: b", 1)
	c, err := Parse("s.yaml", []byte(classB))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Streams[0]; s.Class != ClassB || s.PCPOrDefault() != 2 || !CreditShaped(c, "eth1") {
		t.Errorf("class b: %v, PCP %d", s.Class, s.PCPOrDefault())
	}
	if b, err := Marshal(c); err != nil || !strings.Contains(string(b), "class: B") {
		t.Errorf("written back: %v\n%s", err, b)
	}
	for _, tc := range []struct{ add, want string }{
		{"cbs: [{queue: 0, idleslope: 1000}]", "interfaces[0].cbs: this interface carries streams: tsnctl plan writes its mqprio: and cbs:; remove cbs:"},
		{"mqprio: {num-tc: 1}", "interfaces[0].mqprio: this interface carries streams: tsnctl plan writes its mqprio: and cbs:"},
		{"plan: {mode: txtime-assist}", `interfaces[0].plan.mode: "txtime-assist": the streams on eth1 are credit-shaped (class A or B)`},
		{"plan: {etf-delta: 100us}", `interfaces[0].plan.etf-delta: "100us": the streams on eth1 are credit-shaped`},
		{"plan: {cycle: 2ms}", `interfaces[0].plan.cycle: "2ms"`},
	} {
		text := strings.Replace(classB, "channels: 4", "channels: 4\n    "+tc.add, 1)
		if _, err := Parse("s.yaml", []byte(text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.add, err, tc.want)
		}
	}
	if _, err := Parse("s.yaml", []byte(strings.Replace(classB, "channels: 4", "channels: 4\n    plan: {speed: 100, best-effort: 20}", 1))); err != nil {
		t.Errorf("speed and best-effort: %v", err)
	}
}
