package cbs

import (
	"fmt"
	"math/big"
)

// MaxClasses is how many credit-based classes Derive computes credits for: IEEE 802.1Q's Annex L
// gives the formulas for the two stream reservation classes, A and B.
const MaxClasses = 2

// MaxReservedPercent is the share of a port's rate that 802.1Q lets the credit-based classes
// reserve together by default (the FQTSS MIB's deltaBandwidth: 75 % for the highest class, 0 for
// the next, cumulative).
const MaxReservedPercent = 75

// Class is what 802.1Q's formulas need of one credit-based class.
type Class struct {
	// IdleSlope is the bandwidth reserved for the class, in kbit/s.
	IdleSlope int64
	// MaxFrame is the class's largest frame in byte times on the wire: from the preamble to the
	// end of the inter-frame gap (a 1522-byte tagged frame is 1542), as Annex L counts.
	MaxFrame int64
}

// Derive computes a port's credit-based shapers from their reservations, with IEEE 802.1Q-2018
// Annex L's formulas, the classes given highest priority first (class A, then class B).
// portKbps is the port's transmit rate as the shaper sees it (software cbs: the link speed
// ethtool reports, 10 Mb/s when it reports none); maxInterference is the largest frame, in byte
// times on the wire, of a lower-priority class that can hold class A up (a best-effort frame:
// 1542).
//
//	sendslope = idleslope - portTransmitRate
//	hicredit A = maxInterferenceSize × idleslope A / portTransmitRate                    (L-10)
//	hicredit B = idleslope B × (maxInterferenceSize / (portTransmitRate - idleslope A)
//	                            + maxFrameSize A / portTransmitRate)                     (L-3, L-16)
//	locredit  = maxFrameSize × sendslope / portTransmitRate                             (L-2, L-12)
//
// hicredit is rounded up and locredit down (further from zero), so that neither bound cuts off
// credit a class can reach: a clamp would hand it bandwidth it did not earn (locredit) or take away
// what it did (hicredit). These are the figures of Avnu/tsn-doc's calc-cbs-params.py.
func Derive(portKbps, maxInterference int64, classes ...Class) ([]Options, error) {
	switch {
	case len(classes) > MaxClasses:
		return nil, fmt.Errorf("802.1Q gives credit formulas for %d classes (A and B), not %d: give the others' sendslope, hicredit and locredit", MaxClasses, len(classes))
	case portKbps <= 0:
		return nil, fmt.Errorf("the port's rate is %d kbit/s: it must be positive", portKbps)
	case maxInterference <= 0:
		return nil, fmt.Errorf("the largest interfering frame is %d bytes: it must be positive", maxInterference)
	}
	var out []Options
	var reserved int64 // the higher classes' idleslope
	for i, c := range classes {
		fail := func(format string, a ...any) ([]Options, error) {
			return nil, &ClassError{Class: i, Msg: fmt.Sprintf(format, a...)}
		}
		switch {
		case c.IdleSlope <= 0:
			return fail("idleslope %d kbit/s: it must be positive", c.IdleSlope)
		case reserved+c.IdleSlope >= portKbps:
			return fail("idleslope %d kbit/s (with the classes above it, %d) is not below the port's rate of %d kbit/s", c.IdleSlope, reserved+c.IdleSlope, portKbps)
		case c.MaxFrame <= 0:
			return fail("the largest frame is %d bytes: it must be positive", c.MaxFrame)
		}
		r := big.NewRat(portKbps, 1)
		// hicredit = idleslope × (maxInterference / (R − reserved) + Σ higher classes' frames / R);
		// for class A (nothing reserved above it) that is idleslope × maxInterference / R.
		hi := new(big.Rat).SetFrac64(maxInterference, portKbps-reserved)
		for _, h := range classes[:i] {
			hi.Add(hi, new(big.Rat).Quo(big.NewRat(h.MaxFrame, 1), r))
		}
		hi.Mul(hi, big.NewRat(c.IdleSlope, 1))
		send := c.IdleSlope - portKbps
		lo := new(big.Rat).Quo(big.NewRat(send*c.MaxFrame, 1), r)
		o := Options{IdleSlope: int32(c.IdleSlope), SendSlope: int32(send)}
		var err error
		if o.HiCredit, err = int32Of(ceil(hi), "hicredit"); err != nil {
			return fail("%v", err)
		}
		if o.LoCredit, err = int32Of(floor(lo), "locredit"); err != nil {
			return fail("%v", err)
		}
		if int64(o.IdleSlope) != c.IdleSlope || int64(o.SendSlope) != send {
			return fail("idleslope %d or sendslope %d kbit/s does not fit the kernel's 32 bits", c.IdleSlope, send)
		}
		out = append(out, o)
		reserved += c.IdleSlope
	}
	return out, nil
}

// ClassError is Derive's refusal of one class (0: A, 1: B).
type ClassError struct {
	Class int
	Msg   string
}

func (e *ClassError) Error() string { return fmt.Sprintf("class %c: %s", 'A'+e.Class, e.Msg) }

func floor(x *big.Rat) *big.Int {
	q, _ := new(big.Int).DivMod(x.Num(), x.Denom(), new(big.Int)) // Euclidean (the denominator is positive): the floor
	return q
}

func ceil(x *big.Rat) *big.Int {
	return new(big.Int).Neg(floor(new(big.Rat).Neg(x)))
}

func int32Of(x *big.Int, what string) (int32, error) {
	if !x.IsInt64() || x.Int64() != int64(int32(x.Int64())) {
		return 0, fmt.Errorf("%s %s bytes does not fit the kernel's 32 bits", what, x)
	}
	return int32(x.Int64()), nil
}

// PortKbps is the rate the kernel's software cbs charges frames at for a link speed in Mb/s as
// ethtool reports it: 10 Mb/s when the speed is unknown (0 or less), as sch_cbs.c assumes.
func PortKbps(speedMbps int) int64 {
	if speedMbps <= 0 {
		speedMbps = 10
	}
	return int64(speedMbps) * 1000
}
