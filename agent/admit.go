package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/node"
	"github.com/tsnctl/tsnctl/plan"
)

// Admission: applications add streams at run time through the admission socket (package
// admission serves it; the agent decides). A stream is admitted when the file's configuration with
// the admitted streams added (plan.WithAdmitted: within the interface's reservation) plans with
// every running stream kept at its txtime (plan.ExpandPinned), lints, and changes the interface's
// schedule only: a plan that would do anything else (replace the root, graft a child, touch a VLAN)
// is refused, so that admission is hitless by construction. The loop does all of it: requests
// reach it through a channel, one at a time, between reconciles.

// admissionLead is how far ahead of the request a changed schedule starts at the earliest: more
// than the change takes (3 to 15 ms of the lab's guest time).
const admissionLead = 50 * time.Millisecond

// answerTimeout is the longest a request waits for the loop to take it (then: busy).
const answerTimeout = 10 * time.Second

// admitReq is a request the socket's handler hands the loop.
type admitReq struct {
	add    *configs.Stream // add this; nil: remove name
	name   string
	answer chan admitAnswer
}

type admitAnswer struct {
	a   admission.Admitted
	err error
}

// admitted is a stream the agent admitted, and where its window is.
type admitted struct {
	stream configs.Stream
	from   int64 // CLOCK_TAI ns: the base-time of the schedule that first carried it
}

// handler is the admission.Handler the agent gives the socket's server.
type handler struct {
	a       *Agent
	timeout time.Duration
}

func (h handler) ask(r admitReq) (admission.Admitted, error) {
	r.answer = make(chan admitAnswer, 1)
	t := time.NewTimer(h.timeout)
	defer t.Stop()
	select {
	case h.a.admitCh <- r:
	case <-t.C:
		return admission.Admitted{}, admission.Errorf(admission.ReasonBusy, "the agent did not take the request in %v: try again", h.timeout)
	}
	ans := <-r.answer // the loop answers every request it takes
	return ans.a, ans.err
}

// Add implements admission.Handler.
func (h handler) Add(p admission.Peer, s admission.Stream) (admission.Admitted, error) {
	cs := plan.FromWire(s)
	return h.ask(admitReq{add: &cs})
}

// Remove implements admission.Handler.
func (h handler) Remove(name string) error {
	_, err := h.ask(admitReq{name: name})
	return err
}

// List implements admission.Handler.
func (h handler) List() []admission.Admitted {
	h.a.mu.RLock()
	defer h.a.mu.RUnlock()
	return slices.Clone(h.a.st.Admitted)
}

// serveAdmission listens on the admission socket and serves it until ctx ends.
func (a *Agent) serveAdmission(ctx context.Context) (<-chan error, error) {
	ln, err := admission.Listen(a.o.AdmissionSocket, a.o.AdmissionGroup)
	if err != nil {
		return nil, err
	}
	l := a.o.AdmissionLimits
	srv := admission.NewServer(handler{a: a, timeout: answerTimeout}, l, a.o.Log.With("source", "admission"))
	a.admitSrv = srv
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	a.o.Log.Info("admission socket open", "path", a.o.AdmissionSocket, "group", a.o.AdmissionGroup)
	return done, nil
}

// handleAdmit runs in the loop.
func (a *Agent) handleAdmit(r admitReq) {
	var ans admitAnswer
	start := time.Now()
	if r.add != nil {
		ans.a, ans.err = a.admit(*r.add)
		reason := "admitted"
		if ans.err != nil {
			reason = "refused"
			var e *admission.Error
			if errors.As(ans.err, &e) {
				reason = e.Reason
			}
			a.o.Log.Info("stream refused", "stream", r.add.Name, "interface", r.add.Interface, "reason", reason, "err", ans.err, "took", time.Since(start).Round(time.Microsecond).String())
		} else {
			a.o.Log.Info("stream admitted", "stream", r.add.Name, "interface", r.add.Interface, "txtime", time.Duration(ans.a.Txtime).String(), "from", ans.a.From,
				"took", time.Since(start).Round(time.Microsecond).String())
		}
		if a.o.Metrics != nil {
			a.o.Metrics.admissions.WithLabelValues(reason).Inc()
		}
	} else {
		ans.err = a.release(r.name)
	}
	r.answer <- ans
	a.publish()
}

// pins are the txtimes of every time-scheduled stream the agent's configuration carries now.
func (a *Agent) pins() plan.Pins {
	p := plan.Pins{}
	for _, r := range a.rows {
		if r.Class == "" {
			p[r.Stream] = r.Txtime
		}
	}
	return p
}

