// Package supervise runs a daemon (ptp4l, phc2sys) and keeps it running: its output is captured
// line by line, a process that exits is restarted after an exponential backoff (reset once it has
// run a while) and counted, and the context's end stops it with SIGTERM (SIGKILL if it lingers).
package supervise

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Process is one supervised program.
type Process struct {
	Name string
	Path string
	Args []string
	// Line receives every line the program prints (stdout and stderr); nil drops them.
	Line func(name, line string)
	// Event receives the supervisor's own messages (started, exited, restarting in ...).
	Event func(name, msg string)
	// MinBackoff and MaxBackoff bound the wait before a restart (default 500ms and 30s); a run
	// longer than StableAfter (default 30s) resets it to MinBackoff.
	MinBackoff, MaxBackoff, StableAfter time.Duration
	// StopGrace is how long SIGTERM has before SIGKILL (default 5s).
	StopGrace time.Duration
	// Start, if set, starts the command instead of cmd.Start (e.g. from a thread in another
	// network namespace, which the child inherits).
	Start func(*exec.Cmd) error

	starts   atomic.Int64
	pid      atomic.Int64
	kickOnce sync.Once
	kickCh   chan string
}

func (p *Process) kicks() chan string {
	p.kickOnce.Do(func() { p.kickCh = make(chan string, 1) })
	return p.kickCh
}

// Restart ends the running program (SIGTERM, SIGKILL if it lingers) and starts it again at once,
// without the backoff of a crash; why is said in the event line. While the program is not running
// (waiting to be restarted) it does nothing: the next start is a fresh one anyway.
func (p *Process) Restart(why string) {
	if p.PID() == 0 {
		return
	}
	select {
	case p.kicks() <- why:
	default: // a restart is already on its way
	}
}

// Restarts is how many times the program was started again after exiting.
func (p *Process) Restarts() int64 { return max(p.starts.Load()-1, 0) }

// PID is the running process's pid, or 0.
func (p *Process) PID() int { return int(p.pid.Load()) }

func (p *Process) event(format string, args ...any) {
	if p.Event != nil {
		p.Event(p.Name, fmt.Sprintf(format, args...))
	}
}

// Run starts the program and restarts it whenever it exits, until ctx ends. It returns an error
// only when the program cannot be started at all (not found, not executable).
func (p *Process) Run(ctx context.Context) error {
	backoff := p.MinBackoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	maxB, stable, grace := p.MaxBackoff, p.StableAfter, p.StopGrace
	if maxB <= 0 {
		maxB = 30 * time.Second
	}
	if stable <= 0 {
		stable = 30 * time.Second
	}
	if grace <= 0 {
		grace = 5 * time.Second
	}
	for {
		cmd := exec.CommandContext(ctx, p.Path, p.Args...)
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = grace
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = pw, pw
		lines := make(chan struct{})
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				if p.Line != nil {
					p.Line(p.Name, sc.Text())
				}
			}
			io.Copy(io.Discard, pr)
		}()
		start := time.Now()
		startCmd := cmd.Start
		if p.Start != nil {
			startCmd = func() error { return p.Start(cmd) }
		}
		select { // a restart asked for before this start is done by it
		case <-p.kicks():
		default:
		}
		if err := startCmd(); err != nil {
			pw.Close()
			<-lines
			if p.starts.Load() == 0 {
				return fmt.Errorf("starting %s: %w", p.Name, err)
			}
			p.event("cannot start: %v", err)
		} else {
			p.starts.Add(1)
			p.pid.Store(int64(cmd.Process.Pid))
			p.event("started (pid %d): %s %v", cmd.Process.Pid, p.Path, p.Args)
			why, err := p.wait(cmd, grace)
			p.pid.Store(0)
			pw.Close()
			<-lines
			if ctx.Err() != nil {
				p.event("stopped")
				return nil
			}
			p.event("exited after %v: %v", time.Since(start).Round(time.Millisecond), exitText(err))
			if why != "" {
				continue // asked for: no backoff
			}
		}
		if time.Since(start) >= stable {
			backoff = p.MinBackoff
			if backoff <= 0 {
				backoff = 500 * time.Millisecond
			}
		}
		p.event("restarting in %v (restart %d)", backoff, p.starts.Load())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxB)
	}
}

// wait waits for cmd to exit; a Restart on the way ends it (SIGTERM, SIGKILL after grace) and is
// returned as why.
func (p *Process) wait(cmd *exec.Cmd, grace time.Duration) (why string, err error) {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
		return "", err
	case why = <-p.kicks():
	}
	p.event("restarting now: %s", why)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err = <-exited:
	case <-time.After(grace):
		cmd.Process.Kill()
		err = <-exited
	}
	return why, err
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
