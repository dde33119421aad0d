package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"tags.cncf.io/container-device-interface/pkg/parser"
	cdispec "tags.cncf.io/container-device-interface/specs-go"
)

// CDIKind is the Container Device Interface kind of the PTP hardware clocks tsnctl check --cdi
// describes. A container asks its engine for an interface's PHC as tsnctl.io/phc=IFACE (e.g.
// tsnctl.io/phc=eth1), for every PHC as tsnctl.io/phc=all; the engine (containerd, CRI-O, podman)
// then creates the device node and allows it in the container's device cgroup. A bind mount of
// /dev/ptpN alone is not enough: the device cgroup refuses its open(2).
const CDIKind = "tsnctl.io/phc"

// DefaultCDIFile is where generated CDI specs live (engines read /etc/cdi and /var/run/cdi). The
// PHC's number can change at a reboot, so the spec belongs in /var/run and is written at boot.
const DefaultCDIFile = "/var/run/cdi/tsnctl.io-phc.json"

// PHC is an interface's PTP hardware clock as check found it.
type PHC struct {
	Interface string `json:"interface"`
	Device    string `json:"device"`
	// Error says why check could not read the clock (empty: it read it).
	Error string `json:"error,omitempty"`
}

// CDISpec is the report's PHCs as a CDI spec: one device per interface with a PHC, named after the
// interface, and "all". An interface whose name is not a valid CDI device name (the kernel allows
// more) or is "all" is left out and named in skipped. The spec names only the device paths: the
// engine reads type, major and minor from the node when it injects a device.
func (r Report) CDISpec() (spec *cdispec.Spec, skipped []string, err error) {
	spec = &cdispec.Spec{Kind: CDIKind}
	var all []*cdispec.DeviceNode
	for _, p := range r.PHCs {
		if !slices.ContainsFunc(all, func(n *cdispec.DeviceNode) bool { return n.Path == p.Device }) {
			all = append(all, &cdispec.DeviceNode{Path: p.Device, Permissions: "rw"})
		}
		if p.Interface == "all" || parser.ValidateDeviceName(p.Interface) != nil {
			skipped = append(skipped, p.Interface)
			continue
		}
		spec.Devices = append(spec.Devices, cdispec.Device{Name: p.Interface,
			ContainerEdits: cdispec.ContainerEdits{DeviceNodes: []*cdispec.DeviceNode{{Path: p.Device, Permissions: "rw"}}}})
	}
	if len(all) == 0 {
		return nil, skipped, fmt.Errorf("no interface has a PTP hardware clock: nothing for a CDI spec")
	}
	spec.Devices = append(spec.Devices, cdispec.Device{Name: "all", ContainerEdits: cdispec.ContainerEdits{DeviceNodes: all}})
	// The oldest version that has these fields: the spec then reads in older engines too.
	if spec.Version, err = cdispec.MinimumRequiredVersion(spec); err != nil {
		return nil, skipped, err
	}
	return spec, skipped, nil
}

// WriteCDI writes CDISpec as JSON (engines read JSON and YAML specs).
func (r Report) WriteCDI(w io.Writer) (skipped []string, err error) {
	spec, skipped, err := r.CDISpec()
	if err != nil {
		return skipped, err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return skipped, enc.Encode(spec)
}
