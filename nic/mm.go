package nic

import (
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The MAC merge layer (IEEE 802.3br) is what frame preemption (802.1Qbu) runs on: a NIC with one
// has an express MAC and a preemptible MAC (pMAC), and sends a preemptible frame in fragments when
// an express frame has to go. ethtool's netlink family reads and sets it (ETHTOOL_MSG_MM_GET/SET,
// Linux 6.3; `ethtool --show-mm` and `--set-mm` in ethtool 6.3). Attribute numbers from
// <linux/ethtool_netlink.h>; golang.org/x/sys has the messages but not these.
const (
	mmHeader        = 1  // ETHTOOL_A_MM_HEADER: nest
	mmPMACEnabled   = 2  // u8
	mmTxEnabled     = 3  // u8
	mmTxActive      = 4  // u8
	mmTxMinFragSize = 5  // u32
	mmRxMinFragSize = 6  // u32
	mmVerifyEnabled = 7  // u8
	mmVerifyStatus  = 8  // u8
	mmVerifyTime    = 9  // u32, ms
	mmMaxVerifyTime = 10 // u32, ms
)

// VerifyStatus is the state of the MAC merge layer's verification of the link partner
// (ETHTOOL_MM_VERIFY_STATUS_*), as ethtool --show-mm prints it.
type VerifyStatus uint8

// Verification states.
const (
	VerifyUnknown VerifyStatus = iota
	VerifyInitial
	VerifyVerifying
	VerifySucceeded
	VerifyFailed
	VerifyDisabled
)

func (v VerifyStatus) String() string {
	if int(v) < len(verifyNames) {
		return verifyNames[v]
	}
	return fmt.Sprintf("status %d", uint8(v))
}

var verifyNames = []string{"UNKNOWN", "INITIAL", "VERIFYING", "SUCCEEDED", "FAILED", "DISABLED"}

// MACMerge is an interface's MAC merge layer, in ethtool --show-mm's words.
type MACMerge struct {
	PMACEnabled, TxEnabled, TxActive, VerifyEnabled bool
	// TxMinFragSize and RxMinFragSize are the smallest fragments, in bytes (60, 124, 188 or 252).
	TxMinFragSize, RxMinFragSize uint32
	VerifyStatus                 VerifyStatus
	// VerifyTime and MaxVerifyTime are in ms.
	VerifyTime, MaxVerifyTime uint32
}

// MACMerge reads ifname's MAC merge layer. A NIC without one answers EOPNOTSUPP
// (errors.Is(err, unix.EOPNOTSUPP)): "not supported", as check reports it.
func (e *Ethtool) MACMerge(ifname string) (MACMerge, error) {
	msgs, err := e.request("read the MAC merge layer of", unix.ETHTOOL_MSG_MM_GET, mmHeader, ifname, 0, nil)
	if err != nil {
		return MACMerge{}, err
	}
	if len(msgs) != 1 {
		return MACMerge{}, fmt.Errorf("ethtool mm %s: %d replies", ifname, len(msgs))
	}
	ad, err := netlink.NewAttributeDecoder(msgs[0].Data)
	if err != nil {
		return MACMerge{}, err
	}
	var m MACMerge
	for ad.Next() {
		switch ad.Type() {
		case mmPMACEnabled:
			m.PMACEnabled = ad.Uint8() != 0
		case mmTxEnabled:
			m.TxEnabled = ad.Uint8() != 0
		case mmTxActive:
			m.TxActive = ad.Uint8() != 0
		case mmVerifyEnabled:
			m.VerifyEnabled = ad.Uint8() != 0
		case mmTxMinFragSize:
			m.TxMinFragSize = ad.Uint32()
		case mmRxMinFragSize:
			m.RxMinFragSize = ad.Uint32()
		case mmVerifyStatus:
			m.VerifyStatus = VerifyStatus(ad.Uint8())
		case mmVerifyTime:
			m.VerifyTime = ad.Uint32()
		case mmMaxVerifyTime:
			m.MaxVerifyTime = ad.Uint32()
		}
	}
	return m, ad.Err()
}

// MACMergeUpdate is a change of the MAC merge layer (ethtool --set-mm); nil fields are left alone.
type MACMergeUpdate struct {
	PMACEnabled, TxEnabled, VerifyEnabled *bool
	// VerifyTime is in ms (1-128, at most the NIC's maximum); TxMinFragSize in bytes (60-252).
	VerifyTime, TxMinFragSize *uint32
}

func (u MACMergeUpdate) encode(ae *netlink.AttributeEncoder) {
	flag := func(typ uint16, p *bool) {
		if p != nil {
			v := uint8(0)
			if *p {
				v = 1
			}
			ae.Uint8(typ, v)
		}
	}
	flag(mmVerifyEnabled, u.VerifyEnabled)
	if u.VerifyTime != nil {
		ae.Uint32(mmVerifyTime, *u.VerifyTime)
	}
	flag(mmTxEnabled, u.TxEnabled)
	flag(mmPMACEnabled, u.PMACEnabled)
	if u.TxMinFragSize != nil {
		ae.Uint32(mmTxMinFragSize, *u.TxMinFragSize)
	}
}

// SetMACMerge changes ifname's MAC merge layer. The kernel checks the values against its policy
// first (verify-time 1-128 ms, tx-min-frag-size 60-252 bytes: "integer out of range", with the
// attribute's offset), then asks the driver: a NIC without a MAC merge layer answers EOPNOTSUPP.
func (e *Ethtool) SetMACMerge(ifname string, u MACMergeUpdate) error {
	_, err := e.request("set the MAC merge layer of", unix.ETHTOOL_MSG_MM_SET, mmHeader, ifname, netlink.Acknowledge, u.encode)
	return err
}

// PHCIndex returns the index of ifname's PTP hardware clock (/dev/ptpN), or -1 when the NIC has
// none (ethtool -T's "PTP Hardware Clock: none"), from ethtool netlink's TSINFO in the
// connection's network namespace.
func (e *Ethtool) PHCIndex(ifname string) (int, error) {
	msgs, err := e.request("read the timestamping of", unix.ETHTOOL_MSG_TSINFO_GET, unix.ETHTOOL_A_TSINFO_HEADER, ifname, 0, nil)
	if err != nil {
		return -1, err
	}
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data)
		if err != nil {
			return -1, err
		}
		for ad.Next() {
			if ad.Type() == unix.ETHTOOL_A_TSINFO_PHC_INDEX {
				return int(ad.Uint32()), nil
			}
		}
	}
	return -1, nil
}