// replan plans the file's configuration src (as written) with the given admitted streams, keeping every running
// stream's txtime, and lints it as the agent takes any configuration.
func (a *Agent) replan(src *configs.Config, streams []configs.Stream, pins plan.Pins) (*configs.Config, *plan.Result, error) {
	with, err := plan.WithAdmitted(src, streams)
	if err != nil {
		return nil, nil, refusal(err)
	}
	out, res, err := plan.ExpandPinned(with, pins)
	if err != nil {
		return nil, nil, refusal(err)
	}
	if err := lint.Err(lint.Check(out, lint.Facts{})); err != nil {
		return nil, nil, admission.Errorf("lint", "%v", err)
	}
	return out, res, nil
}

// refusal gives a planner's or loader's refusal its reason: the planner's constraint, or invalid.
func refusal(err error) error {
	var pe *plan.Error
	if errors.As(err, &pe) {
		return admission.Errorf(strings.ReplaceAll(pe.Constraint, " ", "-"), "%s", err)
	}
	return admission.Errorf(admission.ReasonInvalid, "%s", err)
}

// admit plans s with the running streams fixed and, when it fits, changes the interface's schedule
// in place.
func (a *Agent) admit(s configs.Stream) (admission.Admitted, error) {
	name := string(s.Interface)
	if i, ok := a.ifaces[name]; ok && i.State != Configured {
		return admission.Admitted{}, admission.Errorf(admission.ReasonBusy, "interface %s is %s (%s): streams are admitted on a configured interface", name, i.State, i.Reason)
	}
	streams := append(streamsOf(a.admits), s)
	out, res, err := a.replan(a.src, streams, a.pins())
	if err != nil {
		return admission.Admitted{}, err
	}
	from, err := a.changeSchedule(out, name)
	if err != nil {
		return admission.Admitted{}, err
	}
	a.setAdmitted(out, res, append(slices.Clone(a.admits), admitted{stream: withPCP(res, s), from: from}))
	return a.wire(a.admits[len(a.admits)-1]), nil
}

// release removes an admitted stream: its window closes at a new base-time (the schedule changes in
// place). A kernel that refuses the change leaves the window open, which harms no one; the loop's
// verification repairs it.
func (a *Agent) release(name string) error {
	i := slices.IndexFunc(a.admits, func(x admitted) bool { return x.stream.Name == name })
	if i < 0 {
		return admission.Errorf(admission.ReasonNotFound, "no admitted stream %q", name)
	}
	rest := slices.Delete(slices.Clone(a.admits), i, i+1)
	pins := a.pins()
	delete(pins, name)
	var streams []configs.Stream
	for _, x := range rest {
		streams = append(streams, x.stream)
	}
	out, res, err := a.replan(a.src, streams, pins)
	if err != nil {
		// Cannot happen (fewer streams, the same txtimes); keep the stream rather than guess.
		return admission.Errorf(admission.ReasonInvalid, "removing %s: %v", name, err)
	}
	iface := string(a.admits[i].stream.Interface)
	if _, err := a.changeSchedule(out, iface); err != nil {
		a.o.Log.Error("closing a released stream's window failed; the verification will repair it", "stream", name, "err", err)
		a.dirty[iface] = true
	}
	a.setAdmitted(out, res, rest)
	a.o.Log.Info("stream released", "stream", name, "interface", iface)
	return nil
}

// changeSchedule applies out's configuration of the interface when that changes its taprio
// schedule only (in place, at a new base-time), and returns the base-time from which the new
// schedule runs (now, when nothing had to change).
func (a *Agent) changeSchedule(out *configs.Config, iface string) (int64, error) {
	now, err := clock.ReadAll()
	if err != nil {
		return 0, err
	}
	// The new schedule starts at least admissionLead from now (and BaseTimeAhead cycles past
	// that), so that its base-time is still ahead when the change reaches the kernel.
	for id := range now {
		now[id] += int64(admissionLead)
	}
	one := interfaceConfig(out, iface)
	if one == nil {
		return 0, admission.Errorf("admission", "interface %s is not in the configuration", iface)
	}
	p, err := a.sys.Prepare(one, now)
	if err != nil {
		return 0, admission.Errorf(admission.ReasonBusy, "interface %s: %v", iface, err)
	}
	from, cycle := now[clock.TAI], int64(0)
	for _, st := range p.Steps {
		if st.Action != node.ChangeSchedule {
			return 0, admission.Errorf("admission", "admitting it would also %s: admission changes the schedule only (the running streams would be interrupted); reserve what it needs in plan: admission: and reload", st.Summary)
		}
		from, cycle = st.Taprio.Options.Schedule.BaseTime, st.Taprio.Options.Schedule.Cycle()
	}
	if len(p.Steps) == 0 {
		return from, nil
	}
	if _, err := a.sys.Apply(p); err != nil {
		return 0, admission.Errorf("kernel", "%v", err)
	}
	// A base-time that passed while the change was made: the kernel starts the schedule at the
	// first cycle boundary after it that is still ahead.
	if after, err := clock.ReadAll(); err == nil && cycle > 0 && after[clock.TAI] > from {
		from += (after[clock.TAI] - from + cycle - 1) / cycle * cycle
	}
	return from, nil
}

