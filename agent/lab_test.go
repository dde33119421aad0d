//go:build lab

package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/testbed/labtest"
)

type qd struct {
	Kind, Handle, Parent string
	Options              map[string]any
}

// asFile reports whether iproute2's read-back shows what labFile says: the taprio root 100: with
// 8 entries, the ETF on 100:2, VLAN 3 mapping priority 6 to PCP 6.
func asFile(t *testing.T, ns string) bool {
	out := labtest.Run(t, "tc", "-n", ns, "-j", "-d", "qdisc", "show", "dev", "v0")
	var qs []qd
	if err := json.Unmarshal([]byte(out), &qs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var root, etf bool
	for _, q := range qs {
		if q.Kind == "taprio" && q.Handle == "100:" && q.Parent == "" {
			s, _ := q.Options["schedule"].([]any)
			root = len(s) == 8
		}
		if q.Kind == "etf" && q.Parent == "100:2" {
			etf = true
		}
	}
	link, err := exec.Command("ip", "-n", ns, "-j", "-d", "link", "show", "dev", "v0.3").CombinedOutput()
	vlan := err == nil && strings.Contains(string(link), `"egress_qos":[{"from":6,"to":6}]`)
	return root && etf && vlan
}

func TestLabAgentRepairsDrift(t *testing.T) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	ns := "agentlab"
	labVeth(t, ns)
	a, stop := runAgent(t, labFile, ns, time.Hour)
	defer stop()
	iface := func() Iface {
		if s := a.Snapshot(); len(s.Interfaces) > 0 {
			return s.Interfaces[0]
		}
		return Iface{}
	}
	labtest.Eventually(t, 20*time.Second, "configured at start", func() bool { return iface().State == Configured && asFile(t, ns) })

	// The qdiscs' own counters in the metrics equal tc -s's, after frames went through the taprio.
	labtest.Run(t, "tsnctl", "send", "--netns", ns, "--raw", "--iface", "v0", "--dest-mac", "02:00:00:00:00:02", "--count", "50",
		"--cycle", "1ms", "--window", "0,1ms", "--offset", "0", "--quiet")
	time.Sleep(100 * time.Millisecond)
	// Counters only grow, and frames may still pass: tc -s before <= the metric <= tc -s after.
	type tcStat struct {
		Kind, Handle, Parent string
		Packets              float64
	}
	tcStats := func() map[string]float64 {
		var tcs []tcStat
		out := labtest.Run(t, "tc", "-n", ns, "-s", "-j", "qdisc", "show", "dev", "v0")
		if err := json.Unmarshal([]byte(out), &tcs); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		r := map[string]float64{}
		for _, q := range tcs {
			parent := q.Parent
			if parent == "" {
				parent = "root"
			}
			r[fmt.Sprintf("tsnctl_qdisc_packets_total{handle=%s,interface=v0,kind=%s,parent=%s}", q.Handle, q.Kind, parent)] = q.Packets
		}
		return r
	}
	tcBefore := tcStats()
	m := NewMetrics("lab")
	m.SetAgent(a)
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	metric := map[string]float64{}
	for _, f := range fams {
		for _, mm := range f.GetMetric() {
			var l []string
			for _, lp := range mm.GetLabel() {
				l = append(l, lp.GetName()+"="+lp.GetValue())
			}
			if c := mm.GetCounter(); c != nil {
				metric[f.GetName()+"{"+strings.Join(l, ",")+"}"] = c.GetValue()
			}
		}
	}
	tcAfter := tcStats()
	checked := 0
	for key, before := range tcBefore {
		got, ok := metric[key]
		if !ok || got < before || got > tcAfter[key] {
			t.Errorf("%s = %v (present %v), tc -s says %v before and %v after", key, got, ok, before, tcAfter[key])
		}
		if strings.Contains(key, "kind=taprio") && before < 50 {
			t.Errorf("the taprio sent %v packets, want the 50 frames", before)
		}
		checked++
	}
	t.Logf("qdisc counters: %d qdiscs of v0 in the metrics equal to tc -s (the taprio root: %v packets)", checked,
		metric["tsnctl_qdisc_packets_total{handle=100:,interface=v0,kind=taprio,parent=root}"])

	in := func(args ...string) { labtest.Run(t, append([]string{"ip", "netns", "exec", ns}, args...)...) }
	for _, c := range []struct {
		name   string
		inject []string
		kind   string
	}{
		{"root qdisc deleted", []string{"tc", "qdisc", "del", "dev", "v0", "root"}, "replace-root"},
		{"ETF child deleted", []string{"tc", "qdisc", "del", "dev", "v0", "parent", "100:2"}, "replace-etf"},
		{"taprio changed to another schedule", []string{"tc", "qdisc", "replace", "dev", "v0", "parent", "root", "handle", "100:", "taprio",
			"num_tc", "4", "map", "3", "3", "3", "3", "3", "3", "1", "3", "3", "3", "3", "3", "3", "3", "3", "3", "queues", "1@0", "1@1", "1@2", "1@3",
			"base-time", "0", "sched-entry", "S", "0f", "1000000", "flags", "0x1", "txtime-delay", "600000", "clockid", "CLOCK_TAI"}, "change-schedule"},
		{"VLAN deleted", []string{"ip", "link", "del", "v0.3"}, "add-vlan"},
		{"egress map changed", []string{"ip", "link", "set", "v0.3", "type", "vlan", "egress-qos-map", "6:2"}, "modify-vlan"},
	} {
		before := iface()
		var mon lockedBuffer
		tcmon := exec.Command("tc", "-n", ns, "monitor") // the independent observer of qdisc changes
		tcmon.Stdout, tcmon.Stderr = &mon, &mon
		if err := tcmon.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		in(c.inject...)
		took := labtest.Eventually(t, 10*time.Second, c.name+" repaired", func() bool {
			i := iface()
			return i.Repairs > before.Repairs && i.State == Configured && asFile(t, ns)
		})
		time.Sleep(50 * time.Millisecond)
		tcmon.Process.Kill()
		tcmon.Wait()
		if c.kind == "change-schedule" && strings.Contains(mon.String(), "deleted qdisc") {
			t.Errorf("%s: the repair deleted a qdisc (not hitless); tc monitor:\n%s", c.name, mon.String())
		}
		if c.name == "root qdisc deleted" && !strings.Contains(mon.String(), "deleted qdisc taprio") {
			t.Errorf("tc monitor did not see the injected deletion (is it observing?):\n%s", mon.String())
		}
		i := iface()
		if i.Drift[c.kind] <= before.Drift[c.kind] {
			t.Errorf("%s: drift by kind %v, want %s counted", c.name, i.Drift, c.kind)
		}
		t.Logf("%-40s repaired in %6.1f ms (injection to iproute2's read-back), the agent's own repair took %.1f ms: %s",
			c.name, float64(took.Microseconds())/1000, i.LastRepairSec*1000, i.LastDrift)
	}
	// Link down and up: verified, nothing re-applied.
	before := iface().Repairs
	in("ip", "link", "set", "v0", "down")
	in("ip", "link", "set", "v0", "up")
	time.Sleep(300 * time.Millisecond)
	if i := iface(); i.Repairs != before || i.State != Configured || !asFile(t, ns) {
		t.Errorf("link down/up: %d repairs (was %d), %s", i.Repairs, before, i.State)
	}
	// The interface deleted and created again: waiting, then configured.
	labtest.Run(t, "ip", "-n", ns, "link", "del", "v0")
	labtest.Eventually(t, 10*time.Second, "waiting", func() bool { return iface().State == Waiting })
	labVeth(t, ns)
	took := labtest.Eventually(t, 10*time.Second, "configured again", func() bool { return iface().State == Configured && asFile(t, ns) })
	t.Logf("%-40s configured in %6.1f ms", "interface re-created", float64(took.Microseconds())/1000)
	// A second agent on the configured node adopts it: no qdisc or link event at all.
	stop()
	// iproute2 as the independent observer: ip monitor (links) and tc monitor (qdiscs).
	seen, stopObserving := observe(t, ns)
	// The observers see writes: a control change on the peer (a link and a qdisc event).
	labtest.Run(t, "ip", "-n", ns, "link", "set", "v1", "mtu", "1400")
	labtest.Run(t, "tc", "-n", ns, "qdisc", "add", "dev", "v1", "root", "pfifo")
	labtest.Eventually(t, 5*time.Second, "ip monitor and tc monitor report the control change", func() bool {
		return strings.Contains(seen.String(), "v1") && strings.Contains(seen.String(), "pfifo")
	})
	seen.Reset()
	a2, stop2 := runAgent(t, labFile, ns, time.Hour)
	labtest.Eventually(t, 10*time.Second, "adopted", func() bool {
		s := a2.Snapshot()
		return len(s.Interfaces) > 0 && s.Interfaces[0].State == Configured
	})
	time.Sleep(300 * time.Millisecond)
	stop2()
	stopObserving()
	if a2.Snapshot().Interfaces[0].Repairs != 0 || strings.TrimSpace(seen.String()) != "" {
		t.Errorf("adoption wrote to the kernel: %d repairs; ip/tc monitor saw:\n%s", a2.Snapshot().Interfaces[0].Repairs, seen.String())
	} else {
		t.Log("adoption by a second agent: 0 repairs, no link or qdisc event seen by ip monitor and tc monitor")
	}
}

// labVeth makes a 4-queue veth pair v0/v1 in namespace ns, both up; the namespace is made first
// if it is not there, and removed at the end of the test.
func labVeth(t testing.TB, ns string) {
	t.Helper()
	run := func(args ...string) {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, err := os.Stat("/run/netns/" + ns); err != nil {
		run("ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	run("ip", "-n", ns, "link", "add", "name", "v0", "numtxqueues", "4", "numrxqueues", "4", "type", "veth", "peer", "name", "v1", "numtxqueues", "4", "numrxqueues", "4")
	run("ip", "-n", ns, "link", "set", "v0", "up")
	run("ip", "-n", ns, "link", "set", "v1", "up")
}
