package preflight

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"golang.org/x/sys/unix"
)

// KernelFeature is something the kernel must be able to create.
type KernelFeature struct {
	Check  string // check name, e.g. kernel/taprio
	What   string // what was created, for the detail
	Config string // kernel option
	Module string // module to load
}

// KernelFeatures are the features the preflight probes, in report order.
var KernelFeatures = []KernelFeature{
	{"kernel/taprio", "taprio qdisc (802.1Qbv gate schedule)", "CONFIG_NET_SCH_TAPRIO", "sch_taprio"},
	{"kernel/etf", "etf qdisc (SO_TXTIME launch times)", "CONFIG_NET_SCH_ETF", "sch_etf"},
	{"kernel/mqprio", "mqprio qdisc (priority to traffic class to queue)", "CONFIG_NET_SCH_MQPRIO", "sch_mqprio"},
	{"kernel/vlan", "802.1Q VLAN link with an egress QoS map", "CONFIG_VLAN_8021Q", "8021q"},
}

// judgeKernel turns a probe's result into a check. probeErr is nil when the feature was created;
// setupErr is set when the probe could not even be set up (no privileges for a namespace).
func judgeKernel(f KernelFeature, probeErr, setupErr error) Check {
	c := Check{Name: f.Check}
	switch {
	case setupErr != nil:
		c.Status = Warn
		c.Detail = "not probed: " + setupErr.Error()
		c.Remedy = "run tsnctl check as root, or in a container with --cap-add NET_ADMIN (it probes the kernel on a throwaway veth pair)"
	case probeErr == nil:
		c.Status = Pass
		c.Detail = "created on a throwaway veth pair: " + f.What
		c.Features = map[string]string{f.feature(): "true"}
	case missingFeature(probeErr):
		c.Features = map[string]string{f.feature(): "false"}
		c.Status = Fail
		c.Detail = "the kernel cannot create it: " + f.What + ": " + probeErr.Error()
		c.Remedy = fmt.Sprintf("use a kernel built with %s=m or =y and load it (modprobe %s); "+
			"Debian's linux-image-amd64 >= 6.1 has it", f.Config, f.Module)
	default:
		c.Status = Fail
		c.Detail = "creating it failed: " + f.What + ": " + probeErr.Error()
		c.Remedy = "see the kernel's message; check " + f.Config + " and dmesg"
	}
	return c
}

// feature names the NFD feature of a kernel check: kernel/taprio -> tsnctl-taprio.
func (f KernelFeature) feature() string { return "tsnctl-" + strings.TrimPrefix(f.Check, "kernel/") }

// missingFeature tells "the kernel has no such qdisc or link kind" from other failures.
func missingFeature(err error) bool {
	// Creating a qdisc at the root of a fresh veth: ENOENT can only mean the kind is unknown. A link
	// kind the kernel does not have (ip link add ... type vlan): EOPNOTSUPP, "Unknown device type".
	return errors.Is(err, qdisc.ErrUnknownKind) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP)
}

// judgeQueues: taprio maps each traffic class to its own TX queues, so a single-queue device
// cannot separate traffic.
func judgeQueues(ifname string, txq int, ch nic.Channels, chErr error, err error) Check {
	c := Check{Name: "iface/" + ifname + "/queues"}
	if err != nil {
		c.Status = Fail
		c.Detail = err.Error()
		c.Remedy = "name an existing interface (ip link show)"
		return c
	}
	var chs string
	switch {
	case chErr != nil:
		chs = "channels unknown (" + chErr.Error() + ")"
	case ch.CombinedMax > 0:
		chs = fmt.Sprintf("channels combined %d (max %d)", ch.Combined, ch.CombinedMax)
	default:
		chs = fmt.Sprintf("channels rx %d (max %d), tx %d (max %d)", ch.Rx, ch.RxMax, ch.Tx, ch.TxMax)
	}
	c.Detail = fmt.Sprintf("%d TX queues; %s", txq, chs)
	c.Features = ifaceFeatures(ifname, map[string]string{"tx-queues": fmt.Sprint(txq)})
	maxq := max(ch.CombinedMax, ch.TxMax)
	switch {
	case txq >= 2:
		c.Status = Pass
	case chErr == nil && maxq >= 2:
		c.Status = Warn
		c.Remedy = fmt.Sprintf("taprio needs one TX queue per traffic class: ethtool -L %s %s %d (or channels: in the tsnctl file)",
			ifname, map[bool]string{true: "combined", false: "tx"}[ch.CombinedMax > 0], min(maxq, 4))
	default:
		c.Status = Warn
		c.Remedy = "a single TX queue cannot separate traffic classes: use a multi-queue NIC (e.g. Intel i210/i225) for taprio"
	}
	return c
}

