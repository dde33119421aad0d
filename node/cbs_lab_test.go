//go:build lab

package node

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// A cbs is changed in place: the same qdisc (handle) with the new parameters, no graft, so the
// software taprio's gates are not restarted and the schedule stays operational; other credits on
// the node are repaired the same way.
func TestLabCBSChangedInPlace(t *testing.T) {
	ns := labNetns(t, 4)
	b, _ := configs.Examples.ReadFile("taprio-cbs.yaml")
	text := strings.ReplaceAll(string(b), "eth1", "v0")
	apply(t, ns, text)
	handleOf := func() string {
		for _, q := range tcShow(t, ns, "v0") {
			if q.Kind == "cbs" && q.Parent == "100:3" {
				return q.Handle
			}
		}
		t.Fatalf("no cbs at 100:3")
		return ""
	}
	before := handleOf()

	faster := strings.Replace(text, "idleslope: 20000 ", "idleslope: 40000 ", 1)
	sys, p, err := prepare(t, ns, faster)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Action != ChangeCBS {
		t.Fatalf("plan %+v, want one change-cbs", p.Steps)
	}
	if _, err := sys.Apply(p); err != nil {
		t.Fatal(err)
	}
	checkCBS(t, ns, p.Wants[0], map[int]bool{2: true}) // offload auto fell back when it was installed
	if after := handleOf(); after != before {
		t.Errorf("the cbs is %s, was %s: replaced, not changed in place", after, before)
	}

	// Drift: someone sets other credits by hand; the plan changes them back in place.
	labtest.Run(t, "tc", "-n", ns, "qdisc", "replace", "dev", "v0", "parent", "100:3", "handle", before, "cbs",
		"idleslope", "1000", "sendslope", "-9999000", "hicredit", "1", "locredit", "-1")
	sys, p, err = prepare(t, ns, faster)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 1 || p.Steps[0].Action != ChangeCBS || !strings.Contains(p.Steps[0].Summary, "was 1000 -9999000 1 -1") {
		t.Fatalf("repair plan %+v", p.Steps)
	}
	if _, err := sys.Apply(p); err != nil {
		t.Fatal(err)
	}
	checkCBS(t, ns, p.Wants[0], map[int]bool{2: true}) // offload auto fell back when it was installed
}

// cbsRateConfig: every priority in traffic class 0 (an empty map), whose TX queue 0 has a cbs of
// idleslope kbit/s; the gates are always open, so the shaper alone limits the class.
func cbsRateConfig(idleslope int) string {
	return fmt.Sprintf(`interfaces:
  - name: v0
    vlans: [{id: 3}]
    taprio:
      num-tc: 2
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: auto
      schedule:
        - {cmd: S, gates: 0x03, interval: 1ms}
    cbs:
      - {queue: 0, idleslope: %d}
`, idleslope)
}

