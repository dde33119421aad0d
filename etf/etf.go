// Package etf encodes and decodes the netlink options (TCA_OPTIONS) of the etf qdisc ("earliest
// txtime first"), which releases each packet at the SO_TXTIME launch time its socket gave it.
// Layout from <linux/pkt_sched.h>: TCA_ETF_PARMS carrying struct tc_etf_qopt.
package etf

import (
	"encoding/binary"
	"fmt"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/clock"
)

// Kind is the qdisc kind string.
const Kind = "etf"

const (
	attrParms = 1 // TCA_ETF_PARMS: struct tc_etf_qopt { s32 delta; s32 clockid; u32 flags; }
	qoptLen   = 12

	flagDeadlineMode  = 1 << 0 // TC_ETF_DEADLINE_MODE_ON
	flagOffload       = 1 << 1 // TC_ETF_OFFLOAD_ON
	flagSkipSockCheck = 1 << 2 // TC_ETF_SKIP_SOCK_CHECK
)

// Options is an etf qdisc's configuration.
type Options struct {
	// Delta is how long before a packet's txtime ETF hands it to the NIC, in ns.
	Delta   int32
	ClockID clock.ID
	// DeadlineMode sends each packet as soon as possible, its txtime being a deadline.
	DeadlineMode bool
	// Offload asks the NIC to launch packets at their txtime (launch time / LaunchTime offload).
	Offload bool
	// SkipSockCheck accepts packets from sockets without SO_TXTIME (needed under taprio
	// txtime-assist, which sets the txtime itself).
	SkipSockCheck bool
}

// MarshalBinary encodes the options as the kernel takes them in RTM_NEWQDISC.
func (o *Options) MarshalBinary() ([]byte, error) {
	b := make([]byte, qoptLen)
	binary.NativeEndian.PutUint32(b[0:], uint32(o.Delta))
	binary.NativeEndian.PutUint32(b[4:], uint32(o.ClockID))
	var f uint32
	if o.DeadlineMode {
		f |= flagDeadlineMode
	}
	if o.Offload {
		f |= flagOffload
	}
	if o.SkipSockCheck {
		f |= flagSkipSockCheck
	}
	binary.NativeEndian.PutUint32(b[8:], f)
	ae := netlink.NewAttributeEncoder()
	ae.Bytes(attrParms, b)
	return ae.Encode()
}

// UnmarshalBinary decodes the options of an etf qdisc as the kernel dumps them.
func (o *Options) UnmarshalBinary(b []byte) error {
	*o = Options{}
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return fmt.Errorf("etf: %w", err)
	}
	found := false
	for ad.Next() {
		if ad.Type() != attrParms {
			continue
		}
		p := ad.Bytes()
		if len(p) < qoptLen {
			return fmt.Errorf("etf: parameters are %d bytes, want %d", len(p), qoptLen)
		}
		found = true
		o.Delta = int32(binary.NativeEndian.Uint32(p[0:]))
		o.ClockID = clock.ID(int32(binary.NativeEndian.Uint32(p[4:])))
		f := binary.NativeEndian.Uint32(p[8:])
		o.DeadlineMode = f&flagDeadlineMode != 0
		o.Offload = f&flagOffload != 0
		o.SkipSockCheck = f&flagSkipSockCheck != 0
	}
	if err := ad.Err(); err != nil {
		return fmt.Errorf("etf: %w", err)
	}
	if !found {
		return fmt.Errorf("etf: no TCA_ETF_PARMS in the options")
	}
	return nil
}
