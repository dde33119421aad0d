package preflight

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/nic"
	"golang.org/x/sys/unix"
)

// iproute2 is the independent oracle: in its own namespace, can `tc`/`ip` create what the preflight
// probed? The preflight's verdict must agree, on whatever kernel the test runs (the host's, where
// the TSN qdiscs are missing, and the lab's, where they exist).
func iproute2Can(t *testing.T) map[string]bool {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test creates network namespaces: run it as root (make test does)")
	}
	ns := fmt.Sprintf("tsnctl-test-%d", os.Getpid())
	run := func(args ...string) error {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("ip", "netns", "add", ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run("ip", "netns", "del", ns) })
	if err := run("ip", "-n", ns, "link", "add", "name", "a", "numtxqueues", "4", "numrxqueues", "4", "type", "veth",
		"peer", "name", "b", "numtxqueues", "4", "numrxqueues", "4"); err != nil {
		t.Fatal(err)
	}
	can := map[string]bool{}
	can["kernel/taprio"] = run("tc", "-n", ns, "qdisc", "add", "dev", "a", "root", "handle", "100:", "taprio", "num_tc", "2",
		"map", "0", "0", "0", "0", "0", "0", "1", "queues", "1@0", "1@1", "base-time", "0",
		"sched-entry", "S", "03", "1000000", "clockid", "CLOCK_TAI") == nil
	can["kernel/etf"] = run("tc", "-n", ns, "qdisc", "add", "dev", "b", "root", "etf", "clockid", "CLOCK_TAI", "delta", "500000") == nil
	_ = run("tc", "-n", ns, "qdisc", "del", "dev", "b", "root")
	can["kernel/mqprio"] = run("tc", "-n", ns, "qdisc", "add", "dev", "b", "root", "mqprio", "num_tc", "2",
		"map", "0", "0", "0", "0", "0", "0", "1", "queues", "1@0", "1@1", "hw", "0") == nil
	can["kernel/vlan"] = run("ip", "-n", ns, "link", "add", "link", "a", "name", "a.3", "type", "vlan", "id", "3",
		"egress-qos-map", "6:6") == nil
	return can
}

func TestKernelProbesAgreeWithIproute2(t *testing.T) {
	can := iproute2Can(t)
	r := Run(Options{Interfaces: []string{"lo"}})
	for _, f := range KernelFeatures {
		c, ok := r.Find(f.Check)
		if !ok {
			t.Fatalf("no %s check in the report", f.Check)
		}
		want := Fail
		if can[f.Check] {
			want = Pass
		}
		if c.Status != want {
			t.Errorf("%s: tsnctl says %s (%s), iproute2 says the kernel %s it", f.Check, c.Status, c.Detail,
				map[bool]string{true: "can create", false: "cannot create"}[can[f.Check]])
		}
		if c.Status == Fail && !strings.Contains(c.Remedy, f.Config) {
			t.Errorf("%s: remedy %q does not name %s", f.Check, c.Remedy, f.Config)
		}
		t.Logf("%s %s: %s", c.Status, c.Name, c.Detail)
	}
	if r.OK != !strings.Contains(fmt.Sprint(r.Checks), "fail") {
		t.Errorf("OK=%v disagrees with the checks", r.OK)
	}
}

func TestRunChangesNothing(t *testing.T) {
	before, err := exec.Command("ip", "-d", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	nsBefore, _ := os.Readlink("/proc/self/ns/net")
	Run(Options{})
	after, _ := exec.Command("ip", "-d", "link", "show").Output()
	nsAfter, _ := os.Readlink("/proc/self/ns/net")
	if string(before) != string(after) {
		t.Errorf("links changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if nsBefore != nsAfter {
		t.Errorf("the process moved from %s to %s", nsBefore, nsAfter)
	}
}

// The MAC merge layer is a fact, not a requirement: a NIC without one passes with "not supported";
// a kernel whose ethtool netlink cannot say warns; a NIC with one shows its state as ethtool does.
func TestJudgeMACMerge(t *testing.T) {
	if c := judgeMACMerge("eth1", nic.MACMerge{}, &nic.Error{Err: unix.EOPNOTSUPP}); c.Status != Pass || !strings.Contains(c.Detail, "not supported") ||
		c.Features["tsnctl-iface-eth1-mac-merge"] != "false" {
		t.Errorf("no MAC merge layer: %+v", c)
	}
	if c := judgeMACMerge("eth1", nic.MACMerge{}, unix.EINVAL); c.Status != Warn || c.Remedy == "" {
		t.Errorf("no answer: %+v", c)
	}
	c := judgeMACMerge("eth1", nic.MACMerge{PMACEnabled: true, TxEnabled: true, TxMinFragSize: 60, VerifyStatus: nic.VerifySucceeded}, nil)
	if c.Status != Pass || !strings.Contains(c.Detail, "pMAC enabled: on, TX enabled: on, TX active: off, TX minimum fragment size: 60, verify enabled: off, verification status: SUCCEEDED") {
		t.Errorf("with one: %+v", c)
	}
}
