//go:build kube

package kube

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/agent"
	"github.com/tsnctl/tsnctl/testbed/controlplane"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// TestAgentFollowsItsTSNConfig runs the agent's Kubernetes side against a real API server, the
// agent on a veth of the host's kernel (channels only: the host has no taprio; the lab's end-to-end
// test has it): the TSNConfig that selects the node by its labels is applied, edits and label
// changes reach the agent without a restart, two TSNConfigs for one node are an error in status and
// change nothing, a configuration the agent refuses is reported, and drift repairs show in status.
func TestAgentFollowsItsTSNConfig(t *testing.T) {
	// The agent runs as the DaemonSet's pods do: the manifests' RBAC and admission policy, a token
	// bound to a pod on its node.
	cp, token := agentCluster(t, "edge-1", map[string]string{"tsnctl.io/line": "a"})
	kubectl := func(stdin string, args ...string) string { return cp.Kubectl(t, stdin, args...) }
	lineA := func(rx, tx int) string {
		return fmt.Sprintf(`
apiVersion: tsnctl.io/v1alpha1
kind: TSNConfig
metadata: {name: line-a}
spec:
  nodeSelector: {matchLabels: {tsnctl.io/line: a}}
  config:
    interfaces:
      - name: kb0
        channels: {rx: %d, tx: %d}
`, rx, tx)
	}
	kubectl(lineA(4, 4), "apply", "-f", "-")

	ns := fmt.Sprintf("tsnkb%d", os.Getpid())
	labtest.Run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	labtest.Run(t, "ip", "netns", "exec", ns, "ip", "link", "add", "kb0", "numtxqueues", "8", "numrxqueues", "8", "type", "veth",
		"peer", "name", "kb1", "numtxqueues", "8", "numrxqueues", "8")
	channels := func() string {
		out := labtest.Run(t, "ip", "netns", "exec", ns, "ethtool", "-l", "kb0")
		_, cur, _ := strings.Cut(out, "Current hardware settings:")
		return strings.Join(strings.Fields(cur), " ")
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var a *agent.Agent
	startedAgent := make(chan *agent.Agent, 1)
	go func() {
		done <- Run(ctx, Options{Node: "edge-1", Config: cp.TokenConfig(token), File: filepath.Join(dir, "config.json"), Heartbeat: time.Hour,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
			agent.Options{NetNS: ns, StatusPath: filepath.Join(dir, "status.json"), PTPStatus: filepath.Join(dir, "sync.json"), VerifyEvery: time.Hour},
			func(x *agent.Agent) { startedAgent <- x })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case a = <-startedAgent:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no agent started in 30 s")
	}

	// What kubectl shows of the node's TSNNode.
	node := tsnnode{cp, "edge-1"}
	get, condition := node.get, node.condition
	wait := func(what string, ok func() bool) {
		t.Helper()
		labtest.Eventually(t, 20*time.Second, what, ok)
	}

	wait("kb0 configured from TSNConfig line-a", func() bool { return condition("Configured") == "True/Configured" })
	if got := channels(); !strings.Contains(got, "RX: 4 TX: 4") {
		t.Fatalf("channels %q", got)
	}
	if got := condition("Ready"); got != "True/Ready" {
		t.Fatalf("Ready %s: %s", got, get(`{.status.conditions[?(@.type=="Ready")].message}`))
	}
	table := kubectl("", "get", "tsnnodes", "-o", "wide")
	t.Logf("kubectl get tsnnodes -o wide:\n%s", table)
	for _, col := range []string{"CONFIG", "CONFIGURED", "SYNC", "REPAIRS", "HASH", "LAST-CHANGE", "line-a", "True"} {
		if !strings.Contains(table, col) {
			t.Fatalf("kubectl get tsnnodes does not show %s:\n%s", col, table)
		}
	}
	owner := get("{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}")
	if owner != "Node/edge-1" {
		t.Fatalf("owner %q", owner)
	}
	hash := get("{.status.config.hash}")

	// An edit reaches the agent through its reload path, without a restart.
	kubectl(lineA(2, 2), "apply", "-f", "-")
	wait("channels 2/2 after the edit", func() bool { return strings.Contains(channels(), "RX: 2 TX: 2") })
	wait("the new hash in status", func() bool { h := get("{.status.config.hash}"); return h != "" && h != hash })
	if st := a.Snapshot(); st.Reloads != 1 || st.ReloadFailures != 0 {
		t.Fatalf("reloads %d (%d refused)", st.Reloads, st.ReloadFailures)
	}

	// Drift repaired, and shown.
	if r := get("{.status.repairs}"); r != "0" {
		t.Fatalf("status.repairs %q after the first configuration and an edit: neither is a drift repair", r)
	}
	labtest.Run(t, "ip", "netns", "exec", ns, "ethtool", "-L", "kb0", "rx", "8", "tx", "8")
	wait("the repair in status", func() bool { return get("{.status.repairs}") == "1" })
	if got := channels(); !strings.Contains(got, "RX: 2 TX: 2") {
		t.Fatalf("channels %q after the repair", got)
	}

	// Two TSNConfigs for one node: an error in status, nothing changes.
	edgeOnly := func(iface string) { // a TSNConfig for edge-1 by name
		kubectl("apiVersion: tsnctl.io/v1alpha1\nkind: TSNConfig\nmetadata: {name: edge-1-only}\n"+
			"spec:\n  nodeNames: [edge-1]\n  config:\n    interfaces:\n      - "+iface+"\n", "apply", "-f", "-")
	}
	edgeOnly("{name: kb0, channels: {rx: 1, tx: 1}}")
	wait("ambiguous in status", func() bool { return condition("ConfigSelected") == "False/Ambiguous" })
	msg := get(`{.status.conditions[?(@.type=="ConfigSelected")].message}`)
	if !strings.Contains(msg, "edge-1-only, line-a") {
		t.Fatalf("message %q", msg)
	}
	time.Sleep(500 * time.Millisecond)
	if got := channels(); !strings.Contains(got, "RX: 2 TX: 2") || get("{.status.config.name}") != "line-a" {
		t.Fatalf("channels %q, config %s while ambiguous", got, get("{.status.config.name}"))
	}

	// The node's labels change: the other TSNConfig alone selects it now.
	kubectl("", "label", "node", "edge-1", "tsnctl.io/line=b", "--overwrite")
	wait("edge-1-only selected after the label change", func() bool { return get("{.status.config.name}") == "edge-1-only" })
	wait("channels 1/1", func() bool { return strings.Contains(channels(), "RX: 1 TX: 1") })

	// A configuration the CRD takes but the agent refuses: the CRD refuses whatever lint does
	// without a node's facts (deploy/kubernetes' TestCRDAgreesWithLint), so what is left is what
	// only one node's view shows, here its offset (5 ms) beyond the schedule's 1 ms cycle (fleet
	// check names it too). Reported, the one in force stays.
	kubectl("apiVersion: tsnctl.io/v1alpha1\nkind: TSNConfig\nmetadata: {name: edge-1-only}\n"+
		"spec:\n  nodeNames: [edge-1]\n  offsets: {edge-1: 5ms}\n  config:\n    interfaces:\n      - {name: kb0, channels: {rx: 3, tx: 3}, "+
		"taprio: {num-tc: 1, queues: [\"1@0\"], clockid: CLOCK_TAI, base-time: auto, schedule: [{cmd: S, gates: \"0x1\", interval: 1ms}]}}\n", "apply", "-f", "-")
	wait("invalid in status", func() bool { return condition("ConfigSelected") == "False/InvalidConfig" })
	if msg := get(`{.status.conditions[?(@.type=="ConfigSelected")].message}`); !strings.Contains(msg, "base-time-offset") {
		t.Fatalf("message %q", msg)
	}
	if got := channels(); !strings.Contains(got, "RX: 1 TX: 1") {
		t.Fatalf("channels %q after an invalid configuration", got)
	}

	// No TSNConfig at all: the configuration in force stays, and status says so.
	kubectl("", "delete", "tsnconfig", "edge-1-only")
	wait("no config in status", func() bool { return condition("ConfigSelected") == "False/NoConfig" })
	if got := channels(); !strings.Contains(got, "RX: 1 TX: 1") {
		t.Fatalf("channels %q without a TSNConfig", got)
	}
}

// TestFleetCheckReadsTheAPI: the example fleet, applied to an API server (the CRD takes it), is
// read back and checked as from the file.
func TestFleetCheckReadsTheAPI(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{CRDs: []string{"../deploy/helm/tsnctl/crds"}})
	cp.Kubectl(t, "", "apply", "--server-side", "-f", "../deploy/kubernetes/example-fleet.yaml")
	f, err := ReadFleet(context.Background(), cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	rows, err := CheckFleet(f.Configs, f.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	WriteFleetText(&text, rows)
	if len(rows) != 3 || !strings.Contains(text.String(), "3 schedules, 0 with a problem") || rows[2].PhaseNs != 500000 {
		t.Fatalf("%s", text.String())
	}
	t.Logf("tsnctl fleet check against the API server:\n%s", text.String())
}

// TestFleetCheckPlansStreamsFromTheAPI: TSNConfigs with streams, as the API server stores them
// (the CRD takes both), are planned by the fleet check: one node's row is its planned schedule (the
// stream's 2 ms hyperperiod), the other's streams cannot meet their deadline, which is its problem.
func TestFleetCheckPlansStreamsFromTheAPI(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{CRDs: []string{"../deploy/helm/tsnctl/crds"}})
	config := func(name, node, maxLatency string) string {
		return `apiVersion: tsnctl.io/v1alpha1
kind: TSNConfig
metadata: {name: ` + name + `}
spec:
  nodeNames: [` + node + `]
  config:
    interfaces:
      - {name: eth1, channels: {combined: 4}, plan: {etf-delta: 50us, best-effort: 50}}
    streams:
      - {name: control, interface: eth1, dest: "10.0.0.2:7788", vlan: 3, pcp: 6, period: 2ms, size: 64, offset: 1200us, max-latency: ` + maxLatency + `}
---
apiVersion: v1
kind: Node
metadata: {name: ` + node + `}
`
	}
	cp.Kubectl(t, config("fits", "edge-1", "100us"), "apply", "--server-side", "-f", "-")
	cp.Kubectl(t, config("late", "edge-2", "500ns"), "apply", "--server-side", "-f", "-")
	f, err := ReadFleet(context.Background(), cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := CheckFleet(f.Configs, f.Nodes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FleetRow{}
	for _, r := range rows {
		got[r.Node] = r
	}
	if r := got["edge-1"]; len(rows) != 2 || r.Problem != "" || r.Interface != "eth1" || r.CycleNs != 2000000 {
		t.Fatalf("edge-1: %+v (rows %+v)", r, rows)
	}
	if p := got["edge-2"].Problem; !strings.Contains(p, "plan: stream control on eth1: deadline") {
		t.Fatalf("edge-2: %q", p)
	}
}