// cbsBytes is the cbs qdisc's byte counter on v0 (tc -s: the bytes it dequeued, counted as it
// counts them, Ethernet header to payload) and the guest's time of the reading.
func cbsBytes(t *testing.T) (int64, time.Time) {
	t.Helper()
	out := labtest.Run(t, "tc", "-n", "tx", "-s", "-j", "qdisc", "show", "dev", "v0")
	now := time.Now()
	var qs []struct {
		Kind  string `json:"kind"`
		Bytes int64  `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(out), &qs); err != nil {
		t.Fatalf("tc -s -j: %v\n%s", err, out)
	}
	for _, q := range qs {
		if q.Kind == "cbs" {
			return q.Bytes, now
		}
	}
	t.Fatalf("no cbs on v0:\n%s", out)
	return 0, now
}

// cbsRate offers twice idleslope (iperf3 -u, 1000-byte datagrams) through the shaper for 6 s and
// returns what the cbs let through from 0.5 s to 5.5 s, in kbit/s.
func cbsRate(t *testing.T, idleslope int) float64 {
	t.Helper()
	apply(t, "tx", cbsRateConfig(idleslope))
	labtest.Talker(t)
	srv := exec.Command("ip", "netns", "exec", "rx", "iperf3", "-s", "-1", "-B", "10.3.0.2", "-p", "5201")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	time.Sleep(200 * time.Millisecond)
	cli := exec.Command("ip", "netns", "exec", "tx", "iperf3", "-c", "10.3.0.2", "-p", "5201", "-u", "-l", "1000",
		"-b", fmt.Sprintf("%dK", 2*idleslope), "-t", "6")
	out := &strings.Builder{}
	cli.Stdout, cli.Stderr = out, out
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	b0, t0 := cbsBytes(t)
	time.Sleep(5 * time.Second)
	b1, t1 := cbsBytes(t)
	if err := cli.Wait(); err != nil {
		t.Fatalf("iperf3: %v\n%s", err, out)
	}
	srv.Wait()
	return float64(b1-b0) * 8 / 1000 / t1.Sub(t0).Seconds()
}

// The shaper's rate, measured: a class offered twice its idleslope gets idleslope (within 5 %), in
// the bytes the shaper counts; and with idleslope doubled (sendslope recomputed: the credits are
// tsnctl's), twice that. The second run is the mutation the first must tell apart: a shaper
// that passed the offered load, or held to another rate, fails one of them.
func TestLabCBSRate(t *testing.T) {
	for _, idle := range []int{20000, 40000} {
		labtest.VethPair(t)
		got := cbsRate(t, idle)
		t.Logf("idleslope %d kbit/s, offered %d: the cbs passed %.0f kbit/s (%.2f %% off)", idle, 2*idle, got, (got/float64(idle)-1)*100)
		if got < 0.95*float64(idle) || got > 1.05*float64(idle) {
			t.Errorf("idleslope %d kbit/s: the cbs passed %.0f kbit/s, not within 5 %%", idle, got)
		}
	}
}

// An mqprio is replaced by deleting it and making it again (it has no change operation), with its
// children; a taprio's file applied over it deletes it first; and a failed apply over the mqprio
// node returns it, children and all, as tc read it before.
func TestLabMqprioReplaced(t *testing.T) {
	ns := labNetns(t, 4)
	b, _ := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	text := strings.ReplaceAll(string(b), "eth1", "v0")
	apply(t, ns, text)
	before := snapshot(t, ns, "v0")

	other := strings.Replace(text, "map: [3, 3, 1, 0, 3, 3, 2,", "map: [3, 3, 1, 0, 3, 2, 2,", 1)
	p, res := apply(t, ns, other)
	if len(p.Steps) < 2 || p.Steps[0].Action != DeleteRoot || p.Steps[1].Action != ReplaceRoot || p.Steps[1].Mqprio == nil {
		t.Errorf("another map: %+v", p.Steps)
	}
	checkAgainstIproute2(t, ns, p.Wants[0], offloadWarnings(res))

	// Back to the first file, then a taprio file whose cbs the kernel refuses (an offload the veth
	// cannot do, which lint cannot know of): rolled back to the mqprio node.
	apply(t, ns, text)
	bad := strings.Replace(seedFor(t, "v0"), "channels: 4", "channels: {rx: 4, tx: 4}", 1) + "    cbs:\n      - {queue: 2, idleslope: 1000, offload: true}\n"
	sys, pb, err := prepare(t, ns, bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Apply(pb); err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("apply: %v", err)
	}
	if after := snapshot(t, ns, "v0"); after != before {
		t.Errorf("rollback left\n%s\nwant\n%s", after, before)
	}
}

// What lint knows of the NIC on a node (apply's facts, as lint --live): a veth has neither a PTP
// clock nor a MAC merge layer, so full offload and frame preemption are refused before the kernel
// is asked, with the rule and the reason.
func TestLabLintKnowsTheNIC(t *testing.T) {
	ns := labNetns(t, 4)
	full, err := os.ReadFile("../lint/testdata/corpus/ok-full-offload.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mq, _ := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	for _, c := range []struct{ name, text, want string }{
		{"full offload", strings.ReplaceAll(string(full), "eth1", "v0"), "[offload] interfaces[0].taprio.mode = full-offload: v0 has no PTP hardware clock"},
		{"frame preemption", strings.Replace(strings.ReplaceAll(string(mq), "eth1", "v0"), "handle: 100", "handle: 100\n      hw: true\n      fp: [E, P, P, E]", 1),
			"[fp] interfaces[0].mqprio.fp: v0 has no MAC merge layer"},
		{"MAC merge layer", strings.Replace(seedFor(t, "v0"), "channels: 4 ", "channels: 4\n    mac-merge: {pmac-enabled: true}\n   ", 1),
			"[mac-merge] interfaces[0].mac-merge: v0 has no MAC merge layer"},
	} {
		_, _, err := prepare(t, ns, c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// An ETF at the root of a single-queue device (tc's etf.json cases run on such a device): applied,
// read back by tc, kept when applied again, replaced under another handle when its delta changes,
// deleted by reset; on a 4-queue device lint refuses it with the queue count.
func TestLabRootETF(t *testing.T) {
	ns := labNetns(t, 1)
	text := "interfaces:\n  - name: v0\n    etf:\n      - {queue: 0, clockid: CLOCK_TAI, delta: 200us, skip-sock-check: true}\n"
	root := func() tcQdisc {
		for _, q := range tcShow(t, ns, "v0") {
			if q.Root {
				return q
			}
		}
		t.Fatal("no root qdisc")
		return tcQdisc{}
	}
	apply(t, ns, text)
	r := root()
	if r.Kind != "etf" || r.Handle != "e0ff:" || num(r.Options["delta"]) != 200000 || r.Options["skip_sock_check"] != "on" || fmt.Sprint(r.Options["clockid"]) != "TAI" {
		t.Errorf("tc reads back %+v", r)
	}
	if _, p, err := prepare(t, ns, text); err != nil || len(p.Steps) != 0 {
		t.Errorf("applied again: %v, %+v", err, p)
	}
	apply(t, ns, strings.Replace(text, "200us", "300us", 1))
	if r := root(); r.Kind != "etf" || r.Handle != "e8ff:" || num(r.Options["delta"]) != 300000 {
		t.Errorf("after a new delta, tc reads back %+v", r)
	}
	sys, err := Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	cfg, _ := configs.Parse("r.yaml", []byte(text))
	steps, err := sys.PrepareReset(cfg, nil)
	if err != nil || len(steps) != 1 {
		t.Fatalf("reset: %v %+v", err, steps)
	}
	if err := sys.Execute(steps); err != nil {
		t.Fatal(err)
	}
	for _, q := range tcShow(t, ns, "v0") {
		if q.Kind == "etf" {
			t.Errorf("after reset tc shows %+v", q)
		}
	}

	multi := labNetns(t, 4)
	if _, _, err := prepare(t, multi, text); err == nil || !strings.Contains(err.Error(), "v0 has 4 TX queues") {
		t.Errorf("on a 4-queue device: %v", err)
	}
}

// apply --dry-run's commands for an mqprio with cbs and ETF children, run by hand, make what apply
// makes (tc -d shows the same).
func TestLabDryRunShapersAreEquivalent(t *testing.T) {
	nsA, nsB := labNetns(t, 4), labNetns(t, 4)
	b, _ := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	text := strings.ReplaceAll(strings.ReplaceAll(string(b), "eth1", "v0"), "offload: auto", "offload: false")
	apply(t, nsA, text)
	_, pB, err := prepare(t, nsB, text)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range pB.Steps {
		labtest.Run(t, "bash", "-c", st.Command)
	}
	a := labtest.Run(t, "tc", "-n", nsA, "-d", "qdisc", "show", "dev", "v0")
	bb := labtest.Run(t, "tc", "-n", nsB, "-d", "qdisc", "show", "dev", "v0")
	if a != bb || !strings.Contains(a, "qdisc cbs c000: parent 100:1") {
		t.Errorf("tsnctl:\n%s\ncommands:\n%s", a, bb)
	}
}
