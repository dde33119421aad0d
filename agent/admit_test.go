package agent

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/admission/admissiontest"
	"github.com/tsnctl/tsnctl/configs"
)

const admitFile = `interfaces:
  - name: v0
    channels: 4
    plan:
      etf-delta: 100us
      admission: {vlans: [3], pcp: [5, 6]}
streams:
  - {name: base, interface: v0, dest: 10.3.0.2:7788, vlan: 3, pcp: 6, period: 1ms, size: 64, offset: 0us, max-latency: 200us}
`

// admittedAgent is an agent (no kernel) whose file is text and that has admitted held at its
// planned txtime, as admit leaves it.
func admittedAgent(t *testing.T, text string) *Agent {
	t.Helper()
	cfg, _, err := Check("f.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{})
	a.setConfig(cfg, "h", nil)
	held := configs.Stream{Name: "held", Interface: "v0", Dest: "10.3.0.2:7790", VLAN: 3, Period: configs.Duration(time.Millisecond), Size: 64,
		MaxLatency: configs.Duration(300 * time.Microsecond)}
	out, res, err := a.replan(a.src, []configs.Stream{held}, a.pins())
	if err != nil {
		t.Fatal(err)
	}
	a.setAdmitted(out, res, []admitted{{stream: withPCP(res, held), from: 1}})
	return a
}

// On reload, the file's streams are placed first, then each admitted stream at its txtime; one
// that no longer fits there is evicted with the reason (its client sends at that txtime).
func TestReloadKeepsOrEvictsAdmitted(t *testing.T) {
	a := admittedAgent(t, admitFile)
	r, _ := rowIn(a.rows, "held")
	if r.Txtime <= 0 || len(a.st.Admitted) != 1 || a.st.Admitted[0].VLANInterface != "v0.3" || a.st.Admitted[0].Priority != 5 {
		t.Fatalf("held admitted as %+v / %+v", r, a.st.Admitted)
	}
	// tsnctl status shows both streams with their origin.
	var b strings.Builder
	st := a.Snapshot()
	st.WriteText(&b, true)
	if !regexp.MustCompile(`(?m)^base +v0 +file `).MatchString(b.String()) || !regexp.MustCompile(`(?m)^held +v0 +admitted \(uid 0\) `).MatchString(b.String()) {
		t.Errorf("tsnctl status:\n%s", b.String())
	}
	// The same file again: held kept at its txtime.
	cfg, _, _ := Check("f.yaml", []byte(admitFile))
	kept, err := a.keepAdmitted(cfg)
	if err != nil || len(kept.admits) != 1 || len(kept.evicted) != 0 {
		t.Fatalf("same file: %+v %v", kept, err)
	}
	if r2, _ := rowIn(kept.res.Rows, "held"); r2.Txtime != r.Txtime {
		t.Errorf("held moved from %v to %v", r.Txtime, r2.Txtime)
	}
	// base moved onto held's window: held no longer fits at its txtime and is evicted.
	moved := strings.Replace(admitFile, "offset: 0us, max-latency: 200us", "offset: 150us, max-latency: 20us", 1)
	cfg, _, err = Check("f.yaml", []byte(moved))
	if err != nil {
		t.Fatal(err)
	}
	kept, err = a.keepAdmitted(cfg)
	if err != nil || len(kept.admits) != 0 || len(kept.evicted) != 1 || kept.evicted[0].name != "held" || !strings.Contains(kept.evicted[0].reason, "no room for it at its txtime") {
		t.Fatalf("base moved onto held: %+v %v", kept, err)
	}
	// A file without admission: held evicted (the reservation is gone).
	cfg, _, _ = Check("f.yaml", []byte("interfaces:\n  - name: v0\n"))
	if kept, err = a.keepAdmitted(cfg); err != nil || len(kept.evicted) != 1 || !strings.Contains(kept.evicted[0].reason, "admits no streams") {
		t.Fatalf("admission removed: %+v %v", kept, err)
	}
	// Until the reload is in force, the agent's own state is unchanged.
	if len(a.admits) != 1 {
		t.Errorf("keepAdmitted changed the agent: %+v", a.admits)
	}
}

// A request the planner refuses names its constraint as the reason, a bad field as invalid.
func TestRefusalReasons(t *testing.T) {
	a := admittedAgent(t, admitFile)
	tight := configs.Stream{Name: "x", Interface: "v0", Dest: "10.3.0.2:7791", VLAN: 3, Period: configs.Duration(time.Millisecond), Size: 64,
		MaxLatency: configs.Duration(10 * time.Microsecond)}
	_, _, err := a.replan(a.src, append(streamsOf(a.admits), tight), a.pins())
	if err == nil || !strings.HasPrefix(err.Error(), "admission refused (pinned): ") {
		t.Errorf("a stream that fits only by moving base: %v", err)
	}
	bad := tight
	bad.Size = 1
	if _, _, err := a.replan(a.src, []configs.Stream{bad}, a.pins()); err == nil || !strings.HasPrefix(err.Error(), "admission refused (invalid): ") || !strings.Contains(err.Error(), "stream.size") {
		t.Errorf("a bad size: %v", err)
	}
}

// On the agent's own socket, while one client sends requests and never reads the replies (and
// others send garbage and oversized lines), a second client's requests are answered within 100 ms,
// the loop stays healthy and its readiness answer does not change; the client that never reads is
// cut off. (The interface does not exist here: the agent waits for it, and admission answers
// busy; the hitless path itself is TestLabAdmission's.)
func TestAdmissionSocketUnderHostileClients(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "admission.sock")
	text := strings.Replace(admitFile, "name: v0", "name: tsnnone0", 1)
	text = strings.ReplaceAll(text, "interface: v0", "interface: tsnnone0")
	a, stop := runAgent(t, text, "", time.Hour, func(o *Options) {
		o.AdmissionSocket, o.AdmissionGroup = sock, -1
		o.AdmissionLimits = admission.Limits{WriteTimeout: 200 * time.Millisecond}
	})
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no admission socket")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for !a.Healthy(time.Now()) { // the loop's first heartbeat
		if time.Now().After(deadline) {
			t.Fatal("the agent's loop never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ready := a.Snapshot().Ready

	hogDone, stopHog, err := admissiontest.NeverReads(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer stopHog()
	for _, junk := range []string{"garbage\n", strings.Repeat("x", 10000) + "\n", `{"op":"add","stream":{"name":"x","uid":0}}` + "\n"} {
		if nc, err := net.Dial("unix", sock); err == nil {
			nc.Write([]byte(junk))
			nc.Close()
		}
	}

	c, err := admission.Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var worst time.Duration
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		_, err := c.List(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
		if !a.Healthy(time.Now()) || a.Snapshot().Ready != ready {
			t.Fatal("the agent's health or readiness changed under hostile clients")
		}
	}
	if worst > 100*time.Millisecond {
		t.Errorf("beside a client that never reads, a list took up to %v", worst)
	}
	// A request the agent cannot serve now is refused with the reason, not left hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = c.Add(ctx, admission.Stream{Name: "s", Interface: "tsnnone0", Dest: "10.3.0.2:7790", VLAN: 3, Period: admission.Duration(time.Millisecond),
		Size: 64, MaxLatency: admission.Duration(300 * time.Microsecond)})
	var ae *admission.Error
	if !errors.As(err, &ae) || ae.Reason != admission.ReasonBusy || !strings.Contains(err.Error(), "tsnnone0 is waiting") {
		t.Errorf("add on a missing interface: %v", err)
	}
	select {
	case err := <-hogDone:
		t.Logf("the client that never reads was cut off (%v); the other's slowest answer: %v", err, worst)
	case <-time.After(5 * time.Second):
		t.Error("a client that never reads is still connected")
	}
}
