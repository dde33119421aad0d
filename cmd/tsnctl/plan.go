package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/plan"
	"github.com/tsnctl/tsnctl/report"
	"github.com/tsnctl/tsnctl/safefile"
)

func planCmd() *cobra.Command {
	var file, out, table, svg, png string
	cmd := &cobra.Command{
		Use:   "plan -f FILE [-o FILE] [--table FILE] [--svg FILE] [--png FILE]",
		Short: "Compute interfaces' schedules from the streams they carry",
		Long: `plan reads FILE's streams: and turns them into their interfaces' schedules: traffic classes
and queues, the priority map, each stream's VLAN with its PCP, the taprio gate list (a window per
stream period, a guard band before each run of windows) and an ETF on the streams' queue; for
streams with a class (A or B, 802.1Qav), an mqprio and a cbs per class reserving the class's
bandwidth, with each stream's worst-case latency at the port. It
writes the configuration as if written by hand, without streams, on standard output (or -o FILE),
so that tsnctl plan -f s.yaml | tsnctl apply -f - applies it; and a table per stream (txtime,
window, wire time, guard band, latency bound, share of the link) on standard error (or --table
FILE). --svg FILE and --png FILE draw one cycle of each interface as engineers draw a gate list:
a row per traffic class, filled where its gate is open, and a row per stream with each of its
windows, its txtimes and guard bands (the function that draws the lab report's headline). Every
command that reads a configuration plans its streams the same way; plan shows it.
A set of streams that does not fit is refused, naming the stream and the constraint.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("-f FILE is required")
			}
			for _, f := range []struct{ flag, path, ext, other string }{{"--svg", svg, ".svg", "--png"}, {"--png", png, ".png", "--svg"}} {
				if f.path != "" && !strings.EqualFold(filepath.Ext(f.path), f.ext) {
					return fmt.Errorf("%s %q: want a file name ending in %s (%s draws the other format)", f.flag, f.path, f.ext, f.other)
				}
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
			if svg != "" || png != "" {
				fig, err := report.PlanFigure(expanded, res)
				if err != nil {
					flag := "--svg"
					if svg == "" {
						flag = "--png"
					}
					return fmt.Errorf("%s: %w", flag, err)
				}
				for _, f := range []struct {
					path string
					data []byte
				}{{svg, fig.SVG}, {png, fig.PNG}} {
					if f.path != "" {
						if err := safefile.WriteFile(f.path, f.data, 0o644); err != nil {
							return err
						}
					}
				}
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
	cmd.Flags().StringVar(&svg, "svg", "", "draw one cycle of each interface (gates, windows, txtimes, guard bands) to FILE.svg")
	cmd.Flags().StringVar(&png, "png", "", "draw one cycle of each interface (gates, windows, txtimes, guard bands) to FILE.png")
	return cmd
}
