//go:build kube

package kubernetes

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/testbed/controlplane"
)

// TestManifestsAreCurrent: tsnctl.yaml is what render makes of the chart.
func TestManifestsAreCurrent(t *testing.T) {
	bin, err := controlplane.Binaries()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("./render", filepath.Join(bin, "helm")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if have, _ := os.ReadFile("tsnctl.yaml"); string(have) != string(out) {
		t.Fatal("deploy/kubernetes/tsnctl.yaml is not the chart's rendering: run make manifests")
	}
}

// TestInstallAndLeastPrivilege: the chart installs with helm and the rendered manifests apply
// server-side, both without a warning; with the token of an agent's pod, kubectl auth can-i --list
// shows exactly the agent's rights; the agent writes its own node's TSNNode and no other's, and a
// token not bound to a pod writes none.
func TestInstallAndLeastPrivilege(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{})
	helm := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(cp.Bin, "helm"), append(args, "--kubeconfig", cp.Kubeconfig)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := helm("install", "tsnctl", "../helm/tsnctl", "--namespace", "tsnctl-system", "--create-namespace", "--wait=false")
	if strings.Contains(strings.ToLower(out), "warning") {
		t.Fatalf("helm install warned:\n%s", out)
	}
	helm("uninstall", "tsnctl", "--namespace", "tsnctl-system")
	// The plain manifests, as a kubectl user applies them (KubectlErr fails on any warning).
	cp.Kubectl(t, "", "apply", "--server-side", "--field-manager", "tsnctl-test", "-f", "tsnctl.yaml")

	for _, n := range []string{"edge-1", "edge-2"} {
		cp.Kubectl(t, `{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "`+n+`"}}`, "apply", "-f", "-")
	}
	token := cp.PodToken(t, "tsnctl-system", "tsnctl-agent", "agent-edge-1", "edge-1")
	agent := cp.KubeconfigFor(t, "agent-edge-1", token)
	as := func(kubeconfig, stdin string, args ...string) (string, error) {
		return cp.KubectlErr(stdin, append(args, "--kubeconfig", kubeconfig)...)
	}

	// Exactly the agent's rights (and what every authenticated user has).
	list, err := as(agent, "", "auth", "can-i", "--list")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	slices.Sort(got)
	want := []string{
		// What every authenticated user may do (discovery, health, its own reviews, trust bundles).
		"[/.well-known/openid-configuration/] [] [get]", "[/.well-known/openid-configuration] [] [get]",
		"[/api/*] [] [get]", "[/api] [] [get]", "[/apis/*] [] [get]", "[/apis] [] [get]",
		"[/healthz] [] [get]", "[/healthz] [] [get]", "[/livez] [] [get]", "[/livez] [] [get]",
		"[/openapi/*] [] [get]", "[/openapi] [] [get]", "[/openid/v1/jwks/] [] [get]", "[/openid/v1/jwks] [] [get]",
		"[/readyz] [] [get]", "[/readyz] [] [get]", "[/version/] [] [get]", "[/version/] [] [get]",
		"[/version] [] [get]", "[/version] [] [get]",
		"clustertrustbundles.certificates.k8s.io [] [] [get list watch]",
		"selfsubjectaccessreviews.authorization.k8s.io [] [] [create]",
		"selfsubjectreviews.authentication.k8s.io [] [] [create]",
		"selfsubjectrulesreviews.authorization.k8s.io [] [] [create]",
		// The agent's own.
		"nodes [] [] [get list watch]",
		"tsnconfigs.tsnctl.io [] [] [get list watch]",
		"tsnnodes.tsnctl.io [] [] [get create patch]",
		"tsnnodes.tsnctl.io/status [] [] [patch]",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("kubectl auth can-i --list with the agent's token:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	tsnnode := func(name string) string {
		return `{"apiVersion": "tsnctl.io/v1alpha1", "kind": "TSNNode", "metadata": {"name": "` + name + `"},
			"status": {"repairs": 1, "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "test",
			"lastTransitionTime": "2026-11-29T12:00:00Z"}]}}`
	}
	apply := func(kubeconfig, name string) error {
		if _, err := as(kubeconfig, tsnnode(name), "apply", "--server-side", "--field-manager", "tsnctl-agent", "-f", "-"); err != nil {
			return err
		}
		_, err := as(kubeconfig, tsnnode(name), "apply", "--server-side", "--field-manager", "tsnctl-agent", "--subresource", "status", "-f", "-")
		return err
	}
	// The API server takes up a new ValidatingAdmissionPolicy when it next refreshes its policies
	// (every second, after its informer has seen the policy and its binding): until then the policy
	// is not enforced. Wait for that with a dry run of the write it must refuse.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := as(agent, tsnnode("edge-2"), "apply", "--server-side", "--dry-run=server", "--field-manager", "tsnctl-agent", "-f", "-")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("30 s after the install, the API server still does not enforce the policy tsnctl-agent-own-tsnnode")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := apply(agent, "edge-1"); err != nil {
		t.Fatalf("the agent of edge-1 cannot write its own TSNNode: %v", err)
	}
	if got := cp.Kubectl(t, "", "get", "tsnnode", "edge-1", "-o", "jsonpath={.status.repairs}"); got != "1" {
		t.Fatalf("status.repairs %q", got)
	}
	err = apply(agent, "edge-2")
	if err == nil || !strings.Contains(err.Error(), "tsnctl agent on node edge-1 may write TSNNode edge-1 only, not edge-2") {
		t.Fatalf("the agent of edge-1 wrote edge-2's TSNNode, or was refused for another reason: %v", err)
	}
	if _, err := as(agent, "", "delete", "tsnnode", "edge-1"); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("the agent deleted a TSNNode: %v", err)
	}
	if _, err := as(agent, `{"apiVersion": "tsnctl.io/v1alpha1", "kind": "TSNConfig", "metadata": {"name": "x"},
		"spec": {"nodeNames": ["edge-1"], "config": {}}}`, "apply", "--server-side", "-f", "-"); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("the agent wrote a TSNConfig: %v", err)
	}
	// A token of the agent's service account that is not bound to a pod carries no node.
	unbound := cp.KubeconfigFor(t, "unbound", strings.TrimSpace(cp.Kubectl(t, "", "create", "token", "tsnctl-agent", "-n", "tsnctl-system")))
	if err := apply(unbound, "edge-1"); err == nil || !strings.Contains(err.Error(), "must use a token bound to its pod") {
		t.Fatalf("an unbound token wrote a TSNNode, or was refused for another reason: %v", err)
	}
	t.Logf("kubectl auth can-i --list with agent-edge-1's token:\n%s", list)
}

// TestPrometheusConfig: the scrape configuration and its alerting rules are ones Prometheus takes
// (promtool check config, which checks the rule files too), and the rules do what alerts_test.yaml
// says (promtool test rules: when each alert fires, its labels and messages, and where it stays quiet).
func TestPrometheusConfig(t *testing.T) {
	bin, err := controlplane.Binaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "config", "prometheus.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		out, err := exec.Command(filepath.Join(bin, "promtool"), args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}
