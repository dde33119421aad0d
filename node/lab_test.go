//go:build lab

package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// These tests run in the virtual lab (Debian's 6.12 kernel) and compare what tsnctl configured with
// iproute2's and ethtool's own read-back: tc -j -d qdisc show, ip -j -d link show, ethtool -l.

var nsCounter atomic.Int32

// labNetns makes a namespace with a veth pair v0/v1 of n queues each.
func labNetns(t *testing.T, queues int) string {
	t.Helper()
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	ns := fmt.Sprintf("lab%d", nsCounter.Add(1))
	labtest.Run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	q := fmt.Sprint(queues)
	labtest.Run(t, "ip", "-n", ns, "link", "add", "name", "v0", "numtxqueues", q, "numrxqueues", q, "type", "veth",
		"peer", "name", "v1", "numtxqueues", q, "numrxqueues", q)
	return ns
}

func nsArgs(ns string) []string {
	if ns == "" {
		return nil
	}
	return []string{"-n", ns}
}

type tcQdisc struct {
	Kind    string         `json:"kind"`
	Handle  string         `json:"handle"`
	Parent  string         `json:"parent"`
	Root    bool           `json:"root"`
	Options map[string]any `json:"options"`
}

func tcShow(t *testing.T, ns, dev string) []tcQdisc {
	t.Helper()
	out := labtest.Run(t, append(append([]string{"tc"}, nsArgs(ns)...), "-j", "-d", "qdisc", "show", "dev", dev)...)
	var qs []tcQdisc
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber() // base-times do not fit a float64
	if err := dec.Decode(&qs); err != nil {
		t.Fatalf("tc -j: %v\n%s", err, out)
	}
	return qs
}

func ipLink(t *testing.T, ns, dev string) map[string]any {
	t.Helper()
	out := labtest.Run(t, append(append([]string{"ip"}, nsArgs(ns)...), "-j", "-d", "link", "show", "dev", dev)...)
	var ls []map[string]any
	if err := json.Unmarshal([]byte(out), &ls); err != nil || len(ls) != 1 {
		t.Fatalf("ip -j: %v\n%s", err, out)
	}
	return ls[0]
}

// ethtoolL returns "Current hardware settings" of ethtool -l: rx, tx, combined (-1 for n/a).
func ethtoolL(t *testing.T, ns, dev string) map[string]int {
	t.Helper()
	args := []string{"ethtool", "-l", dev}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out := labtest.Run(t, args...)
	cur := out[strings.Index(out, "Current hardware settings"):]
	res := map[string]int{}
	for _, k := range []string{"RX", "TX", "Combined"} {
		m := regexp.MustCompile(k + `:\s+(\S+)`).FindStringSubmatch(cur)
		v := -1
		if m != nil && m[1] != "n/a" {
			fmt.Sscan(m[1], &v)
		}
		res[strings.ToLower(k)] = v
	}
	return res
}

func prepare(t *testing.T, ns, text string) (*System, *Prepared, error) {
	t.Helper()
	cfg, err := configs.Parse("lab.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	now, err := clock.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p, err := sys.Prepare(cfg, now)
	return sys, p, err
}

func apply(t *testing.T, ns, text string) (*Prepared, *Result) {
	t.Helper()
	sys, p, err := prepare(t, ns, text)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	res, err := sys.Apply(p)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return p, res
}

func num(v any) int64 {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case float64:
		return int64(x)
	case string:
		var n int64
		fmt.Sscan(x, &n)
		return n
	}
	return -1
}

func hexNum(v any) uint32 {
	var n uint32
	fmt.Sscanf(strings.TrimPrefix(fmt.Sprint(v), "0x"), "%x", &n)
	return n
}