// judgeTimestamping: hardware timestamps and a PHC are what PTP and ETF/taprio offload need, and
// ptp4l -H and phc2sys must be able to open and read the PHC (phcErr: why they could not).
func judgeTimestamping(ifname string, ts nic.TsInfo, err, phcErr error) Check {
	c := Check{Name: "iface/" + ifname + "/timestamping"}
	if err != nil {
		c.Status = Warn
		c.Detail = err.Error()
		c.Remedy = "the driver does not report timestamping (ethtool -T " + ifname + ")"
		return c
	}
	c.Detail = ts.String()
	c.Features = ifaceFeatures(ifname, map[string]string{"phc": fmt.Sprint(ts.PHC >= 0), "hw-timestamping": fmt.Sprint(ts.HardwareTx && ts.HardwareRx)})
	dev := ts.PHCDevice()
	askEngine := "ask the container engine for the device: CDI " + CDIKind + "=" + ifname +
		" (the node's spec: tsnctl check --cdi " + DefaultCDIFile + "), or --device " + dev
	switch {
	case ts.PHC >= 0 && phcErr != nil:
		c.Status = Warn
		c.Detail += "; cannot read the PHC: " + phcErr.Error()
		switch {
		case errors.Is(phcErr, unix.EPERM):
			c.Remedy = "the device cgroup refuses " + dev + " (a bind mount alone does not allow a device): " + askEngine
		case errors.Is(phcErr, unix.ENOENT):
			c.Remedy = dev + " is not in this (container's) /dev: " + askEngine
		case errors.Is(phcErr, unix.EACCES):
			c.Remedy = "run as root, or give this user read-write access to " + dev + " (a udev rule)"
		default:
			c.Remedy = "ptp4l -H and phc2sys cannot use " + dev + " (phc_ctl " + dev + " get shows the same)"
		}
	case ts.PHC >= 0 && ts.HardwareTx && ts.HardwareRx:
		c.Status = Pass
	case ts.SoftwareTx && ts.SoftwareRx:
		c.Status = Warn
		c.Remedy = "software timestamping only: ptp4l needs -S (accuracy of tens of µs) and ETF/taprio offload is unavailable; " +
			"use a NIC with a PTP hardware clock for production"
	default:
		c.Status = Warn
		c.Remedy = "no usable timestamping: PTP cannot run on " + ifname
	}
	return c
}

// judgeMACMerge reports the NIC's MAC merge layer (802.3br), which frame preemption (a traffic
// class's fp: P in taprio or mqprio) needs: "not supported" is no failure, only a fact.
func judgeMACMerge(ifname string, mm nic.MACMerge, err error) Check {
	c := Check{Name: "iface/" + ifname + "/mac-merge", Status: Pass}
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		c.Detail = "not supported: no frame preemption on this NIC (fp: P refused)"
		c.Features = ifaceFeatures(ifname, map[string]string{"mac-merge": "false"})
	case err != nil:
		c.Status = Warn
		c.Detail = err.Error()
		c.Remedy = "the kernel's ethtool netlink has no MAC merge layer (Linux >= 6.3): frame preemption cannot be configured"
	default:
		onoff := map[bool]string{true: "on", false: "off"}
		c.Detail = fmt.Sprintf("pMAC enabled: %s, TX enabled: %s, TX active: %s, TX minimum fragment size: %d, verify enabled: %s, verification status: %s",
			onoff[mm.PMACEnabled], onoff[mm.TxEnabled], onoff[mm.TxActive], mm.TxMinFragSize, onoff[mm.VerifyEnabled], mm.VerifyStatus)
		c.Features = ifaceFeatures(ifname, map[string]string{"mac-merge": "true"})
	}
	return c
}

