// Package lint checks a tsnctl configuration before anything is changed, with named rules. Each
// finding names the rule, the file and line, the field, the value and the fix. Pure: it reads no
// device; what it knows of the devices comes in Facts.
package lint

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/frame"
	"github.com/tsnctl/tsnctl/ifname"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/ptp"
	"github.com/tsnctl/tsnctl/taprio"
)

// Severity of a finding: errors stop an apply, warnings do not.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one rule's complaint.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Field    string   `json:"field"`
	Value    string   `json:"value,omitempty"`
	Msg      string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s:%d: %s [%s] %s", f.File, f.Line, f.Severity, f.Rule, f.Field)
	if f.Value != "" {
		s += fmt.Sprintf(" = %s", f.Value)
	}
	s += ": " + f.Msg
	if f.Fix != "" {
		s += "; fix: " + f.Fix
	}
	return s
}

// Facts is what is known of the devices (from the live system, or nothing).
type Facts struct {
	// TxQueues is the number of TX queues per interface (after any channel change in the file).
	TxQueues map[string]int
	// SpeedMbps is the link speed per interface; unknown: 1000 is assumed.
	SpeedMbps map[string]int
	// SpeedUnknown marks interfaces whose driver reports no speed (link down): taprio then times
	// frames at 10 Mb/s, and so does lint.
	SpeedUnknown map[string]bool
	// PHC says, per interface, whether its NIC has a PTP hardware clock (ethtool -T; absent: not
	// known). Offload to the NIC's clock (taprio full-offload, ETF launch time) needs one.
	PHC map[string]bool
	// MACMerge says, per interface, whether its NIC has a MAC merge layer (ethtool --show-mm;
	// absent: not known): frame preemption needs one.
	MACMerge map[string]bool
	// Links are the links that exist, by name (nil: not known).
	Links map[string]Link
	// Now is the time of the clocks a schedule can run on (nil: not known); with it, a base-time
	// far ahead of its clock gets a warning.
	Now clock.Snapshot
}

// Link is an existing link: its kind (as `ip -d link` says: veth, vlan, device…) and, for a VLAN,
// its parent and id.
type Link struct {
	Kind   string
	Parent string
	VLANID uint16
}

func (l Link) String() string {
	if l.Kind == "vlan" {
		return fmt.Sprintf("VLAN %d on %s", l.VLANID, l.Parent)
	}
	return "a link of type " + l.Kind
}

// Rule is one named check: every finding it makes carries its name and severity.
type Rule struct {
	Name     string
	Severity Severity
	Summary  string // what it checks, as tsnctl lint --rules and docs/reference/lint-rules.md say
	// check looks at one interface of the file (path is its place, "interfaces[N]").
	check func(r *run, ifc *configs.Interface, path string)
	// checkFile looks at the file as a whole (a rule has check or checkFile).
	checkFile func(r *run, cfg *configs.Config)
}

// Rules are every rule, in the order they run and are documented.
var Rules = []*Rule{
	{"interface-name", Error, "every interface has a name, and each appears once (the loader refuses names the kernel would: over 15 bytes, '/', ':', white space)", interfaceName, nil},
	{"vlan-name", Error, "a VLAN without name: gets PARENT.ID, which must be a valid interface name (at most 15 bytes); no two VLANs of the file and no interface of it share a name; with --live, no other link has the VLAN's name", vlanName, nil},
	{"taprio-handle", Error, "the taprio handle is not one of the handles tsnctl gives ETF children (E000-E0FF, E800-E8FF) and cbs children (C000-C0FF, C800-C8FF)", taprioHandle, nil},
	{"channels", Error, "channel counts are at least 1", channels, nil},
	{"vlan-id", Error, "VLAN ids are 1-4094 and unique per interface", vlanID, nil},
	{"qos-map", Error, "egress-qos-map maps priority 0-15 to PCP 0-7; ingress-qos-map maps PCP 0-7 to priority 0-15", qosMap, nil},
	{"num-tc", Error, "num-tc (of taprio or mqprio) is 1-16", numTC, nil},
	{"map", Error, "map (of taprio or mqprio) has at most 16 entries, each a traffic class < num-tc", prioMap, nil},
	{"queues", Error, "one COUNT@OFFSET per traffic class (of taprio or mqprio); ranges do not overlap (except in txtime-assist mode: queues-shared) and lie within the device's TX queues", queues, nil},
	{"mqprio", Error, "an interface has a taprio or an mqprio root, not both; an mqprio's handle is not one of tsnctl's children's; its mode, shaper and rates are given with hw: true only (the kernel refuses them in software), rates with shaper bw_rlimit and one per traffic class", mqprioRoot, nil},
	{"queues-shared", Warning, "in txtime-assist mode, traffic classes whose queue ranges overlap share those TX queues, which the kernel allows there (warning)", queuesShared, nil},
	{"schedule", Error, fmt.Sprintf("the schedule has at least one entry and at most %d (past 439 entries with a change pending, the kernel's dump leaves the taprio out: neither tc nor tsnctl could read it back)", configs.MaxScheduleEntries), schedule, nil},
	{"interval", Error, "entry intervals are positive and fit in 32 bits of nanoseconds; with --live, each is at least a minimum frame's time at link speed (the kernel's limit: 480 ns at 1 Gb/s, 48 us when the driver reports no speed)", interval, nil},
	{"gates", Error, "gate masks only name traffic classes < num-tc", gates, nil},
	{"cycle-time", Error, "when cycle-time is given, the intervals sum to it; the cycle is at most 2^31 - 1 ns (2.147 s, the kernel's limit); cycle-time-extension is not negative", cycleTime, nil},
	{"base-time-offset", Error, "base-time-offset is not negative and shorter than the cycle", baseTimeOffset, nil},
	{"base-time", Error, "base-time plus base-time-offset fits in 64 bits of nanoseconds", baseTime, nil},
	{"base-time-ahead", Warning, "with --live, a base-time is at most a year ahead of its clock (warning)", baseTimeAhead, nil},
	{"tc-window", Warning, "every traffic class that map uses gets an open window (warning)", tcWindow, nil},
	{"window-frame", Warning, "each window is long enough for one maximum frame at link speed (warning)", windowFrame, nil},
	{"clockid", Error, "a clockid is given (software, txtime-assist) or not (full-offload), and is a known clock; ETF's is CLOCK_TAI", clockID, nil},
	{"mac-merge", Error, "mac-merge: verify-time is 1-128 ms and tx-min-frag-size 60-252 bytes (the kernel's policy); tx-enabled needs pmac-enabled, verify-enabled needs tx-enabled (when the file says both); with --live, the NIC has a MAC merge layer", macMerge, nil},
	{"fp", Error, "fp (frame preemption) has at most num-tc entries, on a taprio in full-offload mode or an mqprio with hw: true (the kernel refuses it otherwise); with --live, on a NIC with a MAC merge layer (ethtool --show-mm)", fpRule, nil},
	{"offload", Error, "with --live, taprio full-offload and ETF offload: true are on a NIC with a PTP hardware clock (ethtool -T): without one, no driver offloads them, and the kernel refuses", offloadClock, nil},
	{"txtime-delay", Error, "txtime-delay is given with txtime-assist only, and is larger than each ETF child's delta", txtimeDelay, nil},
	{"max-sdu", Error, "max-sdu has at most num-tc entries", maxSDU, nil},
	{"etf-queue", Error, "each ETF sits on an existing TX queue of the taprio or mqprio, one ETF per queue, under one of them; or an interface without either has one ETF, on queue 0: the root qdisc, of a single-queue device (with --live, one TX queue)", etfQueue, nil},
	{"etf-root", Warning, "an ETF at the root of a single-queue device (no taprio or mqprio) takes only packets with a txtime: every other packet of the device is dropped (warning)", etfRoot, nil},
	{"etf-delta", Error, "ETF delta is positive", etfDelta, nil},
	{"etf-skip-sock-check", Error, "an ETF under txtime-assist taprio has skip-sock-check", etfSkipSockCheck, nil},
	{"cbs-queue", Error, "each cbs sits on an existing TX queue of the taprio, one child qdisc (cbs or etf) per queue", cbsQueue, nil},
	{"cbs-credits", Error, "cbs idleslope is positive and (with --live) below the port's rate; sendslope, hicredit and locredit are all given (sendslope negative, hicredit not negative, locredit not positive) or none, and then tsnctl derives them for at most two classes (802.1Q's A and B, the lowest queue first) whose reservations fit the port", cbsCredits, nil},
	{"cbs-reservation", Warning, "with --live, the cbs classes of a port reserve at most 75 % of its rate, 802.1Q's default (warning)", cbsReservation, nil},
	{"cbs-slopes", Warning, "given credits agree with the link speed (with --live): sendslope is idleslope minus the port's rate, and locredit is at most what a largest frame (max-frame) costs (warning)", cbsSlopes, nil},
	{"cbs-map", Warning, "a cbs sits on a queue of a traffic class that map sends priorities to (warning)", cbsMap, nil},
	{Name: "stream-windows", Severity: Error, Summary: "on an interface that carries streams, the schedule it runs (after planning) opens the traffic class each stream's priority maps to for at least the wire time of the frames of all streams of that class in each cycle (link speed: the interface's plan: speed, or 1000 Mb/s); for credit-shaped streams (a class) under an mqprio, the cbs on that class's queues reserve at least those frames' bandwidth on the wire", checkFile: streamWindows},
	{Name: "stream-speed", Severity: Error, Summary: "with --live (and under apply and the agent), an interface that carries streams runs at least at the speed its plan is for (plan: speed, or 1000 Mb/s): at a lower speed the planned windows are too short for the streams' frames", checkFile: streamSpeed},
	{Name: "ptp", Severity: Error, Summary: "the ptp: section is one `tsnctl ptp config`, `ptp run` and the agent accept: profile, role, timestamping, domain, sync, and ptp4l options ptp4l knows with values of their type and range (uds_address a file name in the run directory)", checkFile: ptpSection},
}

