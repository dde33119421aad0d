package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"

	"github.com/spf13/cobra"

	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/preflight"
)

func checkCmd() *cobra.Command {
	var ifaces []string
	var output, nfd, cdi string
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
feature.node.kubernetes.io/tsnctl-taprio=true that a DaemonSet can select on.

--cdi FILE also writes a Container Device Interface spec of the interfaces' PTP hardware clocks
(e.g. /var/run/cdi/tsnctl.io-phc.json): a container then asks its engine for eth1's clock as
tsnctl.io/phc=eth1 (every clock: tsnctl.io/phc=all), and the engine gives it the device node and
allows it in the container's device cgroup, which a bind mount of /dev/ptpN does not. The clocks'
numbers can change at a reboot: write it at boot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := preflight.Run(preflight.Options{Interfaces: ifaces})
			// Both files are made before either is written: a --cdi that fails writes no --nfd either.
			var nfdData, cdiData bytes.Buffer
			if nfd != "" {
				r.WriteNFD(&nfdData)
			}
			if cdi != "" {
				skipped, err := r.WriteCDI(&cdiData)
				if err != nil {
					return param.Errorf("cdi", cdi, "%w", err)
				}
				for _, ifname := range skipped {
					fmt.Fprintf(cmd.ErrOrStderr(), "tsnctl check --cdi: %s is only in %s=all (its name is not a CDI device name)\n", ifname, preflight.CDIKind)
				}
			}
			for _, f := range []struct {
				flag, path string
				data       []byte
			}{{"nfd", nfd, nfdData.Bytes()}, {"cdi", cdi, cdiData.Bytes()}} {
				if f.path == "" {
					continue
				}
				if err := safefile.WriteFile(f.path, f.data, 0o644); err != nil {
					return param.Errorf(f.flag, f.path, "%w", err)
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
	cmd.Flags().StringVar(&cdi, "cdi", "", "also write a CDI spec of the PTP hardware clocks here (e.g. "+preflight.DefaultCDIFile+")")
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	return cmd
}
