// Package agent is tsnctl's node controller (`tsnctl agent`): it keeps a node's TSN state equal to
// its file over time. It applies the file once, then reconciles on the kernel's notifications (a
// qdisc deleted, a VLAN changed, channels changed, an interface that appears or comes back) and,
// as a safety net, every VerifyEvery: each managed interface is re-planned against its live state
// and only what differs is repaired, in a transaction of its own (rolled back if the kernel refuses
// it). A repair that keeps failing backs off; an interface that is not there is waited for. Time
// sync (the file's ptp: section) runs in-process. What the agent knows is its Status, which the
// status file, the metrics and systemd's STATUS= line present; they read it, they do not drive it.
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/netevents"
	"github.com/tsnctl/tsnctl/node"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/ptp"
	"github.com/tsnctl/tsnctl/ptp/daemon"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
	"github.com/tsnctl/tsnctl/ptp/watch"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/termsafe"
)

// DefaultStatusPath is where the agent publishes its Status (tsnctl status reads it).
const DefaultStatusPath = "/run/tsnctl/agent/status.json"

// DefaultPTPRunDir holds ptp4l's configuration and management socket under the agent
// (pmc -u -b 0 -t 1 -s /run/tsnctl/ptp/ptp4l 'GET TIME_STATUS_NP').
const DefaultPTPRunDir = ptp.DefaultRunDir

// Options configure an Agent.
type Options struct {
	File        string        // the tsnctl file
	NetNS       string        // network namespace (ip netns name); "" for the agent's own
	VerifyEvery time.Duration // the periodic full verification (0: 30s; at least MinVerifyEvery)
	Debounce    time.Duration // events are gathered this long before a reconcile (default 2ms)
	Backoff     Backoff       // failed repairs (default 200ms to 30s)
	StatusPath  string        // default DefaultStatusPath
	PTPRunDir   string        // ptp4l's configuration and sockets (default /run/tsnctl/ptp)
	PTPStatus   string        // the sync status file (default watch.DefaultStatusPath)
	// Log receives the agent's structured log (default: discard).
	Log *slog.Logger
	// Notify, if set, receives systemd's notification lines (READY=1, STATUS=…, WATCHDOG=1, …).
	Notify func(state string)
	// Watchdog is systemd's WatchdogSec (0: none): the loop pings at half of it, from the loop.
	Watchdog time.Duration
	// Reload delivers reload requests (SIGHUP, systemctl reload).
	Reload <-chan struct{}
	// ResetOnStop removes the configuration when the agent stops (default: it stays, traffic flows).
	ResetOnStop bool
	// Metrics, if set, is updated with repair durations (see NewMetrics).
	Metrics *Metrics
	// AdmissionSocket, if set, is where applications add streams at run time (tsnctl stream add),
	// on the interfaces whose plan: reserves admission:; AdmissionGroup (≥ 0) may use it besides
	// root (-1: root only). AdmissionLimits bound its clients (zero fields: the defaults).
	AdmissionSocket string
	AdmissionGroup  int
	AdmissionLimits admission.Limits
}

// MinVerifyEvery is the shortest full verification interval: the verification is the safety net
// (repairs are event-driven), and every pass reads every managed interface from the kernel.
const MinVerifyEvery = time.Second

// Validate checks the options as given, naming the option to fix (param.Error, named as the
// agent's flags are). New fills in the defaults first; Run refuses what Validate refuses.
func (o *Options) Validate() error {
	if o.VerifyEvery < MinVerifyEvery {
		return param.Errorf("verify-every", o.VerifyEvery, "want at least %v (the full verification interval); e.g. {verify-every} 30s", MinVerifyEvery)
	}
	if o.AdmissionLimits.Grace < 0 {
		return param.Errorf("admission-grace", o.AdmissionLimits.Grace, "want a positive duration (0: the default 5s); e.g. {admission-grace} 5s")
	}
	return nil
}

