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
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/tsnctl/tsnctl/testbed/controlplane"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// TestLabKubeletRunsTheImage: a lab guest becomes a real node of this host's API server — kubelet
// 1.37 and containerd 2.4 with runc (testbed/controlplane/build --node), the guest reaching the API
// server through its one forwarded port, with a kubelet's client certificate (system:node:lab1) —
// and runs tsnctl's image (make image, imported into containerd: the guest has no registry) in a
// host-network pod, whose sandbox is testbed/pause's image. The node must become Ready and the pod
// Succeeded. (The API server cannot reach the kubelet, so no kubectl logs or exec.)
func TestLabKubeletRunsTheImage(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{})
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
	args := []string{"--time", "real", "--timeout", "900", "--host-port", u.Port(), "--share", share}
	bin, err := controlplane.NodeBinaries()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"kubelet", "containerd", "containerd-shim-runc-v2", "ctr", "loopback"} {
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
	tag := imageTag(t, image)
	guest(t, share, []string{"containerd.log", "kubelet.log"}, append(args, "testdata/lab-kubelet.sh")...)
	labtest.Eventually(t, 10*time.Minute, "node lab1 registered", func() bool {
		out, _ := cp.KubectlErr("", "get", "node", "lab1", "-o", "wide")
		return strings.Contains(out, "lab1")
	})
	start := time.Now()
	ready := func() bool {
		out, _ := cp.KubectlErr("", "get", "node", "lab1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True"
	}
	for time.Since(start) < 3*time.Minute && !ready() {
		time.Sleep(2 * time.Second)
	}
	defer os.WriteFile(filepath.Join(share, "go"), []byte("stop\n"), 0o644)
	if !ready() {
		t.Fatalf("node lab1 not Ready:\n%s", cp.Kubectl(t, "", "get", "node", "lab1", "-o", "yaml"))
	}
	t.Logf("kubectl get node lab1 -o wide:\n%s", cp.Kubectl(t, "", "get", "node", "lab1", "-o", "wide"))
	pod := `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "version", "namespace": "default"},
		"spec": {"nodeName": "lab1", "hostNetwork": true, "restartPolicy": "Never", "automountServiceAccountToken": false,
		"containers": [{"name": "tsnctl", "image": "` + tag + `", "imagePullPolicy": "Never", "args": ["version"]}]}}`
	cp.Kubectl(t, "", "create", "serviceaccount", "default", "-n", "default") // no controller-manager makes it
	cp.Kubectl(t, pod, "apply", "-f", "-")
	phase := func() string {
		out, _ := cp.KubectlErr("", "get", "pod", "version", "-o", "jsonpath={.status.phase}")
		return out
	}
	for start := time.Now(); time.Since(start) < 3*time.Minute && phase() != "Succeeded" && phase() != "Failed"; {
		time.Sleep(2 * time.Second)
	}
	if phase() != "Succeeded" {
		t.Fatalf("pod version: phase %q, want Succeeded:\n%s", phase(), cp.Kubectl(t, "", "get", "pod", "version", "-o", "yaml"))
	}
	t.Logf("kubectl get pod version -o wide:\n%s", cp.Kubectl(t, "", "get", "pod", "version", "-o", "wide"))
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
