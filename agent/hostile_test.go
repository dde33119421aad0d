package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/ptp/watch"
	"github.com/tsnctl/tsnctl/termsafe"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// A status file is input too (it may be written by anyone who can write its directory): tsnctl
// status prints its strings with their control characters made visible.
func TestStatusTextEscapesControlCharacters(t *testing.T) {
	const title, clear = "\x1b]0;pwned\x07", "\x1b[2J"
	st := &Status{PID: 1, Started: time.Now(), File: "/etc/" + clear + "x.yaml", ConfigHash: title, NotReady: clear,
		Interfaces: []Iface{{Name: "eth" + title, State: State(clear), Reason: title + "reason"}, {Name: "eth1", State: Configured, LastDrift: clear + "drift"}},
		Sync:       &watch.Status{State: clear, GMIdentity: title},
		LastError:  "eth0: " + title + clear}
	var b bytes.Buffer
	st.WriteText(&b, true)
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Errorf("raw control characters in tsnctl status:\n%q", b.String())
	}
	for _, want := range []string{`eth\x1b]0;pwned\a`, `\x1b]0;pwned\areason`, `\x1b[2Jdrift`, `eth0: \x1b]0;pwned\a\x1b[2J`, `/etc/\x1b[2Jx.yaml`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}

// FuzzReadStatus: whatever an agent status file holds, ReadStatus returns a status or an error,
// never panics, and what `tsnctl status` prints of it has no control character but newlines.
func FuzzReadStatus(f *testing.F) {
	f.Add([]byte(`{"pid":1,"started":"2026-01-01T00:00:00Z","ready":false,"not_ready":"\u001b[2J","interfaces":[{"name":"eth1\u0007","state":"x\u009b"}],"sync":{"state":"\u001b]0;t\u0007"}}`))
	f.Add([]byte(`{"pid":-1,"started":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"pid":1,"started":"2026-01-01T00:00:00Z","reloads":-9223372036854775808}`))
	f.Add([]byte("\xff"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "status.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := ReadStatus(path)
		if err != nil {
			return
		}
		var out strings.Builder
		st.WriteText(&out, false)
		if i := termsafe.IndexControl(out.String()); i >= 0 {
			t.Fatalf("a control character reaches the terminal at %d:\n%q", i, out.String())
		}
	})
}

// One agent per network namespace: a second claim on the same namespace fails naming the first
// agent's pid, a claim on another namespace succeeds, and a released claim can be taken again.
func TestOneAgentPerNetNS(t *testing.T) {
	a, b := fmt.Sprintf("tsnone%d", os.Getpid()), fmt.Sprintf("tsntwo%d", os.Getpid())
	for _, ns := range []string{a, b} {
		labtest.Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	release, err := claimNetNS(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = claimNetNS(a)
	if want := fmt.Sprintf("another tsnctl agent (pid %d) already manages network namespace %s", os.Getpid(), a); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a second claim on %s: %v, want %q", a, err, want)
	}
	other, err := claimNetNS(b)
	if err != nil {
		t.Fatalf("a claim on another namespace: %v", err)
	}
	other()
	release()
	again, err := claimNetNS(a)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}

// Two agents started on one namespace: the second ends at once with the error naming the first,
// having changed nothing (its status file is never written).
func TestSecondAgentRefused(t *testing.T) {
	ns := fmt.Sprintf("tsntwice%d", os.Getpid())
	labtest.Run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	dir := t.TempDir()
	file := filepath.Join(dir, "tsnctl.yaml")
	os.WriteFile(file, []byte("interfaces:\n  - name: tw0\n    channels: {tx: 1}\n"), 0o644)
	release, err := claimNetNS(ns) // the first agent's claim
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	second := New(Options{File: file, NetNS: ns, StatusPath: filepath.Join(dir, "second.json"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := second.Run(ctx); err == nil || !strings.Contains(err.Error(), "already manages network namespace "+ns) {
		t.Fatalf("the second agent: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "second.json")); err == nil {
		t.Error("the second agent wrote a status file")
	}
}

// The agent reads a configuration as every command does: its streams planned into the schedule
// (and a set that does not fit refused at reload, the old configuration staying in force).
func TestCheckPlansStreams(t *testing.T) {
	const file = "interfaces:\n  - name: eth1\n    plan: {etf-delta: 50us}\nstreams:\n" +
		"  - {name: control, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, period: 2ms, size: 64, offset: 1200us, max-latency: 100us}\n"
	cfg, _, err := Check("s.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Streams) != 0 || cfg.Interfaces[0].Taprio == nil || len(cfg.Interfaces[0].ETF) != 1 {
		t.Fatalf("not planned: %+v", cfg.Interfaces[0])
	}
	if _, _, err := Check("s.yaml", []byte(strings.Replace(file, "max-latency: 100us", "max-latency: 1ns", 1))); err == nil ||
		!strings.Contains(err.Error(), "plan: stream control on eth1: deadline") {
		t.Fatalf("a set that does not fit: %v", err)
	}
}
