//go:build lab

package preflight

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// In the lab guest (Debian's 6.12 kernel, igb NICs), everything the kernel is probed for exists,
// and eth0's PHC is the one ethtool reports.
func TestLabCheckPasses(t *testing.T) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	r := Run(Options{Interfaces: []string{"eth0"}})
	for _, f := range KernelFeatures {
		if c, _ := r.Find(f.Check); c.Status != Pass {
			t.Errorf("%s: %s %s", f.Check, c.Status, c.Detail)
		}
	}
	ts, ok := r.Find("iface/eth0/timestamping")
	if !ok || ts.Status != Pass {
		t.Fatalf("iface/eth0/timestamping: %+v", ts)
	}
	out, err := exec.Command("ethtool", "-T", "eth0").CombinedOutput()
	if err != nil {
		t.Fatalf("ethtool -T eth0: %v: %s", err, out)
	}
	m := regexp.MustCompile(`PTP Hardware Clock: (\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("ethtool -T eth0 shows no PHC:\n%s", out)
	}
	if !strings.Contains(ts.Detail, "PHC /dev/ptp"+m[1]+";") || !strings.Contains(ts.Detail, "hardware-transmit") {
		t.Errorf("timestamping detail %q, ethtool says PHC %s", ts.Detail, m[1])
	}
	q, _ := r.Find("iface/eth0/queues")
	if q.Status != Pass || !strings.Contains(q.Detail, "channels combined") {
		t.Errorf("iface/eth0/queues: %+v", q)
	}
	if r.OK != true {
		t.Errorf("report not OK in the lab: %+v", r.Checks)
	}
	for _, c := range r.Checks {
		t.Logf("%s %s: %s", c.Status, c.Name, c.Detail)
	}
}
