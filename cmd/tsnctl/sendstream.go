package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
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
	var names []string
	if cmd.Flags().Changed("stream") {
		names = strings.Split(o.stream, ",")
	}
	all, err := plan.LoadStreams(o.file)
	if err != nil {
		return err
	}
	streams, err := sender.SelectStreams(all, names, o.file)
	if err != nil {
		return err
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
	return err
}
