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
