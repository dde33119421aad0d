//go:build kube

package kubernetes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/tsnctl/tsnctl/testbed/controlplane"
)

// decodeYAML reads YAML as kubectl and Helm's install do (YAML to JSON), keeping numbers exact
// (json.Number): the value a field really has, not a float64 of it.
func decodeYAML(t *testing.T, doc []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		t.Fatalf("%v:\n%s", err, doc)
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// dig returns the value at path (map keys and slice indices) in v, or nil.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// rendered is helm template's output, each document decoded.
type rendered []map[string]any

func (r rendered) find(t *testing.T, kind, name string) map[string]any {
	t.Helper()
	for _, o := range r {
		if o["kind"] == kind && dig(o, "metadata", "name") == name {
			return o
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return nil
}

// agent is the agent's container.
func (r rendered) agent(t *testing.T) map[string]any {
	t.Helper()
	c, _ := dig(r.find(t, "DaemonSet", "tsnctl-agent"), "spec", "template", "spec", "containers", 0).(map[string]any)
	return c
}

// args is the agent's arguments, by flag.
func (r rendered) args(t *testing.T) map[string]string {
	t.Helper()
	args := map[string]string{}
	for _, a := range dig(r.agent(t), "args").([]any) {
		k, v, _ := strings.Cut(a.(string), "=")
		args[k] = v
	}
	return args
}

func (r rendered) env(t *testing.T, name string) any {
	t.Helper()
	for _, e := range dig(r.agent(t), "env").([]any) {
		if dig(e, "name") == name {
			return dig(e, "value")
		}
	}
	return nil
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: got %#v (%T), want %#v (%T)", what, got, got, want, want)
	}
}

// helmTemplate renders the chart as release with values (a values file's text) and args.
func helmTemplate(t *testing.T, release, values string, args ...string) (rendered, error) {
	t.Helper()
	bin, err := controlplane.Binaries()
	if err != nil {
		t.Fatal(err)
	}
	// The values file on stdin: -f takes a list, split at commas.
	cmd := exec.Command(filepath.Join(bin, "helm"), append([]string{"template", release, "../helm/tsnctl",
		"--namespace", "tsnctl-system", "--kube-version", "1.37.2", "-f", "-"}, args...)...)
	cmd.Stdin = strings.NewReader(values)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, errors.New(stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("helm template wrote to stderr:\n%s", stderr.String())
	}
	var objs rendered
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(out)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := decodeYAML(t, doc).(map[string]any); ok {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

// tsnConfigSpec: a TSNConfig's spec as the values give it, to compare with the rendered one.
func tsnConfigSpec(t *testing.T, values, name string) any {
	return dig(decodeYAML(t, []byte(values)), "tsnConfigs", name)
}

// TestChartHostileValues: helm template with values a careless or hostile values file gives
// (names and strings YAML reads as something else, quotes, newlines, integers beyond float64's 53
// bits, out-of-range ports, misspelt keys) either renders exactly what was given, decoded as
// kubectl decodes it, or fails with a message that names the value.
func TestChartHostileValues(t *testing.T) {
	const taprio = `
        interfaces:
          - name: eth1
            taprio:
              num-tc: 2
              map: [0, 1]
              queues: ["1@0", "1@1"]
              handle: "123"
              schedule:
                - {cmd: S, gates: "0x01", interval: 200us}
                - {cmd: S, gates: "0x02", interval: "100000"}
`
	for _, c := range []struct {
		name    string
		release string // default tsnctl
		values  string
		args    []string
		check   func(t *testing.T, r rendered, values string) // rendered: what it must be
		fail    []string                                      // refused: what the message must say
	}{
		{
			name: "defaults",
			check: func(t *testing.T, r rendered, _ string) {
				ds := r.find(t, "DaemonSet", "tsnctl-agent")
				equal(t, "scrape annotation", dig(ds, "spec", "template", "metadata", "annotations"),
					map[string]any{"prometheus.io/scrape": "true", "prometheus.io/port": "9559"})
				equal(t, "container port", dig(r.agent(t), "ports", 0, "containerPort"), json.Number("9559"))
				equal(t, "--metrics-addr", r.args(t)["--metrics-addr"], "[$(POD_IP)]:9559")
				equal(t, "nodeSelector", dig(ds, "spec", "template", "spec", "nodeSelector"),
					map[string]any{"feature.node.kubernetes.io/tsnctl-taprio": "true"})
				equal(t, "image", dig(r.agent(t), "image"), "localhost/tsnctl:0.1.0")
			},
		},
		{
			name:   "TSNConfig names on and 123",
			values: "tsnConfigs:\n  \"on\": {nodeNames: [edge-1], config: {}}\n  \"123\": {nodeNames: [edge-1], config: {}}\n  456: {nodeNames: [edge-1], config: {}}\n",
			check: func(t *testing.T, r rendered, _ string) {
				for _, n := range []string{"on", "123", "456"} {
					r.find(t, "TSNConfig", n)
				}
			},
		},
		{
			// YAML reads an unquoted on: key as true: a TSNConfig named "true" is that accident.
			name:   "TSNConfig name on, unquoted",
			values: "tsnConfigs:\n  on: {nodeNames: [edge-1], config: {}}\n",
			fail:   []string{`tsnConfigs: a TSNConfig named "true"`, "quote"},
		},
		{
			name:   "TSNConfig name with a quote",
			values: "tsnConfigs:\n  'a\"b': {nodeNames: [edge-1], config: {}}\n",
			fail:   []string{"/tsnConfigs", `'a"b' not allowed`},
		},
		{
			name:   "TSNConfig name with a newline",
			values: "tsnConfigs:\n  \"a\\nb\": {nodeNames: [edge-1], config: {}}\n",
			fail:   []string{"/tsnConfigs", `'a\nb' not allowed`},
		},
		{
			name:   "TSNConfig name too long",
			values: "tsnConfigs:\n  " + strings.Repeat("a", 254) + ": {nodeNames: [edge-1], config: {}}\n",
			fail:   []string{`tsnConfigs: the name "` + strings.Repeat("a", 254) + `" is longer than 253`},
		},
		{
			name:   "TSNConfig spec with a misspelt key",
			values: "tsnConfigs:\n  x: {nodeNames: [edge-1], config: {}, ofsets: {}}\n",
			fail:   []string{"/tsnConfigs/x", "ofsets"},
		},
		{
			name: "TSNConfig strings YAML would read as something else",
			values: `tsnConfigs:
  line-a:
    nodeNames: ["on", "yes", "123", "0x01", "1e3", "~", "null", "a\nb", "\"quoted\"", "<&>", "\u2028", "- x", "{a: b}"]
    nodeSelector: {matchLabels: {tsnctl.io/line: "on", tsnctl.io/n: "123", tsnctl.io/y: "yes"}}
    offsets: {"on": "0", "123": 250us}
    config:` + taprio,
			check: func(t *testing.T, r rendered, values string) {
				equal(t, "spec", dig(r.find(t, "TSNConfig", "line-a"), "spec"), tsnConfigSpec(t, values, "line-a"))
			},
		},
		{
			name: "base-time of 19 digits as a string",
			values: `tsnConfigs:
  t:
    nodeNames: [edge-1]
    config:
      interfaces:
        - name: eth1
          taprio: {num-tc: 1, base-time: "1700000000123456789", cycle-time: "1000000"}
`,
			check: func(t *testing.T, r rendered, values string) {
				spec := dig(r.find(t, "TSNConfig", "t"), "spec")
				equal(t, "base-time", dig(spec, "config", "interfaces", 0, "taprio", "base-time"), "1700000000123456789")
				equal(t, "spec", spec, tsnConfigSpec(t, values, "t"))
			},
		},
		{
			// Helm reads a values file's numbers as float64: this one arrives as 1700000000123456768.
			name: "base-time of 19 digits as a number",
			values: `tsnConfigs:
  t:
    nodeNames: [edge-1]
    config:
      interfaces:
        - name: eth1
          taprio: {num-tc: 1, base-time: 1700000000123456789}
`,
			fail: []string{"tsnConfigs.t.config.interfaces[0].taprio.base-time", "1700000000123456768", "as a string"},
		},
		{
			// --set reads integers as int64: exact.
			name:   "base-time of 19 digits as a number, with --set",
			values: "tsnConfigs: {t: {nodeNames: [edge-1], config: {interfaces: [{name: eth1, taprio: {num-tc: 1}}]}}}\n",
			args:   []string{"--set", "tsnConfigs.t.config.interfaces[0].taprio.base-time=1700000000123456789"},
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "base-time", dig(r.find(t, "TSNConfig", "t"), "spec", "config", "interfaces", 0, "taprio", "base-time"),
					json.Number("1700000000123456789"))
			},
		},
		{
			name:   "a number beyond 2^53 elsewhere",
			values: "tolerations: [{key: a, operator: Exists, effect: NoExecute, tolerationSeconds: 9007199254740993}]\n",
			fail:   []string{"tolerations[0].tolerationSeconds", "as a string"},
		},
		{
			name:   "metrics port 1",
			values: "metrics: {port: 1}\n",
			check: func(t *testing.T, r rendered, _ string) {
				ds := r.find(t, "DaemonSet", "tsnctl-agent")
				equal(t, "scrape annotation", dig(ds, "spec", "template", "metadata", "annotations", "prometheus.io/port"), "1")
				equal(t, "container port", dig(r.agent(t), "ports", 0, "containerPort"), json.Number("1"))
				equal(t, "--metrics-addr", r.args(t)["--metrics-addr"], "[$(POD_IP)]:1")
			},
		},
		{
			name:   "metrics port 70000",
			values: "metrics: {port: 70000}\n",
			fail:   []string{"/metrics/port", "maximum: got 70,000, want 65,535"},
		},
		{
			name:   "metrics port as a string",
			values: "metrics: {port: \"9559\"}\n",
			fail:   []string{"/metrics/port", "string"},
		},
		{
			name:   "metrics annotations: more, and no port of their own",
			values: "metrics: {annotations: {prometheus.io/scrape: \"on\", example.com/team: \"123\"}}\n",
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "annotations", dig(r.find(t, "DaemonSet", "tsnctl-agent"), "spec", "template", "metadata", "annotations"),
					map[string]any{"prometheus.io/scrape": "on", "example.com/team": "123", "prometheus.io/port": "9559"})
			},
		},
		{
			name:   "metrics annotations with a second port",
			values: "metrics: {port: 9000, annotations: {prometheus.io/port: \"9559\"}}\n",
			fail:   []string{"prometheus.io/port", "metrics.port"},
		},
		{
			name:   "logFormat yaml",
			values: "logFormat: yaml\n",
			fail:   []string{"/logFormat", "one of 'text', 'json'"},
		},
		{
			name:   "misspelt top-level key",
			values: "nodeSelektor: {a: b}\n",
			fail:   []string{"nodeSelektor"},
		},
		{
			name:   "misspelt nested key",
			values: "image: {tga: latest}\n",
			fail:   []string{"/image", "tga"},
		},
		{
			name:   "image tag on, pull policy",
			values: "image: {repository: registry.example:5000/tsn/tsnctl, tag: \"on\", pullPolicy: Always}\n",
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "image", dig(r.agent(t), "image"), "registry.example:5000/tsn/tsnctl:on")
				equal(t, "imagePullPolicy", dig(r.agent(t), "imagePullPolicy"), "Always")
				c := dig(r.find(t, "DaemonSet", "tsnctl-device-plugin"), "spec", "template", "spec", "containers", 0)
				equal(t, "device plugin's image", dig(c, "image"), "registry.example:5000/tsn/tsnctl:on")
			},
		},
		{
			// 1.10 is the number 1.1.
			name:   "image tag a number",
			values: "image: {tag: 1.10}\n",
			fail:   []string{"/image/tag", "got number, want integer or string"},
		},
		{
			// 1.0 is the number 1.
			name:   "image tag an integral number",
			values: "image: {tag: 1.0}\n",
			fail:   []string{"image.tag: a number in a values file (1)", "quote it"},
		},
		{
			// A commit hash of digits, with --set: an int64, its digits as given.
			name: "image tag digits with --set",
			args: []string{"--set", "image.tag=1234567"},
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "image", dig(r.agent(t), "image"), "localhost/tsnctl:1234567")
			},
		},
		{
			name:   "image repository with a newline",
			values: "image: {repository: \"tsnctl\\n  x: y\"}\n",
			fail:   []string{"/image/repository"},
		},
		{
			name:   "image pull policy",
			values: "image: {pullPolicy: sometimes}\n",
			fail:   []string{"/image/pullPolicy", "one of 'Always', 'IfNotPresent', 'Never'"},
		},
		{
			name: "nodeSelector strings",
			// Helm merges a map with the default's: null removes the default's label.
			values: "nodeSelector: {tsnctl.io/a: \"on\", tsnctl.io/b: \"123\", tsnctl.io/c: \"\", feature.node.kubernetes.io/tsnctl-taprio: null}\n",
			check: func(t *testing.T, r rendered, _ string) {
				for _, ds := range []string{"tsnctl-agent", "tsnctl-device-plugin"} {
					equal(t, ds+" nodeSelector", dig(r.find(t, "DaemonSet", ds), "spec", "template", "spec", "nodeSelector"),
						map[string]any{"tsnctl.io/a": "on", "tsnctl.io/b": "123", "tsnctl.io/c": ""})
				}
			},
		},
		{
			name:   "nodeSelector value not a string",
			values: "nodeSelector: {tsnctl.io/a: on}\n",
			fail:   []string{"/nodeSelector/tsnctl.io~1a", "string"},
		},
		{
			name:   "toleration with a misspelt key",
			values: "tolerations: [{operator: Exists, efect: NoSchedule}]\n",
			fail:   []string{"/tolerations/0", "efect"},
		},
		{
			name:   "the API server's address",
			values: "kubernetesAPI: {host: \"10.0.0.1\", port: 6443}\n",
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "KUBERNETES_SERVICE_HOST", r.env(t, "KUBERNETES_SERVICE_HOST"), "10.0.0.1")
				equal(t, "KUBERNETES_SERVICE_PORT", r.env(t, "KUBERNETES_SERVICE_PORT"), "6443")
			},
		},
		{
			name:   "the API server's address, IPv6, port a string",
			values: "kubernetesAPI: {host: \"fd00::1\", port: \"443\"}\n",
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "KUBERNETES_SERVICE_HOST", r.env(t, "KUBERNETES_SERVICE_HOST"), "fd00::1")
				equal(t, "KUBERNETES_SERVICE_PORT", r.env(t, "KUBERNETES_SERVICE_PORT"), "443")
			},
		},
		{
			name:   "the API server's host with a newline",
			values: "kubernetesAPI: {host: \"api\\n- x\", port: 6443}\n",
			fail:   []string{"/kubernetesAPI/host"},
		},
		{
			name:   "the API server's port 0",
			values: "kubernetesAPI: {host: api.example, port: \"0\"}\n",
			fail:   []string{"/kubernetesAPI/port"},
		},
		{
			name:   "the API server's port without its host",
			values: "kubernetesAPI: {port: 6443}\n",
			fail:   []string{"kubernetesAPI.port", "kubernetesAPI.host"},
		},
		{
			name:   "the API server's host without its port",
			values: "kubernetesAPI: {host: api.example}\n",
			fail:   []string{"kubernetesAPI.port"},
		},
		{
			name:   "verifyEvery 1h30m",
			values: "verifyEvery: 1h30m\nlogFormat: text\n",
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "--verify-every", r.args(t)["--verify-every"], "1h30m")
				equal(t, "--log-format", r.args(t)["--log-format"], "text")
			},
		},
		{
			name:   "verifyEvery with another flag",
			values: "verifyEvery: \"30s --reset-on-stop\"\n",
			fail:   []string{"/verifyEvery"},
		},
		{
			name:   "verifyEvery a number",
			values: "verifyEvery: 30\n",
			fail:   []string{"/verifyEvery", "string"},
		},
		{
			name:   "resources",
			values: "resources: {requests: {cpu: \"0.5\", memory: 64Mi}, limits: {memory: 1Gi}}\n",
			check: func(t *testing.T, r rendered, _ string) {
				equal(t, "resources", dig(r.agent(t), "resources"), map[string]any{
					"requests": map[string]any{"cpu": "0.5", "memory": "64Mi"},
					"limits":   map[string]any{"memory": "1Gi", "tsnctl.io/phc": json.Number("1")},
				})
			},
		},
		{
			name:   "resources misspelt",
			values: "resources: {limit: {memory: 1Gi}}\n",
			fail:   []string{"/resources", "limit"},
		},
		{
			name:    "release name on, namespace 123",
			release: "on",
			args:    []string{"--namespace", "123"},
			check: func(t *testing.T, r rendered, _ string) {
				ds := r.find(t, "DaemonSet", "tsnctl-agent")
				equal(t, "namespace", dig(ds, "metadata", "namespace"), "123")
				equal(t, "instance label", dig(ds, "metadata", "labels", "app.kubernetes.io/instance"), "on")
				equal(t, "selector", dig(ds, "spec", "selector", "matchLabels", "app.kubernetes.io/instance"), "on")
				equal(t, "subject", dig(r.find(t, "ClusterRoleBinding", "tsnctl-agent"), "subjects", 0, "namespace"), "123")
				equal(t, "policy", dig(r.find(t, "ValidatingAdmissionPolicy", "tsnctl-agent-own-tsnnode"), "spec", "matchConditions", 0, "expression"),
					"request.userInfo.username == 'system:serviceaccount:123:tsnctl-agent'")
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			release := c.release
			if release == "" {
				release = "tsnctl"
			}
			r, err := helmTemplate(t, release, c.values, c.args...)
			switch {
			case c.check != nil && err != nil:
				t.Fatalf("refused: %v", err)
			case c.check != nil:
				c.check(t, r, c.values)
			case err == nil:
				t.Fatalf("rendered, but should have been refused with %q", c.fail)
			default:
				for _, f := range c.fail {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("the refusal does not say %q:\n%v", f, err)
					}
				}
				t.Logf("refused: %v", err)
			}
		})
	}
}
