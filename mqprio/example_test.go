package mqprio_test

import (
	"fmt"

	"github.com/tsnctl/tsnctl/mqprio"
)

// configs/mqprio-cbs-etf.yaml's mqprio in software (hw 0): struct tc_mqprio_qopt {num_tc,
// prio_tc_map[16], hw, count[16], offset[16]}, padded to 84 bytes as tc sends it, and no
// attributes (the kernel refuses them with hw 0).
func Example() {
	o := mqprio.Options{NumTC: 4, Map: [16]uint8{3, 3, 1, 0, 3, 3, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3},
		Queues: []mqprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}, {Count: 1, Offset: 2}, {Count: 1, Offset: 3}}}
	b, err := o.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d bytes: num_tc %d, map % x, hw %d\n", len(b), b[0], b[1:17], b[17])
	fmt.Printf("count % x\noffset % x\n", b[18:26], b[50:58])
	var got mqprio.Options
	if err := got.UnmarshalBinary(b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.Queues)
	// Output:
	// 84 bytes: num_tc 4, map 03 03 01 00 03 03 02 03 03 03 03 03 03 03 03 03, hw 0
	// count 01 00 01 00 01 00 01 00
	// offset 00 00 01 00 02 00 03 00
	// [{1 0} {1 1} {1 2} {1 3}]
}