// checkAgainstIproute2 compares every field of the intent with iproute2's and ethtool's read-back.
func checkAgainstIproute2(t *testing.T, ns string, want Iface, warnedOffload map[int]bool) {
	t.Helper()
	qs := tcShow(t, ns, want.Name)
	if tp := want.Taprio; tp != nil {
		var root *tcQdisc
		for i := range qs {
			if qs[i].Root {
				root = &qs[i]
			}
		}
		if root == nil || root.Kind != "taprio" || root.Handle != fmt.Sprintf("%x:", tp.Handle) {
			t.Fatalf("%s: root is %+v, want taprio %x:", want.Name, root, tp.Handle)
		}
		o, w := root.Options, tp.Options
		eq := func(field string, got, wantv any) {
			if fmt.Sprint(got) != fmt.Sprint(wantv) {
				t.Errorf("%s taprio %s: tc says %v, tsnctl intended %v", want.Name, field, got, wantv)
			}
		}
		eq("tc", num(o["tc"]), w.NumTC)
		var m []int64
		for _, v := range o["map"].([]any) {
			m = append(m, num(v))
		}
		var wm []int64
		for _, v := range w.Map {
			wm = append(wm, int64(v))
		}
		eq("map", m, wm)
		var qsGot []string
		for _, q := range o["queues"].([]any) {
			qm := q.(map[string]any)
			qsGot = append(qsGot, fmt.Sprintf("%d@%d", num(qm["count"]), num(qm["offset"])))
		}
		var qsWant []string
		for _, q := range w.Queues {
			qsWant = append(qsWant, q.String())
		}
		eq("queues", qsGot, qsWant)
		if w.ClockID != nil {
			eq("clockid", "CLOCK_"+fmt.Sprint(o["clockid"]), w.ClockID.String())
		} else if _, ok := o["clockid"]; ok {
			t.Errorf("clockid %v present with full offload", o["clockid"])
		}
		if w.Mode != taprio.Software {
			eq("flags", hexNum(o["flags"]), uint32(w.Mode))
		} else if f, ok := o["flags"]; ok && hexNum(f) != 0 {
			t.Errorf("flags %v in software mode", f)
		}
		if w.TxtimeDelay != 0 {
			eq("txtime_delay", num(o["txtime_delay"]), w.TxtimeDelay)
		}
		sched := o
		if admin, ok := o["admin"].(map[string]any); ok {
			sched = admin
		}
		eq("base_time", num(sched["base_time"]), w.Schedule.BaseTime)
		if tp.BaseAuto && num(sched["base_time"])%w.Schedule.Cycle() != 0 {
			t.Errorf("auto base-time %v is not aligned to the cycle", sched["base_time"])
		}
		eq("cycle_time", num(sched["cycle_time"]), w.Schedule.Cycle())
		eq("cycle_time_extension", num(sched["cycle_time_extension"]), w.Schedule.CycleTimeExtension)
		entries := sched["schedule"].([]any)
		eq("entries", len(entries), len(w.Schedule.Entries))
		for i, e := range entries {
			em := e.(map[string]any)
			if i < len(w.Schedule.Entries) {
				we := w.Schedule.Entries[i]
				eq(fmt.Sprintf("entry %d", i), fmt.Sprintf("%s %x %d", em["cmd"], hexNum(em["gatemask"]), num(em["interval"])),
					fmt.Sprintf("%s %x %d", we.Cmd, we.Gates, we.Interval))
			}
		}
		if len(w.MaxSDU) > 0 {
			sdu := o["max-sdu"].([]any)
			for i, v := range w.MaxSDU {
				if v != 0 && (num(sdu[i]) == 0 || num(sdu[i]) > int64(v)) {
					t.Errorf("max-sdu[%d]: tc says %v, configured %d", i, sdu[i], v)
				}
			}
		}
	}
	if m := want.Mqprio; m != nil {
		var root *tcQdisc
		for i := range qs {
			if qs[i].Root {
				root = &qs[i]
			}
		}
		if root == nil || root.Kind != "mqprio" || root.Handle != fmt.Sprintf("%x:", m.Handle) {
			t.Fatalf("%s: root is %+v, want mqprio %x:", want.Name, root, m.Handle)
		}
		o := root.Options
		eq := func(field string, got, wantv any) {
			if fmt.Sprint(got) != fmt.Sprint(wantv) {
				t.Errorf("%s mqprio %s: tc says %v, tsnctl intended %v", want.Name, field, got, wantv)
			}
		}
		eq("tc", num(o["tc"]), m.Options.NumTC)
		var gm, wm []int64
		for _, v := range o["map"].([]any) {
			gm = append(gm, num(v))
		}
		for _, v := range m.Options.Map {
			wm = append(wm, int64(v))
		}
		eq("map", gm, wm)
		var gq, wq []string
		for _, q := range o["queues"].([]any) { // [first, last] per class
			r := q.([]any)
			gq = append(gq, fmt.Sprintf("%d@%d", num(r[1])-num(r[0])+1, num(r[0])))
		}
		for _, q := range m.Options.Queues {
			wq = append(wq, fmt.Sprintf("%d@%d", q.Count, q.Offset))
		}
		eq("queues", gq, wq)
	}
	if h := want.RootHandle(); h != 0 {
		eq := func(field string, got, wantv any) {
			if fmt.Sprint(got) != fmt.Sprint(wantv) {
				t.Errorf("%s %s: tc says %v, tsnctl intended %v", want.Name, field, got, wantv)
			}
		}
		for _, e := range want.ETF {
			parent := qdisc.FormatHandle(e.Parent(h))
			var got *tcQdisc
			for i := range qs {
				if qs[i].Parent == parent {
					got = &qs[i]
				}
			}
			if got == nil || got.Kind != "etf" {
				t.Errorf("%s: no etf at %s: %+v", want.Name, parent, qs)
				continue
			}
			eo := got.Options
			onoff := func(b bool) string { return map[bool]string{true: "on", false: "off"}[b] }
			eq("etf clockid", "CLOCK_"+fmt.Sprint(eo["clockid"]), e.Options.ClockID.String())
			eq("etf delta", num(eo["delta"]), e.Options.Delta)
			eq("etf deadline_mode", eo["deadline_mode"], onoff(e.Options.DeadlineMode))
			eq("etf skip_sock_check", eo["skip_sock_check"], onoff(e.Options.SkipSockCheck))
			wantOff := e.Options.Offload && !warnedOffload[e.Queue]
			eq("etf offload", eo["offload"], onoff(wantOff))
		}
		checkCBS(t, ns, want, warnedOffload)
	}
	for _, v := range want.VLANs {
		l := ipLink(t, ns, v.Name)
		info := l["linkinfo"].(map[string]any)
		data := info["info_data"].(map[string]any)
		if info["info_kind"] != "vlan" || num(data["id"]) != int64(v.ID) || l["link"] != want.Name {
			t.Errorf("VLAN %s: ip says kind %v id %v link %v", v.Name, info["info_kind"], data["id"], l["link"])
		}
		qosMap := func(key string) map[uint32]uint32 {
			out := map[uint32]uint32{}
			list, _ := data[key].([]any)
			for _, e := range list {
				em := e.(map[string]any)
				out[uint32(num(em["from"]))] = uint32(num(em["to"]))
			}
			return out
		}
		if !qosMapsEqual(qosMap("egress_qos"), v.Egress) || !qosMapsEqual(qosMap("ingress_qos"), v.Ingress) {
			t.Errorf("VLAN %s QoS maps: ip says egress %v ingress %v, intended %v %v", v.Name, qosMap("egress_qos"), qosMap("ingress_qos"), v.Egress, v.Ingress)
		}
	}
	if c := want.Channels; c != nil {
		got := ethtoolL(t, ns, want.Name)
		check := func(k string, p *uint32) {
			if p != nil && got[k] != int(*p) {
				t.Errorf("%s channels %s: ethtool -l says %d, intended %d", want.Name, k, got[k], *p)
			}
		}
		if c.Count != nil {
			if got["combined"] > 0 {
				check("combined", c.Count)
			} else {
				check("rx", c.Count)
				check("tx", c.Count)
			}
		}
		check("combined", c.Combined)
		check("rx", c.RX)
		check("tx", c.TX)
	}
}

