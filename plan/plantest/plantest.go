// Package plantest generates random stream sets for the planner's tests: plan's property tests
// (TestRandomPlans) and the node package's lab test that applies random plans to a real kernel
// (node/plan_lab_test.go) draw from the same generator.
package plantest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/taprio"
)

// RandomSet is a random stream set on interface iface, as a configuration file's text: 1 to 6
// streams with periods from a small set (250 us to 2 ms, so that hyperperiods stay short), random
// offsets, deadlines, frame counts and sizes, VLANs 1-3 and PCPs 1-7, and random planning inputs
// (the mode, drawn from modes, or software when none is given; ETF delta, best effort's share,
// link speed). The same r gives the same sets.
func RandomSet(r *rand.Rand, iface string, modes ...taprio.Mode) string {
	periods := []time.Duration{250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond}
	mode := taprio.Software
	if len(modes) > 0 {
		mode = modes[r.IntN(len(modes))]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "interfaces:\n  - name: %s\n    channels: 4\n    plan: {mode: %s, etf-delta: %dns, best-effort: %d, speed: %d}\nstreams:\n",
		iface, mode, 10000+r.IntN(60000), r.IntN(40), []int{100, 1000, 2500}[r.IntN(3)])
	for i := range 1 + r.IntN(6) {
		p := periods[r.IntN(len(periods))]
		off := time.Duration(r.Int64N(int64(p) / 2))
		lat := time.Duration(5000 + r.Int64N(int64(p)-int64(off)-5000))
		fmt.Fprintf(&b, "  - {name: s%d, interface: %s, dest: 10.0.0.2:%d, vlan: %d, pcp: %d, period: %dns, frames: %d, size: %d, offset: %dns, max-latency: %dns}\n",
			i, iface, 7000+i, 1+r.IntN(3), 1+r.IntN(7), p, 1+r.IntN(3), configs.MinStreamSize+r.IntN(1500-configs.MinStreamSize+1), off, lat)
	}
	return b.String()
}
