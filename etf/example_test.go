package etf_test

import (
	"fmt"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/etf"
)

// The seed's ETF qdisc (configs/seed.yaml: CLOCK_TAI, delta 5 ms, launch-time offload), encoded as
// the TCA_OPTIONS of an RTM_NEWQDISC: one TCA_ETF_PARMS attribute carrying struct tc_etf_qopt
// {delta, clockid, flags}, in the machine's byte order (little-endian here).
func Example() {
	o := etf.Options{Delta: int32(5 * time.Millisecond), ClockID: clock.TAI, Offload: true}
	b, err := o.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("nlattr % x\n", b[:4])
	fmt.Printf("delta % x, clockid % x, flags % x\n", b[4:8], b[8:12], b[12:16])

	var got etf.Options
	if err := got.UnmarshalBinary(b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("delta %v, clock %v, offload %v, deadline mode %v\n", time.Duration(got.Delta), got.ClockID, got.Offload, got.DeadlineMode)
	// Output:
	// nlattr 10 00 01 00
	// delta 40 4b 4c 00, clockid 0b 00 00 00, flags 02 00 00 00
	// delta 5ms, clock CLOCK_TAI, offload true, deadline mode false
}

// Options that are not an ETF qdisc's are refused with what is missing.
func ExampleOptions_UnmarshalBinary_notETF() {
	var o etf.Options
	err := o.UnmarshalBinary([]byte{8, 0, 2, 0, 0, 0, 0, 0}) // one attribute, but not TCA_ETF_PARMS
	fmt.Println(err)
	// Output:
	// etf: no TCA_ETF_PARMS in the options
}