// checkCBS compares the intent's cbs children, at the link's speed, with tc's read-back.
func checkCBS(t *testing.T, ns string, want Iface, warnedOffload map[int]bool) {
	t.Helper()
	qs := tcShow(t, ns, want.Name)
	eq := func(field string, got, wantv any) {
		if fmt.Sprint(got) != fmt.Sprint(wantv) {
			t.Errorf("%s %s: tc says %v, tsnctl intended %v", want.Name, field, got, wantv)
		}
	}
	for _, c := range want.CBSAt(linkSpeed(t, ns, want.Name)) {
		parent := qdisc.FormatHandle(c.Parent(want.RootHandle()))
		var got *tcQdisc
		for i := range qs {
			if qs[i].Parent == parent && qs[i].Kind == "cbs" {
				got = &qs[i]
			}
		}
		if got == nil {
			t.Errorf("%s: no cbs at %s: %+v", want.Name, parent, qs)
			continue
		}
		co := got.Options
		eq("cbs idleslope", num(co["idleslope"]), c.Options.IdleSlope)
		eq("cbs sendslope", num(co["sendslope"]), c.Options.SendSlope)
		eq("cbs hicredit", num(co["hicredit"]), c.Options.HiCredit)
		eq("cbs locredit", num(co["locredit"]), c.Options.LoCredit)
		wantOff := c.Options.Offload && !warnedOffload[c.Queue]
		eq("cbs offload", num(co["offload"]), map[bool]int{true: 1, false: 0}[wantOff])
	}
}

