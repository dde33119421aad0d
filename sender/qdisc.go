package sender

import (
	"fmt"

	"github.com/tsnctl/tsnctl/node"
)

// FromQdisc reads the taprio installed on iface (in network namespace netns) and returns the
// timing of a stream of socket priority prio (see FromSchedule: cycle and window may be zero) with
// the check of its txtimes against the installed windows.
func FromQdisc(netns, iface string, prio int, cycle int64, window [2]int64) (Timing, *WindowCheck, error) {
	sys, err := node.Open(netns)
	if err != nil {
		return Timing{}, nil, err
	}
	live, err := sys.Read(iface)
	sys.Close()
	if err != nil {
		return Timing{}, nil, fmt.Errorf("--from-qdisc: %w", err)
	}
	if live.Taprio == nil {
		return Timing{}, nil, fmt.Errorf("--from-qdisc %s: no taprio qdisc is installed there (tsnctl show --iface %s)", iface, iface)
	}
	t, tc, err := FromSchedule(live.Taprio, iface, prio, cycle, window)
	if err != nil {
		return Timing{}, nil, err
	}
	check := NewWindowCheck(live.Taprio, tc)
	return t, &check, nil
}
