// Package cbs encodes and decodes the netlink options (TCA_OPTIONS) of the cbs qdisc, Linux's
// credit-based shaper (IEEE 802.1Qav, 802.1Q clause 8.6.8.2), and derives its credits from a
// class's reservation (credits.go). Layout from <linux/pkt_sched.h>: TCA_CBS_PARMS carrying struct
// tc_cbs_qopt.
//
// github.com/florianl/go-tc has the same struct, but encodes it only inside its own rtnetlink
// transport; tsnctl's qdiscs go through package qdisc (one connection, the kernel's extended ACK in
// every error), so the 20 bytes are encoded here, checked against iproute2's recorded request.
package cbs

import "github.com/tsnctl/tsnctl/internal/parms"

// Kind is the qdisc kind string.
const Kind = "cbs"

const attrParms = 1 // TCA_CBS_PARMS: struct tc_cbs_qopt

// qopt mirrors struct tc_cbs_qopt field for field (20 bytes).
type qopt struct {
	Offload   uint8
	_         [3]uint8
	HiCredit  int32
	LoCredit  int32
	IdleSlope int32
	SendSlope int32
}

// Options is a cbs qdisc's configuration, in tc's units.
type Options struct {
	// IdleSlope is the rate at which the class earns credit while it waits, in kbit/s: the
	// bandwidth reserved for it.
	IdleSlope int32
	// SendSlope is the rate at which it spends credit while it sends, in kbit/s (negative):
	// IdleSlope minus the port's rate.
	SendSlope int32
	// HiCredit and LoCredit bound the credit, in bytes.
	HiCredit, LoCredit int32
	// Offload asks the NIC to shape (tc's offload 1).
	Offload bool
}

// MarshalBinary encodes the options as the kernel takes them in RTM_NEWQDISC.
func (o *Options) MarshalBinary() ([]byte, error) {
	q := qopt{HiCredit: o.HiCredit, LoCredit: o.LoCredit, IdleSlope: o.IdleSlope, SendSlope: o.SendSlope}
	if o.Offload {
		q.Offload = 1
	}
	return parms.Encode(Kind, attrParms, q)
}

// UnmarshalBinary decodes the options of a cbs qdisc as the kernel dumps them.
func (o *Options) UnmarshalBinary(b []byte) error {
	*o = Options{}
	var q qopt
	if err := parms.Decode(Kind, "TCA_CBS_PARMS", attrParms, b, &q); err != nil {
		return err
	}
	*o = Options{IdleSlope: q.IdleSlope, SendSlope: q.SendSlope, HiCredit: q.HiCredit, LoCredit: q.LoCredit, Offload: q.Offload != 0}
	return nil
}
