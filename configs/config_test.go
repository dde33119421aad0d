package configs

import (
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/taprio"
	"strings"
	"testing"
)

func TestSeedExampleLoads(t *testing.T) {
	b, err := Examples.ReadFile("seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("seed.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	ifc := c.Interfaces[0]
	if ifc.Name != "eth1" || *ifc.Channels.Count != 4 || ifc.VLANs[0].ID != 3 || ifc.VLANs[0].EgressQoSMap[6] != 6 {
		t.Errorf("interface: %+v", ifc)
	}
	tp := ifc.Taprio
	if tp.Handle != 0x100 || tp.NumTC != 4 || tp.Map[6] != 1 || tp.Queues[3] != (Queue{1, 3}) || tp.ClockID == nil || *tp.ClockID != clock.TAI ||
		!tp.BaseTime.Auto || tp.Mode != taprio.Software || len(tp.Schedule) != 8 {
		t.Errorf("taprio: %+v", tp)
	}
	if e := tp.Schedule[1]; e.Cmd != taprio.SetGates || e.Gates != 0x02 || e.Interval != 100000 || e.Pos.Line == 0 {
		t.Errorf("entry 1: %+v", e)
	}
	etf := ifc.ETF[0]
	if *etf.Queue != 1 || etf.Delta != 5000000 || etf.Offload != OffloadAuto || etf.ClockID == nil || *etf.ClockID != clock.TAI {
		t.Errorf("etf: %+v", etf)
	}
	if tp.Pos.LineOf("num-tc") != 22 {
		t.Errorf("num-tc is on line 22, recorded %d", tp.Pos.LineOf("num-tc"))
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]Duration{"200us": 200000, "5ms": 5000000, "1s": 1e9, "100ns": 100, "1500": 1500, "1.5ms": 1500000, "2µs": 2000} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "5 parsecs", "ms"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for d, want := range map[Duration]string{200000: "200us", 5000000: "5ms", 2e9: "2s", 1500: "1500ns", 0: "0ns"} {
		if d.String() != want {
			t.Errorf("%d prints %s", d, d.String())
		}
	}
}

const minimal = `interfaces:
  - name: eth1
    taprio:
      num-tc: 2
      handle: 100
      schedule:
        - {cmd: S, gates: 0x1, interval: 1ms}
`

func TestErrorsNameFileLineFieldValueAndFix(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"malformed", "interfaces: [\n", []string{"x.yaml:", "not valid YAML"}},
		{"empty", "", []string{"x.yaml:", "empty", "interfaces:"}},
		{"no interfaces", "interfaces: []\n", []string{"interfaces: no interfaces"}},
		{"unknown key", "interfaces:\n  - name: eth1\n    chanels: 4\n", []string{"x.yaml:3:", "interfaces[0].chanels", "unknown key", `did you mean "channels"`}},
		{"unknown top key", "interface:\n  - name: eth1\n", []string{"x.yaml:1:", "interface", `did you mean "interfaces"`}},
		{"wrong type", "interfaces:\n  - name: eth1\n    channels: four\n", []string{"x.yaml:3:", "interfaces[0].channels", `"four"`, "channel count"}},
		{"list for scalar", "interfaces:\n  - name: [a]\n", []string{"x.yaml:2:", "interfaces[0].name", "single value"}},
		{"bad duration", strings.Replace(minimal, "1ms", "1 fortnight", 1), []string{"x.yaml:7:", "interfaces[0].taprio.schedule[0].interval", `"1 fortnight"`, "want a duration"}},
		{"bad handle", strings.Replace(minimal, "handle: 100", "handle: xyz", 1), []string{"x.yaml:5:", "taprio.handle", `"xyz"`, "hexadecimal"}},
		{"bad queue", minimal + "      queues: [\"1-0\"]\n", []string{"x.yaml:8:", "taprio.queues[0]", `"1-0"`, "COUNT@OFFSET"}},
		{"bad mask", strings.Replace(minimal, "0x1", "zz", 1), []string{"x.yaml:7:", "schedule[0].gates", `"zz"`, "gate mask"}},
		{"negative num-tc", strings.Replace(minimal, "num-tc: 2", "num-tc: two", 1), []string{"x.yaml:4:", "taprio.num-tc", "whole number"}},
		{"out of range vlan", "interfaces:\n  - name: eth1\n    vlans:\n      - id: 70000\n", []string{"x.yaml:4:", "vlans[0].id", `"70000"`, "0 to 65535"}},
		{"bad offload", "interfaces:\n  - name: eth1\n    etf:\n      - {queue: 1, offload: maybe}\n", []string{"x.yaml:4:", "etf[0].offload", "true, false or auto"}},
		{"bad base-time", strings.Replace(minimal, "handle: 100", "base-time: soon", 1), []string{"x.yaml:5:", "taprio.base-time", `"soon"`, "auto, or a time in TAI"}},
		{"duplicate key", "interfaces:\n  - name: eth1\n    name: eth2\n", []string{"x.yaml:3:", "given twice"}},
		{"bad bool", "interfaces:\n  - name: eth1\n    etf:\n      - {queue: 1, deadline-mode: sometimes}\n", []string{"deadline-mode", "true or false"}},
		// Read into typed values once (taprio.Mode, taprio.Cmd, clock.ID): nothing downstream parses words.
		{"unknown mode", minimal + "      mode: turbo\n", []string{"x.yaml:8:", "interfaces[0].taprio.mode", `unknown mode "turbo"`, "use software, txtime-assist or full-offload"}},
		{"unknown command", strings.Replace(minimal, "cmd: S", "cmd: X", 1), []string{"x.yaml:7:", "taprio.schedule[0].cmd", `"X"`, "use S (set gates), H (set and hold) or R (set and release)"}},
		{"unknown taprio clock", minimal + "      clockid: CLOCK_PTP\n", []string{"x.yaml:8:", "taprio.clockid", `unknown clock "CLOCK_PTP"`, "use CLOCK_TAI"}},
		{"unknown etf clock", "interfaces:\n  - name: eth1\n    etf:\n      - {queue: 1, clockid: TAI2}\n", []string{"x.yaml:4:", "etf[0].clockid", `"TAI2"`, "CLOCK_TAI"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestChannelForms(t *testing.T) {
	c, err := Parse("x", []byte("interfaces:\n  - name: veth0\n    channels: {rx: 4, tx: 4}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ch := c.Interfaces[0].Channels
	if ch.Count != nil || *ch.RX != 4 || *ch.TX != 4 || ch.Combined != nil {
		t.Errorf("%+v", ch)
	}
	if _, err := Parse("x", []byte("interfaces:\n  - name: veth0\n    channels: {rx: 4, both: 4}\n")); err == nil ||
		!strings.Contains(err.Error(), "interfaces[0].channels.both") {
		t.Errorf("unknown channel key: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	seed, _ := Examples.ReadFile("seed.yaml")
	f.Add(seed)
	f.Add([]byte(minimal))
	f.Add([]byte("interfaces:\n  - name: eth1\n    channels: {rx: 4}\n    vlans: [{id: 3, egress-qos-map: {6: 6}}]\n"))
	f.Add([]byte("interfaces: &a [*a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("fuzz.yaml", b)
		if err == nil && (c == nil || len(c.Interfaces) == 0) {
			t.Fatal("no error and no interfaces")
		}
	})
}

func TestMarshalRoundTrip(t *testing.T) {
	b, _ := Examples.ReadFile("seed.yaml")
	c, err := Parse("seed.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"map: [3, 3, 3, 3, 3, 3, 1,", "queues: [1@0, 1@1, 1@2, 1@3]", "egress-qos-map: {6: 6}",
		"- {cmd: S, gates: 0x01, interval: 200us}", "handle: \"100\"", "base-time: auto", "delta: 5ms", "offload: auto"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	c2, err := Parse("again.yaml", out)
	if err != nil {
		t.Fatalf("output does not load: %v\n%s", err, out)
	}
	out2, _ := Marshal(c2)
	if string(out) != string(out2) {
		t.Errorf("not stable:\n%s\n---\n%s", out, out2)
	}
}