// judgeTAIOffset: CLOCK_TAI is CLOCK_REALTIME plus the kernel's TAI offset; with 0, TAI schedules
// and txtimes are 37 s off from nodes whose offset is set.
func judgeTAIOffset(off int, err error) Check {
	c := Check{Name: "clock/tai-offset"}
	switch {
	case err != nil:
		c.Status = Warn
		c.Detail = err.Error()
	case off == 0:
		c.Status = Warn
		c.Detail = "the kernel's TAI offset is 0: CLOCK_TAI equals UTC"
		c.Remedy = "let phc2sys set it (phc2sys -w takes it from ptp4l's currentUtcOffset, 37 s since 2017), or tsnctl ptp run"
	default:
		c.Status = Pass
		c.Detail = fmt.Sprintf("TAI = UTC + %d s", off)
	}
	return c
}

// LinuxPTPTool is what was found of one linuxptp program.
type LinuxPTPTool struct {
	Name, Path, Version string
	Err                 error
}

func judgeLinuxPTP(tools []LinuxPTPTool) Check {
	c := Check{Name: "ptp/linuxptp", Status: Pass}
	var found, missing []string
	for _, t := range tools {
		if t.Err != nil {
			missing = append(missing, t.Name)
			continue
		}
		v := t.Version
		if v == "" {
			v = "version unknown"
		}
		found = append(found, fmt.Sprintf("%s %s (%s)", t.Name, v, t.Path))
	}
	c.Detail = strings.Join(found, ", ")
	if len(missing) > 0 {
		c.Status = Warn
		if c.Detail != "" {
			c.Detail += "; "
		}
		c.Detail += "not found: " + strings.Join(missing, ", ")
		c.Remedy = "install linuxptp (apt-get install linuxptp): time sync needs ptp4l and phc2sys, diagnostics pmc"
	}
	return c
}

// Capability numbers from <linux/capability.h>.
const (
	capNetAdmin = 12
	capSysNice  = 23
	capSysTime  = 25
)

func judgePrivileges(effective uint64, err error) Check {
	c := Check{Name: "privileges"}
	if err != nil {
		c.Status = Warn
		c.Detail = "cannot read capabilities: " + err.Error()
		return c
	}
	has := func(capn uint) bool { return effective&(1<<capn) != 0 }
	var have, lack []string
	for _, p := range []struct {
		n    uint
		name string
	}{{capNetAdmin, "CAP_NET_ADMIN"}, {capSysTime, "CAP_SYS_TIME"}, {capSysNice, "CAP_SYS_NICE"}} {
		if has(p.n) {
			have = append(have, p.name)
		} else {
			lack = append(lack, p.name)
		}
	}
	c.Detail = "have " + orNone(have)
	switch {
	case !has(capNetAdmin):
		c.Status = Fail
		c.Detail += "; lack " + strings.Join(lack, ", ")
		c.Remedy = "CAP_NET_ADMIN is needed to configure qdiscs and VLANs and for SO_TXTIME on CLOCK_TAI: " +
			"run as root or add it (docker run --cap-add NET_ADMIN --cap-add SYS_TIME --cap-add SYS_NICE)"
	case len(lack) > 0:
		c.Status = Warn
		c.Detail += "; lack " + strings.Join(lack, ", ")
		c.Remedy = "CAP_SYS_TIME lets phc2sys steer the system clock; CAP_SYS_NICE lets the sender run SCHED_FIFO"
	default:
		c.Status = Pass
	}
	return c
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
