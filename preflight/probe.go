package preflight

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	tc "github.com/florianl/go-tc"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Options selects what Run looks at.
type Options struct {
	// Interfaces to check; empty: every interface backed by a device (/sys/class/net/*/device).
	Interfaces []string
}

// Run performs every check. It changes nothing that outlives it: the kernel probe works in a
// throwaway namespace, or on a veth pair of its own that it deletes.
func Run(opts Options) Report {
	var checks []Check
	results, setupErr := probeKernel()
	for _, f := range KernelFeatures {
		checks = append(checks, judgeKernel(f, results[f.Check], setupErr))
	}
	ifaces := opts.Interfaces
	if len(ifaces) == 0 {
		ifaces = deviceInterfaces()
	}
	var phcs []PHC
	var et *nic.Ethtool
	et, etErr := nic.DialEthtool(0)
	if et != nil {
		defer et.Close()
	}
	for _, ifname := range ifaces {
		txq, err := nic.TxQueues(ifname)
		var ch nic.Channels
		chErr := etErr
		if et != nil && err == nil {
			ch, chErr = et.Channels(ifname)
		}
		checks = append(checks, judgeQueues(ifname, txq, ch, chErr, err))
		if err == nil {
			ts, tsErr := nic.TimestampingInfo(ifname)
			var phcErr error
			if tsErr == nil && ts.PHC >= 0 {
				p := PHC{Interface: ifname, Device: ts.PHCDevice()}
				if phcErr = readPHC(p.Device); phcErr != nil {
					p.Error = phcErr.Error()
				}
				phcs = append(phcs, p)
			}
			checks = append(checks, judgeTimestamping(ifname, ts, tsErr, phcErr))
			var mm nic.MACMerge
			mmErr := etErr
			if et != nil {
				mm, mmErr = et.MACMerge(ifname)
			}
			checks = append(checks, judgeMACMerge(ifname, mm, mmErr))
		}
	}
	checks = append(checks, judgeTAIOffset(clock.TAIOffset()))
	checks = append(checks, judgeLinuxPTP(findLinuxPTP()))
	checks = append(checks, judgePrivileges(effectiveCaps()))
	r := NewReport(checks)
	r.PHCs = phcs
	return r
}

// readPHC opens a PTP hardware clock as ptp4l and phc2sys do (read-write) and reads its time.
func readPHC(dev string) error {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var ts unix.Timespec
	return os.NewSyscallError("clock_gettime", unix.ClockGettime(unix.FdToClockID(int(f.Fd())), &ts))
}

// deviceInterfaces lists the interfaces backed by a device (NICs, not lo, bridges or veths).
func deviceInterfaces() []string {
	ents, _ := os.ReadDir("/sys/class/net")
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join("/sys/class/net", e.Name(), "device")); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// probeKernel creates each kernel feature on a 4-queue veth pair and reports the error of each,
// keyed by check name. The pair lives in a new, empty network namespace that disappears when the
// probe returns; where tsnctl may not make one (CAP_SYS_ADMIN: a container given NET_ADMIN only), in
// this namespace, under names of its own, deleted before the probe returns. setupErr is set when
// neither could be made.
func probeKernel() (results map[string]error, setupErr error) {
	ns, err := nsexec.New()
	if err == nil {
		defer ns.Close()
		return probeIn(int(ns), "tsnprobe")
	}
	if !errors.Is(err, unix.EPERM) {
		return nil, err
	}
	return probeIn(0, fmt.Sprintf("tsnp%d.", os.Getpid()%100000))
}

