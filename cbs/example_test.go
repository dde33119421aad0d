package cbs_test

import (
	"fmt"

	"github.com/tsnctl/tsnctl/cbs"
)

// Class A of Avnu/tsn-doc's worked example, encoded as the TCA_OPTIONS of an RTM_NEWQDISC: one
// TCA_CBS_PARMS attribute carrying struct tc_cbs_qopt {offload, pad, hicredit, locredit,
// idleslope, sendslope}, in the machine's byte order (little-endian here); `tc qdisc replace …
// cbs idleslope 98688 sendslope -901312 hicredit 153 locredit -1389 offload 1` sends the same.
func Example() {
	o := cbs.Options{IdleSlope: 98688, SendSlope: -901312, HiCredit: 153, LoCredit: -1389, Offload: true}
	b, err := o.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("nlattr % x\n", b[:4])
	fmt.Printf("offload % x, hicredit % x, locredit % x\n", b[4:8], b[8:12], b[12:16])
	fmt.Printf("idleslope % x, sendslope % x\n", b[16:20], b[20:24])
	// Output:
	// nlattr 18 00 01 00
	// offload 01 00 00 00, hicredit 99 00 00 00, locredit 93 fa ff ff
	// idleslope 80 81 01 00, sendslope 40 3f f2 ff
}

// Credits from reservations: 20 Mbit/s for class A on a 1 Gb/s port whose largest frames, the
// class's and the best effort's, are 1522-byte tagged frames (1542 byte times with preamble and
// inter-frame gap).
func ExampleDerive() {
	os, err := cbs.Derive(cbs.PortKbps(1000), 1542, cbs.Class{IdleSlope: 20000, MaxFrame: 1542})
	if err != nil {
		fmt.Println(err)
		return
	}
	o := os[0]
	fmt.Printf("idleslope %d sendslope %d hicredit %d locredit %d\n", o.IdleSlope, o.SendSlope, o.HiCredit, o.LoCredit)
	// Output:
	// idleslope 20000 sendslope -980000 hicredit 31 locredit -1512
}
