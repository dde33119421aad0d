package preflight

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// NFDPrefix is Node Feature Discovery's namespace for a feature file's features: a feature X
// becomes the node label feature.node.kubernetes.io/X.
const NFDPrefix = "feature.node.kubernetes.io/"

// DefaultNFDFile is where NFD's worker reads local feature files.
const DefaultNFDFile = "/etc/kubernetes/node-feature-discovery/features.d/tsnctl"

// labelName is what a label's name (after the prefix) may be.
var labelName = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)

// ifaceFeatures names an interface's features tsnctl-iface-IF-NAME; an interface whose name cannot
// be part of a label (the kernel allows more than labels do) gets none.
func ifaceFeatures(ifname string, f map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range f {
		if n := "tsnctl-iface-" + ifname + "-" + k; labelName.MatchString(n) {
			out[n] = v
		}
	}
	return out
}

// NFDFeatures are the report's findings as NFD features (label names without the prefix): the
// kernel's qdiscs and VLAN (tsnctl-taprio, tsnctl-etf, tsnctl-mqprio, tsnctl-vlan: true or
// false), per interface its TX queues, PHC and hardware timestamping, and tsnctl-phc and
// tsnctl-hw-timestamping when any interface has them. A check that could not probe says nothing.
func (r Report) NFDFeatures() map[string]string {
	out := map[string]string{}
	for _, c := range r.Checks {
		for k, v := range c.Features {
			out[k] = v
			for _, f := range []string{"phc", "hw-timestamping"} {
				if strings.HasPrefix(k, "tsnctl-iface-") && strings.HasSuffix(k, "-"+f) && out["tsnctl-"+f] != "true" {
					out["tsnctl-"+f] = v
				}
			}
		}
	}
	return out
}

// WriteNFD writes NFD's local feature file: one "feature.node.kubernetes.io/NAME=VALUE" a line.
func (r Report) WriteNFD(w io.Writer) error {
	f := r.NFDFeatures()
	if _, err := fmt.Fprintln(w, "# Written by tsnctl check --nfd: Node Feature Discovery labels the node with these."); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if _, err := fmt.Fprintf(w, "%s%s=%s\n", NFDPrefix, k, f[k]); err != nil {
			return err
		}
	}
	return nil
}
