package preflight

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"golang.org/x/sys/unix"
)

func TestJudgeKernel(t *testing.T) {
	taprio := KernelFeatures[0]
	unknown := &qdisc.Error{Op: "add", Qdisc: qdisc.Qdisc{Kind: "taprio"}, Err: unix.ENOENT, Kernel: "Specified qdisc kind is unknown"}
	for _, tc := range []struct {
		name         string
		probe, setup error
		status       Status
		remedy       string
	}{
		{"created", nil, nil, Pass, ""},
		{"unknown kind", unknown, nil, Fail, "CONFIG_NET_SCH_TAPRIO"},
		{"vlan unsupported", fmt.Errorf("link add: %w", unix.EOPNOTSUPP), nil, Fail, "CONFIG_NET_SCH_TAPRIO"},
		{"other failure", &qdisc.Error{Err: unix.EINVAL, Kernel: "Invalid interval"}, nil, Fail, "dmesg"},
		{"no namespace", nil, errors.New("operation not permitted"), Warn, "root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := judgeKernel(taprio, tc.probe, tc.setup)
			if c.Name != "kernel/taprio" || c.Status != tc.status {
				t.Fatalf("got %s %s, want kernel/taprio %s", c.Name, c.Status, tc.status)
			}
			if !strings.Contains(c.Remedy, tc.remedy) {
				t.Errorf("remedy %q does not mention %q", c.Remedy, tc.remedy)
			}
			if tc.probe != nil && !strings.Contains(c.Detail, tc.probe.Error()) {
				t.Errorf("detail %q hides the kernel's error", c.Detail)
			}
		})
	}
}

func TestJudgeQueues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		txq    int
		ch     nic.Channels
		chErr  error
		err    error
		status Status
		detail string
		remedy string
	}{
		{"igb with 4", 4, nic.Channels{Combined: 4, CombinedMax: 8}, nil, nil, Pass, "4 TX queues; channels combined 4 (max 8)", ""},
		{"veth rx/tx", 4, nic.Channels{Rx: 4, RxMax: 4, Tx: 4, TxMax: 4}, nil, nil, Pass, "rx 4 (max 4), tx 4 (max 4)", ""},
		{"one queue, can raise", 1, nic.Channels{Combined: 1, CombinedMax: 8}, nil, nil, Warn, "1 TX queues", "ethtool -L eth9 combined 4"},
		{"one queue, fixed", 1, nic.Channels{Combined: 1, CombinedMax: 1}, nil, nil, Warn, "", "multi-queue NIC"},
		{"no channels op", 1, nic.Channels{}, unix.EOPNOTSUPP, nil, Warn, "channels unknown", "multi-queue NIC"},
		{"missing", 0, nic.Channels{}, nil, errors.New("interface eth9: no such file"), Fail, "no such file", "ip link show"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := judgeQueues("eth9", tc.txq, tc.ch, tc.chErr, tc.err)
			if c.Name != "iface/eth9/queues" || c.Status != tc.status {
				t.Fatalf("got %s %s (%s), want %s", c.Name, c.Status, c.Detail, tc.status)
			}
			if !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Remedy, tc.remedy) {
				t.Errorf("detail %q / remedy %q; want %q / %q", c.Detail, c.Remedy, tc.detail, tc.remedy)
			}
		})
	}
}

func TestJudgeTimestamping(t *testing.T) {
	hw := nic.TsInfo{PHC: 0, Modes: unix.SOF_TIMESTAMPING_TX_HARDWARE | unix.SOF_TIMESTAMPING_RX_HARDWARE |
		unix.SOF_TIMESTAMPING_RAW_HARDWARE | unix.SOF_TIMESTAMPING_TX_SOFTWARE, TxTypes: 3, RxFilters: 1<<0 | 1<<1,
		HardwareTx: true, HardwareRx: true, SoftwareTx: true}
	c := judgeTimestamping("eth0", hw, nil, nil)
	if c.Status != Pass || !strings.Contains(c.Detail, "PHC /dev/ptp0") || !strings.Contains(c.Detail, "hardware-transmit") ||
		!strings.Contains(c.Detail, "hw tx modes: off,on") || !strings.Contains(c.Detail, "hw rx filters: none,all") {
		t.Errorf("hardware: %+v", c)
	}
	sw := nic.TsInfo{PHC: -1, SoftwareTx: true, SoftwareRx: true, Modes: unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_RX_SOFTWARE}
	c = judgeTimestamping("eth0", sw, nil, nil)
	if c.Status != Warn || !strings.Contains(c.Detail, "no PHC") || !strings.Contains(c.Remedy, "-S") {
		t.Errorf("software: %+v", c)
	}
	c = judgeTimestamping("eth0", nic.TsInfo{PHC: -1}, nil, nil)
	if c.Status != Warn || !strings.Contains(c.Remedy, "no usable timestamping") {
		t.Errorf("none: %+v", c)
	}
	c = judgeTimestamping("eth0", nic.TsInfo{}, unix.EOPNOTSUPP, nil)
	if c.Status != Warn {
		t.Errorf("error: %+v", c)
	}
	// A PHC that cannot be read: why decides the remedy.
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "open", Path: "/dev/ptp0", Err: unix.EPERM}, "device cgroup refuses /dev/ptp0 (a bind mount alone does not allow a device): ask the container engine for the device: CDI tsnctl.io/phc=eth0"},
		{&os.PathError{Op: "open", Path: "/dev/ptp0", Err: unix.ENOENT}, "/dev/ptp0 is not in this (container's) /dev: ask the container engine for the device: CDI tsnctl.io/phc=eth0 (the node's spec: tsnctl check --cdi /var/run/cdi/tsnctl.io-phc.json), or --device /dev/ptp0"},
		{&os.PathError{Op: "open", Path: "/dev/ptp0", Err: unix.EACCES}, "run as root, or give this user read-write access to /dev/ptp0"},
		{unix.EOPNOTSUPP, "phc_ctl /dev/ptp0 get"},
	} {
		c = judgeTimestamping("eth0", hw, nil, tc.err)
		if c.Status != Warn || !strings.Contains(c.Detail, "; cannot read the PHC: "+tc.err.Error()) || !strings.Contains(c.Remedy, tc.want) {
			t.Errorf("PHC error %v: %+v, want a warning with remedy %q", tc.err, c, tc.want)
		}
	}
}

