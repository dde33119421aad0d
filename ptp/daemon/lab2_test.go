//go:build lab2

package daemon

// Two guests (TSNCTL_LAB_VMS=2, `make lab-test`), each with its own clock, cabled eth0<->eth0 and
// eth1<->eth1: guest 1 runs ptp4l as grandmaster, guest 2 runs `tsnctl ptp run` (gPTP, software
// timestamps as QEMU's igb does not timestamp packets) and this test drives the scenario. The
// guests agree on phases through files in the shared /host directory.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ptp"
	"github.com/tsnctl/tsnctl/ptp/internal/ptptest"
	"github.com/tsnctl/tsnctl/ptp/watch"
	"github.com/tsnctl/tsnctl/samplelog"
)

const phases = "/host/ptplab"

func phase(name string) string { return filepath.Join(phases, name) }

func signal(t *testing.T, name string) {
	if err := os.WriteFile(phase(name), []byte(time.Now().UTC().Format(time.RFC3339Nano)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitPhase(t *testing.T, name string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(phase(name)); err == nil {
			return
		}
		if _, err := os.Stat(phase("failed")); err == nil {
			t.Fatalf("the other guest failed while this one waited for %s", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("phase %s did not come within %v", name, limit)
}

func TestLabTwoGuestsSync(t *testing.T) {
	vm := os.Getenv("LAB_VM")
	if os.Getenv("LAB_VMS") != "2" {
		t.Fatal("this test needs two guests: TSNCTL_LAB_VMS=2 (make lab-test runs it so)")
	}
	os.MkdirAll(phases, 0o777)
	defer func() {
		if t.Failed() {
			signal(t, "failed")
		}
	}()
	ptptest.Sh(t, "ip", "link", "set", "eth0", "up")
	ptptest.Sh(t, "ip", "link", "set", "eth1", "up")
	if vm == "1" {
		grandmaster(t)
	} else {
		node(t)
	}
}

// gptpYAML is the lab's ptp: section: software timestamps; peer delays of emulated links are far
// above 802.1AS's 800 ns; offsets under emulation are tens to hundreds of µs.
func gptpYAML(role, extra string) string {
	return "ptp:\n  interface: eth0\n  role: " + role + "\n  timestamping: software\n  options: {neighborPropDelayThresh: 100000000}\n" +
		"  sync: {offset-threshold: 2ms, lock-samples: 4, holdover: 5s, poll-interval: 250ms}\n" + extra
}

func grandmaster(t *testing.T) {
	ptptest.Sh(t, "ip", "addr", "add", "10.9.0.1/24", "dev", "eth1")
	c, err := configs.Parse("gm.yaml", []byte(gptpYAML("grandmaster", "")))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := ptp.Build(c.PTP, "/tmp/gm")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("/tmp/gm", 0o700)
	os.WriteFile(plan.Ptp4lArgs[1], []byte(plan.Ptp4lConf()), 0o644)
	start := func() *exec.Cmd {
		cmd := exec.Command("ptp4l", plan.Ptp4lArgs...)
		log, _ := os.Create("/tmp/gm.log")
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	gm := start()
	recv := exec.Command("tsnctl", "recv", "--listen", ":7788", "--duration", "600s")
	recv.Start()
	defer recv.Process.Kill()
	waitPhase(t, "kill-gm", 8*time.Minute)
	gm.Process.Kill()
	gm.Wait()
	signal(t, "gm-killed")
	waitPhase(t, "restart-gm", 3*time.Minute)
	gm = start()
	waitPhase(t, "done", 8*time.Minute)
	gm.Process.Kill()
	gm.Wait()
}

type nodeRun struct {
	t      *testing.T
	status string
	t0     time.Time
}

func (n *nodeRun) read() *watch.Status {
	st, err := watch.ReadStatus(n.status, time.Now())
	if err != nil {
		return nil
	}
	return st
}

// until polls the status until ok, failing after limit; it returns the status and the time taken.
func (n *nodeRun) until(what string, limit time.Duration, ok func(*watch.Status) bool) (*watch.Status, time.Duration) {
	n.t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if st := n.read(); st != nil && ok(st) {
			return st, time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(n.status)
	n.t.Fatalf("%s: not within %v; status:\n%s", what, limit, b)
	return nil, 0
}

func node(t *testing.T) {
	ptptest.Sh(t, "ip", "addr", "add", "10.9.0.2/24", "dev", "eth1")
	ptptest.Sh(t, "ip", "neigh", "add", "10.9.0.1", "lladdr", "52:54:00:00:01:01", "dev", "eth1")
	os.WriteFile("/tmp/node.yaml", []byte(gptpYAML("slave", "")), 0o644)
	n := &nodeRun{t: t, status: watch.DefaultStatusPath, t0: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	daemonLog, _ := os.Create("/tmp/node-tsnctl.log")
	defer stateChanges(t, "/tmp/node-tsnctl.log")
	sup := exec.CommandContext(ctx, "tsnctl", "ptp", "run", "-f", "/tmp/node.yaml", "--quiet")
	sup.Cancel = func() error { return sup.Process.Signal(syscall.SIGTERM) }
	sup.Stdout, sup.Stderr = daemonLog, daemonLog
	if err := sup.Start(); err != nil {
		t.Fatal(err)
	}
	// The gated sender, started at once: it must not send before LOCKED.
	sender := exec.Command("tsnctl", "send", "--dest", "10.9.0.1:7788", "--iface", "eth1", "--count", "20", "--cycle", "10ms",
		"--require-sync", "--sync-timeout", "300s", "--log", "/tmp/gated.log", "--quiet")
	var senderOut strings.Builder
	sender.Stdout, sender.Stderr = &senderOut, &senderOut
	if err := sender.Start(); err != nil {
		t.Fatal(err)
	}

	// 1. LOCKED, from a cold start.
	st, took := n.until("LOCKED after start", 300*time.Second, func(s *watch.Status) bool { return s.State == "LOCKED" })
	t.Logf("LOCKED %v after tsnctl ptp run started: offset %d ns, path delay %d ns, GM %s, UTC offset %d s, kernel TAI offset %d s",
		st.Since.Sub(n.t0).Round(time.Millisecond), st.OffsetNs, st.PathDelayNs, st.GMIdentity, st.UTCOffsetS, st.KernelTAIOffsetS)
	_ = took
	lockedAt := st.Since
	if err := sender.Wait(); err != nil {
		t.Fatalf("gated sender: %v\n%s", err, senderOut.String())
	}
	first, marked := firstSendCall(t, "/tmp/gated.log")
	tai := int64(st.KernelTAIOffsetS) * int64(time.Second)
	if first < lockedAt.UnixNano()+tai {
		t.Errorf("the gated sender sent at %v, before LOCKED at %v", time.Unix(0, first-tai).UTC(), lockedAt.UTC())
	}
	t.Logf("gated sender: first packet %v after LOCKED, %d of 20 marked not locked; %s", time.Duration(first-tai-lockedAt.UnixNano()).Round(time.Millisecond),
		marked, strings.TrimSpace(strings.Split(senderOut.String(), "\n")[0]))

	// 2. A wrong transportSpecific is named, not a silent timeout.
	out, err := exec.Command("tsnctl", "ptp", "watch", "--transport-specific", "0", "--status", "/tmp/wrong.json").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ignores management messages with transportSpecific 0 and answers those with 1") {
		t.Errorf("ptp watch with transportSpecific 0: %v\n%s", err, out)
	}

	// 3. The node's ptp4l killed: restarted by the supervisor, counted, LOCKED again.
	// Restarts are counted from what the status said before the kill: a carrier coming up after
	// the supervisor started restarts ptp4l too.
	before := n.read().Restarts["ptp4l"]
	killPtp4l(t)
	st, took = n.until("ptp4l restarted", 30*time.Second, func(s *watch.Status) bool { return s.Restarts["ptp4l"] > before })
	t.Logf("node ptp4l killed: restarted (counter %d) after %v", st.Restarts["ptp4l"], took.Round(time.Millisecond))
	count := st.Restarts["ptp4l"]
	st, took = n.until("LOCKED after the ptp4l restart", 120*time.Second, func(s *watch.Status) bool { return s.State == "LOCKED" && s.Restarts["ptp4l"] >= count })
	t.Logf("LOCKED again %v after the restart was seen", took.Round(time.Millisecond))

	// 4. The grandmaster's ptp4l killed: HOLDOVER, then FREERUN after the 5 s holdover.
	signal(t, "kill-gm")
	waitPhase(t, "gm-killed", 60*time.Second)
	killed := time.Now()
	st, took = n.until("HOLDOVER after the GM died", 10*time.Second, func(s *watch.Status) bool { return s.State == "HOLDOVER" })
	t.Logf("GM killed: HOLDOVER after %v (%s)", took.Round(time.Millisecond), st.Reason)
	st, _ = n.until("FREERUN after the holdover", 10*time.Second, func(s *watch.Status) bool { return s.State == "FREERUN" })
	t.Logf("GM killed: FREERUN %v after the kill (%s)", time.Since(killed).Round(time.Millisecond), st.Reason)

	// 5. The grandmaster back: LOCKED again.
	signal(t, "restart-gm")
	restarted := time.Now()
	st, _ = n.until("LOCKED after the GM came back", 300*time.Second, func(s *watch.Status) bool { return s.State == "LOCKED" })
	t.Logf("GM restarted: LOCKED %v later (offset %d ns)", time.Since(restarted).Round(time.Millisecond), st.OffsetNs)

	// 6. delayAsymmetry of 50 ms, applied by letting the supervisor restart ptp4l with it: the
	// measured offset moves by −50 ms, crosses the 2 ms threshold and the node leaves LOCKED for
	// that reason. Nothing may take the shift away first. The restarted ptp4l leaves the clock alone
	// for the pi servo's first 0.016/ki (about 37 s with software timestamps, the port
	// UNCALIBRATED) and keeps the frequency the killed one had set: the guests' own rates differ
	// (TCG calibrates each one's TSC at boot), and the killed servo was also steering an offset of
	// up to the 2 ms threshold at some hundreds of ppm. A 10 ms shift was undone by that drift once
	// in CI (an offset of −1.28 ms, LOCKED), and 18 ms of drift was measured in one 44 s run with the
	// frequency set to 0; 50 ms leaves room for 1000 ppm. Once it runs, the servo may neither step
	// (first_step_threshold 0) nor slew faster than 1 ppm (max_frequency 1000 ppb).
	conf := ptp.ConfigPath("", "eth0")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte(strings.Replace(string(b), "[global]\n", "[global]\ndelayAsymmetry 50000000\nfirst_step_threshold 0.0\nmax_frequency 1000\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	pre := n.read()
	before = pre.Restarts["ptp4l"]
	t.Logf("before the restart with delayAsymmetry: %s, offset %d ns", pre.State, pre.OffsetNs)
	killPtp4l(t)
	st, took = n.until("|offset| over the threshold", 120*time.Second, func(s *watch.Status) bool {
		return s.State != "LOCKED" && s.Restarts["ptp4l"] > before && strings.Contains(s.Reason, "|offset|")
	})
	t.Logf("delayAsymmetry 50 ms: %s after %v: %s", st.State, took.Round(time.Millisecond), st.Reason)
	signal(t, "done")

	cancel()
	sup.Wait()
	if _, err := os.Stat(watch.DefaultStatusPath); err == nil {
		t.Error("status file left after tsnctl ptp run stopped")
	}
}

// firstSendCall returns the first packet's send-call time (TAI) and how many were marked not locked.
func firstSendCall(t *testing.T, path string) (int64, int) {
	t.Helper()
	r, f, err := samplelog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec samplelog.Record
	var first int64
	marked := 0
	for r.Next(&rec) == nil {
		if rec.Type != samplelog.TypeTx {
			continue
		}
		if first == 0 {
			first = rec.SendCall
		}
		if rec.Flags&samplelog.FlagNotLocked != 0 {
			marked++
		}
	}
	if first == 0 {
		t.Fatal("no tx record in the gated sender's log")
	}
	return first, marked
}

func killPtp4l(t *testing.T) {
	t.Helper()
	pid := findPtp4lOrZero(ptp.ConfigPath("", "eth0"))
	if pid == 0 {
		t.Fatal("no ptp4l running")
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

// stateChanges logs the supervisor's state-change lines (how the state moved during the test).
func stateChanges(t *testing.T, path string) {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "sync state") || strings.Contains(l, "restarting") || strings.Contains(l, "exited") {
			t.Log(l)
		}
	}
}
