//go:build labkube

package kube

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// TestLabAgentOnKubernetes is the end-to-end run: tsnctl agent --kubernetes in a lab guest (the
// real taprio, ETF and 802.1Q of Debian's kernel, real time) against this host's API server, which
// the guest reaches through one forwarded port and nothing else, with the token of a pod on the
// fake node tsn-1 (the manifests' RBAC and admission policy). The agent takes the seed's
// configuration from the TSNConfig that selects tsn-1 by its NFD label, applies it (tc read back in
// the guest), publishes its TSNNode (kubectl shows it configured and LOCKED), repairs a deleted
// VLAN and shows the repair, and applies an edited TSNConfig without a restart.
func TestLabAgentOnKubernetes(t *testing.T) {
	last := atEnd(t)
	cp, token := agentCluster(t, "tsn-1", map[string]string{"feature.node.kubernetes.io/tsnctl-taprio": "true"})
	kubectl := func(stdin string, args ...string) string { return cp.Kubectl(t, stdin, args...) }
	tsnconfig := func(delta string) string {
		return seedTSNConfig(t, delta, map[string]string{"feature.node.kubernetes.io/tsnctl-taprio": "true"})
	}
	kubectl(tsnconfig("5ms"), "apply", "--server-side", "--field-manager", "operator", "-f", "-")

	// The guest's kubeconfig: the API server at the forwarded address, its certificate's name.
	u, err := url.Parse(cp.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	share := t.TempDir()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["host"] = &clientcmdapi.Cluster{Server: "https://10.0.2.100:" + u.Port(), CertificateAuthorityData: cp.Config.CAData, TLSServerName: "localhost"}
	kc.AuthInfos["agent"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["agent"] = &clientcmdapi.Context{Cluster: "host", AuthInfo: "agent"}
	kc.CurrentContext = "agent"
	if err := clientcmd.WriteToFile(*kc, filepath.Join(share, "agent.kubeconfig")); err != nil {
		t.Fatal(err)
	}

	run := last(guest(t, share, []string{"agent.log"}, "--time", "real", "--timeout", "600", "--host-port", u.Port(), "--share", share, "testdata/lab-agent.sh"))
	step := guestSteps(t, share)
	node := tsnnode{cp, "tsn-1"}
	get, condition := node.get, node.condition

	step("configured", 8*time.Minute)
	labtest.Eventually(t, 30*time.Second, "TSNNode tsn-1 configured, LOCKED and ready", func() bool {
		return condition("Configured") == "True/Configured" && condition("TimeSynced") == "True/Locked" && condition("Ready") == "True/Ready"
	})
	table := kubectl("", "get", "tsnnodes", "-o", "wide")
	t.Logf("kubectl get tsnnodes -o wide, configured:\n%s", table)
	if !strings.Contains(table, "seed") || !strings.Contains(table, "LOCKED") {
		t.Fatalf("kubectl get tsnnodes does not show the configuration and LOCKED:\n%s", table)
	}
	applied, _ := os.ReadFile(filepath.Join(share, "applied.json"))
	for _, want := range []string{`"kind":"taprio","handle":"100:"`, `"kind":"etf"`, `"delta":5000000`} {
		if !strings.Contains(string(applied), want) {
			t.Fatalf("tc -j -d qdisc show dev eth1 in the guest has no %s:\n%s", want, applied)
		}
	}
	if r := get("{.status.repairs}"); r != "0" {
		t.Fatalf("TSNNode tsn-1 shows %q repairs after its first configuration, which is none", r)
	}

	os.WriteFile(filepath.Join(share, "go"), []byte("drift\n"), 0o644)
	step("repaired", 3*time.Minute)
	labtest.Eventually(t, 30*time.Second, "the repair in TSNNode tsn-1", func() bool {
		return get("{.status.repairs}") == "1" && strings.Contains(get("{.status.interfaces[0].lastDrift}"), "add VLAN eth1.3")
	})
	t.Logf("repairs 0 -> 1, last drift %q", get("{.status.interfaces[0].lastDrift}"))

	hash := get("{.status.config.hash}")
	kubectl(tsnconfig("4ms"), "apply", "--server-side", "--field-manager", "operator", "-f", "-")
	step("edited", 3*time.Minute)
	if err := run.Wait(); err != nil {
		t.Fatalf("testbed/run: %v", err)
	}
	edited, _ := os.ReadFile(filepath.Join(share, "edited.json"))
	if !strings.Contains(string(edited), `"delta":4000000`) {
		t.Fatalf("the edit did not reach the kernel:\n%s", edited)
	}
	labtest.Eventually(t, 30*time.Second, "the new hash in TSNNode tsn-1", func() bool { h := get("{.status.config.hash}"); return h != "" && h != hash })
	status, _ := os.ReadFile(filepath.Join(share, "status.txt"))
	if !strings.Contains(string(status), "reloads\t1 (0 refused)") && !strings.Contains(string(status), "1 (0 refused)") {
		t.Fatalf("the edit was not one reload of the running agent:\n%s", status)
	}
	t.Logf("kubectl get tsnnodes -o wide, at the end:\n%s\nguest's tsnctl status:\n%s", kubectl("", "get", "tsnnodes", "-o", "wide"), status)
}

// seedTSNConfig is the TSNConfig "seed" for the nodes labelled so: the seed's configuration (lint's
// corpus) with ETF's delta, the node its line's grandmaster on eth0 (alone in a guest, whose eth0
// is cabled to eth1), software timestamping (QEMU's igb does not timestamp packets).
func seedTSNConfig(t *testing.T, delta string, labels map[string]string) string {
	t.Helper()
	seed, err := os.ReadFile("../lint/testdata/corpus/ok-seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var config map[string]any
	if err := yaml.Unmarshal([]byte(strings.Replace(string(seed), "delta: 5ms", "delta: "+delta, 1)), &config); err != nil {
		t.Fatal(err)
	}
	config["ptp"] = map[string]any{"interface": "eth0", "role": "grandmaster", "timestamping": "software",
		"options": map[string]any{"neighborPropDelayThresh": "100000000"},
		"sync":    map[string]any{"offset-threshold": "2ms", "lock-samples": 4, "holdover": "5s", "poll-interval": "250ms"}}
	b, err := json.Marshal(map[string]any{"apiVersion": "tsnctl.io/v1alpha1", "kind": "TSNConfig", "metadata": map[string]any{"name": "seed"},
		"spec": map[string]any{"nodeSelector": map[string]any{"matchLabels": labels}, "config": config}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// guestSteps returns step: step(want, within) waits for the guest script to say want in
// share/step; a guest's "timeout: ..." fails the test at once, with what the command it waited
// for said last.
func guestSteps(t *testing.T, share string) func(want string, within time.Duration) {
	start := time.Now()
	return func(want string, within time.Duration) {
		t.Helper()
		defer func() { t.Logf("guest step %s at %.0fs", want, time.Since(start).Seconds()) }()
		labtest.Eventually(t, within, "guest step "+want, func() bool {
			b, _ := os.ReadFile(filepath.Join(share, "step"))
			got := strings.TrimSpace(string(b))
			if strings.HasPrefix(got, "timeout") {
				said, _ := os.ReadFile(filepath.Join(share, "timeout.txt"))
				t.Fatalf("guest: %s\n%s", got, said)
			}
			return got == want
		})
	}
}

// guestRun is a testbed/run started by guest.
type guestRun struct {
	done      chan struct{}
	err       error
	lastWords string // when the test failed: the guest's last step, for atEnd
}

// Wait waits for testbed/run to end and returns its error.
func (g *guestRun) Wait() error {
	<-g.done
	return g.err
}

// guest starts testbed/run with args; when the test ends, it stops it if it still runs and, if the
// test failed, logs the guest's console, the last 20 kB of each file of share named in logs and,
// for atEnd, the guest's last step and what it timed out on.
func guest(t *testing.T, share string, logs []string, args ...string) *guestRun {
	t.Helper()
	run := exec.Command("../testbed/run", args...)
	var console strings.Builder
	run.Stdout, run.Stderr = &console, &console
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that QEMU is stopped with it
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	g := &guestRun{done: make(chan struct{})}
	go func() { g.err = run.Wait(); close(g.done) }()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
			<-g.done
		}
		if !t.Failed() {
			return
		}
		t.Logf("guest console:\n%s", console.String())
		for _, f := range logs {
			b, _ := os.ReadFile(filepath.Join(share, f))
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("%s:\n%s", f, b)
		}
		step, _ := os.ReadFile(filepath.Join(share, "step"))
		said, _ := os.ReadFile(filepath.Join(share, "timeout.txt"))
		if c := console.String(); strings.Contains(c, "Kernel panic") || strings.Contains(c, "BUG: ") {
			said = append(said, "the guest's kernel crashed: see the guest console above"...)
		}
		g.lastWords = fmt.Sprintf("the failure is above the guest's console; the guest's last step: %s%s", step, said)
	})
	return g
}

// atEnd registers, before anything else the test registers, a cleanup that logs last what the
// guest's cleanup found (its last step, what it timed out on): cleanups run last-registered first,
// so it comes after the control plane's logs, at the end of the output, which is what CI shows.
// It returns the function that names that guest: run := last(guest(...)).
func atEnd(t *testing.T) func(*guestRun) *guestRun {
	var g *guestRun
	t.Cleanup(func() {
		if g != nil && g.lastWords != "" {
			t.Log(g.lastWords)
		}
	})
	return func(r *guestRun) *guestRun { g = r; return r }
}