// run is one check of a file: the facts, what is seen so far, the findings.
type run struct {
	facts    Facts
	seen     map[ifname.Name]bool // interface names, for interface-name
	ifNames  map[string]bool      // every interface name of the file, for vlan-name
	vlans    map[string]string    // VLAN names so far -> their field, for vlan-name
	rule     *Rule                // the rule running now
	findings []Finding
}

// add records a finding of the running rule.
func (r *run) add(pos configs.Pos, key, field, value, msg, fix string) {
	r.findings = append(r.findings, Finding{Rule: r.rule.Name, Severity: r.rule.Severity, File: pos.File, Line: pos.LineOf(key),
		Field: field, Value: value, Msg: msg, Fix: fix})
}

// Check runs every rule on cfg.
func Check(cfg *configs.Config, facts Facts) []Finding {
	r := &run{facts: facts, seen: map[ifname.Name]bool{}, ifNames: map[string]bool{}, vlans: map[string]string{}}
	for _, ifc := range cfg.Interfaces {
		r.ifNames[string(ifc.Name)] = true
	}
	for i := range cfg.Interfaces {
		ifc := &cfg.Interfaces[i]
		path := fmt.Sprintf("interfaces[%d]", i)
		for _, rule := range Rules {
			if rule.check != nil {
				r.rule = rule
				rule.check(r, ifc, path)
			}
		}
		r.seen[ifc.Name] = true
	}
	for _, rule := range Rules {
		if rule.checkFile != nil {
			r.rule = rule
			rule.checkFile(r, cfg)
		}
	}
	sort.SliceStable(r.findings, func(a, b int) bool {
		if r.findings[a].File != r.findings[b].File {
			return r.findings[a].File < r.findings[b].File
		}
		return r.findings[a].Line < r.findings[b].Line
	})
	return r.findings
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Errors are the error findings of a check, as one error: a finding per line.
type Errors []Finding

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, f := range e {
		lines[i] = f.String()
	}
	return strings.Join(lines, "\n  ")
}

