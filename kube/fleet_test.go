package kube

import (
	"encoding/json"
	"github.com/tsnctl/tsnctl/termsafe"
	"os"
	"path/filepath"
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
	rows, err := CheckFleet(cfgs, nodes)
	if err != nil {
		t.Fatal(err)
	}
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
	rows, _ = CheckFleet(cfgs, nodes)
	for _, r := range rows {
		if r.Node == "d-1" && !strings.Contains(r.Problem, "cycle 2ms, the fleet's is 1ms") {
			t.Errorf("d-1: %q", r.Problem)
		}
	}
}

// The fleet check judges each node's configuration as its agent does: what the agent refuses is
// that node's problem (it used to pass with exit 0), and a fleet with nothing to check is an error.
func TestCheckFleetLintsEveryConfiguration(t *testing.T) {
	nodes := []FleetNode{{Name: "a-1", Labels: map[string]string{"line": "a"}}, {Name: "b-1", Labels: map[string]string{"line": "b"}},
		{Name: "c-1", Labels: map[string]string{"line": "c"}}, {Name: "d-1", Labels: map[string]string{"line": "d"}}}
	cfgs := []TSNConfig{
		lineConfig(t, "a", "500us", "auto", map[string]string{"a-1": "5ms"}), // an offset beyond the 1ms cycle
		lineConfig(t, "b", "-500us", "auto", nil),                            // negative intervals
		lineConfig(t, "c", "500us", "auto", nil),
		lineConfig(t, "d", "500us", "auto", nil),
	}
	var err error
	if cfgs[2].Spec.Config, err = yaml.YAMLToJSON([]byte("interfaces: []\nptp: {interface: eth1, options: {uds_address: /etc/shadow}}\n")); err != nil {
		t.Fatal(err)
	}
	rows, err := CheckFleet(cfgs, nodes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Node] = r.Problem
	}
	for node, want := range map[string]string{
		"a-1": "[base-time-offset] interfaces[0].taprio.base-time-offset = 5ms: must lie within the 1ms cycle",
		"b-1": "[interval] interfaces[0].taprio.schedule[0].interval = -500us: an interval must be positive",
		"c-1": "ptp.options.uds_address",
		"d-1": "",
	} {
		if p := got[node]; (want == "") != (p == "") || !strings.Contains(p, want) {
			t.Errorf("%s: problem %q, want %q", node, p, want)
		}
	}
	for _, empty := range []struct {
		cfgs  []TSNConfig
		nodes []FleetNode
	}{{nil, nil}, {cfgs, nil}, {nil, nodes}} {
		if rows, err := CheckFleet(empty.cfgs, empty.nodes); err == nil || !strings.Contains(err.Error(), "nothing to check") {
			t.Errorf("%d TSNConfigs, %d nodes: %v, %v", len(empty.cfgs), len(empty.nodes), rows, err)
		}
	}
}

// A fleet file is read whole or refused with the limit named, never cut; a FIFO or device is refused.
func TestReadFleetFileBounds(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxFleetFile + 1)
	f.Close()
	for path, want := range map[string]string{big: "larger than 64 MiB, the limit for a fleet file", "/dev/zero": "is a character device"} {
		if err := ReadFleetFile(&Fleet{}, path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}

// FuzzFleetCheck: whatever a fleet file holds, tsnctl fleet check reads it or refuses it, judges
// what it read without a panic, and prints no control character of the file's to the terminal.
func FuzzFleetCheck(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"tsnctl.io/v1alpha1","kind":"TSNConfig","metadata":{"name":"a\u001b[2J"},` +
		`"spec":{"nodeNames":["n\u0007"],"offsets":{"n\u0007":"-1ns"},"config":{"interfaces":[{"name":"eth1","taprio":{"num-tc":1,"queues":["1@0"],"clockid":"CLOCK_TAI",` +
		`"base-time":"9223372036854775807","base-time-offset":"1ns","schedule":[{"cmd":"S","gates":"0x1","interval":"0"}]}}]}}},` +
		`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n\u0007"}}]}`))
	f.Add([]byte("apiVersion: tsnctl.io/v1alpha1\nkind: TSNConfig\nmetadata: {name: x}\nspec: {nodeSelector: {matchLabels: {a: b}}, config: {}}\n---\nkind: Node\napiVersion: v1\nmetadata: {name: y, labels: {a: b}}\n"))
	f.Add([]byte("kind: TSNConfig\nspec: {config: {interfaces: [{name: eth1, taprio: {num-tc: 1, schedule: [{cmd: S, gates: '1', interval: 1ms}], base-time-offset: 2ms}}]}}\n"))
	f.Add([]byte("{]"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fleet.yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var fl Fleet
		if err := ReadFleetFile(&fl, path); err != nil {
			return
		}
		rows, err := CheckFleet(fl.Configs, fl.Nodes)
		if err != nil {
			return
		}
		var out strings.Builder
		WriteFleetText(&out, rows)
		if i := termsafe.IndexControl(out.String()); i >= 0 {
			t.Fatalf("a control character reaches the terminal at %d:\n%q", i, out.String())
		}
	})
}
