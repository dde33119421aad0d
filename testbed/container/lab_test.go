//go:build labctr

package container

// make lab-container: tsnctl's image (make image: out/image/oci, seen in the guest under /src) run
// by runc in the lab guest the way an engine runs it, with igb eth1 moved into the container's
// network namespace and only the capabilities tsnctl asks for.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tsnctl/tsnctl/testbed/labtest"
)

type ctr struct {
	t          *testing.T
	bundle     string
	entrypoint []string
	env        []string
	phc        string   // eth1's PHC, /dev/ptpN
	cdiDir     string   // the CDI spec tsnctl check --cdi wrote in the guest
	cdiDevices []string // the devices the container asks for by CDI name
	binds      map[string]string
	n          int
}

// spec is the container's runtime spec for tsnctl ARGS with caps, in the namespace "ctr".
func (c *ctr) spec(caps, args []string) *specs.Spec {
	s, err := Spec(c.entrypoint, Options{Args: args, Env: c.env, NetNS: netnsPath("ctr"), Caps: CapNames(caps...),
		CDIDevices: c.cdiDevices, CDISpecDirs: []string{c.cdiDir}, Binds: c.binds})
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// run runs tsnctl ARGS in a new container with caps and returns its output and exit status.
func (c *ctr) run(caps []string, args ...string) (string, int) {
	c.t.Helper()
	c.n++
	if err := WriteSpec(c.bundle, c.spec(caps, args)); err != nil {
		c.t.Fatal(err)
	}
	// --no-pivot: the lab guest's root is its initramfs, where pivot_root(2) is refused; runc moves
	// the container's root over / and chroots instead (what engines do on such systems).
	cmd := exec.Command("runc", "--root", "/run/runc-lab", "run", "--no-pivot", "--bundle", c.bundle, fmt.Sprintf("tsnctl-%d", c.n))
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("runc: %v: %s", err, out)
	}
	c.t.Logf("runc run (caps %v): tsnctl %s -> exit %d", caps, strings.Join(args, " "), code)
	return string(out), code
}

// phc returns iface's PHC device as ethtool -T names it.
func phc(t *testing.T, iface string) string {
	m := regexp.MustCompile(`PTP Hardware Clock: (\d+)`).FindStringSubmatch(labtest.Run(t, "ethtool", "-T", iface))
	if m == nil {
		t.Fatalf("%s has no PHC", iface)
	}
	return "/dev/ptp" + m[1]
}

func setup(t *testing.T) *ctr {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab tests run in the virtual lab: make lab-container")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		labtest.Run(t, "mount", "-t", "cgroup2", "none", "/sys/fs/cgroup")
	}
	bundle := t.TempDir()
	ep, env, err := Unpack("/src/out/image/oci", filepath.Join(bundle, "rootfs"))
	if err != nil {
		t.Fatalf("unpack the image (make image first): %v", err)
	}
	// The node's CDI spec of its PHCs, as a boot-time tsnctl check --cdi writes it; the containers
	// get eth1's PHC by its CDI name, resolved by the CDI library as an engine resolves it.
	cdiDir := t.TempDir()
	if out, err := exec.Command("tsnctl", "check", "--iface", "eth1", "--cdi", filepath.Join(cdiDir, "tsnctl.io-phc.json")).CombinedOutput(); err != nil {
		t.Fatalf("tsnctl check --cdi: %v\n%s", err, out)
	}
	t.Logf("tsnctl check --cdi wrote:\n%s", must(os.ReadFile(filepath.Join(cdiDir, "tsnctl.io-phc.json"))))
	dev := phc(t, "eth1")
	labtest.Run(t, "ip", "netns", "add", "ctr")
	labtest.Run(t, "ip", "link", "set", "eth1", "netns", "ctr")
	t.Cleanup(func() { // eth1 back home, as the next test wants it
		exec.Command("ip", "-n", "ctr", "link", "set", "eth1", "netns", "1").Run()
		exec.Command("ip", "netns", "del", "ctr").Run()
		exec.Command("tc", "qdisc", "del", "dev", "eth1", "root").Run()
		exec.Command("ip", "link", "del", "eth0.3").Run()
	})
	labtest.Run(t, "ip", "-n", "ctr", "link", "set", "lo", "up")
	labtest.Run(t, "ip", "-n", "ctr", "link", "set", "eth1", "up")
	labtest.Run(t, "ip", "link", "set", "eth0", "up")
	conf := filepath.Join(t.TempDir(), "tsnctl.yaml")
	seed, err := os.ReadFile("/src/configs/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, seed, 0o644); err != nil {
		t.Fatal(err)
	}
	return &ctr{t: t, bundle: bundle, entrypoint: ep, env: env, phc: dev, cdiDir: cdiDir, cdiDevices: []string{"tsnctl.io/phc=eth1"},
		binds: map[string]string{"/etc/tsnctl/tsnctl.yaml": conf}}
}

