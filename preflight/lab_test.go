//go:build lab

package preflight

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// In the lab guest (Debian's 6.12 kernel, igb NICs), everything the kernel is probed for exists,
// and eth0's PHC is the one ethtool reports, and check reads it.
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
	// The PHC was opened and read (a warning otherwise), and is the one a CDI spec would give.
	if want := []PHC{{Interface: "eth0", Device: "/dev/ptp" + m[1]}}; len(r.PHCs) != 1 || r.PHCs[0] != want[0] {
		t.Errorf("PHCs %+v, want %+v", r.PHCs, want)
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

// Without CAP_SYS_ADMIN (a container given --cap-add NET_ADMIN only) tsnctl may not make a network
// namespace: the kernel probe runs on a veth pair of its own in the caller's namespace and removes
// it. The test runs itself again with CAP_SYS_ADMIN out of the bounding set (so out of every
// thread's capabilities after exec), and checks the probe there.
func TestLabCheckWithoutSysAdmin(t *testing.T) {
	switch os.Getenv("TSNCTL_NO_SYS_ADMIN") {
	case "":
	case "drop":
		runtime.LockOSThread()
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, unix.CAP_SYS_ADMIN, 0, 0, 0); err != nil {
			t.Fatalf("PR_CAPBSET_DROP: %v", err)
		}
		os.Setenv("TSNCTL_NO_SYS_ADMIN", "dropped")
		t.Fatal(syscall.Exec(os.Args[0], os.Args, os.Environ()))
	case "dropped":
		if err := unix.Unshare(unix.CLONE_NEWNET); err == nil {
			t.Fatal("could still unshare a network namespace: CAP_SYS_ADMIN was not dropped")
		}
		before := links(t)
		r := Run(Options{Interfaces: []string{"eth0"}})
		for _, f := range KernelFeatures {
			if c, _ := r.Find(f.Check); c.Status != Pass {
				t.Errorf("%s: %s %s", f.Check, c.Status, c.Detail)
			}
		}
		if after := links(t); after != before {
			t.Errorf("the probe left links behind:\nbefore %s\nafter  %s", before, after)
		}
		return
	}
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: go test -tags lab -exec testbed/go-exec")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLabCheckWithoutSysAdmin$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "TSNCTL_NO_SYS_ADMIN=drop")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestLabCheckWithoutSysAdmin") {
		t.Fatalf("%v:\n%s", err, out)
	}
}

// links lists this namespace's links by name.
func links(t *testing.T) string {
	out, err := exec.Command("ip", "-o", "link", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show: %v: %s", err, out)
	}
	var names []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			names = append(names, strings.TrimSuffix(f[1], ":"))
		}
	}
	return strings.Join(names, " ")
}
