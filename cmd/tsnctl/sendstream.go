package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/samplelog"
	"github.com/tsnctl/tsnctl/sender"
)

// plannedConflicts are send's flags that say what a planned stream's plan says.
var plannedConflicts = []string{"dest", "raw", "dest-mac", "vlan", "pcp", "iface", "priority", "size", "cycle", "window", "offset",
	"per-cycle", "spacing", "base-time", "from-qdisc"}

// runPlanned is send --stream NAME[,NAME...] -f FILE: the named streams as planned, from one loop.
func (o *sendOptions) runPlanned(cmd *cobra.Command) error {
	for _, name := range plannedConflicts {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s cannot be combined with --stream NAME -f FILE: the plan gives each stream's (tsnctl plan -f %s shows them)", name, o.file)
		}
	}
	var streams []plan.Stream
	var reserved *admission.Client
	if o.reserve != "" {
		if cmd.Flags().Changed("stream") {
			return fmt.Errorf("--stream and --reserve: --reserve NAME -f FILE sends FILE's stream NAME as the agent admits it")
		}
		st, c, err := o.reserveStream(cmd.Context())
		if err != nil {
			return err
		}
		defer c.Close()
		streams, reserved = []plan.Stream{st}, c
	} else {
		var names []string
		if cmd.Flags().Changed("stream") {
			names = strings.Split(o.stream, ",")
		}
		all, err := plan.LoadStreams(o.file)
		if err != nil {
			return err
		}
		if streams, err = sender.SelectStreams(all, names, o.file); err != nil {
			return err
		}
	}
	syncWatch, err := o.waitForSync(cmd)
	if err != nil {
		return err
	}
	cfgs := make([]sender.Config, len(streams))
	lanes := make([]*sender.Sender, 0, len(streams))
	defer func() {
		for _, l := range lanes {
			l.Close()
		}
	}()
	var ids []string
	for i, st := range streams {
		c := sender.FromPlan(st)
		// What the plan does not say, from the flags, for every stream.
		c.Count, c.Duration, c.DeadlineMode, c.TxTimestamps = o.cfg.Count, o.cfg.Duration, o.cfg.DeadlineMode, o.cfg.TxTimestamps
		c.FIFO, c.CPU, c.NetNS, c.LateEvery, c.Sync, c.PauseUnlocked = o.cfg.FIFO, o.cfg.CPU, o.cfg.NetNS, o.cfg.LateEvery, o.cfg.Sync, o.cfg.PauseUnlocked
		if cmd.Flags().Changed("wake-advance") {
			c.Timing.WakeAdvance = o.t.WakeAdvance
		}
		// Every txtime checked against the schedule apply installed, as with --from-qdisc (a
		// credit-shaped stream has none).
		if c.Timing.Txtime {
			if c.Check, err = sender.InstalledCheck(c.NetNS, string(st.Interface), c.Priority); err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: stream %s: its txtimes are not checked against the installed schedule: %v (tsnctl apply -f %s installs the plan)\n",
					st.Name, err, o.file)
			}
		}
		snd, err := sender.Open(c)
		if err != nil {
			// %v: the parameter is the plan's, not a flag's (execute would name the flag).
			return fmt.Errorf("stream %s, as planned in %s: %v", st.Name, o.file, err)
		}
		cfgs[i] = c
		lanes = append(lanes, snd)
		ids = append(ids, st.Name+"="+strconv.FormatUint(uint64(st.ID), 10))
	}
	if o.logPath != "" {
		h := samplelog.NewHeader(samplelog.RoleSend, cfgs[0].Stream, o.labels.m)
		h.Send = cfgs[0].LogParams("")
		h.Send.Plan, h.Send.Streams = o.file, strings.Join(ids, ",")
		w, err := samplelog.Create(o.logPath, h)
		if err != nil {
			return err
		}
		defer w.Close()
		for _, l := range lanes {
			l.SetLog(w)
		}
	}
	ctx, stop := signalContext()
	defer stop()
	evicted := make(chan error, 1)
	if reserved != nil {
		// Evicted by the agent, or the agent gone: the window is no longer the stream's.
		go func() {
			select {
			case e := <-reserved.Evicted():
				evicted <- fmt.Errorf("stream %s evicted by the agent: %s", e.Name, e.Error)
			case <-reserved.Done():
				evicted <- fmt.Errorf("the agent's admission socket closed: %v", reserved.Err())
			case <-ctx.Done():
				return
			}
			stop()
		}()
	}
	if syncWatch != nil {
		go syncWatch.Run(ctx)
	}
	if !o.quiet && isTerminal(os.Stderr) {
		go progress(ctx, cmd.ErrOrStderr(), lanes...)
	}
	sums, err := sender.RunAll(ctx, lanes...)
	for i, sum := range sums {
		fmt.Fprintf(cmd.OutOrStdout(), "\n%s:", streams[i].Name)
		sum.Write(cmd.OutOrStdout(), cfgs[i])
	}
	select {
	case e := <-evicted:
		return e
	default:
		return err
	}
}

// reserveStream has the agent admit the stream --reserve names, described in -f FILE, and waits
// until its window opens; the connection holds the stream.
func (o *sendOptions) reserveStream(ctx context.Context) (plan.Stream, *admission.Client, error) {
	c, err := configs.Load(o.file)
	if err != nil {
		return plan.Stream{}, nil, err
	}
	i := slices.IndexFunc(c.Streams, func(s configs.Stream) bool { return s.Name == o.reserve })
	if i < 0 {
		return plan.Stream{}, nil, fmt.Errorf("--reserve %q: %s has no stream of this name", o.reserve, o.file)
	}
	cl, err := admission.Dial(ctx, o.socket)
	if err != nil {
		return plan.Stream{}, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	a, err := cl.Add(rctx, plan.ToWire(c.Streams[i]))
	if err == nil {
		err = a.WaitFrom(ctx)
	}
	if err != nil {
		cl.Close()
		return plan.Stream{}, nil, fmt.Errorf("--reserve %s: %w", o.reserve, err)
	}
	id := plan.StreamIDs(c)[o.reserve]
	return plan.Admitted(*a, id), cl, nil
}