// probeIn probes on a veth pair PREFIX0/PREFIX1 in network namespace ns (a file descriptor; 0:
// this one), deleting the pair afterwards.
func probeIn(ns int, prefix string) (results map[string]error, setupErr error) {
	var h *netlink.Handle
	var err error
	if ns == 0 {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	} else {
		h, err = netlink.NewHandleAt(netns.NsHandle(ns), unix.NETLINK_ROUTE)
	}
	if err != nil {
		return nil, fmt.Errorf("netlink in the probe's namespace: %w", err)
	}
	defer h.Close()
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: prefix + "0", NumTxQueues: 4, NumRxQueues: 4},
		PeerName:  prefix + "1", PeerNumTxQueues: 4, PeerNumRxQueues: 4,
	}
	if err := h.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("create the probe's veth pair: %w", err)
	}
	defer h.LinkDel(veth) // with the namespace gone it is gone anyway; here it must be removed
	l0, err := h.LinkByName(prefix + "0")
	if err != nil {
		return nil, err
	}
	l1, err := h.LinkByName(prefix + "1")
	if err != nil {
		return nil, err
	}
	qc, err := qdisc.Dial(ns)
	if err != nil {
		return nil, err
	}
	defer qc.Close()

	results = map[string]error{}
	tai := clock.TAI
	tp := &taprio.Options{
		NumTC: 2, Map: [16]uint8{6: 1}, Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}},
		ClockID:  &tai,
		Schedule: taprio.Schedule{Entries: []taprio.Entry{{Cmd: taprio.SetGates, Gates: 0x3, Interval: 1000000}}},
	}
	results["kernel/taprio"] = addAndRemove(qc, l0.Attrs().Index, taprio.Kind, tp)
	results["kernel/etf"] = addAndRemove(qc, l1.Attrs().Index, etf.Kind, &etf.Options{Delta: 500000, ClockID: clock.TAI})
	results["kernel/mqprio"] = probeMqprio(ns, l1.Attrs().Index)
	vlan := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: prefix + "3", ParentIndex: l0.Attrs().Index},
		VlanId: 3, EgressQosMap: map[uint32]uint32{6: 6}}
	results["kernel/vlan"] = h.LinkAdd(vlan)
	return results, nil
}

type marshaler interface{ MarshalBinary() ([]byte, error) }

func addAndRemove(qc *qdisc.Conn, ifindex int, kind string, opts marshaler) error {
	b, err := opts.MarshalBinary()
	if err != nil {
		return err
	}
	q := qdisc.Qdisc{Ifindex: ifindex, Parent: qdisc.HandleRoot, Handle: qdisc.Handle(0x100, 0), Kind: kind, Options: b}
	if err := qc.Add(q); err != nil {
		return err
	}
	return qc.Delete(ifindex, qdisc.HandleRoot, 0)
}

// probeMqprio uses github.com/florianl/go-tc, which encodes mqprio correctly.
func probeMqprio(ns, ifindex int) error {
	rtnl, err := tc.Open(&tc.Config{NetNS: ns})
	if err != nil {
		return err
	}
	defer rtnl.Close()
	obj := tc.Object{
		Msg: tc.Msg{Family: unix.AF_UNSPEC, Ifindex: uint32(ifindex), Handle: qdisc.Handle(0x200, 0), Parent: tc.HandleRoot},
		Attribute: tc.Attribute{Kind: "mqprio", MqPrio: &tc.MqPrio{Opt: &tc.MqPrioQopt{
			NumTc: 2, PrioTcMap: [16]uint8{6: 1}, Count: [16]uint16{1, 1}, Offset: [16]uint16{0, 1},
		}}},
	}
	if err := rtnl.Qdisc().Add(&obj); err != nil {
		return fmt.Errorf("add mqprio: %w", err)
	}
	return rtnl.Qdisc().Delete(&obj)
}

var versionRE = regexp.MustCompile(`\d+\.\d+(\.\d+)?`)

func findLinuxPTP() []LinuxPTPTool {
	var out []LinuxPTPTool
	for _, name := range []string{"ptp4l", "phc2sys", "pmc"} {
		t := LinuxPTPTool{Name: name}
		t.Path, t.Err = exec.LookPath(name)
		if t.Err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			var buf bytes.Buffer
			cmd := exec.CommandContext(ctx, t.Path, "-v")
			cmd.Stdout, cmd.Stderr = &buf, &buf
			_ = cmd.Run()
			cancel()
			t.Version = versionRE.FindString(buf.String())
		}
		out = append(out, t)
	}
	return out
}

func effectiveCaps() (uint64, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, err
	}
	return uint64(data[0].Effective) | uint64(data[1].Effective)<<32, nil
}