func (o *Options) defaults() {
	if o.VerifyEvery == 0 {
		o.VerifyEvery = 30 * time.Second
	}
	if o.Debounce <= 0 {
		o.Debounce = 2 * time.Millisecond
	}
	if o.Backoff.Min <= 0 {
		o.Backoff = Backoff{Min: 200 * time.Millisecond, Max: 30 * time.Second}
	}
	if o.StatusPath == "" {
		o.StatusPath = DefaultStatusPath
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Notify == nil {
		o.Notify = func(string) {}
	}
}

// Status is what the agent knows, as published.
type Status struct {
	Ready    bool   `json:"ready"`
	NotReady string `json:"not_ready,omitempty"` // why not
	File     string `json:"file"`
	// ConfigHash is the SHA-256 of the file in force (its first 16 hex digits).
	ConfigHash     string        `json:"config_hash"`
	Interfaces     []Iface       `json:"interfaces"`
	Sync           *watch.Status `json:"sync,omitempty"`
	LastError      string        `json:"last_error,omitempty"`
	Reloads        uint64        `json:"reloads"`
	ReloadFailures uint64        `json:"reload_failures"`
	ApplyFailures  uint64        `json:"apply_failures"`
	// Streams are the streams the schedules in force carry (the file's and the admitted), as
	// planned; Admitted the streams applications added through the admission socket.
	Streams  []plan.Row           `json:"streams,omitempty"`
	Admitted []admission.Admitted `json:"admitted,omitempty"`
	Started  time.Time            `json:"started"`
	Updated  time.Time            `json:"updated"`
	PID      int                  `json:"pid"`
}

// Agent is one running controller.
type Agent struct {
	o Options

	mu     sync.RWMutex // guards what readers see: st, ifaces' contents, loopAt
	st     Status
	ifaces map[string]*Iface
	loopAt time.Time

	cfg   *configs.Config
	sys   *node.System
	dirty map[string]bool

	// Admission: the file's configuration as written (streams unplanned), the plan in force (its
	// rows and cycles) and the admitted streams; the loop alone writes them (readers hold mu).
	src      *configs.Config
	rows     []plan.Row
	cycles   map[string]time.Duration
	admits   []admitted
	admitCh  chan admitReq
	admitSrv *admission.Server

	statsMu sync.Mutex
	stats   *qdisc.Conn // the metrics' own connection (read at scrape time, never by the loop)

	publishMu sync.Mutex // one publish at a time: the file never goes back to an older snapshot
}

// New makes an agent; Run starts it.
func New(o Options) *Agent {
	o.defaults()
	return &Agent{o: o, ifaces: map[string]*Iface{}, dirty: map[string]bool{}, admitCh: make(chan admitReq)}
}

// load reads and lints a file: what the agent will not take (it says why) is an error.
func load(path string) (*configs.Config, string, error) {
	b, err := safefile.Read(path, configs.MaxSize, "a tsnctl configuration")
	if err != nil {
		return nil, "", err
	}
	return Check(path, b)
}

// Check parses and lints a configuration the way the agent takes it (the file named name, with
// contents b) and returns it with its hash; what the agent would refuse is an error that says why.
//
// A panic in a check is a bug, but it must not end the agent: it is returned as an error (and the
// old configuration stays in force).
func Check(name string, b []byte) (cfg *configs.Config, hash string, err error) {
	defer func() {
		if p := recover(); p != nil {
			cfg, hash, err = nil, "", fmt.Errorf("%s: tsnctl failed to check this file (a bug: %v); the file is refused", name, p)
		}
	}()
	cfg, err = plan.Parse(name, b) // streams planned, as every command reads a configuration
	if err != nil {
		return nil, "", err
	}
	if err := lint.Err(lint.Check(cfg, lint.Facts{})); err != nil {
		return nil, "", fmt.Errorf("%s has errors:\n  %w", name, err)
	}
	sum := sha256.Sum256(b)
	return cfg, hex.EncodeToString(sum[:8]), nil
}

// Run loads the file, configures the node and keeps it so until ctx ends. An error before the
// node is configured (a bad file, no netlink) ends it; later ones are reported and retried.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.o.Validate(); err != nil {
		return err
	}
	cfg, hash, err := load(a.o.File)
	if err != nil {
		return err
	}
	sys, err := node.Open(a.o.NetNS)
	if err != nil {
		return err
	}
	defer sys.Close()
	release, err := claimNetNS(a.o.NetNS)
	if err != nil {
		return err
	}
	defer release()
	a.sys = sys
	if c, err := qdisc.Dial(sys.NSFD()); err == nil {
		a.statsMu.Lock()
		a.stats = c
		a.statsMu.Unlock()
		defer func() {
			a.statsMu.Lock()
			a.stats.Close()
			a.stats = nil
			a.statsMu.Unlock()
		}()
	}
	now := time.Now()
	a.mu.Lock()
	a.st = Status{File: a.o.File, Started: now, PID: os.Getpid()}
	a.mu.Unlock()
	a.setConfig(cfg, hash, nil)
	sub, err := netevents.Subscribe(ctx, sys.NSFD())
	if err != nil {
		return err
	}
	defer sub.Close()
	ptpDone := a.startPTP(ctx)

	a.reconcile(a.names()...)
	if a.o.AdmissionSocket != "" {
		admitDone, err := a.serveAdmission(ctx)
		if err != nil {
			return err
		}
		defer func() { <-admitDone }()
	}
	a.publish()
	a.o.Notify("READY=1")
	a.o.Log.Info("agent ready", "file", a.o.File, "config_hash", hash, "interfaces", a.names())

	verify := time.NewTicker(a.o.VerifyEvery)
	defer verify.Stop()
	tick := time.Second
	if a.o.Watchdog > 0 {
		tick = min(tick, a.o.Watchdog/2)
	}
	heartbeat := time.NewTicker(tick)
	defer heartbeat.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	armed := false
	events, subErrs := sub.Events, sub.Err
	for {
		select {
		case <-ctx.Done():
			return a.stop(ptpDone)
		case e, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			for _, n := range Affected(e, a.ifaces) {
				a.dirty[n] = true
			}
			if len(a.dirty) > 0 && !armed {
				debounce.Reset(a.o.Debounce)
				armed = true
			}
		case err := <-subErrs:
			// Reopen the notifications; until then the periodic verification carries on.
			a.o.Log.Error("kernel notifications lost, subscribing again", "err", err)
			sub.Close()
			if s, err := netevents.Subscribe(ctx, sys.NSFD()); err == nil {
				sub, events, subErrs = s, s.Events, s.Err
			} else {
				events, subErrs = nil, nil
			}
			a.reconcile(a.names()...)
		case <-debounce.C:
			armed = false
			a.reconcileDirty()
		case <-verify.C:
			a.reconcile(a.names()...)
		case <-a.o.Reload:
			a.reload()
		case r := <-a.admitCh:
			a.handleAdmit(r)
		case <-heartbeat.C:
			a.retryDue()
		}
		a.mu.Lock()
		a.loopAt = time.Now()
		a.mu.Unlock()
		if a.o.Watchdog > 0 {
			a.o.Notify("WATCHDOG=1") // from the loop itself: a stuck loop stops the pings
		}
	}
}

