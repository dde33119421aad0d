package lint

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
)

func seedText(t *testing.T) string {
	b, err := configs.Examples.ReadFile("seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func load(t *testing.T, text string) *configs.Config {
	t.Helper()
	c, err := configs.Parse("t.yaml", []byte(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return c
}

func TestSeedIsClean(t *testing.T) {
	fs := Check(load(t, seedText(t)), Facts{TxQueues: map[string]int{"eth1": 4}, SpeedMbps: map[string]int{"eth1": 1000}})
	if len(fs) != 0 {
		t.Errorf("seed has findings: %v", fs)
	}
}

const txtimeAssist = `interfaces:
  - name: eth1
    taprio:
      num-tc: 2
      map: [0, 0, 0, 0, 0, 0, 1]
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      mode: txtime-assist
      txtime-delay: 300us
      schedule:
        - {cmd: S, gates: 0x1, interval: 500us}
        - {cmd: S, gates: 0x2, interval: 500us}
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 200us, skip-sock-check: true}
`

func TestTxtimeAssistIsClean(t *testing.T) {
	if fs := Check(load(t, txtimeAssist), Facts{}); len(fs) != 0 {
		t.Errorf("findings: %v", fs)
	}
}

// Every rule, triggered by one edit of a valid file, with the line it must point at.
func TestEveryRule(t *testing.T) {
	seed := seedText(t)
	seedPTP := seed + "ptp:\n  interface: eth1\n  role: slave\n  options: {logSyncInterval: -3}\n"
	streams := "interfaces:\n  - name: eth1\n    channels: 4\nstreams:\n  - {name: c, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, period: 2ms, size: 64, offset: 1200us, max-latency: 100us}\n"
	cbsFile, _ := configs.Examples.ReadFile("taprio-cbs.yaml")
	withCBS := string(cbsFile)
	cbsGiven := strings.Replace(withCBS, "idleslope: 20000 ", "idleslope: 20000\n        sendslope: -980000\n        hicredit: 31\n        locredit: -1512\n       ", 1)
	mqFile, _ := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	withMq := string(mqFile)
	cases := []struct {
		rule, base, old, new string
		facts                Facts
		line                 int
		sev                  Severity
		want                 string
	}{
		{"stream-speed", streams, "", "", Facts{SpeedMbps: map[string]int{"eth1": 100}}, 2, Error, "eth1 runs at 100 Mb/s, slower than the 1000 Mb/s its streams are planned for"},
		{"stream-speed", streams, "channels: 4", "channels: 4\n    plan: {speed: 2500}", Facts{SpeedMbps: map[string]int{"eth1": 1000}}, 4, Error, "slower than the 2500 Mb/s"},
		{"vlan-name", seed, "name: eth1", "name: abcdefghijklmn", Facts{}, 18, Error, "PARENT.ID is not a valid interface name: 16 bytes"},
		{"vlan-name", seed, "egress-qos-map: {6: 6}", "egress-qos-map: {6: 6}\n      - {id: 4, name: eth1.3}", Facts{}, 20, Error, "the name of interfaces[0].vlans[0] too"},
		{"vlan-name", seed, "egress-qos-map: {6: 6}", "egress-qos-map: {6: 6}\n      - {id: 4, name: eth1}", Facts{}, 20, Error, "an interface of this file has this name"},
		{"vlan-name", seed + "  - name: eth2\n    vlans: [{id: 3, name: eth1.3}]\n", "", "", Facts{}, 43, Error, "the name of interfaces[0].vlans[0] too"},
		{"vlan-name", seed, "", "", Facts{Links: map[string]Link{"eth1.3": {Kind: "veth"}}}, 18, Error, "eth1.3 already exists as a link of type veth"},
		{"vlan-name", seed, "", "", Facts{Links: map[string]Link{"eth1.3": {Kind: "vlan", Parent: "eth0", VLANID: 3}}}, 18, Error, "already exists as VLAN 3 on eth0"},
		{"taprio-handle", seed, "handle: 100", "handle: e001", Facts{}, 21, Error, "this handle is one of them"},
		{"interface-name", seed + "  - name: eth1\n", "", "", Facts{}, 42, Error, "configured twice"},
		{"channels", seed, "channels: 4 ", "channels: {combined: 0}", Facts{}, 16, Error, "at least one channel"},
		{"vlan-id", seed, "- id: 3 ", "- id: 4095", Facts{}, 18, Error, "1 to 4094"},
		{"vlan-id", seed, "- id: 3 ", "- id: 3\n      - id: 3\n       ", Facts{}, 19, Error, "configured twice"},
		{"qos-map", seed, "{6: 6}", "{6: 9}", Facts{}, 19, Error, "PCP (0-7)"},
		{"qos-map", seed, "egress-qos-map: {6: 6}", "ingress-qos-map: {8: 1}", Facts{}, 19, Error, "received PCP (0-7)"},
		{"num-tc", seed, "num-tc: 4", "num-tc: 17", Facts{}, 22, Error, "1 to 16"},
		{"schedule", "interfaces:\n  - name: eth1\n    taprio:\n      num-tc: 2\n      queues: [\"1@0\", \"1@1\"]\n      clockid: CLOCK_TAI\n      schedule: []\n", "", "", Facts{}, 7, Error, "no entries"},
		{"map", seed, "[3, 3, 3, 3, 3, 3, 1,", "[3, 3, 3, 3, 3, 3, 5,", Facts{}, 23, Error, "priority 6 maps to traffic class 5"},
		{"map", seed, "[3, 3, 3, 3, 3, 3, 1,", "[3, 3, 3, 3, 3, 3, 1, 1, 1,", Facts{}, 23, Error, "one entry per socket priority"},
		{"queues", seed, `"1@2", "1@3"`, `"1@1", "1@3"`, Facts{}, 24, Error, "TX queue 1 is also in traffic class 1"},
		{"queues", seed, `, "1@3"]`, `]`, Facts{}, 24, Error, "one COUNT@OFFSET per traffic class"},
		{"queues", seed, "", "", Facts{TxQueues: map[string]int{"eth1": 2}}, 24, Error, "eth1 has 2 TX queues"},
		{"interval", seed, "{cmd: S, gates: 0x04, interval: 100us}", "{cmd: S, gates: 0x04, interval: 0}", Facts{}, 31, Error, "positive"},
		{"queues-shared", txtimeAssist, `["1@0", "1@1"]`, `["1@0", "1@0"]`, Facts{}, 6, Warning, "TX queue 0 is also traffic class 0's: txtime-assist allows it"},
		{"interval", seed, "{cmd: S, gates: 0x04, interval: 100us}", "{cmd: S, gates: 0x04, interval: 40us}", Facts{SpeedUnknown: map[string]bool{"eth1": true}}, 31, Error, "shorter than a minimum frame (60 bytes) at 10 Mb/s (the driver reports no link speed, e.g. link down: the kernel then assumes 10 Mb/s), 48us"},
		{"interval", seed, "{cmd: S, gates: 0x04, interval: 100us}", "{cmd: S, gates: 0x04, interval: 479}", Facts{SpeedMbps: map[string]int{"eth1": 1000}}, 31, Error, "480ns"},
		{"cycle-time", seed, "{cmd: S, gates: 0x04, interval: 100us}", "{cmd: S, gates: 0x04, interval: 2147000000}", Facts{}, 29, Error, "longer than the kernel's limit of 2147483647ns"},
		{"gates", seed, "gates: 0x08", "gates: 0x18", Facts{}, 32, Error, "traffic classes >= num-tc"},
		{"cycle-time", seed, "mode: software ", "cycle-time: 2ms\n      mode: software", Facts{}, 27, Error, "the intervals sum to 1ms"},
		{"cycle-time", seed, "mode: software ", "cycle-time-extension: -5us\n      mode: software", Facts{}, 27, Error, "negative"},
		{"base-time-offset", seed, "mode: software ", "base-time-offset: 1ms\n      mode: software", Facts{}, 27, Error, "must lie within the 1ms cycle (0 to 999999ns)"},
		{"base-time-offset", seed, "mode: software ", "base-time-offset: -1us\n      mode: software", Facts{}, 27, Error, "must lie within the 1ms cycle"},
		{"base-time", seed, "base-time: auto ", "base-time: 9223372036854775000\n      base-time-offset: 999us", Facts{}, 26, Error, "passes the largest time the kernel takes"},
		{"base-time-ahead", seed, "base-time: auto ", "base-time: 4950000000000000000", Facts{Now: clock.Snapshot{clock.TAI: 1795000000000000000}}, 26, Warning, "days ahead of CLOCK_TAI"},
		{"tc-window", strings.ReplaceAll(seed, "gates: 0x02", "gates: 0x01"), "", "", Facts{}, 29, Warning, "traffic class 1 (priorities 6) never has an open gate"},
		{"window-frame", seed, "", "", Facts{SpeedMbps: map[string]int{"eth1": 10}}, 30, Warning, "shorter than one 1500-byte frame at 10 Mb/s (1.2336ms on the wire)"},
		{"window-frame", seed, "", "", Facts{SpeedUnknown: map[string]bool{"eth1": true}}, 32, Warning, "at 10 Mb/s (1.2336ms on the wire) (the driver reports no link speed"},
		{"clockid", seed, "mode: software", "mode: full-offload", Facts{}, 25, Error, "takes no clockid"},
		{"clockid", seed, "clockid: CLOCK_TAI\n        delta", "clockid: CLOCK_MONOTONIC\n        delta", Facts{}, 39, Error, "CLOCK_TAI only"},
		{"clockid", seed, "clockid: CLOCK_TAI\n        delta", "clockid: REALTIME\n        delta", Facts{}, 39, Error, "CLOCK_TAI only"},
		{"clockid", seed, "clockid: CLOCK_TAI\n      base", "base", Facts{}, 21, Error, "need a clock"},
		{"txtime-delay", seed, "mode: software", "mode: software\n      txtime-delay: 1ms", Facts{}, 28, Error, "only applies to mode txtime-assist"},
		{"txtime-delay", txtimeAssist, "txtime-delay: 300us", "txtime-delay: 100us", Facts{}, 14, Error, "must be larger than the ETF delta"},
		{"txtime-delay", txtimeAssist, "      txtime-delay: 300us\n", "", Facts{}, 8, Error, "txtime-assist needs a txtime-delay"},
		{"max-sdu", seed, "mode: software", "mode: software\n      max-sdu: [0, 0, 0, 0, 300]", Facts{}, 28, Error, "one entry per traffic class"},
		{"etf-queue", seed, "- queue: 1 ", "- queue: 4", Facts{}, 38, Error, "TX queues 0-3"},
		{"etf-queue", txtimeAssist, "skip-sock-check: true}", "skip-sock-check: true}\n      - {queue: 1, clockid: CLOCK_TAI, delta: 200us, skip-sock-check: true}", Facts{}, 15, Error, "two ETF qdiscs on one queue"},
		{"etf-queue", "interfaces:\n  - name: eth1\n    etf:\n      - {queue: 1, clockid: CLOCK_TAI, delta: 1ms}\n", "", "", Facts{}, 4, Error, "this interface has neither"},
		{"etf-queue", "interfaces:\n  - name: eth1\n    etf:\n      - {queue: 0, clockid: CLOCK_TAI, delta: 1ms}\n", "", "", Facts{TxQueues: map[string]int{"eth1": 4}}, 4, Error, "eth1 has 4 TX queues"},
		{"etf-root", "interfaces:\n  - name: eth1\n    etf:\n      - {queue: 0, clockid: CLOCK_TAI, delta: 1ms}\n", "", "", Facts{}, 4, Warning, "it drops every packet without a txtime"},
		{"etf-delta", seed, "delta: 5ms", "delta: 0", Facts{}, 40, Error, "delta must be positive"},
		{"etf-skip-sock-check", txtimeAssist, ", skip-sock-check: true}", "}", Facts{}, 14, Error, "taprio sets each packet's txtime"},
		{"cbs-queue", withCBS, "- queue: 2 ", "- queue: 4", Facts{}, 42, Error, "the taprio has TX queues 0-3"},
		{"cbs-queue", withCBS, "- queue: 2 ", "- queue: 1", Facts{}, 42, Error, "an etf: sits on this queue too"},
		{"cbs-queue", withCBS, "offload: auto                # true", "offload: auto\n      - {queue: 2, idleslope: 1000}\n      #", Facts{}, 45, Error, "two cbs qdiscs on one queue"},
		{"cbs-queue", "interfaces:\n  - name: eth1\n    cbs:\n      - {queue: 0, idleslope: 1000}\n", "", "", Facts{}, 4, Error, "this interface has neither"},
		{"cbs-credits", withCBS, "idleslope: 20000 ", "idleslope: 0", Facts{}, 43, Error, "must be positive"},
		{"cbs-credits", withCBS, "idleslope: 20000 ", "idleslope: 1000000", Facts{SpeedMbps: map[string]int{"eth1": 1000}}, 43, Error, "not below the port's rate, 1000000 kbit/s at 1000 Mb/s"},
		{"cbs-credits", withCBS, "idleslope: 20000 ", "idleslope: 20000", Facts{SpeedUnknown: map[string]bool{"eth1": true}}, 43, Error, "not below the port's rate, 10000 kbit/s at 10 Mb/s (the driver reports no link speed"},
		{"cbs-credits", withCBS, "idleslope: 20000 ", "idleslope: 20000\n        hicredit: 30\n       ", Facts{}, 44, Error, "give all three"},
		{"cbs-credits", cbsGiven, "sendslope: -980000", "sendslope: 980000", Facts{}, 44, Error, "must be negative"},
		{"cbs-credits", cbsGiven, "locredit: -1512", "locredit: 1512", Facts{}, 46, Error, "must not be positive"},
		{"cbs-credits", withCBS, "offload: auto                # true", "offload: auto\n      - {queue: 3, idleslope: 1000}\n      - {queue: 0, idleslope: 1000}\n      #", Facts{}, 45, Error, "credits for 2 classes per port"},
		{"cbs-credits", withCBS, "offload: auto                # true", "offload: auto\n      - {queue: 3, idleslope: 990000}\n      #", Facts{SpeedMbps: map[string]int{"eth1": 1000}}, 45, Error, "class B: idleslope 990000 kbit/s (with the classes above it, 1010000) is not below the port's rate of 1000000 kbit/s"},
		{"cbs-credits", withCBS, "idleslope: 20000 ", "idleslope: 20000\n        max-frame: 20", Facts{}, 44, Error, "header to FCS, from 64 to 65535"},
		{"cbs-reservation", withCBS, "idleslope: 20000 ", "idleslope: 800000", Facts{SpeedMbps: map[string]int{"eth1": 1000}}, 43, Warning, "the classes reserve 80.0 % of the port's 1000000 kbit/s"},
		{"cbs-slopes", cbsGiven, "", "", Facts{SpeedMbps: map[string]int{"eth1": 10000}}, 44, Warning, "is not idleslope minus the port's rate (10000000 kbit/s at 10000 Mb/s): the kernel's shaper then gives the class 200000 kbit/s, not idleslope's 20000"},
		{"cbs-slopes", cbsGiven, "locredit: -1512", "locredit: -1470", Facts{}, 46, Warning, "costs -1512 bytes of credit at 1000 Mb/s"},
		{"cbs-map", withCBS, "[3, 3, 3, 3, 3, 2,", "[3, 3, 3, 3, 3, 3,", Facts{}, 42, Warning, "TX queue 2 is traffic class 2's, and map sends no priority there"},
		{"taprio-handle", withCBS, "handle: 100", "handle: c802", Facts{}, 23, Error, "its cbs children C0QQ: and C8QQ:"},
		{"mqprio", withMq, "    cbs:\n", "    taprio: {num-tc: 1, queues: [\"1@0\"], clockid: CLOCK_TAI, schedule: [{cmd: S, gates: 0x1, interval: 1ms}]}\n    cbs:\n", Facts{}, 25, Error, "one root qdisc"},
		{"mqprio", withMq, "handle: 100", "handle: e002", Facts{}, 24, Error, "this handle is one of them"},
		{"mqprio", withMq, "handle: 100", "handle: 100\n      shaper: bw_rlimit\n      max-rate: [1Gbit, 1Gbit, 1Gbit, 1Gbit]", Facts{}, 25, Error, "only with hw: true"},
		{"mqprio", withMq, "handle: 100", "handle: 100\n      hw: true\n      min-rate: [1Gbit, 1Gbit, 1Gbit, 1Gbit]", Facts{}, 26, Error, "shaper is in bw_rlimit mode"},
		{"mqprio", withMq, "handle: 100", "handle: 100\n      hw: true\n      shaper: bw_rlimit\n      max-rate: [10Mbit]", Facts{}, 27, Error, "one rate per traffic class (num-tc 4)"},
		{"num-tc", withMq, "num-tc: 4", "num-tc: 0", Facts{}, 25, Error, "mqprio takes 1 to 16 traffic classes"},
		{"map", withMq, "[3, 3, 1, 0,", "[3, 3, 1, 7,", Facts{}, 26, Error, "priority 3 maps to traffic class 7"},
		{"queues", withMq, `"1@1", "1@2"`, `"1@0", "1@2"`, Facts{}, 27, Error, "TX queue 0 is also in traffic class 0's range"},
		{"etf-queue", withMq, "- {queue: 2, clockid", "- {queue: 4, clockid", Facts{}, 32, Error, "the mqprio has TX queues 0-3"},
		{"cbs-map", withMq, "[3, 3, 1, 0,", "[3, 3, 1, 3,", Facts{}, 29, Warning, "TX queue 0 is traffic class 0's"},
		{"fp", seed, "mode: software", "mode: software\n      fp: [E, P, E, E]", Facts{}, 28, Error, "Preemption only supported with full offload"},
		{"fp", seed, "mode: software", "mode: software\n      fp: [E, P, E, E, P]", Facts{}, 28, Error, "one entry per traffic class, num-tc is 4"},
		{"fp", withMq, "handle: 100", "handle: 100\n      hw: true\n      fp: [E, P, P, E]", Facts{MACMerge: map[string]bool{"eth1": false}}, 26, Error, "eth1 has no MAC merge layer"},
		{"mqprio", withMq, "handle: 100", "handle: 100\n      fp: [E, P, P, E]", Facts{}, 25, Error, "only with hw: true"},
		{"mac-merge", seed, "channels: 4 ", "channels: 4\n    mac-merge: {verify-time: 0}\n   ", Facts{}, 17, Error, "1 to 128 ms"},
		{"mac-merge", seed, "channels: 4 ", "channels: 4\n    mac-merge: {tx-min-frag-size: 1000}\n   ", Facts{}, 17, Error, "60 to 252 bytes"},
		{"mac-merge", seed, "channels: 4 ", "channels: 4\n    mac-merge: {pmac-enabled: false, tx-enabled: true}\n   ", Facts{}, 17, Error, "TX enabled requires pMAC enabled"},
		{"mac-merge", seed, "channels: 4 ", "channels: 4\n    mac-merge: {tx-enabled: false, verify-enabled: true}\n   ", Facts{}, 17, Error, "Verification requires TX enabled"},
		{"mac-merge", seed, "channels: 4 ", "channels: 4\n    mac-merge: {pmac-enabled: true}\n   ", Facts{MACMerge: map[string]bool{"eth1": false}}, 17, Error, "eth1 has no MAC merge layer"},
		{"offload", seed, "mode: software", "mode: full-offload", Facts{PHC: map[string]bool{"eth1": false}}, 27, Error, "eth1 has no PTP hardware clock (ethtool -T eth1): full offload"},
		{"offload", seed, "offload: auto", "offload: true", Facts{PHC: map[string]bool{"eth1": false}}, 41, Error, "no launch-time offload without one"},
		{"ptp", seedPTP, "logSyncInterval", "logSyncIntervl", Facts{}, 45, Error, "not a ptp4l option"},
		{"ptp", seedPTP, "logSyncInterval: -3", "uds_address: /etc/passwd", Facts{}, 45, Error, "a file name"},
		{"ptp", seedPTP, "role: slave", "role: master", Facts{}, 44, Error, "want slave or grandmaster"},
		{"ptp", seedPTP, "interface: eth1", "interface: \"eth[1]\"", Facts{}, 43, Error, "brackets"},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		text := strings.Replace(tc.base, tc.old, tc.new, 1)
		if tc.old != "" && text == tc.base {
			t.Fatalf("%s: %q not found in the base file", tc.rule, tc.old)
		}
		fs := Check(load(t, text), tc.facts)
		found := false
		for _, f := range fs {
			if f.Rule == tc.rule && strings.Contains(f.Msg, tc.want) && f.Line == tc.line && f.Severity == tc.sev &&
				f.File == "t.yaml" && f.Field != "" && (f.Fix != "" || f.Severity != Error) {
				found = true
				covered[tc.rule] = true
			}
		}
		if !found {
			t.Errorf("rule %s did not report %q at line %d as %s; findings: %v", tc.rule, tc.want, tc.line, tc.sev, fs)
		}
	}
	if testStreamWindows(t, seed) {
		covered["stream-windows"] = true
	}
	for _, r := range Rules {
		if !covered[r.Name] {
			t.Errorf("rule %s has no test", r.Name)
		}
	}
}

func TestWindowsWrapAround(t *testing.T) {
	e := func(g configs.Mask, i configs.Duration) configs.Entry {
		return configs.Entry{Gates: g, Interval: i} // cmd S
	}
	ws := Windows([]configs.Entry{e(1, 100), e(2, 200), e(3, 300), e(1, 400)}, 0)
	if len(ws) != 1 || ws[0].Start != 2 || ws[0].Offset != 300 || ws[0].Length != 800 {
		t.Errorf("class 0: %+v", ws)
	}
	ws = Windows([]configs.Entry{e(1, 100), e(2, 200), e(3, 300), e(1, 400)}, 1)
	if len(ws) != 1 || ws[0].Start != 1 || ws[0].Length != 500 {
		t.Errorf("class 1: %+v", ws)
	}
	if ws := Windows([]configs.Entry{e(1, 100)}, 2); len(ws) != 0 {
		t.Errorf("class 2: %+v", ws)
	}
}

// Every example shipped in configs/ is clean.
func TestExamplesAreClean(t *testing.T) {
	ents, err := configs.Examples.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, _ := configs.Examples.ReadFile(e.Name())
		c, err := configs.Parse(e.Name(), b)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if fs := Check(c, Facts{}); len(fs) != 0 {
			t.Errorf("%s: %v", e.Name(), fs)
		}
	}
	if len(ents) < 2 {
		t.Errorf("only %d examples", len(ents))
	}
}

// The VLAN the file names, already there as that VLAN (a second apply), is no clash.
func TestExistingVLANOfTheFileIsNoClash(t *testing.T) {
	fs := Check(load(t, seedText(t)), Facts{Links: map[string]Link{"eth1.3": {Kind: "vlan", Parent: "eth1", VLANID: 3}, "eth1": {Kind: "device"}}})
	for _, f := range fs {
		if f.Rule == "vlan-name" {
			t.Errorf("%v", f)
		}
	}
}

// docs/reference/lint-rules.md's rule table lists exactly lint's rules, in the same order, and
// marks the warnings "(warning)".
func TestREADMETableMatchesRules(t *testing.T) {
	b, err := os.ReadFile("../docs/reference/lint-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	warns := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if m := regexp.MustCompile("^\\| `([a-z-]+)` \\|").FindStringSubmatch(l); m != nil {
			doc = append(doc, m[1])
			warns[m[1]] = strings.Contains(l, "(warning)")
		}
	}
	var names []string
	for _, r := range Rules {
		names = append(names, r.Name)
		if warns[r.Name] != (r.Severity == Warning) {
			t.Errorf("docs/reference/lint-rules.md: rule %s is a %s: mark warnings, and only them, \"(warning)\"", r.Name, r.Severity)
		}
	}
	if strings.Join(doc, " ") != strings.Join(names, " ") {
		t.Errorf("docs/reference/lint-rules.md lists\n  %v\nlint.Rules has\n  %v", doc, names)
	}
}

// streamsOnSeed are streams on the seed's eth1 (priority 6, the seed's traffic class 1, open 200us
// of each 1ms cycle), as written: FRAMES frames of 1000 bytes every 1ms.
const streamsOnSeed = `interfaces:
  - name: eth1
    plan: {speed: SPEED}
streams:
  - {name: control, interface: eth1, dest: "10.0.0.2:7788", vlan: 3, period: 1ms, frames: FRAMES, size: 1000, max-latency: 900us}
  - {name: status, interface: eth1, dest: "02:00:00:00:00:02", vlan: 3, pcp: 5, period: 500us, size: 100, max-latency: 400us}
`

// testStreamWindows: the seed's schedule, as if planned from streams on eth1, is refused when the
// frames of the streams of class 1 (priority 6: control) take longer than class 1's 200us per
// cycle: 30 frames of 1070 byte times (1000 bytes of UDP payload, headers, tag, preamble, gap) are
// 256.8us at 1000 Mb/s; 20 are 171.2us and pass, and so do 30 at 2000 Mb/s. status (priority 5)
// maps to class 3, open 400us per cycle: its 2 frames per cycle fit.
func testStreamWindows(t *testing.T, seed string) bool {
	t.Helper()
	check := func(frames, speed string) []Finding {
		cfg := load(t, seed)
		cfg.Source = load(t, strings.NewReplacer("FRAMES", frames, "SPEED", speed).Replace(streamsOnSeed))
		var out []Finding
		for _, f := range Check(cfg, Facts{}) {
			if f.Rule == "stream-windows" {
				out = append(out, f)
			}
		}
		return out
	}
	fs := check("30", "1000")
	want := "traffic class 1 (streams control) is open 200µs per 1ms cycle, less than the 256.8µs its streams' frames take on the wire at 1000 Mb/s"
	if len(fs) != 1 || fs[0].Msg != want || fs[0].Severity != Error || fs[0].Field != "interfaces[0].taprio.schedule" || fs[0].Line != 29 || fs[0].Fix == "" {
		t.Errorf("stream-windows: %v, want one finding %q at line 29", fs, want)
		return false
	}
	for _, ok := range [][2]string{{"20", "1000"}, {"30", "2000"}} {
		if fs := check(ok[0], ok[1]); len(fs) != 0 {
			t.Errorf("stream-windows, %s frames at %s Mb/s: %v", ok[0], ok[1], fs)
			return false
		}
	}
	// Without streams, or with the streams as written (no schedule on eth1), nothing to check.
	if fs := Check(load(t, seed), Facts{}); len(fs) != 0 {
		t.Errorf("the seed: %v", fs)
	}
	return true
}
