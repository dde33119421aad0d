//go:build lab

package agent

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// shapersAsFile reports whether tc's read-back of v0 shows configs/mqprio-cbs-etf.yaml: the mqprio
// root 100:, the ETF on 100:3, and the two shapers with the credits derived at the veth's 10 Gb/s.
var lastRead string

// credits are a cbs's idleslope, sendslope, hicredit and locredit as tc -j gives them.
func credits(q qd) string {
	return fmt.Sprintf("%.0f %.0f %.0f %.0f", q.Options["idleslope"], q.Options["sendslope"], q.Options["hicredit"], q.Options["locredit"])
}

func shapersAsFile(t *testing.T, ns string) bool {
	out := labtest.Run(t, "tc", "-n", ns, "-j", "-d", "qdisc", "show", "dev", "v0")
	var qs []qd
	if err := json.Unmarshal([]byte(out), &qs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		switch {
		case q.Kind == "mqprio" && q.Handle == "100:" && q.Parent == "":
			seen["root"] = fmt.Sprint(q.Options["map"]) == "[3 3 1 0 3 3 2 3 3 3 3 3 3 3 3 3]"
		case q.Kind == "etf" && q.Parent == "100:3":
			seen["etf"] = true
		case q.Kind == "cbs" && q.Parent == "100:1":
			seen["A"] = credits(q) == "98688 -9901312 16 -1527"
		case q.Kind == "cbs" && q.Parent == "100:2":
			seen["B"] = credits(q) == "3648 -9996352 2 -114"
		}
	}
	if !(seen["root"] && seen["etf"] && seen["A"] && seen["B"]) {
		lastRead = out
	}
	return seen["root"] && seen["etf"] && seen["A"] && seen["B"]
}

// taprioCBSAsFile reports whether tc's read-back of v0 shows configs/taprio-cbs.yaml: the taprio
// root 100:, the ETF on 100:2 and the cbs on 100:3 with the credits derived at 10 Gb/s.
func taprioCBSAsFile(t *testing.T, ns string) bool {
	out := labtest.Run(t, "tc", "-n", ns, "-j", "-d", "qdisc", "show", "dev", "v0")
	var qs []qd
	if err := json.Unmarshal([]byte(out), &qs); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	seen := map[string]bool{}
	for _, q := range qs {
		switch {
		case q.Kind == "taprio" && q.Handle == "100:" && q.Parent == "":
			seen["root"] = true
		case q.Kind == "etf" && q.Parent == "100:2":
			seen["etf"] = true
		case q.Kind == "cbs" && q.Parent == "100:3":
			seen["cbs"] = credits(q) == "20000 -9980000 4 -1539"
		}
	}
	if !(seen["root"] && seen["etf"] && seen["cbs"]) {
		lastRead = out
	}
	return seen["root"] && seen["etf"] && seen["cbs"]
}

// The same for a cbs under a taprio (configs/taprio-cbs.yaml): its credits changed by hand are
// changed back in place, and the cbs deleted is installed again (and the gates restarted).
func TestLabAgentRepairsCBSUnderTaprio(t *testing.T) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	b, err := configs.Examples.ReadFile("taprio-cbs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(strings.ReplaceAll(string(b), "eth1", "v0"), "channels: 4", "channels: {rx: 4, tx: 4}", 1)
	ns := "agenttapcbs"
	labVeth(t, ns)
	a, stop := runAgent(t, text, ns, time.Hour)
	defer stop()
	iface := func() Iface {
		if s := a.Snapshot(); len(s.Interfaces) > 0 {
			return s.Interfaces[0]
		}
		return Iface{}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tc read last:\n%s", lastRead)
		}
	})
	labtest.Eventually(t, 20*time.Second, "configured at start", func() bool { return iface().State == Configured && taprioCBSAsFile(t, ns) })
	for _, c := range []struct {
		name   string
		inject []string
		kind   string
	}{
		{"the cbs's credits changed", []string{"tc", "-n", ns, "qdisc", "replace", "dev", "v0", "parent", "100:3", "handle", "c002:", "cbs",
			"idleslope", "100000", "sendslope", "-9900000", "hicredit", "1000", "locredit", "-1000"}, "change-cbs"},
		{"the cbs deleted", []string{"tc", "-n", ns, "qdisc", "del", "dev", "v0", "parent", "100:3"}, "replace-cbs"},
	} {
		before := iface()
		labtest.Run(t, c.inject...)
		took := labtest.Eventually(t, 10*time.Second, c.name+" repaired", func() bool {
			i := iface()
			return i.Repairs > before.Repairs && i.State == Configured && taprioCBSAsFile(t, ns)
		})
		if i := iface(); i.Drift[c.kind] <= before.Drift[c.kind] {
			t.Errorf("%s: drift by kind %v, want %s counted", c.name, i.Drift, c.kind)
		}
		t.Logf("%-28s repaired in %6.1f ms: %s", c.name, float64(took.Microseconds())/1000, iface().LastDrift)
	}
}

// The agent keeps an mqprio with cbs and ETF children as it keeps a taprio: a shaper deleted is
// installed again, a shaper's credits changed by hand are changed back in place, the root deleted
// is made again with its children.
func TestLabAgentRepairsShapers(t *testing.T) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	b, err := configs.Examples.ReadFile("mqprio-cbs-etf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(strings.ReplaceAll(string(b), "eth1", "v0"), "channels: 4", "channels: {rx: 4, tx: 4}", 1)
	ns := "agentshapers"
	labVeth(t, ns)
	a, stop := runAgent(t, text, ns, time.Hour)
	defer stop()
	iface := func() Iface {
		if s := a.Snapshot(); len(s.Interfaces) > 0 {
			return s.Interfaces[0]
		}
		return Iface{}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tc read last:\n%s", lastRead)
		}
	})
	labtest.Eventually(t, 20*time.Second, "configured at start", func() bool { return iface().State == Configured && shapersAsFile(t, ns) })
	for _, c := range []struct {
		name   string
		inject []string
		kind   string
	}{
		{"class A's cbs deleted", []string{"tc", "-n", ns, "qdisc", "del", "dev", "v0", "parent", "100:1"}, "replace-cbs"},
		{"class B's credits changed", []string{"tc", "-n", ns, "qdisc", "replace", "dev", "v0", "parent", "100:2", "handle", "c001:", "cbs",
			"idleslope", "100000", "sendslope", "-9900000", "hicredit", "1000", "locredit", "-1000"}, "change-cbs"},
		{"mqprio root deleted", []string{"tc", "-n", ns, "qdisc", "del", "dev", "v0", "root"}, "replace-root"},
	} {
		before := iface()
		labtest.Run(t, c.inject...)
		took := labtest.Eventually(t, 10*time.Second, c.name+" repaired", func() bool {
			i := iface()
			return i.Repairs > before.Repairs && i.State == Configured && shapersAsFile(t, ns)
		})
		if i := iface(); i.Drift[c.kind] <= before.Drift[c.kind] {
			t.Errorf("%s: drift by kind %v, want %s counted", c.name, i.Drift, c.kind)
		}
		t.Logf("%-28s repaired in %6.1f ms: %s", c.name, float64(took.Microseconds())/1000, iface().LastDrift)
	}
}