func TestJudgeTAIOffset(t *testing.T) {
	if c := judgeTAIOffset(0, nil); c.Status != Warn || !strings.Contains(c.Detail, "equals UTC") || !strings.Contains(c.Remedy, "phc2sys") {
		t.Errorf("0: %+v", c)
	}
	if c := judgeTAIOffset(37, nil); c.Status != Pass || c.Detail != "TAI = UTC + 37 s" {
		t.Errorf("37: %+v", c)
	}
	if c := judgeTAIOffset(0, errors.New("boom")); c.Status != Warn || c.Detail != "boom" {
		t.Errorf("error: %+v", c)
	}
}

func TestJudgeLinuxPTP(t *testing.T) {
	all := []LinuxPTPTool{{Name: "ptp4l", Path: "/usr/sbin/ptp4l", Version: "3.1.1"}, {Name: "phc2sys", Path: "/usr/sbin/phc2sys", Version: "3.1.1"},
		{Name: "pmc", Path: "/usr/sbin/pmc"}}
	c := judgeLinuxPTP(all)
	if c.Status != Pass || !strings.Contains(c.Detail, "ptp4l 3.1.1 (/usr/sbin/ptp4l)") || !strings.Contains(c.Detail, "pmc version unknown") {
		t.Errorf("all: %+v", c)
	}
	all[1].Err = errors.New("not found")
	c = judgeLinuxPTP(all)
	if c.Status != Warn || !strings.Contains(c.Detail, "not found: phc2sys") || !strings.Contains(c.Remedy, "apt-get install linuxptp") {
		t.Errorf("missing: %+v", c)
	}
}

func TestJudgePrivileges(t *testing.T) {
	all := uint64(1<<capNetAdmin | 1<<capSysTime | 1<<capSysNice)
	if c := judgePrivileges(all, nil); c.Status != Pass || c.Detail != "have CAP_NET_ADMIN, CAP_SYS_TIME, CAP_SYS_NICE" {
		t.Errorf("all: %+v", c)
	}
	if c := judgePrivileges(1<<capNetAdmin, nil); c.Status != Warn || !strings.Contains(c.Detail, "lack CAP_SYS_TIME, CAP_SYS_NICE") {
		t.Errorf("net admin only: %+v", c)
	}
	if c := judgePrivileges(1<<capSysNice, nil); c.Status != Fail || !strings.Contains(c.Remedy, "--cap-add NET_ADMIN") {
		t.Errorf("no net admin: %+v", c)
	}
}

func TestReportOKAndText(t *testing.T) {
	r := NewReport([]Check{{Name: "a", Status: Pass}, {Name: "b", Status: Warn, Remedy: "do x"}})
	if !r.OK {
		t.Error("warnings made the report fail")
	}
	r = NewReport([]Check{{Name: "a", Status: Pass}, {Name: "c", Status: Fail, Detail: "broken", Remedy: "fix it"}})
	if r.OK {
		t.Error("a failed check left the report OK")
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"pass  a", "FAIL  c  broken", "→ fix it", "2 checks, 1 failed, 0 warnings: not ready for TSN"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestNFDFeatures(t *testing.T) {
	taprio, etf := KernelFeatures[0], KernelFeatures[1]
	hw := nic.TsInfo{PHC: 1, HardwareTx: true, HardwareRx: true, SoftwareTx: true, SoftwareRx: true}
	r := NewReport([]Check{
		judgeKernel(taprio, nil, nil),
		judgeKernel(etf, unix.EOPNOTSUPP, nil),
		judgeKernel(KernelFeatures[2], nil, unix.EPERM), // not probed: says nothing
		judgeQueues("eth1", 4, nic.Channels{Combined: 4, CombinedMax: 4}, nil, nil),
		judgeTimestamping("eth1", hw, nil, nil),
		judgeTimestamping("eth0", nic.TsInfo{PHC: -1, SoftwareTx: true, SoftwareRx: true}, nil, nil),
		judgeQueues("e;x", 4, nic.Channels{}, nil, nil), // no label can name it
	})
	var b strings.Builder
	if err := r.WriteNFD(&b); err != nil {
		t.Fatal(err)
	}
	want := `# Written by tsnctl check --nfd: Node Feature Discovery labels the node with these.
feature.node.kubernetes.io/tsnctl-etf=false
feature.node.kubernetes.io/tsnctl-hw-timestamping=true
feature.node.kubernetes.io/tsnctl-iface-eth0-hw-timestamping=false
feature.node.kubernetes.io/tsnctl-iface-eth0-phc=false
feature.node.kubernetes.io/tsnctl-iface-eth1-hw-timestamping=true
feature.node.kubernetes.io/tsnctl-iface-eth1-phc=true
feature.node.kubernetes.io/tsnctl-iface-eth1-tx-queues=4
feature.node.kubernetes.io/tsnctl-phc=true
feature.node.kubernetes.io/tsnctl-taprio=true
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
