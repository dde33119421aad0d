// Package daemon is `tsnctl ptp run` and `tsnctl ptp watch`: it writes the ptp4l configuration,
// supervises ptp4l and (once ptp4l's port has a role) phc2sys, polls ptp4l over its management
// socket and publishes the node's sync status.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/tsnctl/tsnctl/safefile"
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

// Run runs until ctx ends. Everything it starts ends with it: supervisors, the carrier watch and
// the poll loop end before it returns.
func Run(parent context.Context, plan *ptp.Plan, o Options) error {
	o.defaults()
	if o.NetNS != "" { // a namespace that is not there is an error now, not a supervisor retrying forever
		if err := nsexec.Do(o.NetNS, func() error { return nil }); err != nil {
			return err
		}
	}
	if err := safefile.MkdirAll(o.RunDir, 0o700); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(parent)
	r := &runner{o: o, plan: plan, ctx: ctx, errs: make(chan error, 3)}
	defer func() {
		cancel()
		r.wg.Wait()
	}()
	if !o.WatchOnly {
		if err := r.startPtp4l(); err != nil {
			return err
		}
	}
	client, err := mgmt.Dial(plan.UDS, o.RunDir, plan.TransportSpecific, plan.Domain, min(plan.PollInterval, 500*time.Millisecond))
	if err != nil {
		return err
	}
	defer client.Close()
	r.client = client
	if o.WatchOnly {
		if err := r.probeFirst(); err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	go func() { done <- r.loop().Run(ctx) }()
	select {
	case err = <-r.errs: // a program that cannot start at all
		cancel()
		<-done
	case err = <-done:
		cancel()
	}
	if err == nil {
		select {
		case err = <-r.errs:
		default:
		}
	}
	return err
}

// runner is one Run: the programs it supervises and the management client it polls ptp4l with.
type runner struct {
	o      Options
	plan   *ptp.Plan
	ctx    context.Context
	wg     sync.WaitGroup // every goroutine Run starts
	errs   chan error     // a supervised program that cannot start at all
	procs  []*supervise.Process
	ptp4l  *supervise.Process // nil when watching only
	client *mgmt.Client

	phc2sys *supervise.Process // made with ptp4l, started (and then nil) once ptp4l's port has a role
	probed  bool               // the management client's probe has been made (its finding said)
}

// newProc is a supervised program whose lines and events go to the log, started in the namespace.
func (r *runner) newProc(name, path string, args []string) *supervise.Process {
	p := &supervise.Process{Name: name, Path: path, Args: args,
		Line: func(n, l string) { r.o.Log(n, l) }, Event: func(n, e string) { r.o.Log("tsnctl", n+" "+e) }}
	if netns := r.o.NetNS; netns != "" {
		p.Start = func(c *exec.Cmd) error { return nsexec.Do(netns, c.Start) }
	}
	return p
}

// start supervises p until the run ends.
func (r *runner) start(p *supervise.Process) {
	r.procs = append(r.procs, p)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := p.Run(r.ctx); err != nil {
			r.errs <- err
		}
	}()
}

// startPtp4l writes ptp4l's configuration into the run directory and starts it, with the carrier
// watch that software timestamping needs (carrier.go); phc2sys is made, to start later.
func (r *runner) startPtp4l() error {
	plan := r.plan
	conf := ptp.ConfigPath(r.o.RunDir, plan.Interface)
	if err := safefile.WriteFile(conf, []byte(plan.Ptp4lConf()), 0o644); err != nil {
		return err
	}
	args := append([]string(nil), plan.Ptp4lArgs...)
	args[1] = conf // -f FILE
	r.ptp4l = r.newProc("ptp4l", r.o.Ptp4l, args)
	var carrier *carrierWatch
	if plan.Timestamping == ptp.TSSoftware {
		var err error
		if carrier, err = watchCarrier(r.ctx, r.o.NetNS, string(plan.Interface)); err != nil {
			r.o.Log("tsnctl", fmt.Sprintf("cannot follow %s's carrier (%v): ptp4l will not be restarted when it returns", plan.Interface, err))
		}
	}
	r.start(r.ptp4l)
	if carrier != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			carrier.run(r.ctx, func() {
				r.ptp4l.Restart(fmt.Sprintf("%s's carrier is back: with software timestamping a running ptp4l would now steer the NIC's PHC instead of the system clock", plan.Interface))
			})
		}()
	}
	if plan.Phc2sysArgs != nil {
		r.phc2sys = r.newProc("phc2sys", r.o.Phc2sys, plan.Phc2sysArgs)
	}
	return nil
}

// probeFirst, before a watch polls: a ptp4l that ignores us because of its transportSpecific is
// named now, not left as endless "does not answer". One that is not there (yet) is waited for.
func (r *runner) probeFirst() error {
	var tsErr *mgmt.TransportSpecificError
	if err := r.client.Probe(); errors.As(err, &tsErr) {
		return err
	} else if err != nil {
		r.o.Log("tsnctl", "management: "+err.Error()+"; polling on")
	} else {
		r.probed = true
	}
	return nil
}

// loop is the poll loop: ptp4l's answers (and the PHC's offset when phc2sys runs) into the sync
// state machine, each status published and handed to each.
func (r *runner) loop() *watch.Loop {
	plan := r.plan
	poller := &watch.Poller{Q: r.client, Port: 1, SlowEvery: max(int(2*time.Second/plan.PollInterval), 1), KernelTAIOffset: clock.TAIOffset}
	if plan.Phc2sysArgs != nil {
		if ti, err := nic.TimestampingInfo(string(plan.Interface)); err == nil && ti.PHC >= 0 {
			dev := ti.PHCDevice()
			poller.PHCOffset = func() (int64, error) { return PHCOffset(dev) }
		}
	}
	return &watch.Loop{Poller: poller, Machine: syncstate.New(plan.Sync, time.Now()), Interval: plan.PollInterval,
		Path: r.o.StatusPath, Iface: string(plan.Interface), Now: time.Now, Restarts: r.restarts, Each: r.each}
}

// restarts counts each supervised program's restarts (called from the loop's goroutine, as start
// after the first is).
func (r *runner) restarts() map[string]int64 {
	m := map[string]int64{}
	for _, p := range r.procs {
		m[p.Name] = p.Restarts()
	}
	return m
}

// each handles a status of the loop: starts phc2sys once ptp4l's port has its role (as the seed
// starts it after ptp4l), says once why ptp4l does not answer, logs state changes and hands the
// status on.
func (r *runner) each(st watch.Status, smp syncstate.Sample, changed bool) {
	if r.phc2sys != nil && (smp.PortState == "SLAVE" || smp.PortState == "MASTER" || smp.PortState == "GRAND_MASTER") {
		r.start(r.phc2sys)
		r.phc2sys = nil
	}
	// ptp4l deaf to us for 5 s: say why once.
	if !r.probed && !smp.Answered && time.Since(st.Since) > 5*time.Second && (r.ptp4l == nil || r.ptp4l.PID() != 0) {
		r.probed = true
		if err := r.client.Probe(); err != nil {
			r.o.Log("tsnctl", "management: "+err.Error())
		}
	}
	if changed {
		r.o.Log("tsnctl", fmt.Sprintf("sync state %s (%s)", st.State, reasonOr(st.Reason)))
	}
	if r.o.StatusLog != nil {
		if b, err := json.Marshal(st); err == nil {
			r.o.StatusLog.Write(append(b, '\n'))
		}
	}
	if r.o.OnStatus != nil {
		r.o.OnStatus(st, changed)
	}
}

func reasonOr(r string) string {
	if r == "" {
		return "samples good"
	}
	return r
}
