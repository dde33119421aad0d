package agent

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The alerting rules shipped with the deployment (deploy/kubernetes/alerts.yaml, tested by promtool
// in make kube-test) name only metrics the agent exports: a renamed metric must not leave an
// alert that silently never fires.
func TestAlertsUseTheAgentsMetrics(t *testing.T) {
	rules, err := os.ReadFile("../deploy/kubernetes/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics("test")
	descs := make(chan *prometheus.Desc, 100)
	m.Describe(descs)
	m.repairSeconds.Describe(descs)
	m.admissions.Describe(descs)
	close(descs)
	var exported []string
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if n := fqName.FindStringSubmatch(d.String()); n != nil {
			exported = append(exported, n[1])
		}
	}
	used := regexp.MustCompile(`\btsnctl_[a-z_]+`).FindAllString(string(rules), -1)
	if len(used) < 8 {
		t.Fatalf("alerts.yaml names %d tsnctl metrics: %v", len(used), used)
	}
	for _, name := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if !slices.Contains(exported, base) {
			t.Errorf("alerts.yaml uses %s, which the agent does not export (it exports %v)", name, exported)
		}
	}
}

// docs/reference/metrics.md's table lists exactly the metrics the agent exports (its own; Go's and
// the process's aside), each with its labels.
func TestMetricsReferenceListsEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../docs/reference/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics("test")
	descs := make(chan *prometheus.Desc, 100)
	m.Describe(descs)
	m.repairSeconds.Describe(descs)
	m.admissions.Describe(descs)
	close(descs)
	exported := map[string]string{}
	desc := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	for d := range descs {
		n := desc.FindStringSubmatch(d.String())
		if n == nil {
			t.Fatalf("cannot read %s", d)
		}
		exported[n[1]] = strings.Join(strings.Split(n[2], ","), ", ")
	}
	listed := map[string]string{}
	row := regexp.MustCompile("(?m)^\\| `(tsnctl_[a-z_]+)` \\|([^|]*)\\|")
	for _, r := range row.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := listed[r[1]]; dup {
			t.Errorf("metrics.md lists %s twice", r[1])
		}
		listed[r[1]] = strings.TrimSpace(r[2])
	}
	if len(exported) < 20 {
		t.Fatalf("the agent exports only %d metrics: %v", len(exported), exported)
	}
	for name, labels := range exported {
		got, ok := listed[name]
		switch {
		case !ok:
			t.Errorf("metrics.md does not list %s (labels %q)", name, labels)
		case got != labels:
			t.Errorf("metrics.md gives %s the labels %q; the agent exports %q", name, got, labels)
		}
	}
	for name := range listed {
		if _, ok := exported[name]; !ok {
			t.Errorf("metrics.md lists %s, which the agent does not export", name)
		}
	}
}
