// Command tsnctl configures, exercises and measures Time-Sensitive Networking on Linux nodes.
// This file and its siblings only wire flags to the packages that do the work.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/param"
)

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "tsnctl",
		Short: "Configure, exercise and measure Time-Sensitive Networking on Linux",
		Long: `tsnctl configures taprio and ETF qdiscs, VLAN QoS maps and NIC channels through netlink,
checks that a node can do TSN, supervises time sync (linuxptp) and decides whether the node is in
sync, sends and receives cyclic SO_TXTIME traffic, and analyses and reports the results.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return checkNetNS(cmd)
		},
	}
	root.AddCommand(versionCmd(), agentCmd(), statusCmd(), fleetCmd(), devicePluginCmd(), checkCmd(), lintCmd(), applyCmd(), showCmd(), resetCmd(), sendCmd(), recvCmd(), dumpCmd(), analyzeCmd(), reportCmd(), ptpCmd(), calibrateCmd(), planCmd(), streamCmd())
	return root
}

// checkNetNS refuses a --netns the command cannot use, before the command does anything: a name
// that is not one path element (nsexec.CheckName, which every namespace lookup applies again),
// or an empty one given (which would silently mean this namespace).
func checkNetNS(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("netns")
	if f == nil || !f.Changed {
		return nil
	}
	if f.Value.String() == "" {
		return fmt.Errorf(`--netns "": give an ip netns name (ip netns list), or leave --netns out for this namespace`)
	}
	return nsexec.CheckName(f.Value.String())
}

// execute runs the command line and names the parameters of a library's error after the flags of
// the command that ran (param.Rename): the libraries name a parameter as its flag is named, and a
// parameter the command has a flag for is printed "--NAME".
func execute(root *cobra.Command) error {
	c, err := root.ExecuteC()
	if err == nil || c == nil {
		return err
	}
	err = param.Rename(err, func(name string) string {
		if c.Flag(name) != nil {
			return "--" + name
		}
		return name
	})
	// A value the user never typed is a flag's default (perhaps derived from the flags given): say
	// so, and which flag to give.
	var pe *param.Error
	if errors.As(err, &pe) && pe.Value != "" {
		if f := c.Flag(pe.Name); f != nil && !f.Changed {
			err = fmt.Errorf("%w; that is the default --%s: give --%s %s", err, pe.Name, pe.Name, strings.ToUpper(f.Value.Type()))
		}
	}
	return err
}

func main() {
	if err := execute(newRoot()); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "tsnctl:", err)
		os.Exit(1)
	}
}
