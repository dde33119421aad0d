//go:build labkube

package kube

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/tsnctl/tsnctl/preflight"
	"github.com/tsnctl/tsnctl/testbed/controlplane"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// TestLabDaemonSetOnARealNode: a lab guest becomes a real node of this host's API server —
// kubelet 1.37 and containerd 2.4 with runc (testbed/controlplane/build --node), the guest
// reaching the API server through its one forwarded port, with a kubelet's client certificate
// (system:node:lab1) — and runs tsnctl as the Helm chart deploys it: helm install; the node
// labelled with what tsnctl check --nfd writes on it (as NFD's worker would); the DaemonSet
// controller and the scheduler place the device plugin and the agent there; the device plugin
// registers with the kubelet (the node offers one tsnctl.io/phc), the agent's pod gets it, the
// kubelet's probes make it Ready, and its TSNNode shows the seed's TSNConfig configured and
// LOCKED. tsnctl check run inside the agent's container (ctr tasks exec: its namespaces, device
// cgroup and capabilities) reads every PHC of the node, which it could not without the device
// plugin; after a restart of the kubelet, the plugin registers again. The image is make image's, imported into containerd (the guest has no registry); the
// pods' sandbox is testbed/pause's. The API server cannot reach the kubelet: no kubectl logs or exec.
func TestLabDaemonSetOnARealNode(t *testing.T) {
	const apiName = "apiserver.tsnctl.test" // the API server for the agent's pod: kubernetesAPI.host
	last := atEnd(t)
	cp := controlplane.Start(t, controlplane.Options{Controllers: []string{"daemonset", "root-ca-cert-publisher"}, Scheduler: true, ServingName: apiName})
	user, err := cp.AddUser("system:node:lab1", "system:nodes")
	if err != nil {
		t.Fatal(err)
	}
	cp.Kubectl(t, "", "create", "clusterrolebinding", "lab1-node", "--clusterrole", "system:node", "--user", "system:node:lab1")
	kc, err := clientcmd.Load(user)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(cp.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kc.Clusters {
		c.Server = "https://10.0.2.100:" + u.Port()
		c.TLSServerName = "localhost"
	}
	share := t.TempDir()
	if err := clientcmd.WriteToFile(*kc, filepath.Join(share, "kubelet.kubeconfig")); err != nil {
		t.Fatal(err)
	}
	args := []string{"--time", "real", "--timeout", "900", "--mem", "2048", "--host-port", u.Port(), "--share", share}
	bin, err := controlplane.NodeBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"kubelet", "containerd", "containerd-shim-runc-v2", "ctr", "loopback", "ptp", "host-local"} {
		args = append(args, "--bin", filepath.Join(bin, b))
	}
	pause := filepath.Join(share, "pause")
	build := exec.Command("go", "build", "-o", pause, "../testbed/pause")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // the image holds nothing else
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ../testbed/pause: %v\n%s", err, out)
	}
	if out, err := exec.Command(pause, "-image", filepath.Join(share, "pause.tar")).CombinedOutput(); err != nil {
		t.Fatalf("pause -image: %v\n%s", err, out)
	}
	image, err := os.ReadFile("../out/image/tsnctl-image.tar")
	if err != nil {
		t.Fatalf("tsnctl's image (make image): %v", err)
	}
	os.WriteFile(filepath.Join(share, "tsnctl-image.tar"), image, 0o644)
	repo, tag, _ := strings.Cut(imageTag(t, image), ":")

	// tsnctl, as a cluster's operator installs it.
	helm := exec.Command(filepath.Join(cp.Bin, "helm"), "install", "tsnctl", "../deploy/helm/tsnctl", "--kubeconfig", cp.Kubeconfig,
		"--namespace", "tsnctl-system", "--create-namespace", "--wait=false", "--set", "image.repository="+repo, "--set", "image.tag="+tag,
		"--set", "kubernetesAPI.host="+apiName, "--set", "kubernetesAPI.port="+u.Port(), "--set", "logFormat=text")
	if out, err := helm.CombinedOutput(); err != nil {
		t.Fatalf("helm install: %v\n%s", err, out)
	}
	taprio := map[string]string{"feature.node.kubernetes.io/tsnctl-taprio": "true"}
	cp.Kubectl(t, seedTSNConfig(t, "5ms", taprio), "apply", "--server-side", "--field-manager", "operator", "-f", "-")

	run := last(guest(t, share, []string{"containerd.log", "kubelet.log", "agent.log", "device-plugin.log"}, append(args, "testdata/lab-kubelet.sh")...))
	defer os.WriteFile(filepath.Join(share, "go"), []byte("stop\n"), 0o644)
	step := guestSteps(t, share)
	step("node", 10*time.Minute)
	labtest.Eventually(t, 3*time.Minute, "node lab1 Ready", func() bool {
		out, _ := cp.KubectlErr("", "get", "node", "lab1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True"
	})
	// NFD's worker's job: the node's labels from tsnctl check --nfd on it.
	nfd, err := os.ReadFile(filepath.Join(share, "nfd"))
	if err != nil {
		t.Fatal(err)
	}
	label := []string{"label", "node", "lab1"}
	for _, l := range strings.Split(string(nfd), "\n") {
		if k, _, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(k, "#") {
			label = append(label, l)
		}
	}
	if !slices.Contains(label, "feature.node.kubernetes.io/tsnctl-taprio=true") {
		t.Fatalf("tsnctl check --nfd on the lab node does not find taprio:\n%s", nfd)
	}
	cp.Kubectl(t, "", label...)
	t.Logf("kubectl get node lab1 -o wide:\n%s", cp.Kubectl(t, "", "get", "node", "lab1", "-o", "wide"))

	labtest.Eventually(t, 3*time.Minute, "the device plugin's tsnctl.io/phc on node lab1", func() bool {
		out, _ := cp.KubectlErr("", "get", "node", "lab1", "-o", `jsonpath={.status.allocatable.tsnctl\.io/phc}`)
		return out == "1"
	})
	pods := func() string {
		return cp.Kubectl(t, "", "get", "pods", "-n", "tsnctl-system", "-o", "wide")
	}
	agentReady := func() bool {
		out, _ := cp.KubectlErr("", "get", "pods", "-n", "tsnctl-system", "-l", "app.kubernetes.io/component=agent",
			"-o", `jsonpath={range .items[*]}{.spec.nodeName} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		return out == "lab1 True\n"
	}
	for start := time.Now(); time.Since(start) < 5*time.Minute && !agentReady(); {
		time.Sleep(2 * time.Second)
	}
	if !agentReady() {
		t.Fatalf("the agent's pod is not Ready on lab1:\n%s\n%s", pods(),
			cp.Kubectl(t, "", "get", "pods", "-n", "tsnctl-system", "-o", "yaml"))
	}
	t.Logf("kubectl get pods -n tsnctl-system -o wide:\n%s", pods())
	node := tsnnode{cp, "lab1"}
	labtest.Eventually(t, time.Minute, "TSNNode lab1 configured and LOCKED", func() bool {
		return node.condition("Configured") == "True/Configured" && node.condition("TimeSynced") == "True/Locked"
	})
	t.Logf("kubectl get tsnnodes -o wide:\n%s", cp.Kubectl(t, "", "get", "tsnnodes", "-o", "wide"))

	os.WriteFile(filepath.Join(share, "go"), []byte("check\n"), 0o644)
	step("checked", 2*time.Minute)
	applied, _ := os.ReadFile(filepath.Join(share, "applied.json"))
	for _, want := range []string{`"kind":"taprio","handle":"100:"`, `"kind":"etf"`, `"delta":5000000`} {
		if !strings.Contains(string(applied), want) {
			t.Fatalf("tc -j -d qdisc show dev eth1 in the guest has no %s:\n%s", want, applied)
		}
	}
	var inside, outside struct {
		PHCs []preflight.PHC `json:"phcs"`
	}
	for f, r := range map[string]any{"check-agent.json": &inside, "check-node.json": &outside} {
		b, _ := os.ReadFile(filepath.Join(share, f))
		if err := json.Unmarshal(b, r); err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b)
		}
	}
	if len(outside.PHCs) == 0 {
		t.Fatal("tsnctl check on the lab node finds no PHC")
	}
	if !slices.Equal(inside.PHCs, outside.PHCs) {
		t.Fatalf("tsnctl check in the agent's container: PHCs %+v; on the node: %+v", inside.PHCs, outside.PHCs)
	}
	for _, p := range inside.PHCs {
		if p.Error != "" {
			t.Fatalf("the agent's container cannot read %s's PHC %s: %s", p.Interface, p.Device, p.Error)
		}
	}
	t.Logf("tsnctl check in the agent's container reads %+v", inside.PHCs)
	// The guest restarted the kubelet, which deleted the plugin's socket: the plugin registered again.
	labtest.Eventually(t, time.Minute, "the device plugin registered again after the kubelet's restart", func() bool {
		b, _ := os.ReadFile(filepath.Join(share, "device-plugin.log"))
		return strings.Count(string(b), "device plugin registered with the kubelet") == 2
	})
	labtest.Eventually(t, time.Minute, "tsnctl.io/phc on node lab1 after the kubelet's restart", func() bool {
		out, _ := cp.KubectlErr("", "get", "node", "lab1", "-o", `jsonpath={.status.allocatable.tsnctl\.io/phc}`)
		return out == "1"
	})
	os.WriteFile(filepath.Join(share, "go"), []byte("stop\n"), 0o644)
	if err := run.Wait(); err != nil {
		t.Fatalf("testbed/run: %v", err)
	}
}

// imageTag is the tag of a docker-archive's image.
func imageTag(t *testing.T, archive []byte) string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no manifest.json in the image archive: %v", err)
		}
		if h.Name != "manifest.json" {
			continue
		}
		var m []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&m); err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 {
			t.Fatalf("the image archive's manifest.json: %v %+v", err, m)
		}
		return m[0].RepoTags[0]
	}
}
