package kube

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// streamsConfig is a TSNConfig for the nodes labelled line=NAME whose eth1 carries the seed's
// stream (one 64-byte frame every 2 ms), with max-latency as given.
func streamsConfig(t *testing.T, name, maxLatency string) TSNConfig {
	t.Helper()
	doc := `interfaces:
  - name: eth1
    plan: {etf-delta: 50us, best-effort: 50}
streams:
  - {name: control, interface: eth1, dest: "10.0.0.2:7788", vlan: 3, period: 2ms, size: 64, offset: 1200us, max-latency: ` + maxLatency + `}
`
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return TSNConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: TSNConfigSpec{Config: js,
		NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"line": name}}}}
}

// The fleet check reads a TSNConfig with streams as its agent does, planned: the node's row is the
// planned schedule (the streams' 2 ms hyperperiod); streams that do not fit are that node's problem
// naming the stream and the constraint; a node's offset, which a planned schedule cannot take yet,
// is refused rather than lost.
func TestCheckFleetPlansStreams(t *testing.T) {
	nodes := []FleetNode{{Name: "a-1", Labels: map[string]string{"line": "a"}}, {Name: "b-1", Labels: map[string]string{"line": "b"}},
		{Name: "c-1", Labels: map[string]string{"line": "c"}}}
	offset := streamsConfig(t, "c", "100us")
	offset.Spec.Offsets = map[string]string{"c-1": "250us"}
	rows, err := CheckFleet([]TSNConfig{streamsConfig(t, "a", "100us"), streamsConfig(t, "b", "100ns"), offset}, nodes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FleetRow{}
	for _, r := range rows {
		got[r.Node] = r
	}
	if r := got["a-1"]; len(rows) != 3 || r.Problem != "" || r.Interface != "eth1" || r.CycleNs != 2000000 || r.BaseTime != "auto" {
		t.Errorf("a-1: %+v (rows %+v)", r, rows)
	}
	if p := got["b-1"].Problem; !strings.Contains(p, "plan: stream control on eth1: deadline") {
		t.Errorf("b-1: %q", p)
	}
	if p := got["c-1"].Problem; !strings.Contains(p, "spec.offsets.c-1: the node's interface eth1 carries streams") {
		t.Errorf("c-1: %q", p)
	}
}

// The agent's Kubernetes side checks a selected configuration as the agent takes it, planned:
// streams that fit are handed to the agent (written, with their hash in force); streams that do
// not are refused with the planner's reason, and the configuration in force stays.
func TestHandPlansStreams(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	r := &runner{o: Options{Node: "a-1", File: file, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	ok := streamsConfig(t, "a", "100us")
	if err := r.hand(&ok); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != string(ok.Spec.Config) || r.sel.InForce == nil || r.sel.InForce.Hash == "" {
		t.Fatalf("not handed to the agent: %s, %v, %+v", b, err, r.sel.InForce)
	}
	bad := streamsConfig(t, "a", "100ns")
	err := r.hand(&bad)
	if err == nil || !strings.Contains(err.Error(), "plan: stream control on eth1: deadline") {
		t.Fatalf("streams that do not fit: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != string(ok.Spec.Config) {
		t.Fatalf("the refused configuration was written: %s", b)
	}
}
