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