// linkSpeed is the speed ethtool reports for dev, in Mb/s (0: none).
func linkSpeed(t *testing.T, ns, dev string) int {
	t.Helper()
	args := []string{"ethtool", dev}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	m := regexp.MustCompile(`Speed: (\d+)Mb/s`).FindStringSubmatch(labtest.Run(t, args...))
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func offloadWarnings(res *Result) map[int]bool {
	m := map[int]bool{}
	for _, w := range res.Warnings {
		var q int
		if _, err := fmt.Sscanf(w[strings.Index(w, "TX queue"):], "TX queue %d", &q); err == nil {
			m[q] = true
		}
	}
	return m
}

func seedFor(t *testing.T, iface string) string {
	b, err := configs.Examples.ReadFile("seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "eth1", iface)
}

const corpusAssist = `interfaces:
  - name: v0
    channels: {rx: 4, tx: 4}
    vlans:
      - {id: 3, egress-qos-map: {6: 6, 2: 1}, ingress-qos-map: {1: 2, 5: 4}}
      - {id: 5, name: tsn5, egress-qos-map: {0: 0, 7: 7}}
      - {id: 4094}
    taprio:
      handle: 1a
      num-tc: 3
      map: [0, 0, 2, 0, 0, 0, 1]
      queues: ["1@0", "2@1", "1@3"]
      clockid: CLOCK_TAI
      base-time: 1000000
      mode: txtime-assist
      txtime-delay: 300us
      cycle-time: 1ms
      cycle-time-extension: 10us
      max-sdu: [0, 300, 1000]
      schedule:
        - {cmd: S, gates: 0x1, interval: 400us}
        - {cmd: H, gates: 0x2, interval: 250us}
        - {cmd: R, gates: 0x7, interval: 250us}
        - {cmd: S, gates: 0x4, interval: 100us}
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 200us, skip-sock-check: true, deadline-mode: true}
      - {queue: 2, clockid: CLOCK_TAI, delta: 100us, skip-sock-check: true}
      - {queue: 3, clockid: CLOCK_TAI, delta: 150us, skip-sock-check: true, offload: auto}
`

const corpusTwoIfaces = `interfaces:
  - name: v0
    channels: 2
    taprio:
      num-tc: 2
      map: [1, 1, 1, 1, 1, 1, 0]
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: auto
      schedule:
        - {cmd: S, gates: 0x1, interval: 300us}
        - {cmd: S, gates: 0x2, interval: 1700us}
    etf:
      - {queue: 0, clockid: CLOCK_TAI, delta: 500us}
  - name: v1
    channels: {rx: 3, tx: 3}
    vlans:
      - {id: 100, egress-qos-map: {3: 3}}
    taprio:
      handle: 200
      num-tc: 3
      queues: ["1@0", "1@1", "1@2"]
      clockid: CLOCK_TAI
      base-time: auto
      schedule:
        - {cmd: S, gates: 0x7, interval: 125us}
`

func TestLabCorpusMatchesIproute2(t *testing.T) {
	cbsText, _ := configs.Examples.ReadFile("taprio-cbs.yaml")
	mqText, _ := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	shared, err := os.ReadFile("../lint/testdata/corpus/ok-txtime-assist-shared.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"seed software":                          seedFor(t, "v0"),
		"taprio + cbs (configs/taprio-cbs.yaml)": strings.ReplaceAll(string(cbsText), "eth1", "v0"),
		"txtime-assist, classes sharing queue 0 (tc-taprio(8)'s example)": strings.ReplaceAll(string(shared), "eth0", "v0"),
		"mqprio + cbs + etf (configs/mqprio-cbs-etf.yaml)":                strings.ReplaceAll(string(mqText), "eth1", "v0"),
		"txtime-assist, H/R, max-sdu, ETF flags, VLANs":                   corpusAssist,
		"two interfaces, channel changes":                                 corpusTwoIfaces,
	} {
		t.Run(name, func(t *testing.T) {
			ns := labNetns(t, 4)
			p, res := apply(t, ns, text)
			for _, w := range p.Wants {
				checkAgainstIproute2(t, ns, w, offloadWarnings(res))
			}
		})
	}
}

func TestLabIdempotentReapply(t *testing.T) {
	ns := labNetns(t, 4)
	apply(t, ns, corpusAssist)
	apply(t, ns, seedFor(t, "v1"))
	before := snapshot(t, ns, "v0", "v1")
	time.Sleep(20 * time.Millisecond) // base-time auto now plans a later boundary of the same phase
	for _, text := range []string{corpusAssist, seedFor(t, "v1")} {
		sys, p, err := prepare(t, ns, text)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Steps) != 0 {
			t.Errorf("re-applying an unchanged file plans %d steps: %+v", len(p.Steps), p.Steps)
		}
		if _, err := sys.Apply(p); err != nil {
			t.Fatal(err)
		}
	}
	if after := snapshot(t, ns, "v0", "v1"); after != before {
		t.Errorf("re-apply changed the node:\n%s\n---\n%s", before, after)
	}
}

// snapshot is the whole state of a namespace as iproute2 and ethtool see it.
func snapshot(t *testing.T, ns string, devs ...string) string {
	var b strings.Builder
	for _, d := range devs {
		b.WriteString(labtest.Run(t, append(append([]string{"tc"}, nsArgs(ns)...), "-d", "qdisc", "show", "dev", d)...))
		b.WriteString(fmt.Sprint(ethtoolL(t, ns, d)))
	}
	b.WriteString(labtest.Run(t, append(append([]string{"ip"}, nsArgs(ns)...), "-d", "link", "show")...))
	return b.String()
}

func TestLabRollbackAfterETFRejected(t *testing.T) {
	ns := labNetns(t, 4)
	// The previous state: an older taprio with an ETF child, a VLAN, 4 channels.
	apply(t, ns, `interfaces:
  - name: v0
    vlans: [{id: 7, egress-qos-map: {1: 1}}]
    taprio:
      handle: 300
      num-tc: 2
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: 5000
      schedule: [{cmd: S, gates: 0x3, interval: 1ms}]
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 300us}
`)
	before := snapshot(t, ns, "v0", "v1")
	// The new file changes channels and VLANs, installs a taprio and an ETF (the kernel accepts them),
	// then a cbs with offload: true, which a veth refuses: everything must be rolled back.
	bad := `interfaces:
  - name: v0
    channels: 2
    vlans:
      - {id: 3, egress-qos-map: {6: 6}}
      - {id: 7, egress-qos-map: {1: 5}}
    taprio:
      num-tc: 2
      map: [0, 0, 0, 0, 0, 0, 1]
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: auto
      schedule: [{cmd: S, gates: 0x1, interval: 500us}, {cmd: S, gates: 0x2, interval: 500us}]
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 200us}
    cbs:
      - {queue: 0, idleslope: 1000, offload: true}
`
	sys, p, err := prepare(t, ns, bad)
	if err != nil {
		t.Fatal(err)
	}
	var actions []Action
	for _, s := range p.Steps {
		actions = append(actions, s.Action)
	}
	if !reflect.DeepEqual(actions, []Action{SetChannels, AddVLAN, ModifyVLAN, DeleteRoot, ReplaceRoot, ReplaceETF, ReplaceCBS, RestartSchedule}) {
		t.Fatalf("plan %v", actions)
	}
	_, err = sys.Apply(p)
	var ae *ApplyError
	if !errors.As(err, &ae) || !ae.RolledBack || ae.Step.Action != ReplaceCBS {
		t.Fatalf("want a rolled-back cbs failure, got %v", err)
	}
	if !strings.Contains(err.Error(), "cbs offload") || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("error %q does not carry the kernel's reason and the rollback", err)
	}
	after := snapshot(t, ns, "v0", "v1")
	if before != after {
		t.Errorf("not restored:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestLabSeedOnIgb(t *testing.T) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab only")
	}
	labtest.Run(t, "ip", "link", "set", "eth0", "up")
	labtest.Run(t, "ip", "link", "set", "eth1", "up")
	p, res := apply(t, "", seedFor(t, "eth1"))
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "refused launch-time offload") {
		t.Errorf("offload: auto on igb: warnings %q", res.Warnings)
	}
	checkAgainstIproute2(t, "", p.Wants[0], offloadWarnings(res))
	// offload: true fails with a clear error, and leaves the seed as it was. (The channel change
	// reset the igb link; until the carrier is back the kernel reports max-sdu for 10 Mb/s.)
	waitCarrier(t, "eth1")
	applied := snapshot(t, "", "eth1")
	sys, p2, err := prepare(t, "", strings.Replace(seedFor(t, "eth1"), "offload: auto", "offload: true", 1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sys.Apply(p2)
	if err == nil || !strings.Contains(err.Error(), "ETF hardware offload") || !strings.Contains(err.Error(), "rolled back") {
		t.Errorf("offload: true: %v", err)
	}
	if now := snapshot(t, "", "eth1"); now != applied {
		t.Errorf("a failed apply changed the node:\n%s\n---\n%s", applied, now)
	}
	// reset removes the taprio and the VLAN; channels stay.
	wants := Resolve(mustParse(t, seedFor(t, "eth1")), nil)
	live, _ := sys.Read("eth1")
	if err := sys.Execute(ResetPlan(wants[0], live, "")); err != nil {
		t.Fatal(err)
	}
	qs := tcShow(t, "", "eth1")
	if qs[0].Kind == "taprio" || strings.Contains(labtest.Run(t, "ip", "link", "show"), "eth1.3") {
		t.Errorf("reset left %v", qs[0].Kind)
	}
	labtest.Run(t, "ethtool", "-L", "eth1", "combined", "2")
}

func waitCarrier(t *testing.T, dev string) {
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile("/sys/class/net/" + dev + "/carrier"); err == nil && strings.TrimSpace(string(b)) == "1" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: no carrier after 5 s", dev)
}

func mustParse(t *testing.T, text string) *configs.Config {
	c, err := configs.Parse("x.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The dry-run's commands, run by the real tc/ip/ethtool in a fresh namespace, build the same
// state as tsnctl's netlink apply.
func TestLabDryRunCommandsAreEquivalent(t *testing.T) {
	nsA, nsB := labNetns(t, 4), labNetns(t, 4)
	text := strings.Replace(corpusAssist, "      - {queue: 3, clockid: CLOCK_TAI, delta: 150us, skip-sock-check: true, offload: auto}\n", "", 1)
	apply(t, nsA, text)
	_, pB, err := prepare(t, nsB, text)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range pB.Steps {
		labtest.Run(t, "bash", "-c", st.Command)
	}
	strip := func(s string) string { return regexp.MustCompile(`etf [0-9a-f]+:`).ReplaceAllString(s, "etf N:") }
	a := strip(labtest.Run(t, "tc", "-n", nsA, "-d", "qdisc", "show", "dev", "v0"))
	b := strip(labtest.Run(t, "tc", "-n", nsB, "-d", "qdisc", "show", "dev", "v0"))
	if a != b {
		t.Errorf("tsnctl:\n%s\ncommands:\n%s", a, b)
	}
	la := labtest.Run(t, "ip", "-n", nsA, "-d", "link", "show", "v0.3")
	lb := labtest.Run(t, "ip", "-n", nsB, "-d", "link", "show", "v0.3")
	if regexp.MustCompile(`egress-qos-map.*`).FindString(la) != regexp.MustCompile(`egress-qos-map.*`).FindString(lb) {
		t.Errorf("VLAN maps differ:\n%s\n%s", la, lb)
	}
}
