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

// credits are a cbs's idleslope, sendslope, hicredit and locredit as tc -j gives them.
func credits(q qd) string {
	return fmt.Sprintf("%.0f %.0f %.0f %.0f", q.Options["idleslope"], q.Options["sendslope"], q.Options["hicredit"], q.Options["locredit"])
}

// drift is one change made behind the agent's back, and the kind of repair it must count.
type drift struct {
	name   string
	inject []string
	kind   string
}

// repairsShapers runs the agent on a configs/ example (eth1 as v0) and checks that each drift is
// repaired: the agent counts it and tc's read-back shows the example again (want: the qdiscs that
// must be there, by kind and parent, "" for the root; a cbs's value is its credits at the
// veth's 10 Gb/s, any other's is "").
func repairsShapers(t *testing.T, example, ns string, want map[string]string, drifts func(ns string) []drift) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	b, err := configs.Examples.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(strings.ReplaceAll(string(b), "eth1", "v0"), "channels: 4", "channels: {rx: 4, tx: 4}", 1)
	var last string
	asFile := func() bool {
		out := labtest.Run(t, "tc", "-n", ns, "-j", "-d", "qdisc", "show", "dev", "v0")
		var qs []qd
		if err := json.Unmarshal([]byte(out), &qs); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		seen := 0
		for _, q := range qs {
			v, ok := want[q.Kind+" "+q.Parent]
			if ok && (q.Kind != "cbs" || credits(q) == v) {
				seen++
			}
		}
		last = out
		return seen == len(want)
	}
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
			t.Logf("tc read last:\n%s", last)
		}
	})
	labtest.Eventually(t, 20*time.Second, "configured at start", func() bool { return iface().State == Configured && asFile() })
	for _, c := range drifts(ns) {
		before := iface()
		labtest.Run(t, c.inject...)
		took := labtest.Eventually(t, 10*time.Second, c.name+" repaired", func() bool {
			i := iface()
			return i.Repairs > before.Repairs && i.State == Configured && asFile()
		})
		if i := iface(); i.Drift[c.kind] <= before.Drift[c.kind] {
			t.Errorf("%s: drift by kind %v, want %s counted", c.name, i.Drift, c.kind)
		}
		t.Logf("%-28s repaired in %6.1f ms: %s", c.name, float64(took.Microseconds())/1000, iface().LastDrift)
	}
}

// The agent keeps an mqprio with cbs and ETF children (configs/mqprio-cbs-etf.yaml) as it keeps a
// taprio: a shaper deleted is installed again, a shaper's credits changed by hand are changed back
// in place, the root deleted is made again with its children.
func TestLabAgentRepairsShapers(t *testing.T) {
	repairsShapers(t, "mqprio-cbs-etf.yaml", "agentshapers",
		map[string]string{"mqprio ": "", "etf 100:3": "", "cbs 100:1": "98688 -9901312 16 -1527", "cbs 100:2": "3648 -9996352 2 -114"},
		func(ns string) []drift {
			return []drift{
				{"class A's cbs deleted", []string{"tc", "-n", ns, "qdisc", "del", "dev", "v0", "parent", "100:1"}, "replace-cbs"},
				{"class B's credits changed", []string{"tc", "-n", ns, "qdisc", "replace", "dev", "v0", "parent", "100:2", "handle", "c001:", "cbs",
					"idleslope", "100000", "sendslope", "-9900000", "hicredit", "1000", "locredit", "-1000"}, "change-cbs"},
				{"mqprio root deleted", []string{"tc", "-n", ns, "qdisc", "del", "dev", "v0", "root"}, "replace-root"},
			}
		})
}

// The same for a cbs under a taprio (configs/taprio-cbs.yaml): its credits changed by hand are
// changed back in place, and the cbs deleted is installed again (and the gates restarted).
func TestLabAgentRepairsCBSUnderTaprio(t *testing.T) {
	repairsShapers(t, "taprio-cbs.yaml", "agenttapcbs",
		map[string]string{"taprio ": "", "etf 100:2": "", "cbs 100:3": "20000 -9980000 4 -1539"},
		func(ns string) []drift {
			return []drift{
				{"the cbs's credits changed", []string{"tc", "-n", ns, "qdisc", "replace", "dev", "v0", "parent", "100:3", "handle", "c002:", "cbs",
					"idleslope", "100000", "sendslope", "-9900000", "hicredit", "1000", "locredit", "-1000"}, "change-cbs"},
				{"the cbs deleted", []string{"tc", "-n", ns, "qdisc", "del", "dev", "v0", "parent", "100:3"}, "replace-cbs"},
			}
		})
}
