//go:build kube || labkube

package kube

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tsnctl/tsnctl/testbed/controlplane"
)

// agentCluster starts a control plane with tsnctl's manifests (the CRDs, RBAC, the admission
// policy) and the node, and returns a token bound to a pod of the agent's service account on the
// node: the agent under test runs as the DaemonSet's pods do.
func agentCluster(t *testing.T, node string, labels map[string]string) (*controlplane.ControlPlane, string) {
	t.Helper()
	cp := controlplane.Start(t, controlplane.Options{})
	cp.Kubectl(t, "", "apply", "--server-side", "-f", "../deploy/kubernetes/tsnctl.yaml")
	b, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": node, "labels": labels}})
	cp.Kubectl(t, string(b), "apply", "-f", "-")
	return cp, cp.PodToken(t, "tsnctl-system", "tsnctl-agent", "tsnctl-agent-"+node, node)
}

// tsnnode reads a node's TSNNode as kubectl shows it.
type tsnnode struct {
	cp   *controlplane.ControlPlane
	name string
}

// get is kubectl get tsnnode NAME -o jsonpath=PATH ("" when there is none yet).
func (n tsnnode) get(jsonpath string) string {
	out, _ := n.cp.KubectlErr("", "get", "tsnnode", n.name, "-o", "jsonpath="+jsonpath)
	return out
}

// condition is a condition's STATUS/REASON.
func (n tsnnode) condition(typ string) string {
	return n.get(fmt.Sprintf(`{.status.conditions[?(@.type=="%s")].status}/{.status.conditions[?(@.type=="%s")].reason}`, typ, typ))
}
