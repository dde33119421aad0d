package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/tsnctl/tsnctl/admission"
	"github.com/tsnctl/tsnctl/termsafe"
)

func streamCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stream (add | list | del)",
		Short: "Add, list and remove streams on the running agent's admission socket (no root, no reload)",
		Long: `tsnctl stream talks to the admission socket of tsnctl agent (--admission-socket), which admits
streams on interfaces whose plan: reserves admission:. An admitted stream's window is added to the
interface's schedule in place, at a new base-time, without moving the running streams or interrupting
their traffic. A stream lives as long as the connection that added it (stream add holds it until
interrupted) plus the agent's grace period.`,
	}
	var socket string
	cmd.PersistentFlags().StringVar(&socket, "socket", admission.DefaultSocket, "the agent's admission socket")
	cmd.AddCommand(streamAddCmd(&socket), streamListCmd(&socket), streamDelCmd(&socket))
	return cmd
}

func streamAddCmd(socket *string) *cobra.Command {
	var s admission.Stream
	var pcp int
	var period, offset, maxLatency int64
	var output string
	cmd := &cobra.Command{
		Use:   "add NAME --interface IF --dest HOST:PORT|MAC --vlan ID --period D --size N --max-latency D",
		Short: "Admit a stream and hold it until interrupted: prints the socket priority, VLAN interface, txtime and window to send with",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s.Name = args[0]
			s.Period, s.Offset, s.MaxLatency = admission.Duration(period), admission.Duration(offset), admission.Duration(maxLatency)
			if cmd.Flags().Changed("pcp") {
				p := uint8(pcp)
				if pcp < 0 || pcp > 7 {
					return fmt.Errorf("--pcp %d: want 1 to 7, one the interface reserves (absent: its first)", pcp)
				}
				s.PCP = &p
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			c, err := admission.Dial(ctx, *socket)
			if err != nil {
				return err
			}
			defer c.Close()
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			a, err := c.Add(rctx, s)
			cancel()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				b, _ := json.Marshal(a)
				fmt.Fprintf(out, "%s\n", b)
			} else {
				fmt.Fprintf(out, "admitted %s on %s: send on %s with socket priority %d, txtime %v into each %v period (window [%v, %v)), from TAI %d ns\n",
					termsafe.String(a.Stream.Name), termsafe.String(a.Stream.Interface), termsafe.String(a.VLANInterface), a.Priority, a.Txtime, a.Stream.Period, a.WindowOpen, a.WindowClose, a.From)
				fmt.Fprintln(out, "holding it until interrupted (Ctrl-C); the agent releases it after its grace period")
			}
			select {
			case <-ctx.Done():
				return nil
			case e := <-c.Evicted():
				return fmt.Errorf("stream %s evicted by the agent: %s", termsafe.String(e.Name), termsafe.String(e.Error))
			case <-c.Done():
				return c.Err()
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&s.Interface, "interface", "", "the talker's port (its plan: reserves admission:)")
	f.StringVar(&s.Dest, "dest", "", "host:port (UDP over IPv4) or a MAC address (raw 802.1Q)")
	f.Uint16Var(&s.VLAN, "vlan", 0, "the VLAN id, one the interface reserves")
	f.IntVar(&pcp, "pcp", 0, "the PCP, one the interface reserves (absent: its first)")
	f.Var(durationFlag{&period}, "period", "the stream's period, e.g. 2ms")
	f.IntVar(&s.Frames, "frames", 0, "frames per period (absent: 1)")
	f.IntVar(&s.Size, "size", 0, "each frame's payload in bytes")
	f.Var(durationFlag{&offset}, "offset", "the earliest transmit time in each period")
	f.Var(durationFlag{&maxLatency}, "max-latency", "the deadline after the offset")
	outputFlag(f, &output, "output format", "text", "json")
	return cmd
}

func streamListCmd(socket *string) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list [-o json]",
		Short: "The streams the agent admitted, every user's",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return oneRequest(cmd, *socket, func(ctx context.Context, c *admission.Client) error {
				l, err := c.List(ctx)
				if err != nil {
					return err
				}
				if output == "json" {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					return enc.Encode(l)
				}
				writeAdmitted(cmd.OutOrStdout(), l)
				return nil
			})
		},
	}
	outputFlag(cmd.Flags(), &output, "output format", "text", "json")
	return cmd
}

// writeAdmitted prints admitted streams as a table (their strings escaped: they come from clients).
func writeAdmitted(w io.Writer, l []admission.Admitted) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tINTERFACE\tVLAN IF\tPRIO\tPERIOD\tTXTIME\tWINDOW\tOWNER\tHELD")
	for _, a := range l {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\t%v\t[%v, %v)\t%d\t%v\n", termsafe.String(a.Stream.Name), termsafe.String(a.Stream.Interface), termsafe.String(a.VLANInterface),
			a.Priority, a.Stream.Period, a.Txtime, a.WindowOpen, a.WindowClose, a.Owner, a.Held)
	}
	tw.Flush()
}

func streamDelCmd(socket *string) *cobra.Command {
	return &cobra.Command{
		Use:   "del NAME",
		Short: "Remove an admitted stream (your own, or any as root): its window closes at a new base-time",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return oneRequest(cmd, *socket, func(ctx context.Context, c *admission.Client) error { return c.Del(ctx, args[0]) })
		},
	}
}

// oneRequest runs a one-shot request (list, del) on a connection of its own, within 15 s.
func oneRequest(cmd *cobra.Command, socket string, do func(context.Context, *admission.Client) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
	defer cancel()
	c, err := admission.Dial(ctx, socket)
	if err != nil {
		return err
	}
	defer c.Close()
	return do(ctx, c)
}
