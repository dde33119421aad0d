package daemon

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tsnctl/tsnctl/ptp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/ptp/internal/ptptest"
	"github.com/tsnctl/tsnctl/ptp/watch"
)

// tsnctl ptp run on the host, against a real ptp4l pair that runs free (so it can never steer the
// machine's clock): the node's ptp4l is started in its namespace, its status published; killed, it
// is restarted and the restart counted; stopped, the status file goes away.
func TestRunSupervisesPtp4l(t *testing.T) {
	pair := ptptest.NewPair(t)
	dir := t.TempDir()
	ptptest.Grandmaster(t, pair, filepath.Join(dir, "gm.sock"))
	nodeUDS := filepath.Join(dir, "node.sock")
	plan := ptptest.Plan(t, ptptest.NodeYAML(nodeUDS)+"  sync: {poll-interval: 100ms}\n", dir)
	statusPath := filepath.Join(dir, "status.json")
	var mu sync.Mutex
	var log strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, plan, Options{RunDir: dir, StatusPath: statusPath, NetNS: pair.Node, Log: func(src, line string) {
			mu.Lock()
			log.WriteString(src + " " + line + "\n")
			mu.Unlock()
		}})
	}()
	defer func() {
		cancel()
		<-done
		if t.Failed() {
			mu.Lock()
			t.Logf("log:\n%s", log.String())
			mu.Unlock()
		}
	}()
	waitFor := func(what string, ok func(*watch.Status) bool) *watch.Status {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if st, err := watch.ReadStatus(statusPath, time.Now()); err == nil && ok(st) {
				return st
			}
			time.Sleep(50 * time.Millisecond)
		}
		st, err := watch.ReadStatus(statusPath, time.Now())
		t.Fatalf("%s: not within 30 s; last status %+v (%v)", what, st, err)
		return nil
	}
	// The node hears the grandmaster. Free running, its servo never locks: UNCALIBRATED, not SLAVE,
	// so the state is not LOCKED and the reason says why.
	st := waitFor("node follows the grandmaster", func(s *watch.Status) bool { return s.GMPresent && s.PortState == "UNCALIBRATED" })
	if st.State == "LOCKED" || !strings.Contains(st.Reason, "port state UNCALIBRATED, not SLAVE") || st.PathDelayNs == 0 || st.Interface != "p1" {
		t.Errorf("status %+v", st)
	}
	conf, err := os.ReadFile(ptp.ConfigPath(dir, "p1"))
	if err != nil || !strings.Contains(string(conf), "transportSpecific") {
		t.Errorf("configuration file: %v", err)
	}
	// Kill the node's ptp4l: the supervisor restarts it, the status counts it, and answers return.
	pid := findPtp4l(t, ptp.ConfigPath(dir, "p1"))
	syscall.Kill(pid, syscall.SIGKILL)
	st = waitFor("ptp4l restarted", func(s *watch.Status) bool { return s.Restarts["ptp4l"] == 1 && s.PortState != "" })
	if newPid := findPtp4l(t, ptp.ConfigPath(dir, "p1")); newPid == pid {
		t.Errorf("same pid %d after the restart", pid)
	}
	mu.Lock()
	l := log.String()
	mu.Unlock()
	if !strings.Contains(l, "ptp4l exited after") || !strings.Contains(l, "restarting in 500ms (restart 1)") {
		t.Errorf("no restart in the log")
	}
	// Stop: ptp4l goes, and so does the status (nobody should trust a status without its publisher).
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	done <- nil // for the deferred receive
	if _, err := os.Stat(statusPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("status file left behind: %v", err)
	}
	if p := findPtp4lOrZero(ptp.ConfigPath(dir, "p1")); p != 0 {
		t.Errorf("ptp4l %d still running", p)
	}
}

func findPtp4lOrZero(conf string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) > 2 && filepath.Base(args[0]) == "ptp4l" && strings.Contains(string(b), conf) {
			var pid int
			for _, c := range e.Name() {
				pid = pid*10 + int(c-'0')
			}
			return pid
		}
	}
	return 0
}

func findPtp4l(t *testing.T, conf string) int {
	t.Helper()
	p := findPtp4lOrZero(conf)
	if p == 0 {
		t.Fatalf("no ptp4l running with %s", conf)
	}
	return p
}

// tsnctl ptp watch: a ptp4l started by someone else (here, by the test) is polled and its status
// published; nothing is started or stopped.
func TestWatchOnly(t *testing.T) {
	pair := ptptest.NewPair(t)
	dir := t.TempDir()
	ptptest.Grandmaster(t, pair, filepath.Join(dir, "gm.sock"))
	nodeUDS := filepath.Join(dir, "node.sock")
	plan, node := ptptest.Node(t, pair, nodeUDS, "  sync: {poll-interval: 100ms}\n")
	statusPath := filepath.Join(dir, "status.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, plan, Options{RunDir: dir, StatusPath: statusPath, WatchOnly: true}) }()
	var st *watch.Status
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if s, err := watch.ReadStatus(statusPath, time.Now()); err == nil && s.GMPresent {
			st = s
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st == nil || st.PortState == "" || len(st.Restarts) != 0 {
		t.Fatalf("status %+v", st)
	}
	if err := node.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("watch stopped the ptp4l it watched: %v", err)
	}
}

// A ptp4l that cannot be started ends Run with the reason, and everything Run started stops.
func TestRunWithoutPtp4l(t *testing.T) {
	dir := t.TempDir()
	plan := ptptest.Plan(t, ptptest.NodeYAML(filepath.Join(dir, "node.sock")), dir)
	start := time.Now()
	err := Run(context.Background(), plan, Options{RunDir: dir, StatusPath: filepath.Join(dir, "status.json"), Ptp4l: "/nonexistent/ptp4l"})
	if err == nil || !strings.Contains(err.Error(), "starting ptp4l") || time.Since(start) > 5*time.Second {
		t.Errorf("after %v: %v", time.Since(start), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "status.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("status left behind: %v", err)
	}
}