// Err returns the error findings of fs as Errors, or nil when there are none.
func Err(fs []Finding) error {
	var errs Errors
	for _, f := range fs {
		if f.Severity == Error {
			errs = append(errs, f)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// ptpSection judges the ptp: section with ptp.Build, the one check `ptp config`, `ptp run` and the
// agent make: what it refuses, lint refuses (the run directory does not change the verdict).
func ptpSection(r *run, cfg *configs.Config) {
	if cfg.PTP == nil {
		return
	}
	_, err := ptp.Build(cfg.PTP, "")
	var ce *configs.Error
	switch {
	case err == nil:
	case errors.As(err, &ce):
		r.findings = append(r.findings, Finding{Rule: r.rule.Name, Severity: r.rule.Severity, File: ce.File, Line: ce.Line,
			Field: ce.Field, Value: ce.Value, Msg: ce.Msg, Fix: "correct ptp." + strings.TrimPrefix(ce.Field, "ptp.") + "; tsnctl ptp config -f FILE shows the ptp4l configuration the section makes"})
	default:
		r.findings = append(r.findings, Finding{Rule: r.rule.Name, Severity: r.rule.Severity, File: cfg.PTP.Pos.File,
			Line: cfg.PTP.Pos.Line, Field: "ptp", Msg: err.Error()})
	}
}

func interfaceName(r *run, ifc *configs.Interface, path string) {
	switch {
	case ifc.Name == "":
		r.add(ifc.Pos, "name", path+".name", "", "missing", "name the interface, e.g. name: eth1")
	case r.seen[ifc.Name]:
		r.add(ifc.Pos, "name", path+".name", string(ifc.Name), "configured twice in this file", "merge the two entries")
	}
}

func channels(r *run, ifc *configs.Interface, path string) {
	ch := ifc.Channels
	if ch == nil {
		return
	}
	for _, v := range []struct {
		key string
		n   *uint32
	}{{"combined", ch.Combined}, {"rx", ch.RX}, {"tx", ch.TX}} {
		if v.n != nil && *v.n == 0 {
			r.add(ch.Pos, v.key, path+".channels."+v.key, "0", "a device needs at least one channel", "give 1 or more")
		}
	}
	if ch.Count == nil && ch.Combined == nil && ch.RX == nil && ch.TX == nil {
		r.add(ifc.Pos, "channels", path+".channels", "{}", "no count given", "channels: 4, or {combined: 4}, or {rx: 4, tx: 4}")
	}
}

func vlanID(r *run, ifc *configs.Interface, path string) {
	ids := map[uint16]bool{}
	for j, v := range ifc.VLANs {
		p := fmt.Sprintf("%s.vlans[%d]", path, j)
		if v.ID < 1 || v.ID > 4094 {
			r.add(v.Pos, "id", p+".id", fmt.Sprint(v.ID), "VLAN ids are 1 to 4094", "pick an id in 1-4094 (0 and 4095 are reserved)")
		} else if ids[v.ID] {
			r.add(v.Pos, "id", p+".id", fmt.Sprint(v.ID), "VLAN id configured twice on "+string(ifc.Name), "remove the duplicate")
		}
		ids[v.ID] = true
	}
}

func vlanName(r *run, ifc *configs.Interface, path string) {
	for j, v := range ifc.VLANs {
		p := fmt.Sprintf("%s.vlans[%d]", path, j)
		name := v.LinkName(ifc.Name)
		switch first, dup := r.vlans[name]; {
		case dup:
			r.add(v.Pos, "id", p+".name", name, "the name of "+first+" too: the second `ip link add` fails (File exists)", "give one of them another name:")
		case r.ifNames[name]:
			r.add(v.Pos, "id", p+".name", name, "an interface of this file has this name", "give the VLAN another name:")
		}
		r.vlans[name] = p
		if l, ok := r.facts.Links[name]; ok && (l.Kind != "vlan" || l.Parent != string(ifc.Name) || l.VLANID != v.ID) {
			r.add(v.Pos, "id", p+".name", name, fmt.Sprintf("%s already exists as %s", name, l),
				fmt.Sprintf("give this VLAN another name:, or remove the link (ip link del %s)", name))
		}
		if v.Name == "" {
			if err := ifname.Check(configs.DefaultVLANName(ifc.Name, v.ID)); err != nil && ifc.Name != "" {
				r.add(v.Pos, "id", p+".name", configs.DefaultVLANName(ifc.Name, v.ID),
					"the default name PARENT.ID is not a valid interface name: "+err.(*ifname.Error).Reason, "give the VLAN a name: of at most 15 bytes")
			}
		}
	}
}

func qosMap(r *run, ifc *configs.Interface, path string) {
	for j, v := range ifc.VLANs {
		p := fmt.Sprintf("%s.vlans[%d]", path, j)
		for _, k := range slices.Sorted(maps.Keys(v.EgressQoSMap)) {
			if k > 15 || v.EgressQoSMap[k] > 7 {
				r.add(v.Pos, "egress-qos-map", p+".egress-qos-map", fmt.Sprintf("%d: %d", k, v.EgressQoSMap[k]),
					"egress maps a socket priority (0-15) to a PCP (0-7)", "use PRIORITY: PCP with priority 0-15 and PCP 0-7")
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v.IngressQoSMap)) {
			if k > 7 || v.IngressQoSMap[k] > 15 {
				r.add(v.Pos, "ingress-qos-map", p+".ingress-qos-map", fmt.Sprintf("%d: %d", k, v.IngressQoSMap[k]),
					"ingress maps a received PCP (0-7) to a socket priority (0-15)", "use PCP: PRIORITY with PCP 0-7 and priority 0-15")
			}
		}
	}
}

// root is what the rules about traffic classes and queues judge of an interface's root qdisc, a
// taprio or an mqprio: both map priorities to classes and classes to TX queue ranges.
type root struct {
	key    string // taprio or mqprio: its key in the file
	numTC  int
	m      []int
	queues []configs.Queue
	shared bool // ranges may overlap (taprio in txtime-assist mode: queues-shared)
	pos    configs.Pos
}

// roots lists the interface's root qdiscs (the mqprio rule refuses two).
func roots(ifc *configs.Interface) []*root {
	var out []*root
	if t := ifc.Taprio; t != nil {
		out = append(out, &root{key: "taprio", numTC: t.NumTC, m: t.Map, queues: t.Queues, shared: t.Mode == taprio.TxtimeAssist, pos: t.Pos})
	}
	if m := ifc.Mqprio; m != nil {
		out = append(out, &root{key: "mqprio", numTC: m.NumTC, m: m.Map, queues: m.Queues, pos: m.Pos})
	}
	return out
}

// rootOf is the interface's root qdisc, the taprio if it has one, or nil.
func rootOf(ifc *configs.Interface) *root {
	if rs := roots(ifc); len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// classes is the number of traffic classes as the other rules judge by: 16 when num-tc itself is
// out of range (num-tc reports that).
func (rt *root) classes() int {
	if rt.numTC < 1 || rt.numTC > 16 {
		return 16
	}
	return rt.numTC
}

// used are the traffic classes map sends priorities to (class 0 when map is empty).
func (rt *root) used() map[int]bool {
	used := map[int]bool{}
	for _, tc := range rt.m {
		if tc >= 0 && tc < rt.classes() {
			used[tc] = true
		}
	}
	if len(rt.m) == 0 {
		used[0] = true // every priority maps to class 0
	}
	return used
}

// txQueues is the number of TX queues the ranges cover.
func (rt *root) txQueues() int {
	total := 0
	for _, q := range rt.queues {
		total = max(total, int(q.Offset)+int(q.Count))
	}
	return total
}

// numClasses and usedClasses are the taprio's (see root).
func numClasses(t *configs.Taprio) int {
	return (&root{numTC: t.NumTC}).classes()
}

func usedClasses(t *configs.Taprio) map[int]bool {
	return (&root{numTC: t.NumTC, m: t.Map}).used()
}

func numTC(r *run, ifc *configs.Interface, path string) {
	for _, rt := range roots(ifc) {
		if rt.numTC < 1 || rt.numTC > 16 {
			r.add(rt.pos, "num-tc", path+"."+rt.key+".num-tc", fmt.Sprint(rt.numTC), rt.key+" takes 1 to 16 traffic classes", "set num-tc to the number of traffic classes, e.g. 4")
		}
	}
}

func taprioHandle(r *run, ifc *configs.Interface, path string) {
	if t := ifc.Taprio; t != nil {
		if h := uint16(t.Handle); h&0xF700 == 0xE000 || h&0xF700 == 0xC000 {
			r.add(t.Pos, "handle", path+".taprio.handle", fmt.Sprintf("%x", h),
				"tsnctl names its ETF children E0QQ: and E8QQ:, its cbs children C0QQ: and C8QQ: (QQ: the queue), and this handle is one of them", "use another handle, e.g. 100")
		}
	}
}

func prioMap(r *run, ifc *configs.Interface, path string) {
	for _, rt := range roots(ifc) {
		p := path + "." + rt.key
		if len(rt.m) > 16 {
			r.add(rt.pos, "map", p+".map", fmt.Sprint(len(rt.m))+" entries", "map has one entry per socket priority 0-15", "give at most 16 entries")
		}
		n := rt.classes()
		for i, tc := range rt.m {
			if tc < 0 || tc >= n {
				r.add(rt.pos, "map", fmt.Sprintf("%s.map[%d]", p, i), fmt.Sprint(tc),
					fmt.Sprintf("priority %d maps to traffic class %d, but num-tc is %d", i, tc, rt.numTC), fmt.Sprintf("use a class 0-%d", n-1))
			}
		}
	}
}

func queues(r *run, ifc *configs.Interface, path string) {
	for _, rt := range roots(ifc) {
		p := path + "." + rt.key
		if len(rt.queues) != rt.numTC {
			r.add(rt.pos, "queues", p+".queues", fmt.Sprintf("%d ranges", len(rt.queues)),
				fmt.Sprintf("need one COUNT@OFFSET per traffic class (num-tc %d)", rt.numTC), `e.g. queues: ["1@0", "1@1", "1@2", "1@3"]`)
		}
		txq, haveTxq := r.facts.TxQueues[string(ifc.Name)]
		owner := map[int]int{}
		for i, q := range rt.queues {
			for k := int(q.Offset); k < int(q.Offset)+int(q.Count); k++ {
				if prev, ok := owner[k]; ok && !rt.shared { // queues-shared's, in txtime-assist
					r.add(rt.pos, "queues", fmt.Sprintf("%s.queues[%d]", p, i), fmt.Sprintf("%d@%d", q.Count, q.Offset),
						fmt.Sprintf("TX queue %d is also in traffic class %d's range", k, prev), "make the ranges disjoint")
					break
				}
				owner[k] = i
			}
			if haveTxq && int(q.Offset)+int(q.Count) > txq {
				r.add(rt.pos, "queues", fmt.Sprintf("%s.queues[%d]", p, i), fmt.Sprintf("%d@%d", q.Count, q.Offset),
					fmt.Sprintf("%s has %d TX queues (0-%d)", ifc.Name, txq, txq-1), "raise channels: or use lower queues")
			}
		}
	}
}

// mqprioRoot: one root per interface, and what the kernel takes of an mqprio in software.
func mqprioRoot(r *run, ifc *configs.Interface, path string) {
	m := ifc.Mqprio
	if m == nil {
		return
	}
	p := path + ".mqprio"
	if ifc.Taprio != nil {
		r.add(m.Pos, "num-tc", p, "", "an interface has one root qdisc: a taprio: or an mqprio:, not both", "remove one (taprio has the gates; mqprio only the mapping)")
	}
	if h := uint16(m.Handle); h&0xF700 == 0xE000 || h&0xF700 == 0xC000 {
		r.add(m.Pos, "handle", p+".handle", fmt.Sprintf("%x", h),
			"tsnctl names its ETF children E0QQ: and E8QQ:, its cbs children C0QQ: and C8QQ: (QQ: the queue), and this handle is one of them", "use another handle, e.g. 100")
	}
	for _, k := range []struct {
		key string
		set bool
	}{{"mode", m.Mode != nil}, {"shaper", m.Shaper != nil}, {"min-rate", len(m.MinRate) > 0}, {"max-rate", len(m.MaxRate) > 0}, {"fp", len(m.FP) > 0}} {
		if k.set && !m.HW {
			r.add(m.Pos, k.key, p+"."+k.key, "", "is handed to the NIC, and only with hw: true (the kernel refuses it in software: \"mqprio TCA_OPTIONS can only contain netlink attributes in hardware mode\")",
				"add hw: true (the NIC must offload mqprio), or remove "+k.key)
		}
	}
	for _, k := range []struct {
		key   string
		rates []configs.Rate
	}{{"min-rate", m.MinRate}, {"max-rate", m.MaxRate}} {
		switch {
		case len(k.rates) == 0:
		case m.Shaper == nil || *m.Shaper != mqprio.ShaperBWRlimit:
			r.add(m.Pos, k.key, p+"."+k.key, "", "rates are the bw_rlimit shaper's (the kernel: \"min_rate accepted only when shaper is in bw_rlimit mode\")", "shaper: bw_rlimit")
		case len(k.rates) != m.NumTC:
			r.add(m.Pos, k.key, p+"."+k.key, fmt.Sprintf("%d rates", len(k.rates)), fmt.Sprintf("one rate per traffic class (num-tc %d)", m.NumTC), "give num-tc rates")
		}
	}
}

// queuesShared: in txtime-assist mode the kernel lets traffic classes share TX queues (tc-taprio(8)'s
// own example: queues 1@0 1@0 1@0). Packets of the classes sharing a queue then wait in one queue
// (one ETF, in txtime order) and the gates only set their txtimes: tsnctl takes it, and says so.
func queuesShared(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil || t.Mode != taprio.TxtimeAssist {
		return
	}
	owner := map[int]int{}
	for i, q := range t.Queues {
		for k := int(q.Offset); k < int(q.Offset)+int(q.Count); k++ {
			if prev, ok := owner[k]; ok {
				r.add(t.Pos, "queues", fmt.Sprintf("%s.taprio.queues[%d]", path, i), fmt.Sprintf("%d@%d", q.Count, q.Offset),
					fmt.Sprintf("TX queue %d is also traffic class %d's: txtime-assist allows it, and the classes' packets then share the queue (and its ETF, in txtime order)", k, prev),
					"make the ranges disjoint to give each class its own queue")
				break
			}
			owner[k] = i
		}
	}
}

// clockID: an unknown clock, mode or command is refused when the file is read (configs holds
// typed values); this rule checks that a clock is given where one is needed.
func clockID(r *run, ifc *configs.Interface, path string) {
	if t := ifc.Taprio; t != nil {
		p := path + ".taprio"
		if t.Mode == taprio.FullOffload {
			if t.ClockID != nil {
				r.add(t.Pos, "clockid", p+".clockid", t.ClockID.String(), "full-offload runs on the NIC's PTP clock and takes no clockid", "remove clockid")
			}
		} else if t.ClockID == nil {
			r.add(t.Pos, "clockid", p+".clockid", "", "software and txtime-assist taprio need a clock", "clockid: CLOCK_TAI")
		}
	}
	for j, e := range ifc.ETF {
		if e.ClockID == nil {
			r.add(e.Pos, "clockid", fmt.Sprintf("%s.etf[%d].clockid", path, j), "", "ETF needs a clock", "clockid: CLOCK_TAI")
		} else if *e.ClockID != clock.TAI {
			r.add(e.Pos, "clockid", fmt.Sprintf("%s.etf[%d].clockid", path, j), e.ClockID.String(),
				"ETF runs on CLOCK_TAI only (the kernel refuses others: \"Invalid clockid. CLOCK_TAI must be used\")", "clockid: CLOCK_TAI")
		}
	}
}

func macMerge(r *run, ifc *configs.Interface, path string) {
	m := ifc.MACMerge
	if m == nil {
		return
	}
	p := path + ".mac-merge"
	off := func(b *bool) bool { return b != nil && !*b }
	on := func(b *bool) bool { return b != nil && *b }
	switch {
	case m.VerifyTime != nil && (*m.VerifyTime < 1 || *m.VerifyTime > 128):
		r.add(m.Pos, "verify-time", p+".verify-time", fmt.Sprint(*m.VerifyTime), "the kernel takes 1 to 128 ms (and at most the NIC's maximum)", "e.g. verify-time: 10")
	case m.TxMinFragSize != nil && (*m.TxMinFragSize < 60 || *m.TxMinFragSize > 252):
		r.add(m.Pos, "tx-min-frag-size", p+".tx-min-frag-size", fmt.Sprint(*m.TxMinFragSize), "the kernel takes 60 to 252 bytes (802.3br's 60, 124, 188, 252)", "e.g. tx-min-frag-size: 60")
	case on(m.TxEnabled) && off(m.PMACEnabled):
		r.add(m.Pos, "tx-enabled", p+".tx-enabled", "true", "preemptible frames are sent by the pMAC (the kernel: \"TX enabled requires pMAC enabled\")", "pmac-enabled: true")
	case on(m.VerifyEnabled) && off(m.TxEnabled):
		r.add(m.Pos, "verify-enabled", p+".verify-enabled", "true", "verification is of the TX path (the kernel: \"Verification requires TX enabled\")", "tx-enabled: true")
	}
	if mm, known := r.facts.MACMerge[string(ifc.Name)]; known && !mm {
		r.add(m.Pos, "", p, "", fmt.Sprintf("%s has no MAC merge layer (ethtool --show-mm %s: not supported)", ifc.Name, ifc.Name), "remove mac-merge: (tsnctl check lists each NIC's MAC merge layer)")
	}
}

// fpRule: frame preemption is the NIC's (the MAC merge layer of 802.3br): taprio takes fp in full
// offload only ("Preemption only supported with full offload"), mqprio with hw 1 only, and a NIC
// without a MAC merge layer takes it in neither.
func fpRule(r *run, ifc *configs.Interface, path string) {
	check := func(key string, fp []configs.FP, numTC int, pos configs.Pos, allowed bool, fix string) {
		if len(fp) == 0 {
			return
		}
		p := path + "." + key + ".fp"
		mm, known := r.facts.MACMerge[string(ifc.Name)]
		switch {
		case numTC > 0 && len(fp) > numTC:
			r.add(pos, "fp", p, fmt.Sprintf("%d entries", len(fp)), fmt.Sprintf("one entry per traffic class, num-tc is %d", numTC), "remove the extra entries")
		case !allowed:
			r.add(pos, "fp", p, "", "frame preemption is the NIC's: taprio takes it in full-offload mode only (the kernel: \"Preemption only supported with full offload\")", fix)
		case known && !mm:
			r.add(pos, "fp", p, "", fmt.Sprintf("%s has no MAC merge layer (ethtool --show-mm %s: not supported): no class can be preemptible there", ifc.Name, ifc.Name),
				"remove fp (tsnctl check lists each NIC's MAC merge layer)")
		}
	}
	if t := ifc.Taprio; t != nil {
		check("taprio", t.FP, t.NumTC, t.Pos, t.Mode == taprio.FullOffload, "mode: full-offload, or remove fp")
	}
	if m := ifc.Mqprio; m != nil {
		check("mqprio", m.FP, m.NumTC, m.Pos, true, "") // without hw: true, the mqprio rule's
	}
}

// offloadClock: taprio's full offload runs the schedule on the NIC's PTP clock, and ETF's launch
// time is a time of that clock; a NIC without one (check says "no PHC") offloads neither.
func offloadClock(r *run, ifc *configs.Interface, path string) {
	phc, known := r.facts.PHC[string(ifc.Name)]
	if !known || phc {
		return
	}
	if t := ifc.Taprio; t != nil && t.Mode == taprio.FullOffload {
		r.add(t.Pos, "mode", path+".taprio.mode", "full-offload", fmt.Sprintf("%s has no PTP hardware clock (ethtool -T %s): full offload runs the schedule on the NIC's clock, so this NIC cannot", ifc.Name, ifc.Name),
			"mode: software or txtime-assist (tsnctl check lists the NICs with a PTP clock)")
	}
	for j, e := range ifc.ETF {
		if e.Offload == configs.OffloadTrue {
			r.add(e.Pos, "offload", fmt.Sprintf("%s.etf[%d].offload", path, j), "true", fmt.Sprintf("%s has no PTP hardware clock (ethtool -T %s): no launch-time offload without one", ifc.Name, ifc.Name),
				"offload: auto (falls back to software with a warning) or false")
		}
	}
}

func txtimeDelay(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil {
		return
	}
	p := path + ".taprio"
	switch {
	case t.TxtimeDelay != nil && t.Mode != taprio.TxtimeAssist:
		r.add(t.Pos, "txtime-delay", p+".txtime-delay", t.TxtimeDelay.String(), "txtime-delay only applies to mode txtime-assist", "remove it, or set mode: txtime-assist")
	case t.TxtimeDelay == nil && t.Mode == taprio.TxtimeAssist:
		r.add(t.Pos, "mode", p+".txtime-delay", "", "txtime-assist needs a txtime-delay", "txtime-delay: 300us (larger than the ETF delta)")
	case t.TxtimeDelay != nil && (*t.TxtimeDelay <= 0 || *t.TxtimeDelay > 1<<32-1):
		r.add(t.Pos, "txtime-delay", p+".txtime-delay", t.TxtimeDelay.String(), "must be positive and below 4.29 s", "e.g. 300us")
	}
	if t.TxtimeDelay != nil {
		for j, e := range ifc.ETF {
			if e.Delta >= *t.TxtimeDelay {
				r.add(e.Pos, "delta", fmt.Sprintf("%s.etf[%d].delta", path, j), e.Delta.String(),
					fmt.Sprintf("txtime-delay (%s) must be larger than the ETF delta", t.TxtimeDelay), "raise txtime-delay or lower the ETF delta")
			}
		}
	}
}

func maxSDU(r *run, ifc *configs.Interface, path string) {
	if t := ifc.Taprio; t != nil && len(t.MaxSDU) > t.NumTC && t.NumTC > 0 {
		r.add(t.Pos, "max-sdu", path+".taprio.max-sdu", fmt.Sprint(len(t.MaxSDU))+" entries", fmt.Sprintf("one entry per traffic class, num-tc is %d", t.NumTC), "remove the extra entries")
	}
}

func schedule(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	switch {
	case t == nil:
	case len(t.Schedule) == 0:
		r.add(t.Pos, "schedule", path+".taprio.schedule", "", "no entries", "list gate entries: - {cmd: S, gates: 0x01, interval: 200us}")
	case len(t.Schedule) > configs.MaxScheduleEntries:
		r.add(t.Schedule[configs.MaxScheduleEntries].Pos, "schedule", path+".taprio.schedule", fmt.Sprintf("%d entries", len(t.Schedule)),
			fmt.Sprintf("more than %d entries (the most tsnctl takes: longer lists cannot all be read back while a change is pending)", configs.MaxScheduleEntries),
			"merge adjacent entries with the same gates, or use a shorter cycle")
	}
}

// maxInterval is the longest entry interval: the kernel's attribute is 32 bits of nanoseconds.
const maxInterval = 1<<32 - 1

// minInterval is the shortest entry interval taprio takes at a link speed: the time of a
// minimum Ethernet frame without FCS (ETH_ZLEN, 60 bytes) at taprio's picos_per_byte (8·10⁶ /
// speed), else "Invalid interval for schedule entry".
func minInterval(speedMbps int) configs.Duration {
	return configs.Duration(60 * (8000000 / int64(speedMbps)) / 1000)
}

func interval(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil {
		return
	}
	speed, note, known := r.speedOf(ifc)
	for i, e := range t.Schedule {
		switch {
		case e.Interval <= 0 || e.Interval > maxInterval:
			r.add(e.Pos, "interval", fmt.Sprintf("%s.taprio.schedule[%d].interval", path, i), e.Interval.String(),
				"an interval must be positive and below 4.29 s", "e.g. interval: 100us")
		case known && e.Interval < minInterval(speed):
			r.add(e.Pos, "interval", fmt.Sprintf("%s.taprio.schedule[%d].interval", path, i), e.Interval.String(),
				fmt.Sprintf("shorter than a minimum frame (60 bytes) at %d Mb/s%s, %s: the kernel refuses it (\"Invalid interval for schedule entry\")", speed, note, minInterval(speed)),
				fmt.Sprintf("interval: %s or longer", minInterval(speed)))
		}
	}
}

func gates(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil {
		return
	}
	n := numClasses(t)
	for i, e := range t.Schedule {
		if uint32(e.Gates)>>uint(n) != 0 {
			r.add(e.Pos, "gates", fmt.Sprintf("%s.taprio.schedule[%d].gates", path, i), fmt.Sprintf("0x%02x", uint32(e.Gates)),
				fmt.Sprintf("opens gates of traffic classes >= num-tc (%d)", t.NumTC), fmt.Sprintf("use bits 0-%d only (mask <= 0x%x)", n-1, 1<<n-1))
		}
	}
}

// maxCycle is the longest cycle taprio takes: INT_MAX ns, given or summed ("'cycle_time' is too big").
const maxCycle = math.MaxInt32

func cycleTime(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil {
		return
	}
	p := path + ".taprio"
	var sum int64
	for _, e := range t.Schedule {
		sum += int64(e.Interval) // 32-bit intervals, at most configs.MaxScheduleEntries of them past the schedule rule: no overflow
	}
	switch {
	case t.CycleTime != nil && len(t.Schedule) > 0 && int64(*t.CycleTime) != sum:
		r.add(t.Pos, "cycle-time", p+".cycle-time", t.CycleTime.String(),
			fmt.Sprintf("the intervals sum to %s", configs.Duration(sum)), fmt.Sprintf("set cycle-time: %s or change the intervals", configs.Duration(sum)))
	case sum > maxCycle:
		r.add(t.Pos, "schedule", p+".schedule", configs.Duration(sum).String(),
			fmt.Sprintf("the cycle (the intervals' sum) is longer than the kernel's limit of %s (2^31 - 1 ns): it refuses it (\"'cycle_time' is too big\")", configs.Duration(maxCycle)),
			"shorten the intervals: a cycle of at most 2.147 s")
	}
	if t.CycleTimeExtension != nil && *t.CycleTimeExtension < 0 {
		r.add(t.Pos, "cycle-time-extension", p+".cycle-time-extension", t.CycleTimeExtension.String(), "must not be negative", "remove it or give a positive duration")
	}
}

// cycleOf is the schedule's cycle, and false when it has none that the other rules accept (no
// entries, an interval out of range, a cycle-time that is not positive): rules that divide by the
// cycle or add to it run only on a cycle the interval and cycle-time rules let through.
func cycleOf(t *configs.Taprio) (configs.Duration, bool) {
	if len(t.Schedule) == 0 {
		return 0, false
	}
	var sum configs.Duration
	for _, e := range t.Schedule {
		if e.Interval <= 0 || e.Interval > maxInterval {
			return 0, false
		}
		sum += e.Interval // at most len(schedule) × 2^32: no overflow below 2^31 entries
	}
	if t.CycleTime != nil {
		if *t.CycleTime <= 0 {
			return 0, false
		}
		return *t.CycleTime, true
	}
	return sum, true
}

func baseTimeOffset(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil || t.BaseTimeOffset == nil {
		return
	}
	cycle, ok := cycleOf(t)
	if !ok {
		return // the interval or cycle-time rule says why
	}
	if off := *t.BaseTimeOffset; off < 0 || off >= cycle {
		r.add(t.Pos, "base-time-offset", path+".taprio.base-time-offset", off.String(),
			fmt.Sprintf("must lie within the %s cycle (0 to %s)", cycle, cycle-1), fmt.Sprintf("give the phase modulo the cycle, e.g. %s", ((off%cycle)+cycle)%cycle))
	}
}

// maxBaseTimeAhead: a base-time further ahead of its clock than this is almost surely a mistake (a
// time in the wrong unit, or for another clock): the schedule would not start for that long.
const maxBaseTimeAhead = 366 * 24 * time.Hour

func baseTime(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil || t.BaseTime.Auto {
		return
	}
	p := path + ".taprio.base-time"
	bt := t.BaseTime.NS
	if t.BaseTimeOffset != nil && *t.BaseTimeOffset > 0 && bt > math.MaxInt64-int64(*t.BaseTimeOffset) {
		r.add(t.Pos, "base-time", p, strconv.FormatInt(bt, 10),
			fmt.Sprintf("plus base-time-offset %s passes the largest time the kernel takes (%d ns, year 2262)", *t.BaseTimeOffset, int64(math.MaxInt64)),
			"give a base-time in TAI nanoseconds near now, e.g. base-time: auto")
	}
}

func baseTimeAhead(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil || t.BaseTime.Auto {
		return
	}
	bt, p := t.BaseTime.NS, path+".taprio.base-time"
	id := clock.TAI
	if t.ClockID != nil {
		id = *t.ClockID
	}
	now, known := r.facts.Now[id]
	if !known {
		return
	}
	if ahead := bt - now; ahead > int64(maxBaseTimeAhead) {
		r.add(t.Pos, "base-time", p, strconv.FormatInt(bt, 10),
			fmt.Sprintf("is %.0f days ahead of %s: the schedule would not start before then", float64(ahead)/float64(24*time.Hour), id),
			"give a time near now in nanoseconds of that clock, or base-time: auto")
	}
}

func tcWindow(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil || len(t.Schedule) == 0 {
		return
	}
	for _, tc := range slices.Sorted(maps.Keys(usedClasses(t))) {
		if len(Windows(t.Schedule, tc)) == 0 {
			r.add(t.Pos, "schedule", path+".taprio.schedule", "",
				fmt.Sprintf("traffic class %d (priorities %s) never has an open gate: its packets will wait forever", tc, prioritiesOf(t.Map, tc)),
				fmt.Sprintf("open bit 0x%02x in some entry, or map those priorities elsewhere", 1<<tc))
		}
	}
}

// windowFrame: a window must fit one frame of the class's max-sdu (1500 bytes) at the link's speed
// (1000 Mb/s when unknown; 10 Mb/s, as taprio assumes, when the driver reports none).
func windowFrame(r *run, ifc *configs.Interface, path string) {
	t := ifc.Taprio
	if t == nil || len(t.Schedule) == 0 {
		return
	}
	speed, speedNote, _ := r.speedOf(ifc)
	for _, tc := range slices.Sorted(maps.Keys(usedClasses(t))) {
		sdu := 1500
		if tc < len(t.MaxSDU) && t.MaxSDU[tc] > 0 {
			sdu = int(t.MaxSDU[tc])
		}
		wire := frame.Bytes(sdu, false) // a tagged frame of max-sdu bytes of payload
		need := int64(frame.Time(wire, speed))
		for _, w := range Windows(t.Schedule, tc) {
			if w.Length < need {
				e := t.Schedule[w.Start]
				r.add(e.Pos, "interval", fmt.Sprintf("%s.taprio.schedule[%d]", path, w.Start), configs.Duration(w.Length).String(),
					fmt.Sprintf("traffic class %d's window is shorter than one %d-byte frame at %d Mb/s (%s on the wire)%s", tc, sdu, speed, time.Duration(need), speedNote),
					"lengthen the window or set a smaller max-sdu for this class")
			}
		}
	}
}

func prioritiesOf(m []int, tc int) string {
	var ps []string
	for i, v := range m {
		if v == tc {
			ps = append(ps, fmt.Sprint(i))
		}
	}
	if len(m) == 0 {
		return "all"
	}
	return strings.Join(ps, ",")
}

// Windows returns the open windows of traffic class tc (see taprio.Windows).
func Windows(entries []configs.Entry, tc int) []taprio.Window {
	es := make([]taprio.Entry, len(entries))
	for i, e := range entries {
		es[i] = taprio.Entry{Gates: uint32(e.Gates), Interval: uint32(e.Interval)}
	}
	return taprio.Windows(es, tc)
}

// childQueue judges where a child qdisc (an etf or a cbs) of the root sits: under a root, on a
// TX queue its ranges cover, one of its kind per queue. It reports whether the queue is one the
// rest of the rule can judge.
func (r *run) childQueue(rt *root, kind string, pos configs.Pos, p string, queue *int, used map[int]bool) bool {
	switch {
	case rt == nil:
		r.add(pos, "queue", p, "", kind+" is placed under a TX queue of a taprio or mqprio, and this interface has neither", "add a taprio: or mqprio: section")
	case queue == nil:
		r.add(pos, "queue", p+".queue", "", "missing", "queue: N (the TX queue, tc parent HANDLE:N+1)")
	case *queue < 0 || *queue >= rt.txQueues():
		r.add(pos, "queue", p+".queue", fmt.Sprint(*queue), fmt.Sprintf("the %s has TX queues 0-%d", rt.key, rt.txQueues()-1), "use a queue the "+rt.key+"'s queues: ranges cover")
	case used[*queue]:
		r.add(pos, "queue", p+".queue", fmt.Sprint(*queue), "two "+kind+" qdiscs on one queue", "remove the duplicate")
	default:
		used[*queue] = true
		return true
	}
	return false
}

// RootETF reports whether the interface's ETF is its root qdisc: its one ETF, on queue 0, without a
// taprio or mqprio (tc's "parent root"): what a single-queue device takes.
func RootETF(ifc *configs.Interface) bool {
	return ifc.Taprio == nil && ifc.Mqprio == nil && len(ifc.ETF) == 1 && ifc.ETF[0].Queue != nil && *ifc.ETF[0].Queue == 0
}

func etfQueue(r *run, ifc *configs.Interface, path string) {
	rt, used := rootOf(ifc), map[int]bool{}
	if RootETF(ifc) {
		if txq, ok := r.facts.TxQueues[string(ifc.Name)]; ok && txq > 1 {
			e := ifc.ETF[0]
			r.add(e.Pos, "queue", fmt.Sprintf("%s.etf[0].queue", path), "0",
				fmt.Sprintf("without a taprio or mqprio the ETF is the root qdisc, which a single-queue device takes, and %s has %d TX queues", ifc.Name, txq),
				"add an mqprio: (or taprio:) and put the ETF under one of its queues, or channels: 1")
		}
		return
	}
	for j, e := range ifc.ETF {
		r.childQueue(rt, "ETF", e.Pos, fmt.Sprintf("%s.etf[%d]", path, j), e.Queue, used)
	}
}

// etfRoot: ETF drops a packet whose txtime has passed, and a packet without one (tstamp 0) always
// has: at the root, every packet of the device that was not sent with SO_TXTIME is dropped, ARP's
// too, whatever skip-sock-check says.
func etfRoot(r *run, ifc *configs.Interface, path string) {
	if RootETF(ifc) {
		e := ifc.ETF[0]
		r.add(e.Pos, "queue", fmt.Sprintf("%s.etf[0]", path), "root",
			fmt.Sprintf("this ETF is %s's root qdisc: it drops every packet without a txtime (ARP, ping, any socket without SO_TXTIME), so the device carries only the scheduled traffic", ifc.Name),
			"use a device of its own for the stream, or an mqprio with the ETF under one queue and the rest on the others")
	}
}

func etfDelta(r *run, ifc *configs.Interface, path string) {
	for j, e := range ifc.ETF {
		if e.Delta <= 0 || e.Delta > 1<<31-1 {
			r.add(e.Pos, "delta", fmt.Sprintf("%s.etf[%d].delta", path, j), e.Delta.String(), "delta must be positive (and below 2.1 s)", "e.g. delta: 500us")
		}
	}
}

func etfSkipSockCheck(r *run, ifc *configs.Interface, path string) {
	if ifc.Taprio == nil || ifc.Taprio.Mode != taprio.TxtimeAssist {
		return
	}
	for j, e := range ifc.ETF {
		if !e.SkipSockCheck {
			r.add(e.Pos, "skip-sock-check", fmt.Sprintf("%s.etf[%d].skip-sock-check", path, j), "false",
				"under txtime-assist, taprio sets each packet's txtime itself; ETF would drop packets from sockets without SO_TXTIME", "skip-sock-check: true")
		}
	}
}

// streamWindows checks the schedule an interface runs against the streams it carries: the frames
// of the streams whose priority maps to a traffic class must fit in that class's open-gate time in
// each cycle. The streams come from the configuration as written (cfg.Source, when cfg is what
// plan.Expand made of it) or from cfg itself. A stream's socket priority is its PCP, as plan gives
// it (6 when absent). configs refuses a hand-written taprio on an interface that carries streams,
// so the schedules this rule sees are plan's: it checks plan's output independently of plan.
// streamCredits is stream-windows for credit-shaped streams under an mqprio: the cbs on the TX
// queues of the traffic class a stream's priority maps to reserve (idleslope) at least the
// bandwidth the frames of all the class's streams take on the wire.
func streamCredits(r *run, src *configs.Config, ifc *configs.Interface, i int) {
	m := ifc.Mqprio
	need := map[int]*big.Rat{}
	names := map[int][]string{}
	for _, s := range src.Streams {
		if s.Interface != ifc.Name || s.Period <= 0 || s.Class == configs.NoClass {
			continue
		}
		prio, tc := int(s.PCPOrDefault()), 0
		if prio < len(m.Map) {
			tc = m.Map[prio]
		}
		if tc < 0 || tc >= len(m.Queues) {
			continue // the map and queues rules say why
		}
		if need[tc] == nil {
			need[tc] = new(big.Rat)
		}
		need[tc].Add(need[tc], s.Bandwidth()) // bit/s
		names[tc] = append(names[tc], s.Name)
	}
	for _, tc := range slices.Sorted(maps.Keys(need)) {
		q := m.Queues[tc]
		var idle int64
		for _, c := range ifc.CBS {
			if c.Queue != nil && c.IdleSlope != nil && *c.Queue >= int(q.Offset) && *c.Queue < int(q.Offset)+int(q.Count) {
				idle += *c.IdleSlope
			}
		}
		if need[tc].Cmp(big.NewRat(idle*1000, 1)) > 0 {
			f, _ := need[tc].Float64()
			r.add(m.Pos, "queues", fmt.Sprintf("interfaces[%d].cbs", i), fmt.Sprintf("%d kbit/s", idle),
				fmt.Sprintf("traffic class %d (streams %s) reserves %d kbit/s with the cbs on its queues %d@%d, less than the %.0f kbit/s its streams' frames take on the wire",
					tc, strings.Join(names[tc], ", "), idle, q.Count, q.Offset, math.Ceil(f/1000)),
				"raise the class's idleslope, map the streams' priorities to another class, or let tsnctl plan write the cbs")
		}
	}
}

// streamSpeed: the windows of a plan are as long as its frames take at the speed it is for; a link
// that runs slower (as the driver reports it) would send them past their windows. A link that does
// not report its speed (down) is window-frame's warning.
func streamSpeed(r *run, cfg *configs.Config) {
	src := cfg
	if cfg.Source != nil {
		src = cfg.Source
	}
	for i, ifc := range src.Interfaces {
		carries := slices.ContainsFunc(src.Streams, func(s configs.Stream) bool { return s.Interface == ifc.Name })
		live, ok := r.facts.SpeedMbps[string(ifc.Name)]
		if !carries || !ok || live <= 0 || live >= ifc.Plan.Speed() {
			continue
		}
		pos, field := ifc.Pos, fmt.Sprintf("interfaces[%d].plan.speed", i)
		if ifc.Plan != nil {
			pos = ifc.Plan.Pos
		}
		r.add(pos, "speed", field, fmt.Sprint(ifc.Plan.Speed()),
			fmt.Sprintf("%s runs at %d Mb/s, slower than the %d Mb/s its streams are planned for: their frames would pass their windows", ifc.Name, live, ifc.Plan.Speed()),
			fmt.Sprintf("plan: {speed: %d}", live))
	}
}

func streamWindows(r *run, cfg *configs.Config) {
	src := cfg
	if cfg.Source != nil {
		src = cfg.Source
	}
	for i := range cfg.Interfaces {
		ifc := &cfg.Interfaces[i]
		t := ifc.Taprio
		if t == nil {
			if ifc.Mqprio != nil {
				streamCredits(r, src, ifc, i)
			}
			continue
		}
		cycle, ok := cycleOf(t)
		if !ok {
			continue // the interval and cycle-time rules say why
		}
		speed := configs.DefaultSpeedMbps
		for _, w := range src.Interfaces {
			if w.Name == ifc.Name {
				speed = w.Plan.Speed()
			}
		}
		need := map[int]time.Duration{}
		names := map[int][]string{}
		for _, s := range src.Streams {
			if s.Interface != ifc.Name || s.Period <= 0 {
				continue
			}
			prio, tc := int(s.PCPOrDefault()), 0
			if prio < len(t.Map) {
				tc = t.Map[prio]
			}
			if tc < 0 || tc >= numClasses(t) {
				continue // the map rule says why
			}
			perCycle := (time.Duration(cycle) + time.Duration(s.Period) - 1) / time.Duration(s.Period) // periods begun in a cycle
			need[tc] += perCycle * time.Duration(s.FramesOrOne()) * frame.Time(frame.Bytes(s.Size, s.UDP()), speed)
			names[tc] = append(names[tc], s.Name)
		}
		for _, tc := range slices.Sorted(maps.Keys(need)) {
			var open time.Duration
			for _, e := range t.Schedule {
				if uint32(e.Gates)&(1<<tc) != 0 {
					open += time.Duration(e.Interval)
				}
			}
			if need[tc] > open {
				r.add(t.Pos, "schedule", fmt.Sprintf("interfaces[%d].taprio.schedule", i), fmt.Sprintf("%v open of %v", open, time.Duration(cycle)),
					fmt.Sprintf("traffic class %d (streams %s) is open %v per %v cycle, less than the %v its streams' frames take on the wire at %d Mb/s",
						tc, strings.Join(names[tc], ", "), open, time.Duration(cycle), need[tc], speed),
					"open the class longer, map the streams' priorities to another class, or let tsnctl plan write the schedule")
			}
		}
	}
}
