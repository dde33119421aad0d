package supervise

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type recorder struct {
	mu     sync.Mutex
	lines  []string
	events []string
}

func (r *recorder) line(name, l string) {
	r.mu.Lock()
	r.lines = append(r.lines, name+": "+l)
	r.mu.Unlock()
}
func (r *recorder) event(name, e string) {
	r.mu.Lock()
	r.events = append(r.events, name+": "+e)
	r.mu.Unlock()
}
func (r *recorder) all() (string, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n"), strings.Join(r.events, "\n")
}

// A program that exits is restarted with growing backoff and counted; its output is captured.
func TestRestartsWithBackoff(t *testing.T) {
	var r recorder
	p := &Process{Name: "flaky", Path: "/bin/sh", Args: []string{"-c", "echo run; exit 3"}, Line: r.line, Event: r.event,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	lines, events := r.all()
	// 20 + 40 + 80 + 80 + ... ms: in 600 ms about 8 starts, never more than 600/20.
	if n := p.Restarts(); n < 3 || n > 12 {
		t.Errorf("%d restarts in %v:\n%s", n, time.Since(start), events)
	}
	if !strings.Contains(lines, "flaky: run") || !strings.Contains(events, "exited after") || !strings.Contains(events, "exit status 3") ||
		!strings.Contains(events, "restarting in 20ms (restart 1)") || !strings.Contains(events, "restarting in 40ms (restart 2)") ||
		!strings.Contains(events, "restarting in 80ms (restart 3)") || strings.Contains(events, "restarting in 160ms") {
		t.Errorf("events:\n%s", events)
	}
}

// Cancelling stops the program with SIGTERM (it may clean up), and it is not restarted.
func TestStopsWithSIGTERM(t *testing.T) {
	var r recorder
	mark := filepath.Join(t.TempDir(), "term")
	p := &Process{Name: "daemon", Path: "/bin/sh", Args: []string{"-c", "trap 'echo term > " + mark + "; exit 0' TERM; echo up; while :; do sleep 0.05; done"},
		Line: r.line, Event: r.event, StopGrace: 2 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for i := 0; i < 100 && p.PID() == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(mark); err != nil || strings.TrimSpace(string(b)) != "term" {
		t.Errorf("no SIGTERM handled: %v", err)
	}
	if p.Restarts() != 0 || p.PID() != 0 {
		t.Errorf("restarts %d, pid %d", p.Restarts(), p.PID())
	}
}

func TestMissingProgram(t *testing.T) {
	p := &Process{Name: "ptp4l", Path: "/nonexistent/ptp4l"}
	if err := p.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "starting ptp4l") {
		t.Errorf("err %v", err)
	}
}

// Restart ends the running program with SIGTERM (SIGKILL when it ignores that) and starts it again
// at once, not after the crash backoff; it says why.
func TestRestart(t *testing.T) {
	for _, tc := range []struct{ name, script string }{
		{"terminates", "echo up; while :; do sleep 0.05; done"},
		{"ignores SIGTERM", "trap '' TERM; echo up; while :; do sleep 0.05; done"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			p := &Process{Name: "ptp4l", Path: "/bin/sh", Args: []string{"-c", tc.script}, Line: r.line, Event: r.event,
				MinBackoff: 10 * time.Second, StopGrace: 300 * time.Millisecond}
			p.Restart("nothing runs yet") // ignored
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- p.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			waitPID := func(not int) int {
				for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
					if pid := p.PID(); pid != 0 && pid != not {
						return pid
					}
				}
				t.Fatalf("no new process (pid was %d)", not)
				return 0
			}
			first := waitPID(0)
			start := time.Now()
			p.Restart("carrier back on eth0")
			second := waitPID(first)
			took := time.Since(start)
			if took > 3*time.Second {
				t.Errorf("restarted after %v: the backoff (10s) or more", took)
			}
			if err := syscall.Kill(first, 0); err == nil {
				t.Errorf("the first process (%d) still runs", first)
			}
			if p.Restarts() != 1 || second == first {
				t.Errorf("restarts %d, pids %d then %d", p.Restarts(), first, second)
			}
			_, events := r.all()
			if !strings.Contains(events, "ptp4l: restarting now: carrier back on eth0") || strings.Contains(events, "restarting in") ||
				strings.Contains(events, "nothing runs yet") {
				t.Errorf("events:\n%s", events)
			}
		})
	}
}