// names lists the managed interfaces in the file's order. The loop (the only writer of cfg) calls
// it as it is; readers hold mu.
func (a *Agent) names() []string {
	if a.cfg == nil {
		return nil
	}
	var out []string
	for _, ci := range a.cfg.Interfaces {
		out = append(out, string(ci.Name))
	}
	return out
}

// setConfig makes cfg the configuration in force: a file's, as load returns it, or (kept non-nil)
// what keepAdmitted planned from one with the admitted streams.
func (a *Agent) setConfig(cfg *configs.Config, hash string, kept *keptStreams) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg = cfg
	a.src = cfg
	if cfg.Source != nil {
		a.src = cfg.Source
	}
	if kept != nil {
		a.src, a.cfg = kept.src, kept.out
		a.rows, a.cycles, a.admits = kept.res.Rows, kept.res.Cycles, kept.admits
	} else if _, res, err := plan.Expand(a.src); err == nil { // as load planned it: deterministic
		a.rows, a.cycles = res.Rows, res.Cycles
	}
	a.showStreams()
	a.st.ConfigHash = hash
	keep := map[string]*Iface{}
	for _, ci := range cfg.Interfaces {
		name := string(ci.Name)
		if i, ok := a.ifaces[name]; ok {
			keep[name] = i
		} else {
			keep[name] = &Iface{Name: name, State: Waiting, Reason: "not checked yet"}
		}
	}
	a.ifaces = keep
}

func (a *Agent) reconcileDirty() {
	var names []string
	for n := range a.dirty {
		names = append(names, n)
	}
	clear(a.dirty)
	a.reconcile(names...)
}

// retryDue tries the degraded interfaces whose backoff has passed.
func (a *Agent) retryDue() {
	now := time.Now()
	var due []string
	for _, n := range a.names() {
		if i := a.ifaces[n]; i.State == Degraded && i.due(now) {
			due = append(due, n)
		}
	}
	if len(due) > 0 {
		a.reconcile(due...)
	}
}

// reconcile re-plans each named interface against its live state and repairs what differs.
func (a *Agent) reconcile(names ...string) {
	changed := false
	for _, name := range names {
		i, ok := a.ifaces[name]
		if !ok || !i.due(time.Now()) {
			continue
		}
		before := *i
		a.reconcileOne(i)
		changed = changed || i.State != before.State || i.Repairs != before.Repairs || i.Failures != before.Failures
	}
	a.publish()
	if changed {
		a.o.Notify("STATUS=" + a.statusLine())
	}
}

