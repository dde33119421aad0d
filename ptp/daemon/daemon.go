// Package daemon is `tsnctl ptp run` and `tsnctl ptp watch`: it writes the ptp4l configuration,
// supervises ptp4l and (once ptp4l's port has a role) phc2sys, polls ptp4l over its management
// socket and publishes the node's sync status.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/ptp"
	"github.com/tsnctl/tsnctl/ptp/mgmt"
	"github.com/tsnctl/tsnctl/ptp/supervise"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
	"github.com/tsnctl/tsnctl/ptp/watch"
)

// Options are where things go.
type Options struct {
	RunDir     string // configuration file and the client's socket (default /run/tsnctl/ptp)
	StatusPath string // published status (default watch.DefaultStatusPath)
	Ptp4l      string // binaries (default: ptp4l, phc2sys from PATH)
	Phc2sys    string
	// Log receives ptp4l's and phc2sys's lines and tsnctl's events, prefixed by their source.
	Log func(source, line string)
	// OnStatus receives every status (e.g. to print state changes).
	OnStatus func(st watch.Status, changed bool)
	// WatchOnly polls a ptp4l started by someone else: no process is started.
	WatchOnly bool
	// NetNS starts ptp4l and phc2sys in this network namespace (ip netns name).
	NetNS string
	// StatusLog, if set, receives every status as a JSON line (tsnctl ptp run --log; tsnctl
	// analyze and report read it as the run's time-sync record).
	StatusLog io.Writer
}

func (o *Options) defaults() {
	if o.RunDir == "" {
		o.RunDir = ptp.DefaultRunDir
	}
	if o.StatusPath == "" {
		o.StatusPath = watch.DefaultStatusPath
	}
	if o.Ptp4l == "" {
		o.Ptp4l = "ptp4l"
	}
	if o.Phc2sys == "" {
		o.Phc2sys = "phc2sys"
	}
	if o.Log == nil {
		o.Log = func(string, string) {}
	}
}

// Run runs until ctx ends.
func Run(parent context.Context, plan *ptp.Plan, o Options) (err error) {
	o.defaults()
	if o.NetNS != "" { // a namespace that is not there is an error now, not a supervisor retrying forever
		if err := nsexec.Do(o.NetNS, func() error { return nil }); err != nil {
			return err
		}
	}
	// Everything Run starts ends with it: supervisors, then the poll loop, before it returns.
	if err := safefile.MkdirAll(o.RunDir, 0o700); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(parent)
	var procs []*supervise.Process
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	start := func(p *supervise.Process) {
		procs = append(procs, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Run(ctx); err != nil {
				errs <- err
			}
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	newProc := func(name, path string, args []string) *supervise.Process {
		p := &supervise.Process{Name: name, Path: path, Args: args,
			Line: func(n, l string) { o.Log(n, l) }, Event: func(n, e string) { o.Log("tsnctl", n+" "+e) }}
		if o.NetNS != "" {
			p.Start = func(c *exec.Cmd) error { return nsexec.Do(o.NetNS, c.Start) }
		}
		return p
	}
	var ptp4l, phc2sys *supervise.Process
	if !o.WatchOnly {
		conf := ptp.ConfigPath(o.RunDir, plan.Interface)
		if err := safefile.WriteFile(conf, []byte(plan.Ptp4lConf()), 0o644); err != nil {
			return err
		}
		args := append([]string(nil), plan.Ptp4lArgs...)
		args[1] = conf // -f FILE
		ptp4l = newProc("ptp4l", o.Ptp4l, args)
		var carrier *carrierWatch
		if plan.Timestamping == ptp.TSSoftware { // see carrier.go
			var werr error
			if carrier, werr = watchCarrier(ctx, o.NetNS, string(plan.Interface)); werr != nil {
				o.Log("tsnctl", fmt.Sprintf("cannot follow %s's carrier (%v): ptp4l will not be restarted when it returns", plan.Interface, werr))
			}
		}
		start(ptp4l)
		if carrier != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				carrier.run(ctx, func() {
					ptp4l.Restart(fmt.Sprintf("%s's carrier is back: with software timestamping a running ptp4l would now steer the NIC's PHC instead of the system clock", plan.Interface))
				})
			}()
		}
		if plan.Phc2sysArgs != nil {
			phc2sys = newProc("phc2sys", o.Phc2sys, plan.Phc2sysArgs)
		}
	}
	client, err := mgmt.Dial(plan.UDS, o.RunDir, plan.TransportSpecific, plan.Domain, min(plan.PollInterval, 500*time.Millisecond))
	if err != nil {
		return err
	}
	defer client.Close()
	probed := false
	if o.WatchOnly {
		// Before polling: a ptp4l that ignores us because of its transportSpecific is named now,
		// not left as endless "does not answer". One that is not there (yet) is waited for.
		var tsErr *mgmt.TransportSpecificError
		if err := client.Probe(); errors.As(err, &tsErr) {
			return err
		} else if err != nil {
			o.Log("tsnctl", "management: "+err.Error()+"; polling on")
		} else {
			probed = true
		}
	}
	poller := &watch.Poller{Q: client, Port: 1, SlowEvery: max(int(2*time.Second/plan.PollInterval), 1), KernelTAIOffset: clock.TAIOffset}
	if plan.Phc2sysArgs != nil {
		if ti, err := nic.TimestampingInfo(string(plan.Interface)); err == nil && ti.PHC >= 0 {
			dev := ti.PHCDevice()
			poller.PHCOffset = func() (int64, error) { return PHCOffset(dev) }
		}
	}
	m := syncstate.New(plan.Sync, time.Now())
	loop := &watch.Loop{Poller: poller, Machine: m, Interval: plan.PollInterval, Path: o.StatusPath, Iface: string(plan.Interface), Now: time.Now,
		Restarts: func() map[string]int64 {
			r := map[string]int64{}
			for _, p := range procs {
				r[p.Name] = p.Restarts()
			}
			return r
		},
		Each: func(st watch.Status, smp syncstate.Sample, changed bool) {
			// phc2sys starts once ptp4l's port has taken its role (as the seed starts it after ptp4l).
			if phc2sys != nil && (smp.PortState == "SLAVE" || smp.PortState == "MASTER" || smp.PortState == "GRAND_MASTER") {
				start(phc2sys)
				phc2sys = nil
			}
			// ptp4l deaf to us for 5 s: say why once.
			if !probed && !smp.Answered && time.Since(st.Since) > 5*time.Second && (ptp4l == nil || ptp4l.PID() != 0) {
				probed = true
				if err := client.Probe(); err != nil {
					o.Log("tsnctl", "management: "+err.Error())
				}
			}
			if changed {
				o.Log("tsnctl", fmt.Sprintf("sync state %s (%s)", st.State, reasonOr(st.Reason)))
			}
			if o.StatusLog != nil {
				if b, err := json.Marshal(st); err == nil {
					o.StatusLog.Write(append(b, '\n'))
				}
			}
			if o.OnStatus != nil {
				o.OnStatus(st, changed)
			}
		}}
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	select {
	case err = <-errs: // a program that cannot start at all
		cancel()
		<-done
	case err = <-done:
		cancel()
	}
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func reasonOr(r string) string {
	if r == "" {
		return "samples good"
	}
	return r
}
