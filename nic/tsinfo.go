package nic

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// TsInfo is an interface's timestamping capabilities (ETHTOOL_GET_TS_INFO, `ethtool -T`).
type TsInfo struct {
	// PHC is the index of the PTP hardware clock (/dev/ptpN), or -1 when there is none.
	PHC        int
	Modes      uint32 // SOF_TIMESTAMPING_* capability bits
	TxTypes    uint32 // bit per HWTSTAMP_TX_*
	RxFilters  uint32 // bit per HWTSTAMP_FILTER_*
	HardwareTx bool
	HardwareRx bool
	SoftwareTx bool
	SoftwareRx bool
}

var modeNames = []struct {
	bit  uint32
	name string
}{
	{unix.SOF_TIMESTAMPING_TX_HARDWARE, "hardware-transmit"},
	{unix.SOF_TIMESTAMPING_TX_SOFTWARE, "software-transmit"},
	{unix.SOF_TIMESTAMPING_RX_HARDWARE, "hardware-receive"},
	{unix.SOF_TIMESTAMPING_RX_SOFTWARE, "software-receive"},
	{unix.SOF_TIMESTAMPING_SOFTWARE, "software-system-clock"},
	{unix.SOF_TIMESTAMPING_RAW_HARDWARE, "hardware-raw-clock"},
}

var txTypeNames = []string{"off", "on", "onestep-sync", "onestep-p2p"}

var rxFilterNames = []string{"none", "all", "some", "ptpv1-l4-event", "ptpv1-l4-sync", "ptpv1-l4-delay-req",
	"ptpv2-l4-event", "ptpv2-l4-sync", "ptpv2-l4-delay-req", "ptpv2-l2-event", "ptpv2-l2-sync",
	"ptpv2-l2-delay-req", "ptpv2-event", "ptpv2-sync", "ptpv2-delay-req", "ntp-all"}

// ModeNames lists the capabilities in ethtool -T's words.
func (t TsInfo) ModeNames() []string {
	var out []string
	for _, m := range modeNames {
		if t.Modes&m.bit != 0 {
			out = append(out, m.name)
		}
	}
	return out
}

func bitNames(v uint32, names []string) []string {
	var out []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// TxTypeNames lists the hardware TX timestamp modes (ethtool -T's "Hardware Transmit Timestamp Modes").
func (t TsInfo) TxTypeNames() []string { return bitNames(t.TxTypes, txTypeNames) }

// RxFilterNames lists the hardware RX filters.
func (t TsInfo) RxFilterNames() []string { return bitNames(t.RxFilters, rxFilterNames) }

// PHCDevice is the PTP hardware clock's device node, /dev/ptpN ("" without one).
func (t TsInfo) PHCDevice() string {
	if t.PHC < 0 {
		return ""
	}
	return fmt.Sprintf("/dev/ptp%d", t.PHC)
}

// String is a one-line summary: "PHC /dev/ptp0; hardware-transmit, ...".
func (t TsInfo) String() string {
	phc := "no PHC"
	if t.PHC >= 0 {
		phc = "PHC " + t.PHCDevice()
	}
	s := phc + "; " + strings.Join(t.ModeNames(), ", ")
	if tx := t.TxTypeNames(); len(tx) > 0 {
		s += "; hw tx modes: " + strings.Join(tx, ",")
	}
	if rx := t.RxFilterNames(); len(rx) > 0 {
		s += "; hw rx filters: " + strings.Join(rx, ",")
	}
	return s
}

// TimestampingInfo reads ifname's timestamping capabilities in the caller's network namespace.
func TimestampingInfo(ifname string) (TsInfo, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return TsInfo{}, fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ti, err := unix.IoctlGetEthtoolTsInfo(fd, ifname)
	if err != nil {
		return TsInfo{}, fmt.Errorf("ETHTOOL_GET_TS_INFO %s: %w", ifname, err)
	}
	return fromRaw(ti), nil
}

func fromRaw(ti *unix.EthtoolTsInfo) TsInfo {
	t := TsInfo{PHC: int(ti.Phc_index), Modes: ti.So_timestamping, TxTypes: ti.Tx_types, RxFilters: ti.Rx_filters}
	t.HardwareTx = t.Modes&unix.SOF_TIMESTAMPING_TX_HARDWARE != 0
	t.HardwareRx = t.Modes&unix.SOF_TIMESTAMPING_RX_HARDWARE != 0
	t.SoftwareTx = t.Modes&unix.SOF_TIMESTAMPING_TX_SOFTWARE != 0
	t.SoftwareRx = t.Modes&unix.SOF_TIMESTAMPING_RX_SOFTWARE != 0
	return t
}