// interfaceConfig is c's configuration of the interface name alone (nil if c has none).
func interfaceConfig(c *configs.Config, name string) *configs.Config {
	for _, ci := range c.Interfaces {
		if string(ci.Name) == name {
			return &configs.Config{Interfaces: []configs.Interface{ci}}
		}
	}
	return nil
}

func (a *Agent) reconcileOne(i *Iface) {
	start := time.Now()
	now, err := clock.ReadAll()
	if err != nil {
		a.fail(i, start, err)
		return
	}
	p, err := a.sys.Prepare(interfaceConfig(a.cfg, i.Name), now)
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case errors.Is(err, node.ErrNoInterface):
		if i.State != Waiting || i.Reason != "no such interface" {
			a.o.Log.Info("waiting for the interface", "interface", i.Name)
		}
		i.waiting(start, "no such interface")
		return
	case err != nil:
		a.failLocked(i, start, err)
		return
	}
	i.ifindex = p.Before[0].Ifindex
	if len(p.Steps) == 0 {
		if i.State != Configured {
			a.o.Log.Info("interface as the file says (adopted, nothing written)", "interface", i.Name)
		}
		i.verified(start, nil, "", 0)
		return
	}
	var actions, diff []string
	for _, s := range p.Steps {
		actions = append(actions, string(s.Action))
		diff = append(diff, s.Summary)
	}
	res, err := a.sys.Apply(p)
	if err != nil {
		a.failLocked(i, start, err)
		return
	}
	took := time.Since(start)
	msg := "configured"
	if i.verified(start, actions, strings.Join(diff, "; "), took) {
		msg = "drift repaired"
		if a.o.Metrics != nil {
			a.o.Metrics.repairSeconds.Observe(took.Seconds())
		}
	}
	a.o.Log.Info(msg, "interface", i.Name, "diff", diff, "took", took.Round(time.Microsecond).String(), "warnings", res.Warnings)
}

func (a *Agent) fail(i *Iface, at time.Time, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failLocked(i, at, err)
}

func (a *Agent) failLocked(i *Iface, at time.Time, err error) {
	next := i.failed(at, err.Error(), a.o.Backoff)
	a.st.ApplyFailures++
	a.st.LastError = i.Name + ": " + err.Error()
	a.o.Log.Error("repair failed; rolled back, will try again", "interface", i.Name, "err", err, "next_try", next.Sub(at).Round(time.Millisecond).String())
}

// reload re-reads the file. One the agent will not take leaves the old configuration in force; a
// valid one is applied to every interface there is, all or nothing.
func (a *Agent) reload() {
	a.o.Notify("RELOADING=1")
	defer a.o.Notify("READY=1")
	a.mu.Lock()
	a.st.Reloads++
	a.mu.Unlock()
	cfg, hash, err := load(a.o.File)
	var kept *keptStreams
	if err == nil && len(a.admits) > 0 {
		// The file's streams first, then the admitted ones that still fit at their txtimes.
		kept, err = a.keepAdmitted(cfg)
		if err == nil {
			cfg = kept.out
		}
	}
	if err == nil {
		err = a.applyAll(cfg)
	}
	if err != nil {
		a.mu.Lock()
		a.st.ReloadFailures++
		a.st.LastError = "reload: " + err.Error()
		a.mu.Unlock()
		a.o.Log.Error("reload refused; the previous configuration stays in force", "err", err)
		a.publish()
		a.o.Notify("STATUS=reload refused: " + firstLine(err.Error()))
		return
	}
	a.setConfig(cfg, hash, kept)
	if kept != nil {
		for _, e := range kept.evicted {
			a.evict(e.name, e.reason)
		}
	}
	a.o.Log.Info("reloaded", "config_hash", hash)
	a.reconcile(a.names()...)
}