var tsnCaps = []string{"NET_ADMIN", "SYS_TIME", "SYS_NICE"}

func TestLabImageUnderRunc(t *testing.T) {
	c := setup(t)

	// check: the kernel probed without CAP_SYS_ADMIN, eth1 and its PHC seen inside.
	out, code := c.run(tsnCaps, "check", "--iface", "eth1", "-o", "json")
	var rep struct {
		Checks []struct{ Name, Status, Detail, Remedy string } `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check (exit %d): not JSON: %v\n%s", code, err, out)
	}
	status := map[string]string{}
	for _, ch := range rep.Checks {
		status[ch.Name] = ch.Status
		t.Logf("  %s %s: %s", ch.Status, ch.Name, ch.Detail)
		if ch.Name == "iface/eth1/timestamping" && (!strings.Contains(ch.Detail, "PHC "+c.phc+";") || strings.Contains(ch.Detail, "cannot read")) {
			t.Errorf("the PHC is not %s, read inside: %s", c.phc, ch.Detail)
		}
	}
	for _, name := range []string{"kernel/taprio", "kernel/etf", "kernel/mqprio", "kernel/vlan", "privileges", "iface/eth1/queues", "iface/eth1/timestamping"} {
		if status[name] != "pass" {
			t.Errorf("check %s: %q inside the container, want pass", name, status[name])
		}
	}

	// Without the CDI device, the PHC bind-mounted (what a hostPath volume does): the node is
	// there, the device cgroup refuses to open it, and check says what to ask the engine for.
	c.cdiDevices, c.binds[c.phc] = nil, c.phc
	out, _ = c.run(tsnCaps, "check", "--iface", "eth1", "-o", "json")
	c.cdiDevices = []string{"tsnctl.io/phc=eth1"}
	delete(c.binds, c.phc)
	if !strings.Contains(out, "cannot read the PHC: open "+c.phc+": operation not permitted") ||
		!strings.Contains(out, "the device cgroup refuses "+c.phc) || !strings.Contains(out, "CDI tsnctl.io/phc=eth1") {
		t.Errorf("check with %s bind-mounted and no device rule:\n%s", c.phc, out)
	}

	// apply: the seed's node on eth1, seen from outside by tsnctl and by tc.
	out, code = c.run(tsnCaps, "apply", "-f", "/etc/tsnctl/tsnctl.yaml")
	if code != 0 {
		t.Fatalf("apply inside: exit %d\n%s", code, out)
	}
	t.Logf("apply inside:\n%s", out)
	if dry := labtest.Run(t, "tsnctl", "apply", "--netns", "ctr", "--dry-run", "-f", c.binds["/etc/tsnctl/tsnctl.yaml"]); !strings.Contains(dry, "eth1: nothing to change") {
		t.Errorf("outside, the node is not as the file says:\n%s", dry)
	}
	// iproute2's read-back in the container's namespace: the seed's eight entries, its ETF on 100:2.
	tc := labtest.Run(t, "ip", "netns", "exec", "ctr", "tc", "-j", "-d", "qdisc", "show", "dev", "eth1")
	for _, want := range []string{`"kind":"taprio"`, `"gatemask":"0x1","interval":200000`, `"gatemask":"0x2","interval":100000`,
		`"gatemask":"0x8","interval":100000`, `"kind":"etf","handle":"e001:","parent":"100:2"`, `"delta":5000000`} {
		if !strings.Contains(tc, want) {
			t.Errorf("tc -j -d qdisc show dev eth1 in the container's namespace lacks %s: %s", want, tc)
		}
	}
	if n := strings.Count(tc, `"interval":`); n != 8 {
		t.Errorf("tc shows %d schedule entries, the file has 8: %s", n, tc)
	}

	// Without NET_ADMIN: check and apply fail, naming the capability to add.
	out, code = c.run([]string{"SYS_TIME", "SYS_NICE"}, "check", "--iface", "eth1")
	if code != 1 || !strings.Contains(out, "--cap-add NET_ADMIN") {
		t.Errorf("check without NET_ADMIN: exit %d\n%s", code, out)
	}
	// A file that asks for a change (ETF delta 4 ms instead of 5): refused without NET_ADMIN, nothing changed.
	changed := strings.Replace(string(must(os.ReadFile(c.binds["/etc/tsnctl/tsnctl.yaml"]))), "delta: 5ms", "delta: 4ms", 1)
	if !strings.Contains(changed, "delta: 4ms") {
		t.Fatal("the seed configuration has no `delta: 5ms` to change")
	}
	other := filepath.Join(t.TempDir(), "changed.yaml")
	if err := os.WriteFile(other, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	c.binds["/etc/tsnctl/changed.yaml"] = other
	out, code = c.run([]string{"SYS_TIME", "SYS_NICE"}, "apply", "-f", "/etc/tsnctl/changed.yaml")
	if code == 0 || !strings.Contains(out, "--cap-add NET_ADMIN") {
		t.Errorf("apply without NET_ADMIN: exit %d\n%s", code, out)
	}
	if dry := labtest.Run(t, "tsnctl", "apply", "--netns", "ctr", "--dry-run", "-f", c.binds["/etc/tsnctl/tsnctl.yaml"]); !strings.Contains(dry, "eth1: nothing to change") {
		t.Errorf("the refused apply changed the node:\n%s", dry)
	}
}

// In the container: tsnctl ptp run starts ptp4l on eth1 (software timestamping: QEMU's igb does not
// timestamp packets) and its management socket answers tsnctl ptp status; a SO_TXTIME stream through
// the seed's taprio and ETF leaves eth1 and arrives at eth0, the other igb, outside.
func TestLabImageTimeSyncAndStream(t *testing.T) {
	c := setup(t)
	if out, code := c.run(tsnCaps, "apply", "-f", "/etc/tsnctl/tsnctl.yaml"); code != 0 {
		t.Fatalf("apply inside: exit %d\n%s", code, out)
	}
	ptpConf := filepath.Join(t.TempDir(), "ptp.yaml")
	if err := os.WriteFile(ptpConf, []byte("ptp:\n  interface: eth1\n  role: grandmaster\n  timestamping: software\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.binds["/etc/tsnctl/ptp.yaml"] = ptpConf
	// ptp4l's layer-2 gPTP opens an AF_PACKET socket: CAP_NET_RAW, the one capability beyond tsnctl's three.
	ptpCaps := append([]string{"NET_RAW"}, tsnCaps...)
	// Without it, ptp4l cannot open its socket: shown first.
	noRaw := c.start(tsnCaps, "ptp", "run", "-f", "/etc/tsnctl/ptp.yaml")
	time.Sleep(3 * time.Second)
	if st, _ := c.exec(noRaw, "ptp", "status"); regexp.MustCompile(`(?m)^port state\s+(LISTENING|MASTER)`).MatchString(st) {
		t.Errorf("ptp4l runs without CAP_NET_RAW: %s", st)
	}
	c.stop(noRaw)
	id := c.start(ptpCaps, "ptp", "run", "-f", "/etc/tsnctl/ptp.yaml")
	defer c.stop(id)
	// ptp4l answers at once (LISTENING); as the only clock it becomes MASTER after the announce
	// receipt timeout (about 8 s).
	master := regexp.MustCompile(`(?m)^port state\s+MASTER$`)
	var status string
	for range 150 {
		status, _ = c.exec(id, "ptp", "status")
		if master.MatchString(status) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !master.MatchString(status) {
		t.Errorf("tsnctl ptp status inside (ptp4l's management socket), no MASTER within 30 s:\n%s", status)
	}
	t.Logf("tsnctl ptp status inside:\n%s", status)

	// The stream: eth1.3 (the seed's VLAN, egress 6:6) in the container, eth0.3 outside.
	labtest.Run(t, "ip", "-n", "ctr", "addr", "add", "10.9.0.1/24", "dev", "eth1.3")
	labtest.Run(t, "ip", "-n", "ctr", "link", "set", "eth1.3", "up")
	labtest.Run(t, "ip", "link", "add", "link", "eth0", "name", "eth0.3", "type", "vlan", "id", "3")
	labtest.Run(t, "ip", "addr", "add", "10.9.0.2/24", "dev", "eth0.3")
	labtest.Run(t, "ip", "link", "set", "eth0.3", "up")
	rx := exec.Command("tsnctl", "recv", "--listen", "10.9.0.2:7788", "--count", "200", "--duration", "30s")
	var rxOut strings.Builder
	rx.Stdout, rx.Stderr = &rxOut, &rxOut
	if err := rx.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	out, code := c.run(tsnCaps, "send", "--dest", "10.9.0.2:7788", "--iface", "eth1.3", "--priority", "6", "--txtime",
		"--from-qdisc", "eth1", "--window", "1200us,1300us", "--cycle", "2ms", "--wake-advance", "3ms", "--count", "200", "--quiet")
	t.Logf("send inside (exit %d):\n%s", code, out)
	if err := rx.Wait(); err != nil {
		t.Errorf("recv outside: %v\n%s", err, rxOut.String())
	}
	t.Logf("recv outside:\n%s", rxOut.String())
	// Real-time TCG: the host's noise (ms) makes ETF drop some packets as late; the point here is that
	// SO_TXTIME packets leave the container's NIC through its taprio and ETF and reach the other igb.
	m := regexp.MustCompile(`received (\d+) packets`).FindStringSubmatch(rxOut.String())
	if code != 0 || !strings.Contains(out, "sent 200, send errors 0") || m == nil || m[1] == "0" {
		t.Errorf("200 packets sent with SO_TXTIME in the container, the other igb says:\n%s", rxOut.String())
	}
}

// start runs tsnctl ARGS in a container in the background and returns its id.
func (c *ctr) start(caps []string, args ...string) string {
	c.t.Helper()
	c.n++
	id := fmt.Sprintf("tsnctl-%d", c.n)
	dir := filepath.Join(c.t.TempDir(), id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	s := c.spec(caps, args)
	s.Root.Path = filepath.Join(c.bundle, "rootfs") // shared with the other containers (read-only)
	if err := WriteSpec(dir, s); err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command("runc", "--root", "/run/runc-lab", "run", "--no-pivot", "--bundle", dir, id)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cmd.Wait(); c.t.Logf("%s's output:\n%s", id, out.String()) })
	c.t.Logf("runc run (caps %v, background) %s: tsnctl %s", caps, id, strings.Join(args, " "))
	return id
}

// exec runs tsnctl ARGS in running container id.
func (c *ctr) exec(id string, args ...string) (string, int) {
	out, err := exec.Command("runc", append([]string{"--root", "/run/runc-lab", "exec", id, c.entrypoint[0]}, args...)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		return err.Error() + ": " + string(out), -1
	}
	return string(out), 0
}

func (c *ctr) stop(id string) {
	exec.Command("runc", "--root", "/run/runc-lab", "kill", id, "TERM").Run()
	time.Sleep(500 * time.Millisecond)
	exec.Command("runc", "--root", "/run/runc-lab", "delete", "--force", id).Run()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// netnsPath is where ip netns keeps a named namespace (/run/netns on Debian; /var/run/netns elsewhere).
func netnsPath(name string) string {
	for _, d := range []string{"/run/netns", "/var/run/netns"} {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name)
		}
	}
	return filepath.Join("/run/netns", name)
}
