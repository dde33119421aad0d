package kube

import (
	"encoding/json"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// lineConfig is a TSNConfig for the nodes labelled line=NAME, with a taprio of the given cycle
// halves and base-time.
func lineConfig(t *testing.T, name, half, baseTime string, offsets map[string]string) TSNConfig {
	t.Helper()
	doc := `interfaces:
  - name: eth1
    taprio:
      num-tc: 2
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: ` + baseTime + `
      schedule:
        - {cmd: S, gates: "0x1", interval: ` + half + `}
        - {cmd: S, gates: "0x2", interval: ` + half + `}
`
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return TSNConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: TSNConfigSpec{Config: js, Offsets: offsets,
		NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"line": name}}}}
}

func TestConfigFor(t *testing.T) {
	c := lineConfig(t, "a", "500us", "auto", map[string]string{"edge-2": "250us"})
	same, err := c.ConfigFor("edge-1")
	if err != nil || string(same) != string(c.Spec.Config) {
		t.Fatalf("a node without an offset gets spec.config as it is: %s, %v", same, err)
	}
	b, err := c.ConfigFor("edge-2")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Interfaces []struct {
			Taprio map[string]any `json:"taprio"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Interfaces[0].Taprio["base-time-offset"] != "250us" {
		t.Fatalf("%s: %v", b, err)
	}
	c.Spec.Offsets["edge-3"] = "soon"
	if _, err := c.ConfigFor("edge-3"); err == nil || !strings.Contains(err.Error(), `spec.offsets.edge-3 = "soon"`) {
		t.Fatalf("%v", err)
	}
}

func TestCheckFleet(t *testing.T) {
	node := func(name, line string) FleetNode {
		return FleetNode{Name: name, Labels: map[string]string{"line": line}}
	}
	nodes := []FleetNode{node("a-1", "a"), node("a-2", "a"), node("b-1", "b"), node("c-1", "c"), node("x-1", "x"), node("d-1", "d")}
	extra := lineConfig(t, "d-too", "500us", "auto", nil)
	extra.Spec.NodeSelector = nil
	extra.Spec.NodeNames = []string{"d-1"}
	cfgs := []TSNConfig{
		lineConfig(t, "a", "500us", "auto", map[string]string{"a-2": "250us"}),       // in phase, a-2 250us later
		lineConfig(t, "b", "500us", "1000000000", map[string]string{"b-1": "100us"}), // an aligned base-time: in phase
		lineConfig(t, "c", "500us", "1000000300", nil),                               // 300 ns off the fleet's phase
		lineConfig(t, "d", "1ms", "auto", nil),                                       // another cycle, and ambiguous
		extra,
	}
	rows := CheckFleet(cfgs, nodes)
	got := map[string]FleetRow{}
	for _, r := range rows {
		got[r.Node] = r
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows (x-1 has no TSNConfig and is left out): %+v", len(rows), rows)
	}
	for _, n := range []string{"a-1", "a-2", "b-1"} {
		if got[n].Problem != "" || got[n].CycleNs != 1000000 {
			t.Errorf("%s: %+v", n, got[n])
		}
	}
	if got["a-2"].PhaseNs != 250000 || got["b-1"].PhaseNs != 100000 {
		t.Errorf("phases: %+v %+v", got["a-2"], got["b-1"])
	}
	if p := got["c-1"].Problem; !strings.Contains(p, "its cycles start 300ns into the fleet's, not at its offset 0ns: base-time 1000000300 is 300ns past a cycle boundary") {
		t.Errorf("c-1: %q", p)
	}
	if p := got["d-1"].Problem; !strings.Contains(p, "TSNConfigs d, d-too all select node d-1") {
		t.Errorf("d-1: %q", p)
	}
	cfgs[4].Spec.NodeNames = nil
	for _, r := range CheckFleet(cfgs, nodes) {
		if r.Node == "d-1" && !strings.Contains(r.Problem, "cycle 2ms, the fleet's is 1ms") {
			t.Errorf("d-1: %q", r.Problem)
		}
	}
}
