package supervise

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
