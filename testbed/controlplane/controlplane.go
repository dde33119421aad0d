// Package controlplane runs a real Kubernetes control plane on the host for tsnctl's tests: etcd
// and kube-apiserver (through controller-runtime's envtest, which makes their certificates, a
// service-account signing key and an admin user), and on request kube-controller-manager,
// kube-scheduler and kwok (fake nodes whose pods "run"). The binaries are built from the Go module
// proxy by testbed/kube/build and cached; the first build takes about 20 minutes on 2 cores.
//
// Everything listens on 127.0.0.1 only.
package controlplane

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Options choose what runs beside etcd and the API server.
type Options struct {
	CRDs        []string // directories of CRDs to install (and wait for)
	Controllers []string // kube-controller-manager's --controllers; none: it does not run
	Scheduler   bool     // kube-scheduler
	Kwok        bool     // kwok, for nodes annotated kwok.x-k8s.io/node=fake
	// ServingName is a DNS name the API server also serves under (SNI), with a certificate of its
	// own whose CA pods trust (kube-controller-manager's root CA, in their ca.crt): a lab guest
	// whose pods reach the API server under that name. envtest's certificate names localhost only.
	ServingName string
}

// ControlPlane is a running control plane.
type ControlPlane struct {
	Bin        string       // the cached binaries (kubectl, helm, ...)
	Config     *rest.Config // the admin's (system:masters)
	Kubeconfig string       // the admin's, as a file
	Dir        string
	env        *envtest.Environment
}

// AddUser returns the kubeconfig (as bytes) of a user with a client certificate the API server
// trusts: NAME and GROUPS are its common name and organisations, as a kubelet's are
// (system:node:NAME, system:nodes).
func (cp *ControlPlane) AddUser(name string, groups ...string) ([]byte, error) {
	u, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, nil)
	if err != nil {
		return nil, err
	}
	return u.KubeConfig()
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// Binaries builds (first time only) and returns the directory of the control plane's binaries.
func Binaries() (string, error) {
	binOnce.Do(func() { binDir, binErr = build() })
	return binDir, binErr
}

// NodeBinaries is Binaries with what a lab guest needs to be a real node (kubelet, containerd,
// containerd-shim-runc-v2, ctr, the CNI plugins loopback, ptp and host-local) in the same directory.
func NodeBinaries() (string, error) { return build("--node") }

// build runs the build script (instant once its binaries are cached) and returns their directory.
func build(args ...string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "build")
	cmd := exec.Command(script, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start runs a control plane for the test; it is stopped when the test ends.
func Start(t testing.TB, o Options) *ControlPlane {
	t.Helper()
	// envtest logs through controller-runtime's logger; unset, a second Start in one test binary
	// prints a stack trace saying so. Its messages are not needed: failures come back as errors.
	ctrllog.SetLogger(logr.Discard())
	bin, err := Binaries()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := &envtest.Environment{
		BinaryAssetsDirectory: bin,
		CRDDirectoryPaths:     o.CRDs,
		ErrorIfCRDPathMissing: true,
	}
	api := env.ControlPlane.GetAPIServer()
	// The ServiceAccount admission plugin is on (envtest turns it off): pods get their
	// service account's token as a real cluster gives it.
	api.Configure().Set("disable-admission-plugins", "")
	api.Configure().Set("enable-admission-plugins", "ServiceAccount,NodeRestriction")
	var servingCA []byte
	if o.ServingName != "" {
		if servingCA, err = serveAs(api, dir, o.ServingName); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting etcd and kube-apiserver from %s: %v", bin, err)
	}
	cp := &ControlPlane{Bin: bin, Config: cfg, Dir: dir, env: env}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Logf("stopping the control plane: %v", err)
		}
	})
	admin, err := env.AddUser(envtest.User{Name: "tsnctl-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	cp.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	if len(o.Controllers) > 0 {
		ca := filepath.Join(dir, "ca.crt")
		if err := os.WriteFile(ca, append(slices.Clip(api.SecureServing.CA), servingCA...), 0o644); err != nil {
			t.Fatal(err)
		}
		cp.run(t, "kube-controller-manager", "--kubeconfig", cp.Kubeconfig, "--controllers", strings.Join(o.Controllers, ","),
			"--bind-address", "127.0.0.1", "--secure-port", "0", "--leader-elect=false",
			"--service-account-private-key-file", filepath.Join(api.CertDir, "sa-signer.key"),
			"--root-ca-file", ca, "--use-service-account-credentials=false")
	}
	if o.Scheduler {
		cp.run(t, "kube-scheduler", "--kubeconfig", cp.Kubeconfig, "--bind-address", "127.0.0.1", "--secure-port", "0", "--leader-elect=false")
	}
	if o.Kwok {
		cp.run(t, "kwok", "--kubeconfig", cp.Kubeconfig, "--config", filepath.Join(bin, "kwok-stages.yaml"), "--manage-all-nodes=false",
			"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
			"--node-ip", "127.0.0.1", "--node-port", "0", "--server-address", "127.0.0.1:0")
	}
	return cp
}

