package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"syscall"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/agent"
	"github.com/tsnctl/tsnctl/ptp/watch"
)

func agentCmd() *cobra.Command {
	var o agent.Options
	var k kubeFlags
	var metricsAddr, logFormat, admissionGroup string
	cmd := &cobra.Command{
		Use:   "agent (-f FILE | --kubernetes)",
		Short: "Keep the node's TSN state as FILE says, as a service (systemd Type=notify)",
		Long: `tsnctl agent applies FILE (interfaces and ptp:), then keeps the kernel's state equal to it: on the
kernel's notifications (a qdisc deleted, a VLAN changed, channels changed, an interface appearing) it
re-plans the interface and repairs only what differs, in a transaction of its own. Every
--verify-every it checks everything. A node already as FILE says is adopted without a write.
SIGHUP (systemctl reload) re-reads FILE: an invalid file is refused and the old one stays in force.
On SIGTERM ptp4l/phc2sys stop; the qdiscs and VLANs stay (traffic keeps flowing) unless
--reset-on-stop. Metrics, /healthz and /readyz are served on --metrics-addr.

With --kubernetes the configuration comes from the TSNConfig that selects this node (by name or
labels; --node-name, in a pod the NODE_NAME variable) and the agent publishes the node's state as
its TSNNode (kubectl get tsnnodes); edits and label changes are applied through the reload path.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case k.enabled && o.File != "":
				return fmt.Errorf("-f %s and --kubernetes: the configuration comes from one place (the cluster's TSNConfig with --kubernetes)", o.File)
			case !k.enabled && o.File == "":
				return fmt.Errorf("-f FILE: give the tsnctl file to keep (e.g. /etc/tsnctl/tsnctl.yaml), or --kubernetes")
			}
			if err := o.Validate(); err != nil {
				return err
			}
			o.AdmissionGroup = -1
			if admissionGroup != "" {
				gid, err := lookupGroup(admissionGroup)
				if err != nil {
					return err
				}
				o.AdmissionGroup = gid
			}
			o.Log = newLogger(cmd.ErrOrStderr(), logFormat)
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			// SIGHUP storms are coalesced: one reload waits at most.
			reload := make(chan struct{}, 1)
			hup := make(chan os.Signal, 8)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					select {
					case reload <- struct{}{}:
					default:
					}
				}
			}()
			o.Reload = reload
			o.Notify = func(state string) { sd.SdNotify(false, state) }
			if wd, err := sd.SdWatchdogEnabled(false); err == nil && wd > 0 {
				o.Watchdog = wd
			}
			m := agent.NewMetrics(version)
			o.Metrics = m
			if metricsAddr != "" {
				l, err := agent.Listen(metricsAddr)
				if err != nil {
					return err
				}
				go func() {
					if err := m.Serve(ctx, l); err != nil {
						o.Log.Error("metrics listener stopped", "err", err)
					}
				}()
			}
			if k.enabled {
				m.SetWaiting()
				return k.run(ctx, o, m.SetAgent, o.Log)
			}
			a := agent.New(o)
			m.SetAgent(a)
			return a.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.File, "file", "f", "", "the tsnctl file to keep")
	f.StringVar(&o.NetNS, "netns", "", "manage this network namespace (ip netns name)")
	f.DurationVar(&o.VerifyEvery, "verify-every", 30*time.Second, "full verification interval, at least "+agent.MinVerifyEvery.String()+" (the safety net; repairs are event-driven)")
	f.StringVar(&metricsAddr, "metrics-addr", "127.0.0.1:9559", "listen address of /metrics, /healthz, /readyz (\"\": none)")
	f.StringVar(&o.StatusPath, "status", agent.DefaultStatusPath, "where to publish the agent's status (tsnctl status reads it)")
	f.StringVar(&o.PTPStatus, "sync-status", watch.DefaultStatusPath, "where to publish the time-sync status (tsnctl ptp status reads it)")
	f.StringVar(&o.PTPRunDir, "ptp-run-dir", "", "ptp4l's configuration and sockets (default /run/tsnctl/ptp)")
	f.BoolVar(&o.ResetOnStop, "reset-on-stop", false, "remove the configuration when stopping (default: it stays, traffic keeps flowing)")
	f.StringVar(&o.AdmissionSocket, "admission-socket", "", "serve the admission socket here (e.g. "+admission.DefaultSocket+"): applications add streams at run time (tsnctl stream add) on interfaces whose plan: reserves admission:")
	f.StringVar(&admissionGroup, "admission-group", "", "the group (name or id) that may use the admission socket besides root (default: root only)")
	f.DurationVar(&o.AdmissionLimits.Grace, "admission-grace", 5*time.Second, "how long an admitted stream outlives the connection that added it (its client may reconnect and reclaim it)")
	choiceFlag(f, &logFormat, "log-format", "log format: text or json", "text", "json")
	k.register(f)
	return cmd
}

// lookupGroup is a group's id, by name or number.
func lookupGroup(g string) (int, error) {
	if id, err := strconv.Atoi(g); err == nil && id >= 0 {
		return id, nil
	}
	gr, err := user.LookupGroup(g)
	if err != nil {
		return 0, fmt.Errorf("--admission-group %s: %w (give a group name or id from /etc/group)", g, err)
	}
	return strconv.Atoi(gr.Gid)
}

// newLogger is the services' logger (agent, device-plugin): --log-format json or text (a
// choiceFlag: nothing else gets here).
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func statusCmd() *cobra.Command {
	var path, output string
	cmd := &cobra.Command{
		Use:   "status [-o json]",
		Short: "What tsnctl agent knows: each interface configured, degraded (why) or waiting, repairs, time sync; exit 0 only when ready",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := agent.ReadStatus(path)
			if err != nil {
				return err
			}
			running := st.Running()
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.Encode(struct {
					*agent.Status
					Running bool `json:"running"`
				}{st, running})
			} else {
				st.WriteText(out, running)
			}
			if !running {
				return fmt.Errorf("the agent (pid %d) is not running: the status is from %s", st.PID, st.Updated.Format(time.RFC3339))
			}
			if !st.Ready {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "status", agent.DefaultStatusPath, "the status tsnctl agent publishes")
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	return cmd
}
