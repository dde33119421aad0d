package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/node"
	"github.com/tsnctl/tsnctl/plan"
)

// loadAndOpen loads FILE and connects to the namespace's networking; it returns the clocks' time
// for base-time planning. The caller closes the system.
func loadAndOpen(file, netns string) (*configs.Config, *node.System, clock.Snapshot, error) {
	if file == "" {
		return nil, nil, nil, fmt.Errorf("-f FILE is required")
	}
	cfg, err := plan.Load(file)
	if err != nil {
		return nil, nil, nil, err
	}
	now, err := clock.ReadAll()
	if err != nil {
		return nil, nil, nil, err
	}
	sys, err := node.Open(netns)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, sys, now, nil
}

func printFindings(w io.Writer, fs []lint.Finding) {
	for _, f := range fs {
		fmt.Fprintln(w, f)
	}
}

func lintCmd() *cobra.Command {
	var file, netns, output string
	var live, rules bool
	cmd := &cobra.Command{
		Use:   "lint -f FILE [--live [--netns NAME]] [-o text|json]",
		Short: "Check a configuration file with named rules, without changing anything",
		Long: `lint loads FILE strictly (unknown keys, wrong types and bad values are errors) and runs every
rule (tsnctl lint --rules lists them). With --live it also checks against this node's devices: TX
queues and link speed. Findings name the file, line, field, value and the fix. Exit status 1 when
there is an error (warnings alone exit 0).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if rules {
				for _, r := range lint.Rules {
					fmt.Fprintf(out, "%-20s %-7s %s\n", r.Name, r.Severity, r.Summary)
				}
				return nil
			}
			var cfg *configs.Config
			var fs []lint.Finding
			if live {
				c, sys, now, err := loadAndOpen(file, netns)
				if err != nil {
					return err
				}
				defer sys.Close()
				cfg = c
				p, err := sys.Prepare(cfg, now)
				if p == nil {
					return err
				}
				fs = p.Findings
			} else {
				if file == "" {
					return fmt.Errorf("-f FILE is required")
				}
				c, err := plan.Load(file)
				if err != nil {
					return err
				}
				fs = lint.Check(c, lint.Facts{})
			}
			if output == "json" {
				if fs == nil {
					fs = []lint.Finding{}
				}
				if err := json.NewEncoder(out).Encode(map[string]any{"findings": fs, "ok": !lint.HasErrors(fs)}); err != nil {
					return err
				}
			} else {
				printFindings(out, fs)
				if len(fs) == 0 {
					fmt.Fprintf(out, "%s: no findings\n", file)
				}
			}
			if lint.HasErrors(fs) {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&live, "live", false, "also check against this node's devices")
	cmd.Flags().StringVar(&netns, "netns", "", "network namespace of the devices (ip netns name)")
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	cmd.Flags().BoolVar(&rules, "rules", false, "list the rules and exit")
	return cmd
}

func applyCmd() *cobra.Command {
	var file, netns string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--dry-run] [--netns NAME]",
		Short: "Configure channels, VLANs, taprio and ETF as FILE says; idempotent, rolled back on failure",
		Long: `apply reads the live state of every interface FILE names, lints FILE against the devices, plans
the change and applies it through netlink, then reads the result back and verifies it. Applying an
unchanged file changes nothing. If any step fails, every interface returns to its previous state
(qdisc tree, VLANs, channels) and the error says what failed.

--dry-run prints the plan and the equivalent ethtool/ip/tc commands and changes nothing.
base-time: auto is planned as the first cycle boundary at least 2 cycles ahead, in whole cycles
since the TAI epoch; the value used is printed and recorded in ` + node.StateDir + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			cfg, sys, now, err := loadAndOpen(file, netns)
			if err != nil {
				return err
			}
			defer sys.Close()
			p, err := sys.Prepare(cfg, now)
			if p != nil {
				printFindings(cmd.ErrOrStderr(), p.Findings)
			}
			if err != nil {
				return err
			}
			p.WritePlan(out, dryRun)
			if dryRun || len(p.Steps) == 0 {
				return nil
			}
			res, err := sys.Apply(p)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			for _, w := range p.Wants {
				live, err := sys.Read(w.Name)
				if err != nil {
					return err
				}
				path, err := node.Record(netns, live, res.Warnings)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning:", err)
				} else {
					fmt.Fprintf(out, "%s: applied and verified; state recorded in %s\n", w.Name, path)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and equivalent commands; change nothing")
	cmd.Flags().StringVar(&netns, "netns", "", "network namespace to configure (ip netns name)")
	return cmd
}

func showCmd() *cobra.Command {
	var ifaces []string
	var netns, output string
	cmd := &cobra.Command{
		Use:   "show [--iface IF]... [--netns NAME] [-o yaml|json]",
		Short: "Print the live TSN state in the configuration file's schema (it can be applied again)",
		Long: `show reads channels, VLANs with their QoS maps, the taprio root and its ETF children through
netlink and prints them as a tsnctl configuration. Without --iface it shows every interface that has
a taprio root or VLANs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sys, err := node.Open(netns)
			if err != nil {
				return err
			}
			defer sys.Close()
			if len(ifaces) == 0 {
				if ifaces, err = sys.ConfiguredInterfaces(); err != nil {
					return err
				}
			}
			cfg := configs.Config{Interfaces: []configs.Interface{}}
			for _, name := range ifaces {
				live, err := sys.Read(name)
				if err != nil {
					return err
				}
				cfg.Interfaces = append(cfg.Interfaces, node.ToConfig(live))
			}
			out := cmd.OutOrStdout()
			switch output {
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(cfg)
			case "yaml":
				b, err := configs.Marshal(&cfg)
				if err != nil {
					return err
				}
				_, err = out.Write(b)
				return err
			}
			return fmt.Errorf("-o %q: use yaml or json", output)
		},
	}
	cmd.Flags().StringSliceVar(&ifaces, "iface", nil, "interface to show (repeatable)")
	cmd.Flags().StringVar(&netns, "netns", "", "network namespace (ip netns name)")
	outputFlag(cmd.Flags(), &output, "output format", "yaml", "json")
	return cmd
}

func resetCmd() *cobra.Command {
	var file, netns string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "reset -f FILE [--dry-run] [--netns NAME]",
		Short: "Remove what FILE configures: its taprio root (with the ETF children) and its VLANs",
		Long: `reset deletes the taprio root qdisc that FILE configures (when the live root has FILE's handle),
which removes its ETF children too, and the VLANs FILE names. The kernel puts its default qdisc
back. Channel counts are left as they are.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, sys, now, err := loadAndOpen(file, netns)
			if err != nil {
				return err
			}
			defer sys.Close()
			steps, err := sys.PrepareReset(cfg, now)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, ci := range cfg.Interfaces {
				n := 0
				for _, st := range steps {
					if st.Iface == string(ci.Name) {
						fmt.Fprintf(out, "%s: - %s\n      %s\n", st.Iface, st.Summary, st.Command)
						n++
					}
				}
				if n == 0 {
					fmt.Fprintf(out, "%s: nothing to remove\n", ci.Name)
				}
			}
			if dryRun {
				return nil
			}
			return sys.Execute(steps)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration file (YAML)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be removed; change nothing")
	cmd.Flags().StringVar(&netns, "netns", "", "network namespace (ip netns name)")
	return cmd
}