// serveAs gives the API server a certificate for name (self-signed by a CA of its own), served to
// clients that ask for name (--tls-sni-cert-key), and returns that CA.
func serveAs(api *envtest.APIServer, dir, name string) ([]byte, error) {
	chain, key, err := certutil.GenerateSelfSignedCertKey(name, nil, nil)
	if err != nil {
		return nil, err
	}
	crt, keyFile := filepath.Join(dir, "sni.crt"), filepath.Join(dir, "sni.key")
	if err := os.WriteFile(crt, chain, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		return nil, err
	}
	api.Configure().Append("tls-sni-cert-key", crt+","+keyFile+":"+name)
	certs, err := certutil.ParseCertsPEM(chain)
	if err != nil || len(certs) != 2 {
		return nil, fmt.Errorf("the certificate for %s: want the certificate and its CA, got %d (%v)", name, len(certs), err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: certs[1].Raw}), nil
}

// run starts one of the control plane's programs for the rest of the test, its output in DIR/NAME.log.
func (cp *ControlPlane) run(t testing.TB, name string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(cp.Dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(cp.Bin, name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("%s's log (last 3000 bytes):\n%s", name, b[max(0, len(b)-3000):])
		}
	})
}

// PodToken makes a pod of service account sa on node (which must exist) and returns a token bound
// to it, as the kubelet gives the pod's containers: the API server adds the node's name to the
// user it authenticates with it.
func (cp *ControlPlane) PodToken(t testing.TB, namespace, sa, pod, node string) string {
	t.Helper()
	cp.Kubectl(t, fmt.Sprintf(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": %q, "namespace": %q},
		"spec": {"nodeName": %q, "serviceAccountName": %q, "containers": [{"name": "c", "image": "localhost/tsnctl:test"}]}}`,
		pod, namespace, node, sa), "apply", "-f", "-")
	return strings.TrimSpace(cp.Kubectl(t, "", "create", "token", sa, "-n", namespace,
		"--bound-object-kind", "Pod", "--bound-object-name", pod, "--duration", "1h"))
}

// TokenConfig is how a client with token reaches the API server.
func (cp *ControlPlane) TokenConfig(token string) *rest.Config {
	return &rest.Config{Host: cp.Config.Host, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: cp.Config.CAData}}
}

// KubeconfigFor writes a kubeconfig that authenticates with token only (no client certificate)
// and returns its path.
func (cp *ControlPlane) KubeconfigFor(t testing.TB, name, token string) string {
	t.Helper()
	c := clientcmdapi.NewConfig()
	c.Clusters["test"] = &clientcmdapi.Cluster{Server: cp.Config.Host, CertificateAuthorityData: cp.Config.CAData}
	c.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	c.Contexts[name] = &clientcmdapi.Context{Cluster: "test", AuthInfo: name}
	c.CurrentContext = name
	path := filepath.Join(cp.Dir, name+".kubeconfig")
	if err := clientcmd.WriteToFile(*c, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Kubectl runs the cached kubectl with the admin's kubeconfig (or KUBECONFIG set in env) and
// returns its standard output; a failure fails the test with kubectl's standard error.
func (cp *ControlPlane) Kubectl(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, err := cp.KubectlErr(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// KubectlErr runs kubectl as Kubectl does and returns its error (with its standard error) instead.
func (cp *ControlPlane) KubectlErr(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(cp.Bin, "kubectl"), append([]string{"--kubeconfig", cp.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if stderr.Len() > 0 {
		return string(out), fmt.Errorf("warnings: %s", strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
