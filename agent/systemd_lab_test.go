//go:build labsd

package agent

// In the systemd lab guest (TSNCTL_LAB_SYSTEMD=1, make lab-systemd): tsnctl's unit installed from
// deploy/systemd as a user would, run by systemd as PID 1, on the guest's igb NIC eth1. Every step
// asserts what systemd, iproute2 and ethtool say, not what the agent says of itself.

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// sdConfig is labFile on the guest's igb NIC eth1 (4 combined channels), with gPTP as grandmaster
// on eth0 (software timestamps, the lab's thresholds).
var sdConfig = strings.Replace(strings.ReplaceAll(labFile, "v0", "eth1"), "  - name: eth1\n", "  - name: eth1\n    channels: 4\n", 1) + `ptp:
  interface: eth0
  role: grandmaster
  timestamping: software
  options: {neighborPropDelayThresh: 100000000}
  sync: {offset-threshold: 2ms, lock-samples: 4, holdover: 5s, poll-interval: 250ms}
`

func mainPID(t *testing.T) int {
	n, _ := strconv.Atoi(labtest.Output("systemctl", "show", "-p", "MainPID", "--value", "tsnctl"))
	return n
}

// eth1AsFile: iproute2 and ethtool show what sdConfig says.
func eth1AsFile(t *testing.T) bool {
	q := labtest.Output("tc", "-j", "-d", "qdisc", "show", "dev", "eth1")
	l := labtest.Output("ip", "-j", "-d", "link", "show", "dev", "eth1.3")
	e := labtest.Output("ethtool", "-l", "eth1")
	_, cur, _ := strings.Cut(e, "Current hardware settings:")
	return strings.Contains(q, `"kind":"taprio","handle":"100:"`) && strings.Contains(q, `"kind":"etf","handle":"e001:","parent":"100:2"`) &&
		strings.Contains(l, `"egress_qos":[{"from":6,"to":6}]`) && strings.Contains(strings.Join(strings.Fields(cur), " "), "Combined: 4")
}

// monitor watches links and qdiscs with iproute2 while f runs and returns what it saw.
func monitor(t *testing.T, f func()) string {
	seen, stop := observe(t, "")
	f()
	time.Sleep(300 * time.Millisecond)
	stop()
	return seen.String()
}

func taprioPackets(t *testing.T) int {
	s := labtest.Output("tc", "-s", "qdisc", "show", "dev", "eth1")
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "Sent") && strings.Contains(s[:strings.Index(s, l)], "taprio") {
			f := strings.Fields(l)
			n, _ := strconv.Atoi(f[3])
			return n
		}
	}
	return -1
}

