// Package etf encodes and decodes the netlink options (TCA_OPTIONS) of the etf qdisc ("earliest
// txtime first"), which releases each packet at the SO_TXTIME launch time its socket gave it.
// Layout from <linux/pkt_sched.h>: TCA_ETF_PARMS carrying struct tc_etf_qopt.
package etf

import (
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/internal/parms"
)

// Kind is the qdisc kind string.
const Kind = "etf"

const (
	attrParms = 1 // TCA_ETF_PARMS: struct tc_etf_qopt

	flagDeadlineMode  = 1 << 0 // TC_ETF_DEADLINE_MODE_ON
	flagOffload       = 1 << 1 // TC_ETF_OFFLOAD_ON
	flagSkipSockCheck = 1 << 2 // TC_ETF_SKIP_SOCK_CHECK
)

// qopt mirrors struct tc_etf_qopt field for field (12 bytes).
type qopt struct {
	Delta   int32
	ClockID int32
	Flags   uint32
}

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

func (o *Options) qopt() qopt {
	q := qopt{Delta: o.Delta, ClockID: int32(o.ClockID)}
	for _, f := range []struct {
		on  bool
		bit uint32
	}{{o.DeadlineMode, flagDeadlineMode}, {o.Offload, flagOffload}, {o.SkipSockCheck, flagSkipSockCheck}} {
		if f.on {
			q.Flags |= f.bit
		}
	}
	return q
}

func (o *Options) setQopt(q *qopt) {
	o.Delta, o.ClockID = q.Delta, clock.ID(q.ClockID)
	o.DeadlineMode = q.Flags&flagDeadlineMode != 0
	o.Offload = q.Flags&flagOffload != 0
	o.SkipSockCheck = q.Flags&flagSkipSockCheck != 0
}

// MarshalBinary encodes the options as the kernel takes them in RTM_NEWQDISC.
func (o *Options) MarshalBinary() ([]byte, error) {
	return parms.Encode(Kind, attrParms, o.qopt())
}

// UnmarshalBinary decodes the options of an etf qdisc as the kernel dumps them.
func (o *Options) UnmarshalBinary(b []byte) error {
	*o = Options{}
	var q qopt
	if err := parms.Decode(Kind, "TCA_ETF_PARMS", attrParms, b, &q); err != nil {
		return err
	}
	o.setQopt(&q)
	return nil
}
