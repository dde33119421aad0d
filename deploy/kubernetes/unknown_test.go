//go:build kube

package kubernetes

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/testbed/controlplane"
)

// misspelt are TSNConfig specs each with one misspelt key, at every level of the configuration:
// each must be refused, naming the key, not pruned. The API server prunes an unknown key with only
// a warning unless the client asks for strict field validation: kubectl does (its default), helm
// install does not, so the chart's values schema (generated from the CRD by crdgen) refuses it.
var misspelt = map[string]struct{ spec, key string }{
	"spec":      {`{nodeNames: [edge-1], confg: {}}`, "confg"},
	"config":    {`{nodeNames: [edge-1], config: {intrefaces: []}}`, "intrefaces"},
	"interface": {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, chanels: {combined: 4}}]}}`, "chanels"},
	"channels":  {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, channels: {combind: 4}}]}}`, "combind"},
	"vlan":      {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, vlans: [{id: 3, egress-qos: {"6": 6}}]}]}}`, "egress-qos"},
	"taprio":    {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, taprio: {num-tc: 1, num_tc: 2, clockid: CLOCK_TAI, schedule: [{cmd: S, gates: "0x1", interval: 1ms}]}}]}}`, "num_tc"},
	"entry":     {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, taprio: {num-tc: 1, clockid: CLOCK_TAI, schedule: [{cmd: S, gates: "0x1", intervall: 1ms, interval: 1ms}]}}]}}`, "intervall"},
	"etf":       {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, taprio: {num-tc: 1, queues: ["1@0"], clockid: CLOCK_TAI, schedule: [{cmd: S, gates: "0x1", interval: 1ms}]}, etf: [{queue: 0, delta: 1ms, clockid: CLOCK_TAI, skip-sock: true}]}]}}`, "skip-sock"},
	"ptp":       {`{nodeNames: [edge-1], config: {ptp: {interface: eth1, rol: slave}}}`, "rol"},
	"ptp-sync":  {`{nodeNames: [edge-1], config: {ptp: {interface: eth1, sync: {holdovr: 1s}}}}`, "holdovr"},
	"ptp-opt":   {`{nodeNames: [edge-1], config: {ptp: {interface: eth1, options: {logSyncIntervl: -3}}}}`, "logSyncIntervl"},
	"stream":    {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1}], streams: [{name: c, interface: eth1, dest: "10.0.0.2:7788", vlan: 3, period: 2ms, size: 64, max-latency: 100us, max-latncy: 1us}]}}`, "max-latncy"},
	"plan":      {`{nodeNames: [edge-1], config: {interfaces: [{name: eth1, plan: {best_effort: 50}}], streams: [{name: c, interface: eth1, dest: "10.0.0.2:7788", vlan: 3, period: 2ms, size: 64, max-latency: 100us}]}}`, "best_effort"},
	"selector":  {`{nodeSelector: {matchLabel: {a: b}}, config: {}}`, "matchLabel"},
}

// TestMisspeltKeysRefused: a TSNConfig with a misspelt key is refused by kubectl create and by
// helm install (a release's tsnConfigs), with the key named; nothing is stored.
func TestMisspeltKeysRefused(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{CRDs: []string{"../helm/tsnctl/crds"}})
	for name, c := range misspelt {
		spec := c.spec
		t.Run(name, func(t *testing.T) {
			obj := "apiVersion: tsnctl.io/v1alpha1\nkind: TSNConfig\nmetadata: {name: m-" + name + "}\nspec: " + spec + "\n"
			out, err := cp.KubectlErr(obj, "create", "-f", "-")
			if err == nil || !strings.Contains(err.Error(), `unknown field "spec.`) || !strings.Contains(err.Error(), c.key) {
				t.Errorf("kubectl create took it (%v): %s", err, out)
			}
			values := filepath.Join(t.TempDir(), "values.yaml")
			os.WriteFile(values, []byte("tsnConfigs:\n  m-"+name+": "+spec+"\n"), 0o644)
			cmd := exec.Command(filepath.Join(cp.Bin, "helm"), "install", "m-"+name, "../helm/tsnctl", "--kubeconfig", cp.Kubeconfig,
				"--namespace", "m-"+name, "--create-namespace", "--wait=false", "--skip-crds", "-f", values)
			hout, herr := cmd.CombinedOutput()
			exec.Command(filepath.Join(cp.Bin, "helm"), "uninstall", "m-"+name, "--kubeconfig", cp.Kubeconfig, "--namespace", "m-"+name).Run()
			if herr == nil || !strings.Contains(string(hout), "additional properties '"+c.key+"' not allowed") {
				t.Errorf("helm install took it (%v): %s", herr, hout)
			}
			if got, _ := cp.KubectlErr("", "get", "tsnconfigs", "-o", "name"); strings.Contains(got, "m-"+name) {
				t.Errorf("stored: %s", got)
			}
		})
	}
}
