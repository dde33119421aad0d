//go:build kube

package kubernetes

import (
	"bufio"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/preflight"
	"github.com/tsnctl/tsnctl/testbed/controlplane"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// TestDaemonSetLandsOnTSNNodes: the DaemonSet selects nodes by the labels tsnctl check's NFD file
// gives them, and its pods land on exactly those nodes (kube-controller-manager's DaemonSet
// controller, kube-scheduler, kwok's fake nodes running the pods). The label names come from
// check's output on this machine: one fake node carries that output as it is (this host's kernel
// has no taprio), two carry the same names as a TSN node's check writes them (true), one none.
// The device plugin's pods land on the same nodes; the agent's pods ask for its resource, which
// the fake nodes offer as a kubelet does once the plugin registered (one tsnctl.io/phc each).
func TestDaemonSetLandsOnTSNNodes(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{Controllers: []string{"daemonset"}, Scheduler: true, Kwok: true})
	cp.Kubectl(t, "", "apply", "--server-side", "-f", "tsnctl.yaml")

	var nfd strings.Builder
	if err := preflight.Run(preflight.Options{}).WriteNFD(&nfd); err != nil {
		t.Fatal(err)
	}
	host := map[string]string{} // NFD labels the node with these
	for sc := bufio.NewScanner(strings.NewReader(nfd.String())); sc.Scan(); {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			host[k] = v
		}
	}
	tsn := map[string]string{}
	for k := range host {
		if !strings.Contains(k, "-iface-") {
			tsn[k] = "true"
		}
	}
	var ds struct {
		Spec struct {
			Template struct {
				Spec struct {
					NodeSelector map[string]string `json:"nodeSelector"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(cp.Kubectl(t, "", "get", "daemonset", "-n", "tsnctl-system", "tsnctl-agent", "-o", "json")), &ds); err != nil {
		t.Fatal(err)
	}
	sel := ds.Spec.Template.Spec.NodeSelector
	if len(sel) == 0 {
		t.Fatal("the DaemonSet selects every node")
	}
	for k := range sel {
		if _, ok := host[k]; !ok {
			t.Fatalf("the DaemonSet selects on %s, a label tsnctl check --nfd does not write:\n%s", k, nfd.String())
		}
	}

	node := func(name string, labels map[string]string) {
		b, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{
			"name": name, "labels": labels, "annotations": map[string]string{"kwok.x-k8s.io/node": "fake"}}})
		cp.Kubectl(t, string(b), "apply", "-f", "-")
		cp.Kubectl(t, `{"status": {"capacity": {"tsnctl.io/phc": "1"}, "allocatable": {"tsnctl.io/phc": "1"}}}`,
			"patch", "node", name, "--subresource", "status", "--type", "merge", "--patch-file", "/dev/stdin")
	}
	node("tsn-1", tsn)
	node("tsn-2", tsn)
	node("plain-1", host)
	node("bare-1", nil)

	for _, component := range []string{"agent", "device-plugin"} {
		labtest.Eventually(t, 90*time.Second, "the "+component+"'s pods Running on tsn-1 and tsn-2", func() bool {
			out, err := cp.KubectlErr("", "get", "pods", "-n", "tsnctl-system", "-l", "app.kubernetes.io/name=tsnctl,app.kubernetes.io/component="+component,
				"-o", `jsonpath={range .items[*]}{.spec.nodeName}={.status.phase}{"\n"}{end}`)
			if err != nil {
				return false
			}
			placed := strings.Fields(out)
			slices.Sort(placed)
			return slices.Equal(placed, []string{"tsn-1=Running", "tsn-2=Running"})
		})
	}
	// And no more come.
	time.Sleep(2 * time.Second)
	out := cp.Kubectl(t, "", "get", "pods", "-n", "tsnctl-system", "-o", "wide")
	if n, m := strings.Count(out, "tsnctl-agent-"), strings.Count(out, "tsnctl-device-plugin-"); n != 2 || m != 2 {
		t.Fatalf("%d agent pods, %d device plugin pods:\n%s", n, m, out)
	}
	t.Logf("selector %v; pods:\n%s", sel, out)
}
