package main

import (
	"bytes"
	"encoding/json"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/preflight"
)

func checkCmd() *cobra.Command {
	var ifaces []string
	var output, nfd string
	cmd := &cobra.Command{
		Use:   "check [--iface IF]... [-o text|json]",
		Short: "Preflight: can this node do TSN? (kernel qdiscs, VLAN, queues, timestamping, TAI offset, linuxptp, privileges)",
		Long: `check probes the kernel for taprio, ETF, mqprio and 802.1Q by creating them in a throwaway
network namespace (without CAP_SYS_ADMIN: on a veth pair of its own that it deletes), and reads each interface's TX queues, channels and timestamping capabilities,
the kernel's TAI offset, the linuxptp tools and the process's capabilities. It changes nothing.

Every check has a stable name, a status (pass, warn, fail), what was found and what to do.
The exit status is 0 when no check failed, 1 otherwise.

--nfd FILE also writes the findings as Node Feature Discovery's local feature file (NFD's worker
reads /etc/kubernetes/node-feature-discovery/features.d/), so that the node gets labels such as
feature.node.kubernetes.io/tsnctl-taprio=true that a DaemonSet can select on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := preflight.Run(preflight.Options{Interfaces: ifaces})
			if nfd != "" {
				var b bytes.Buffer
				r.WriteNFD(&b)
				if err := renameio.WriteFile(nfd, b.Bytes(), 0o644); err != nil {
					return param.Errorf("nfd", nfd, "%w", err)
				}
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else if err := r.WriteText(out); err != nil {
				return err
			}
			if !r.OK {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&ifaces, "iface", nil, "interface to check (repeatable; default: every NIC)")
	cmd.Flags().StringVar(&nfd, "nfd", "", "also write Node Feature Discovery's feature file here (e.g. "+preflight.DefaultNFDFile+")")
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	return cmd
}
