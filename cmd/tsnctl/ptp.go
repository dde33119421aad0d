package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ptp"
	"github.com/tsnctl/tsnctl/ptp/daemon"
	"github.com/tsnctl/tsnctl/ptp/watch"
)

func ptpCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ptp",
		Short: "Time sync: run and supervise linuxptp, publish whether this node is in sync",
		Long: `tsnctl ptp runs ptp4l (and phc2sys) from the ptp: section of a tsnctl file, watches ptp4l over its
management socket and decides, several times a second, whether the node's time can be trusted:
FREERUN, LOCKING, LOCKED, HOLDOVER. The state is published in /run/tsnctl/ptp/status.json for
tsnctl ptp status and tsnctl send --require-sync.`,
	}
	cmd.AddCommand(ptpConfigCmd(), ptpRunCmd(false), ptpRunCmd(true), ptpStatusCmd())
	return cmd
}

func loadPTP(file, runDir string) (*ptp.Plan, error) {
	c, err := configs.Load(file)
	if err != nil {
		return nil, err
	}
	if c.PTP == nil {
		return nil, fmt.Errorf("%s: no ptp: section; add one (ptp: {interface: eth1}), see docs/reference/configuration.md", file)
	}
	return ptp.Build(c.PTP, runDir)
}

func ptpConfigCmd() *cobra.Command {
	var file, runDir string
	cmd := &cobra.Command{
		Use:   "config -f FILE",
		Short: "Print the ptp4l configuration and the ptp4l/phc2sys command lines tsnctl would run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			plan, err := loadPTP(file, runDir)
			if err != nil {
				return err
			}
			plan.WriteDryRun(cmd.OutOrStdout(), ptp.ConfigPath(runDir, plan.Interface))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "tsnctl file with a ptp: section")
	cmd.Flags().StringVar(&runDir, "run-dir", "", "where the configuration is written (default /run/tsnctl/ptp)")
	cmd.MarkFlagRequired("file")
	return cmd
}

func ptpRunCmd(watchOnly bool) *cobra.Command {
	var file, runDir, statusPath, uds, netns, logPath string
	var ts, domain uint8
	var quiet bool
	use, short := "run -f FILE", "Start ptp4l (and phc2sys), restart them if they exit, publish the sync state"
	if watchOnly {
		use, short = "watch [-f FILE | --uds PATH --transport-specific N --domain N]", "Publish the sync state of a ptp4l started by someone else"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var plan *ptp.Plan
			var err error
			switch {
			case file != "":
				if plan, err = loadPTP(file, runDir); err != nil {
					return err
				}
			case watchOnly:
				if plan, err = ptp.Build(&configs.PTP{Interface: "-", Timestamping: ptp.TSSoftware}, ""); err != nil {
					return err
				}
			default:
				return fmt.Errorf("-f FILE: give the tsnctl file with the ptp: section")
			}
			if watchOnly {
				if cmd.Flags().Changed("uds") {
					plan.UDS = uds
				}
				if cmd.Flags().Changed("transport-specific") {
					plan.TransportSpecific = ts
				}
				if cmd.Flags().Changed("domain") {
					plan.Domain = domain
				}
				plan.Phc2sysArgs = nil
			}
			ctx, stop := signalContext()
			defer stop()
			var mu sync.Mutex
			out := cmd.OutOrStdout()
			logf := func(src, line string) {
				if quiet && src != "tsnctl" {
					return
				}
				mu.Lock()
				fmt.Fprintf(out, "%s %-7s %s\n", time.Now().UTC().Format("15:04:05.000"), src, line)
				mu.Unlock()
			}
			opts := daemon.Options{RunDir: runDir, StatusPath: statusPath, Log: logf, WatchOnly: watchOnly, NetNS: netns}
			if logPath != "" {
				f, err := os.Create(logPath)
				if err != nil {
					return err
				}
				defer f.Close()
				opts.StatusLog = f
			}
			return daemon.Run(ctx, plan, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "tsnctl file with a ptp: section")
	f.StringVar(&runDir, "run-dir", "", "configuration and socket directory (default /run/tsnctl/ptp)")
	f.StringVar(&statusPath, "status", watch.DefaultStatusPath, "where to publish the sync status")
	f.StringVar(&logPath, "log", "", "also append every status to FILE as a JSON line (tsnctl analyze/report read it)")
	if !watchOnly {
		f.StringVar(&netns, "netns", "", "run ptp4l and phc2sys in this network namespace (ip netns name)")
	}
	f.BoolVar(&quiet, "quiet", false, "only tsnctl's own lines (state changes, restarts), not ptp4l's and phc2sys's")
	if watchOnly {
		f.StringVar(&uds, "uds", ptp.DefaultUDS, "ptp4l's management socket (uds_address)")
		f.Uint8Var(&ts, "transport-specific", 1, "transportSpecific of ptp4l's [global] section (1 for gPTP, 0 for the 1588 default profile)")
		f.Uint8Var(&domain, "domain", 0, "PTP domain number")
	}
	return cmd
}

func ptpStatusCmd() *cobra.Command {
	var output, statusPath string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status [-o json] [--wait DURATION]",
		Short: "Print the node's sync state; exit status 0 only when LOCKED",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			st, err := watch.WaitLocked(ctx, statusPath, wait)
			if st == nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.Encode(st)
			} else {
				st.WriteText(cmd.OutOrStdout())
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "tsnctl:", err)
				return exitError{1}
			}
			if !st.Locked(time.Now()) {
				return exitError{1}
			}
			return nil
		},
	}
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	cmd.Flags().StringVar(&statusPath, "status", watch.DefaultStatusPath, "the published sync status")
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for LOCKED")
	return cmd
}
