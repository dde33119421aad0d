package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/safefile"
)

func planCmd() *cobra.Command {
	var file, out, table string
	cmd := &cobra.Command{
		Use:   "plan -f FILE [-o FILE] [--table FILE]",
		Short: "Compute interfaces' schedules from the streams they carry",
		Long: `plan reads FILE's streams: and turns them into their interfaces' schedules: traffic classes
and queues, the priority map, each stream's VLAN with its PCP, the taprio gate list (a window per
stream period, a guard band before each run of windows) and an ETF on the streams' queue. It
writes the configuration as if written by hand, without streams, on standard output (or -o FILE),
so that tsnctl plan -f s.yaml | tsnctl apply -f - applies it; and a table per stream (txtime,
window, wire time, guard band, latency bound, share of the link) on standard error (or --table
FILE). Every command that reads a configuration plans its streams the same way; plan shows it.
A set of streams that does not fit is refused, naming the stream and the constraint.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("-f FILE is required")
			}
			c, err := configs.Load(file)
			if err != nil {
				return err
			}
			expanded, res, err := plan.Expand(c)
			if err != nil {
				return err
			}
			b, err := configs.Marshal(expanded)
			if err != nil {
				return err
			}
			if table != "" {
				var t bytes.Buffer
				plan.WriteTable(&t, res)
				if err := safefile.WriteFile(table, t.Bytes(), 0o644); err != nil {
					return err
				}
			} else {
				plan.WriteTable(cmd.ErrOrStderr(), res)
			}
			if out != "" {
				return safefile.WriteFile(out, b, 0o644)
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "configuration with streams (YAML; - for standard input)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the planned configuration to FILE instead of standard output")
	cmd.Flags().StringVar(&table, "table", "", "write the per-stream table to FILE instead of standard error")
	return cmd
}