func TestLabSystemdUnit(t *testing.T) {
	if os.Getenv("LAB_SYSTEMD") != "1" {
		t.Fatal("runs in the systemd lab guest: TSNCTL_LAB_SYSTEMD=1 (make lab-systemd)")
	}
	labtest.Run(t, "ip", "link", "set", "eth0", "up")
	labtest.Run(t, "ip", "link", "set", "eth1", "up")
	// Installed as docs/agent.md says (the guest has no coreutils install: the same by hand).
	os.MkdirAll("/etc/tsnctl", 0o755)
	os.WriteFile("/etc/tsnctl/tsnctl.yaml", []byte(sdConfig), 0o644)
	unit, err := os.ReadFile("/src/deploy/systemd/tsnctl.service")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/etc/systemd/system/tsnctl.service", unit, 0o644)
	labtest.Run(t, "systemctl", "daemon-reload")

	// A missing file: the start fails at once with the reason in the journal, nothing is changed.
	os.Rename("/etc/tsnctl/tsnctl.yaml", "/etc/tsnctl/tsnctl.yaml.away")
	if err := exec.Command("systemctl", "start", "tsnctl").Run(); err == nil {
		t.Error("systemctl start succeeded without /etc/tsnctl/tsnctl.yaml")
	}
	if j := labtest.Output("journalctl", "-u", "tsnctl", "--no-pager"); !strings.Contains(j, "no such file or directory") {
		t.Errorf("the journal does not say why:\n%s", j)
	}
	if strings.Contains(labtest.Output("tc", "qdisc", "show", "dev", "eth1"), "taprio") {
		t.Error("a failed start changed eth1")
	}
	exec.Command("systemctl", "stop", "tsnctl").Run() // cancels Restart=on-failure's next try
	exec.Command("systemctl", "reset-failed", "tsnctl").Run()
	os.Rename("/etc/tsnctl/tsnctl.yaml.away", "/etc/tsnctl/tsnctl.yaml")

	// Start: systemctl returns once READY=1 came; the node is as the file says.
	start := time.Now()
	if o, err := exec.Command("systemctl", "start", "tsnctl").CombinedOutput(); err != nil {
		t.Fatalf("systemctl start: %v\n%s\n%s", err, o, labtest.Output("journalctl", "-u", "tsnctl", "--no-pager"))
	}
	took := time.Since(start)
	if st := labtest.Output("systemctl", "is-active", "tsnctl"); st != "active" || !eth1AsFile(t) {
		t.Fatalf("after start: %s, as file %v\n%s", st, eth1AsFile(t), labtest.Output("journalctl", "-u", "tsnctl", "--no-pager"))
	}
	t.Logf("systemctl start tsnctl returned after READY=1 in %v; tc/ip/ethtool show the file", took.Round(time.Millisecond))
	if s := labtest.Output("systemctl", "show", "-p", "StatusText", "--value", "tsnctl"); !strings.Contains(s, "1 configured") {
		t.Errorf("STATUS= %q", s)
	}

	// Time sync in the hardened unit: ptp4l runs (its capabilities, sockets and /dev/ptp* allowed),
	// the node becomes ready (a grandmaster is in sync with itself), and a killed ptp4l is started
	// again and counted in the metrics.
	for end := time.Now().Add(60 * time.Second); exec.Command("tsnctl", "status").Run() != nil; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not ready (LOCKED) within 60 s:\n%s\n%s", labtest.Output("tsnctl", "status"), labtest.Output("journalctl", "-u", "tsnctl", "--no-pager", "-n", "40"))
		}
	}
	metrics := func() string {
		r, err := http.Get("http://127.0.0.1:9559/metrics")
		if err != nil {
			return err.Error()
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	if m := metrics(); !strings.Contains(m, `tsnctl_ptp_sync_state{state="LOCKED"} 1`) || !strings.Contains(m, "tsnctl_ready 1") {
		t.Errorf("metrics while ready:\n%.2000s", m)
	}
	ptp4l := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if b, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(b)) == "ptp4l" {
			ptp4l, _ = strconv.Atoi(e.Name())
		}
	}
	if ptp4l == 0 {
		t.Fatal("no ptp4l running")
	}
	labtest.Run(t, "kill", "-9", strconv.Itoa(ptp4l))
	labtest.Eventually(t, 20*time.Second, "ptp4l restarted and counted", func() bool {
		return strings.Contains(metrics(), `tsnctl_ptp_process_restarts_total{process="ptp4l"} 1`)
	})

	// Drift repaired, and the journal says what drifted.
	labtest.Run(t, "tc", "qdisc", "del", "dev", "eth1", "root")
	labtest.Eventually(t, 10*time.Second, "root repaired under systemd", func() bool { return eth1AsFile(t) })
	labtest.Eventually(t, 5*time.Second, "the repair in the journal", func() bool {
		return strings.Contains(labtest.Output("journalctl", "-u", "tsnctl", "--no-pager"), "drift repaired")
	})

	// Restart: adopted with zero kernel writes (iproute2 sees no event), counters keep counting.
	labtest.Run(t, "tsnctl", "send", "--raw", "--iface", "eth1", "--dest-mac", "02:00:00:00:00:02", "--count", "20", "--cycle", "1ms",
		"--window", "0,1ms", "--offset", "0", "--quiet")
	before := taprioPackets(t)
	pid := mainPID(t)
	seen := monitor(t, func() { labtest.Run(t, "systemctl", "restart", "tsnctl") })
	if strings.TrimSpace(seen) != "" || mainPID(t) == pid || !eth1AsFile(t) {
		t.Errorf("systemctl restart: iproute2 saw:\n%s", seen)
	}
	if after := taprioPackets(t); before < 20 || after < before {
		t.Errorf("taprio packets %d before the restart, %d after: they must keep counting", before, after)
	}

	// kill -9: systemd restarts it (Restart=on-failure), the new agent adopts.
	pid = mainPID(t)
	seen = monitor(t, func() {
		labtest.Run(t, "kill", "-9", strconv.Itoa(pid))
		labtest.Eventually(t, 20*time.Second, "restarted after kill -9", func() bool {
			p := mainPID(t)
			return p != 0 && p != pid && labtest.Output("systemctl", "is-active", "tsnctl") == "active"
		})
	})
	if strings.Contains(seen, "qdisc") || !eth1AsFile(t) {
		t.Errorf("after kill -9 and the restart, iproute2 saw:\n%s", seen)
	}

	// Watchdog: a stopped agent stops pinging; systemd kills and restarts it after WatchdogSec.
	pid = mainPID(t)
	stopped := time.Now()
	labtest.Run(t, "kill", "-STOP", strconv.Itoa(pid))
	labtest.Eventually(t, 40*time.Second, "watchdog restart", func() bool {
		p := mainPID(t)
		return p != 0 && p != pid && labtest.Output("systemctl", "is-active", "tsnctl") == "active"
	})
	t.Logf("kill -STOP: systemd's watchdog restarted the agent after %v (WatchdogSec=10s)", time.Since(stopped).Round(100*time.Millisecond))
	if j := labtest.Output("journalctl", "-u", "tsnctl", "--no-pager"); !strings.Contains(j, "Watchdog timeout") {
		t.Errorf("no watchdog timeout in the journal")
	}

	// Reload with an invalid file: refused, active, the old state intact, the error visible.
	pid = mainPID(t)
	os.WriteFile("/etc/tsnctl/tsnctl.yaml", []byte("interfaces:\n  - name: \"eth1 x\"\n"), 0o644)
	labtest.Run(t, "systemctl", "reload", "tsnctl")
	labtest.Eventually(t, 10*time.Second, "reload refused", func() bool {
		return strings.Contains(labtest.Output("tsnctl", "status"), "1 refused")
	})
	if labtest.Output("systemctl", "is-active", "tsnctl") != "active" || mainPID(t) != pid || !eth1AsFile(t) ||
		!strings.Contains(labtest.Output("journalctl", "-u", "tsnctl", "--no-pager"), "reload refused") {
		t.Errorf("after an invalid reload: %s, pid %d (was %d), as file %v", labtest.Output("systemctl", "is-active", "tsnctl"), mainPID(t), pid, eth1AsFile(t))
	}
	// A SIGHUP storm with that invalid file: coalesced, refused, the unit active, nothing changed.
	for range 30 {
		exec.Command("kill", "-HUP", strconv.Itoa(pid)).Run()
	}
	time.Sleep(2 * time.Second)
	if labtest.Output("systemctl", "is-active", "tsnctl") != "active" || mainPID(t) != pid || !eth1AsFile(t) {
		t.Errorf("after 30 SIGHUPs: %s, pid %d (was %d), as file %v", labtest.Output("systemctl", "is-active", "tsnctl"), mainPID(t), pid, eth1AsFile(t))
	}
	t.Logf("30 SIGHUPs with an invalid file: %s", labtest.Output("sh", "-c", "tsnctl status | grep reloads"))

	// A valid reload that changes only the schedule: changed in place, no qdisc deleted.
	os.WriteFile("/etc/tsnctl/tsnctl.yaml", []byte(strings.Replace(sdConfig, "interval: 200us}\n        - {cmd: S, gates: 0x02", "interval: 300us}\n        - {cmd: S, gates: 0x02", 1)), 0o644)
	seen = monitor(t, func() {
		labtest.Run(t, "systemctl", "reload", "tsnctl")
		labtest.Eventually(t, 10*time.Second, "schedule changed", func() bool {
			return strings.Contains(labtest.Output("tc", "-j", "-d", "qdisc", "show", "dev", "eth1"), `"interval":300000`)
		})
	})
	if strings.Contains(seen, "deleted qdisc") {
		t.Errorf("the schedule-only reload deleted a qdisc:\n%s", seen)
	}

	// Stop: the configuration stays, traffic keeps flowing.
	labtest.Run(t, "systemctl", "stop", "tsnctl")
	if !strings.Contains(labtest.Output("tc", "qdisc", "show", "dev", "eth1"), "taprio") {
		t.Error("systemctl stop removed the taprio (it must stay without --reset-on-stop)")
	}
	var once sync.Once
	once.Do(func() { t.Log(labtest.Output("systemctl", "status", "tsnctl", "--no-pager", "-n", "0")) })
}