// applyAll applies cfg interface by interface; if one fails, those already changed are rolled back.
func (a *Agent) applyAll(cfg *configs.Config) error {
	now, err := clock.ReadAll()
	if err != nil {
		return err
	}
	var done []*node.Prepared
	for _, ci := range cfg.Interfaces {
		p, err := a.sys.Prepare(&configs.Config{Interfaces: []configs.Interface{ci}}, now)
		if errors.Is(err, node.ErrNoInterface) {
			continue // waited for, as at start
		}
		if err == nil {
			_, err = a.sys.Apply(p) // rolls this interface back itself
		}
		if err != nil {
			for _, d := range slices.Backward(done) {
				if rerr := a.sys.Rollback(d.Before); rerr != nil {
					return fmt.Errorf("%w; rolling back %s failed too: %v", err, d.Before[0].Name, rerr)
				}
			}
			return err
		}
		done = append(done, p)
	}
	return nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// startPTP runs the file's ptp: section in-process; the returned channel ends when it stops.
func (a *Agent) startPTP(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	if a.cfg.PTP == nil {
		close(done)
		return done
	}
	// ptp4l's configuration and management socket live in the agent's runtime directory: the
	// service may write nowhere else (ProtectSystem=strict).
	runDir := a.o.PTPRunDir
	if runDir == "" {
		runDir = DefaultPTPRunDir
	}
	plan, err := ptp.Build(a.cfg.PTP, runDir)
	if err != nil {
		done <- err
		close(done)
		return done
	}
	go func() {
		err := daemon.Run(ctx, plan, daemon.Options{RunDir: runDir, StatusPath: a.o.PTPStatus, NetNS: a.o.NetNS,
			Log: func(src, line string) { a.o.Log.Info(line, "source", src) },
			OnStatus: func(st watch.Status, changed bool) {
				a.mu.Lock()
				a.st.Sync = &st
				a.mu.Unlock()
				if changed {
					a.publish()
					a.o.Notify("STATUS=" + a.statusLine())
				}
			}})
		if err != nil && ctx.Err() == nil {
			a.o.Log.Error("time sync stopped", "err", err)
		}
		done <- err
		close(done)
	}()
	return done
}

func (a *Agent) stop(ptpDone <-chan error) error {
	a.o.Notify("STOPPING=1")
	if a.o.ResetOnStop {
		if now, err := clock.ReadAll(); err == nil {
			if steps, err := a.sys.PrepareReset(a.cfg, now); err == nil {
				err = a.sys.Execute(steps)
				a.o.Log.Info("configuration removed (--reset-on-stop)", "steps", len(steps), "err", err)
			}
		}
	} else {
		a.o.Log.Info("stopping; the configuration stays in place (traffic keeps flowing)")
	}
	<-ptpDone // ptp4l and phc2sys stopped with the context
	return nil
}

// Snapshot returns a copy of the status, with readiness decided now.
func (a *Agent) Snapshot() Status {
	a.mu.RLock()
	defer a.mu.RUnlock()
	st := a.st
	st.Interfaces = nil
	var notReady []string
	for _, n := range a.names() {
		i := *a.ifaces[n]
		i.Drift = maps.Clone(i.Drift)
		st.Interfaces = append(st.Interfaces, i)
		if i.State != Configured {
			notReady = append(notReady, fmt.Sprintf("%s %s", n, i.State))
		}
	}
	if a.cfg == nil { // before the file is read, nothing is known to be as intended
		notReady = append(notReady, "configuration not loaded yet")
	}
	if a.cfg != nil && a.cfg.PTP != nil && (st.Sync == nil || st.Sync.State != syncstate.Locked) {
		state := "not started"
		if st.Sync != nil {
			state = string(st.Sync.State)
		}
		notReady = append(notReady, "time sync "+state)
	}
	st.Ready, st.NotReady = len(notReady) == 0, strings.Join(notReady, ", ")
	st.Updated = time.Now()
	return st
}

// IfaceQdisc is one qdisc of a managed interface, with its counters.
type IfaceQdisc struct {
	Iface string
	qdisc.Qdisc
}

// Qdiscs reads the qdiscs of every managed interface that exists, with the kernel's counters
// (taprio roots and their ETF children included): what the metrics show, read when scraped.
func (a *Agent) Qdiscs() ([]IfaceQdisc, error) {
	a.statsMu.Lock()
	defer a.statsMu.Unlock()
	if a.stats == nil {
		return nil, nil
	}
	var out []IfaceQdisc
	for _, i := range a.Snapshot().Interfaces {
		if i.ifindex == 0 {
			continue
		}
		qs, err := a.stats.List(i.ifindex)
		if err != nil {
			return out, err
		}
		for _, q := range qs {
			out = append(out, IfaceQdisc{i.Name, q})
		}
	}
	return out, nil
}

// Healthy reports whether the loop ran within the last few seconds (what /healthz says).
func (a *Agent) Healthy(now time.Time) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return !a.loopAt.IsZero() && now.Sub(a.loopAt) < 5*time.Second
}