// withPCP is s with the PCP the plan gave it.
func withPCP(res *plan.Result, s configs.Stream) configs.Stream {
	for _, r := range res.Rows {
		if r.Stream == s.Name {
			p := uint8(r.PCP)
			s.PCP = &p
		}
	}
	return s
}

// setAdmitted makes out (planned with the admitted streams) the configuration in force.
func (a *Agent) setAdmitted(out *configs.Config, res *plan.Result, admits []admitted) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg = out
	a.rows = res.Rows
	a.cycles = res.Cycles
	a.admits = admits
	a.showStreams()
}

// showStreams puts the streams in force into the status: the plan's rows, and the admitted streams
// as the socket shows them. a.mu is held.
func (a *Agent) showStreams() {
	a.st.Streams = a.rows
	a.st.Admitted = nil
	for _, x := range a.admits {
		a.st.Admitted = append(a.st.Admitted, a.wire(x))
	}
}

// wire gives an admitted stream as the socket shows it: its row of the plan in force, its
// interface's cycle and the VLAN link it is sent on.
func (a *Agent) wire(x admitted) admission.Admitted {
	iface := string(x.stream.Interface)
	w := admission.Admitted{Stream: plan.ToWire(x.stream), From: x.from, Cycle: admission.Duration(a.cycles[iface])}
	if r, ok := rowIn(a.rows, x.stream.Name); ok {
		w.Priority, w.Txtime, w.WindowOpen, w.WindowClose = r.Priority, admission.Duration(r.Txtime), admission.Duration(r.Open), admission.Duration(r.Close)
	}
	if c := interfaceConfig(a.cfg, iface); c != nil {
		for _, v := range c.Interfaces[0].VLANs {
			if v.ID == x.stream.VLAN {
				w.VLANInterface = v.LinkName(c.Interfaces[0].Name)
			}
		}
	}
	return w
}

// keptStreams is a reloaded file's configuration planned with the admitted streams it keeps.
// The streams it does not keep are evicted once it is in force.
type keptStreams struct {
	src, out *configs.Config
	res      *plan.Result
	admits   []admitted
	evicted  []eviction
}

type eviction struct{ name, reason string }

// keepAdmitted plans a new file's configuration (cfg, as load returns it) with the admitted
// streams (reload): the file's streams first, then each admitted stream, in the order admitted,
// kept at its txtime when it still fits there, else evicted (with the reason, to its client: it
// sends at that txtime).
func (a *Agent) keepAdmitted(cfg *configs.Config) (*keptStreams, error) {
	src := cfg
	if cfg.Source != nil {
		src = cfg.Source
	}
	out, res, err := a.replan(src, nil, nil)
	if err != nil {
		return nil, err
	}
	var kept []admitted
	var evicted []eviction
	for _, x := range a.admits {
		pins := plan.Pins{}
		for _, r := range res.Rows {
			pins[r.Stream] = r.Txtime
		}
		if r, ok := rowIn(a.rows, x.stream.Name); ok {
			pins[x.stream.Name] = r.Txtime
		}
		// Kept at its txtime or not at all: its client sends at that txtime.
		o, r, err := a.replan(src, append(streamsOf(kept), x.stream), pins)
		if err != nil {
			evicted = append(evicted, eviction{x.stream.Name, fmt.Sprintf("the reloaded configuration has no room for it at its txtime: %v", err)})
			continue
		}
		out, res = o, r
		kept = append(kept, x)
	}
	return &keptStreams{src: src, out: out, res: res, admits: kept, evicted: evicted}, nil
}

// evict tells an evicted stream's client why, and counts it.
func (a *Agent) evict(name, reason string) {
	a.o.Log.Info("admitted stream evicted", "stream", name, "reason", reason)
	if a.o.Metrics != nil {
		a.o.Metrics.admissions.WithLabelValues("evicted").Inc()
	}
	if a.admitSrv != nil {
		a.admitSrv.Evict(name, reason)
	}
}

func rowIn(rows []plan.Row, name string) (plan.Row, bool) {
	for _, r := range rows {
		if r.Stream == name {
			return r, true
		}
	}
	return plan.Row{}, false
}

func streamsOf(xs []admitted) []configs.Stream {
	var out []configs.Stream
	for _, x := range xs {
		out = append(out, x.stream)
	}
	return out
}
