package sender

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/qdisc/tree"
	"github.com/tsnctl/tsnctl/taprio"
)

// FromQdisc reads the taprio installed on iface (in network namespace netns) and returns the
// timing of a stream of socket priority prio (see FromSchedule: cycle and window may be zero) with
// the check of its txtimes against the installed windows, and the software ETF the stream goes
// through, if any (nil otherwise).
func FromQdisc(netns, iface string, prio int, cycle int64, window [2]int64) (Timing, *WindowCheck, *SoftwareETF, error) {
	installed, err := readInstalled(netns, iface)
	if err != nil {
		return Timing{}, nil, nil, err
	}
	t, tc, err := FromSchedule(installed.Taprio, iface, prio, cycle, window)
	if err != nil {
		return Timing{}, nil, nil, err
	}
	check := NewWindowCheck(installed.Taprio, tc)
	return t, &check, softwareETF(installed.Taprio, installed.ETF, tc), nil
}

// InstalledCheck reads the taprio installed on iface (in netns) and returns the check of txtimes
// against the windows of the class priority prio maps to (send --stream checks a planned stream
// against the schedule apply installed, as --from-qdisc does).
func InstalledCheck(netns, iface string, prio int) (*WindowCheck, error) {
	installed, err := readInstalled(netns, iface)
	var pe *param.Error
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %s", iface, pe.Msg) // the interface is the plan's, not --from-qdisc's
	}
	if err != nil {
		return nil, err
	}
	o := installed.Taprio
	if prio < 0 || prio > 15 || len(taprio.Windows(o.Schedule.Entries, int(o.Map[prio]))) == 0 {
		return nil, fmt.Errorf("priority %d has no open window in the taprio on %s", prio, iface)
	}
	check := NewWindowCheck(o, int(o.Map[prio]))
	return &check, nil
}

// readInstalled reads iface's qdiscs; an error when it has no taprio.
func readInstalled(netns, iface string) (tree.Tree, error) {
	var qs []qdisc.Qdisc
	err := nsexec.Do(netns, func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return fmt.Errorf("no such interface (ip link show): %w", err)
		}
		c, err := qdisc.Dial(0)
		if err != nil {
			return err
		}
		defer c.Close()
		qs, err = c.List(ifi.Index)
		return err
	})
	if err != nil {
		return tree.Tree{}, param.Errorf("from-qdisc", iface, "%w", err)
	}
	installed, err := tree.Decode(qs)
	if err != nil {
		return tree.Tree{}, param.Errorf("from-qdisc", iface, "%w", err)
	}
	if installed.Taprio == nil {
		return tree.Tree{}, param.Errorf("from-qdisc", iface, "no taprio qdisc is installed there (tsnctl show --iface %s)", iface)
	}
	return installed, nil
}

// SoftwareETF is an ETF without launch-time offload on a TX queue of the stream's traffic class,
// under a software-mode taprio: it releases each packet at txtime − Delta, and the taprio's gate
// must be open then.
type SoftwareETF struct {
	Queue int
	Delta int64
}

// softwareETF finds the largest-delta software ETF on the queues of class tc.
func softwareETF(o *taprio.Options, etfs map[int]etf.Options, tc int) *SoftwareETF {
	if o.Mode != taprio.Software || tc >= len(o.Queues) {
		return nil
	}
	var found *SoftwareETF
	q := o.Queues[tc]
	for i := int(q.Offset); i < int(q.Offset)+int(q.Count); i++ {
		if e, ok := etfs[i]; ok && !e.Offload && (found == nil || int64(e.Delta) > found.Delta) {
			found = &SoftwareETF{Queue: i, Delta: int64(e.Delta)}
		}
	}
	return found
}

// EarlyRelease says, when ETF would release t's packets before their window opens (delta longer
// than the offset in the window), what happens then; "" when it does not. The software taprio
// holds such a packet until its gate opens; in the lab's Linux 6.12 most of them then left after
// their txtime, and ETF dropped them (40-90 % of a stream, with the iperf3 load on the CPU).
func (e *SoftwareETF) EarlyRelease(t Timing, iface string) string {
	if e == nil || !t.Txtime || e.Delta <= t.Offset {
		return ""
	}
	return fmt.Sprintf("the ETF on TX queue %d of %s (no offload) has delta %v, longer than --offset %v: it releases each packet %v before "+
		"its window opens, and the software taprio holds it until the gate opens; in Linux 6.12 most such packets then missed their txtime "+
		"and were dropped. Use an ETF delta below the offset (tsnctl calibrate delta measures the path it must cover) or a larger --offset",
		e.Queue, iface, time.Duration(e.Delta), time.Duration(t.Offset), time.Duration(e.Delta-t.Offset))
}