// statusLine is systemd's one-line STATUS=.
func (a *Agent) statusLine() string {
	st := a.Snapshot()
	counts := map[State]int{}
	var repairs uint64
	for _, i := range st.Interfaces {
		counts[i.State]++
		repairs += i.Repairs
	}
	s := fmt.Sprintf("%d configured, %d degraded, %d waiting; %d repairs", counts[Configured], counts[Degraded], counts[Waiting], repairs)
	if st.Sync != nil {
		s += "; sync " + string(st.Sync.State)
	}
	return s
}

// publish writes the status file (atomically). The loop and the time-sync goroutine both call it;
// one at a time, each writing a snapshot taken after the previous write, so the last write is the
// newest state.
func (a *Agent) publish() {
	a.publishMu.Lock()
	defer a.publishMu.Unlock()
	b, err := json.MarshalIndent(a.Snapshot(), "", "  ")
	if err == nil {
		err = safefile.WriteFile(a.o.StatusPath, append(b, '\n'), 0o644)
	}
	if err != nil {
		a.o.Log.Error("cannot publish the status", "path", a.o.StatusPath, "err", err)
	}
}

// Running reports whether the process that published the status is alive.
func (st *Status) Running() bool {
	err := syscall.Kill(st.PID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// WriteText prints the status as `tsnctl status` shows it: a line each for the agent, readiness
// and the configuration, a table of the interfaces, time sync, the last error and the reloads.
// The file's strings are printed with control characters escaped (termsafe): whoever can write
// the status file must not be able to drive the reader's terminal.
func (st *Status) WriteText(out io.Writer, running bool) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	safe := termsafe.String
	ready := "ready"
	if !st.Ready {
		ready = "NOT READY: " + safe(st.NotReady)
	}
	fmt.Fprintf(tw, "agent\tpid %d, running %v, since %s\n", st.PID, running, st.Started.Format(time.RFC3339))
	fmt.Fprintf(tw, "state\t%s\n", ready)
	fmt.Fprintf(tw, "config\t%s (sha256 %s)\n", safe(st.File), safe(st.ConfigHash))
	fmt.Fprintln(tw, "INTERFACE\tSTATE\tREPAIRS\tFAILURES\tLAST CHANGE\tLAST DRIFT / REASON")
	for _, i := range st.Interfaces {
		what := i.LastDrift
		if i.Reason != "" {
			what = i.Reason
		}
		last := "-"
		if !i.LastChange.IsZero() {
			last = i.LastChange.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", safe(i.Name), safe(string(i.State)), i.Repairs, i.Failures, last, safe(what))
	}
	if len(st.Streams) > 0 {
		admitted := map[string]admission.Admitted{}
		for _, x := range st.Admitted {
			admitted[x.Stream.Name] = x
		}
		fmt.Fprintln(tw, "STREAM\tINTERFACE\tORIGIN\tPERIOD\tTXTIME\tWINDOW\tLINK")
		for _, r := range st.Streams {
			origin := "file"
			if x, ok := admitted[r.Stream]; ok {
				origin = fmt.Sprintf("admitted (uid %d)", x.Owner)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t[%v, %v)\t%.2f%%\n", safe(r.Stream), safe(r.Interface), origin, r.Period, r.Txtime, r.Open, r.Close, 100*r.Utilisation)
		}
	}
	if s := st.Sync; s != nil {
		fmt.Fprintf(tw, "time sync\t%s, offset %d ns, grandmaster %s\n", safe(string(s.State)), s.OffsetNs, safe(s.GMIdentity))
	}
	if st.LastError != "" {
		fmt.Fprintf(tw, "last error\t%s\n", safe(st.LastError))
	}
	fmt.Fprintf(tw, "reloads\t%d (%d refused)\n", st.Reloads, st.ReloadFailures)
	tw.Flush()
}

// MaxStatusSize is the largest agent status file ReadStatus reads (a node's status is a few KiB).
const MaxStatusSize = 1 << 20

// ReadStatus reads a published status.
func ReadStatus(path string) (*Status, error) {
	b, err := safefile.Read(path, MaxStatusSize, "an agent status file")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no agent status at %s: is `tsnctl agent` running (systemctl status tsnctl)?", path)
	}
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(b, &st); err != nil || st.PID == 0 || st.Started.IsZero() {
		return nil, fmt.Errorf("%s: not a status tsnctl agent wrote", path)
	}
	return &st, nil
}
