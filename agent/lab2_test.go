//go:build lab2

package agent

// Two guests (TSNCTL_LAB_VMS=2), each with its own clock, cabled eth0<->eth0: guest 1 runs an agent
// whose file makes it the gPTP grandmaster, guest 2 an agent whose file makes it a slave. Guest 2's
// /readyz must answer 503 (time sync not LOCKED) until ptp4l has locked, then 200, and 503 again
// (HOLDOVER, then FREERUN) once the grandmaster is gone. The guests agree on phases through files
// in the shared /host directory.

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/testbed/labtest"
)

const agentPhases = "/host/agentlab2"

func mark(t *testing.T, name string) {
	if err := os.WriteFile(filepath.Join(agentPhases, name), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

func await(t *testing.T, name string, limit time.Duration) {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(agentPhases, name)); err == nil {
			return
		}
		if _, err := os.Stat(filepath.Join(agentPhases, "failed")); err == nil {
			t.Fatalf("the other guest failed while this one waited for %s", name)
		}
	}
	t.Fatalf("phase %s did not come within %v", name, limit)
}

// labPTP is the lab's ptp: section (software timestamps, emulation-sized thresholds). The offset
// threshold is 10 ms, not the daemon test's 2 ms: between two guests in real-time TCG the offset
// wanders over a few ms now and then (2.75 ms seen), and this test is about /readyz following the
// sync state, not about precision (the daemon's two-guest test keeps 2 ms for its threshold cases).
// The slave that stayed FREERUN for this test's three minutes in fresh clones and CI was something
// else: its ptp4l started before eth0's link was up and, when the link came up, switched its clock
// to eth0's PHC (see ptp/daemon/carrier.go, which now starts it again).
func labPTP(role string) string {
	return "ptp:\n  interface: eth0\n  role: " + role + "\n  timestamping: software\n  options: {neighborPropDelayThresh: 100000000}\n" +
		"  sync: {offset-threshold: 10ms, lock-samples: 4, holdover: 5s, poll-interval: 250ms}\n"
}

func TestLabReadyzFollowsLocked(t *testing.T) {
	if os.Getenv("LAB_VMS") != "2" {
		t.Fatal("this test needs two guests: TSNCTL_LAB_VMS=2 (make lab-test runs it so)")
	}
	os.MkdirAll(agentPhases, 0o777)
	defer func() {
		if t.Failed() {
			mark(t, "failed")
		}
	}()
	labtest.Run(t, "ip", "link", "set", "eth0", "up")
	if os.Getenv("LAB_VM") == "1" {
		_, stop := runAgent(t, labPTP("grandmaster"), "", time.Hour)
		mark(t, "gm-up")
		await(t, "node-locked", 4*time.Minute)
		stop() // ptp4l stops with the agent
		mark(t, "gm-down")
		await(t, "node-done", 2*time.Minute)
		return
	}
	await(t, "gm-up", 2*time.Minute)
	a, stop := runAgent(t, labPTP("slave"), "", time.Hour)
	defer stop()
	m := NewMetrics("lab2")
	m.SetAgent(a)
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go m.Serve(ctx, l)
	readyz := func() (int, string) {
		r, err := http.Get("http://" + l.Addr().String() + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, strings.TrimSpace(string(b))
	}
	start := time.Now()
	var before string
	for {
		code, body := readyz()
		if code == 200 {
			break
		}
		if code == 503 && strings.Contains(body, "time sync") {
			before = body
		}
		if time.Since(start) > 3*time.Minute {
			t.Fatalf("not ready after %v: %d %s (sync: %+v)", time.Since(start), code, body, a.Snapshot().Sync)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if before == "" {
		t.Error("/readyz never said 503 for time sync before LOCKED")
	}
	if st := a.Snapshot(); st.Sync == nil || st.Sync.State != "LOCKED" {
		t.Errorf("ready but the sync state is %+v", st.Sync)
	}
	t.Logf("/readyz: %q until LOCKED, 200 after %v", before, time.Since(start).Round(100*time.Millisecond))
	mark(t, "node-locked")
	await(t, "gm-down", time.Minute)
	lost := time.Now()
	var seen []string
	for {
		code, body := readyz()
		if code == 503 && (len(seen) == 0 || seen[len(seen)-1] != body) {
			seen = append(seen, body)
		}
		if code == 503 && strings.Contains(body, "FREERUN") {
			break
		}
		if time.Since(lost) > time.Minute {
			t.Fatalf("after the grandmaster went: %d %s (seen %q)", code, body, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(strings.Join(seen, "|"), "HOLDOVER") {
		t.Errorf("no HOLDOVER on the way to FREERUN: %q", seen)
	}
	t.Logf("grandmaster gone: /readyz said %q within %v", seen, time.Since(lost).Round(100*time.Millisecond))
	mark(t, "node-done")
}
