// Package sender is tsnctl's cyclic sender: a stream of packets, one (or a few) per cycle, each
// planned inside a transmit window and optionally launched by ETF at its SO_TXTIME; or several
// such streams, their cycles merged into one timeline, from the same loop.
//
// timing.go and timeline.go are the pure schedule arithmetic; send.go is the socket loop;
// planned.go makes a planned stream's Config (tsnctl send --stream NAME -f FILE).
package sender

import (
	"fmt"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/taprio"
)

// Timing is when packets go: cycle k starts at BaseTime + k*Cycle (TAI ns); its i-th packet's
// txtime is CycleStart(k) + WindowStart + Offset + i*Spacing.
type Timing struct {
	BaseTime    int64
	Cycle       int64
	WindowStart int64 // offset of the transmit window in the cycle
	WindowEnd   int64
	Offset      int64 // of the first packet in the window
	PerCycle    int
	Spacing     int64
	// Txtime: SO_TXTIME mode, waking WakeAdvance before the first txtime. Otherwise (plain mode,
	// the seed's case 1) the sender wakes at the cycle start and sends at once.
	Txtime      bool
	WakeAdvance int64
	// Release is when in the cycle a plain-mode sender wakes and sends (0: at the cycle's start):
	// a credit-shaped stream's offset.
	Release int64
}

// maxCycle is the longest cycle a sender takes (taprio's own intervals are at most 4.29 s).
const maxCycle = int64(10 * time.Second)

// The seed's stream: a 2 ms cycle, the window 1200-1300 us, the txtime 50 us into it, woken
// 500 us before. The defaults for what a user does not give are derived from it so that they fit
// what the user gives (DefaultWindow, DefaultOffset, DefaultWakeAdvance).
const (
	SeedCycle       = int64(2 * time.Millisecond)
	SeedOffset      = int64(50 * time.Microsecond)
	SeedWakeAdvance = int64(500 * time.Microsecond)
)

// DefaultWindow is the transmit window of a cycle when none is given: where the seed's is in its
// cycle, from 60 % to 65 % of it (1200-1300 us of 2 ms).
func DefaultWindow(cycle int64) (start, end int64) {
	return cycle/5*3 + cycle%5*3/5, cycle/20*13 + cycle%20*13/20
}

// DefaultOffset is the txtime's offset in the window [start, end) when none is given: the seed's
// 50 us, or half the window if that is shorter than 100 us.
func DefaultOffset(start, end int64) int64 { return max(0, min(SeedOffset, (end-start)/2)) }

// DefaultWakeAdvance is the wake-up advance when none is given: the seed's 500 us, or a quarter of
// the cycle if that is shorter than 2 ms.
func DefaultWakeAdvance(cycle int64) int64 { return max(1, min(SeedWakeAdvance, cycle/4)) }

// Validate checks the timing, naming the parameter to fix (param.Error).
func (t Timing) Validate() error {
	switch {
	case t.Cycle <= 0:
		return param.Errorf("cycle", time.Duration(t.Cycle), "must be positive, e.g. 2ms")
	case t.PerCycle < 1 || t.PerCycle > 10000:
		return param.Errorf("per-cycle", t.PerCycle, "from 1 to 10000")
	case t.WindowStart < 0 || t.WindowEnd <= t.WindowStart || t.WindowEnd > t.Cycle:
		return param.Errorf("window", fmt.Sprintf("%v,%v", time.Duration(t.WindowStart), time.Duration(t.WindowEnd)),
			"the window must lie inside the %v cycle (0 <= start < end <= cycle)", time.Duration(t.Cycle))
	case t.Cycle > maxCycle:
		return param.Errorf("cycle", time.Duration(t.Cycle), "at most %v", time.Duration(maxCycle))
	case t.Spacing < 0:
		return param.Errorf("spacing", time.Duration(t.Spacing), "must not be negative")
	case t.Release < 0 || t.Release >= t.Cycle || t.Txtime && t.Release != 0:
		return param.Errorf("offset", time.Duration(t.Release), "a plain sender's release must lie inside the %v cycle (and a txtime sender has none)", time.Duration(t.Cycle))
	case t.Offset < 0 || t.Offset >= t.WindowEnd-t.WindowStart ||
		t.PerCycle > 1 && t.Spacing > (t.WindowEnd-t.WindowStart-t.Offset-1)/int64(t.PerCycle-1):
		return param.Errorf("offset", fmt.Sprintf("%v (with %d packets %v apart)", time.Duration(t.Offset), t.PerCycle, time.Duration(t.Spacing)),
			"the txtimes must fall inside the window %v..%v", time.Duration(t.WindowStart), time.Duration(t.WindowEnd))
	case t.Txtime && t.WakeAdvance <= 0:
		return param.Errorf("wake-advance", time.Duration(t.WakeAdvance), "in txtime mode the sender must wake before the txtime (e.g. 500us, more than the ETF delta)")
	case t.Txtime && t.WakeAdvance > t.WindowStart+t.Offset+t.Cycle:
		return param.Errorf("wake-advance", time.Duration(t.WakeAdvance), "longer than a cycle")
	}
	return nil
}

// CycleStart returns the start of cycle k.
func (t Timing) CycleStart(k int64) int64 { return t.BaseTime + k*t.Cycle }

// TxtimeOf returns the planned txtime of packet i of cycle k.
func (t Timing) TxtimeOf(k int64, i int) int64 {
	return t.CycleStart(k) + t.WindowStart + t.Offset + int64(i)*t.Spacing
}

// Wake returns when the sender wakes for cycle k.
func (t Timing) Wake(k int64) int64 {
	if t.Txtime {
		return t.TxtimeOf(k, 0) - t.WakeAdvance
	}
	return t.CycleStart(k) + t.Release
}

// FirstCycle returns the first cycle whose wake-up is at least lead after now.
func (t Timing) FirstCycle(now, lead int64) int64 {
	k := (now + lead - t.Wake(0)) / t.Cycle
	for t.Wake(k) < now+lead {
		k++
	}
	for k > 0 && t.Wake(k-1) >= now+lead {
		k--
	}
	return k
}

// Next returns the cycle to wake for after cycle k, at time now: k+1, or, when that wake-up has
// already passed (the loop overran: a late wake-up or a slow send), the first cycle whose
// wake-up is still ahead. A missed cycle's packets would leave after their window (or, with
// txtime, be dropped by ETF), so they are not sent; cyclictest skips missed intervals the same
// way, so that one stall counts as one late wake-up, not as one per cycle it spans.
func (t Timing) Next(k, now int64) (next, skipped int64) {
	next = max(k+1, t.FirstCycle(now, 1))
	return next, next - k - 1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// FromSchedule derives the timing of a stream of socket priority prio from an installed taprio:
// its base-time, and a cycle and window for the traffic class prio maps to. cycle 0 takes the
// taprio's cycle, otherwise it must be a whole multiple of it (the seed sends every 2 ms through a
// 1 ms schedule), so that every sender cycle meets the gates at the same phase. A zero window
// (end 0) takes the class's first window; otherwise [start, end) must lie inside one of the
// class's open windows as they repeat over the sender's cycle (the seed's 1200-1300 us is TC 1's
// window in the second taprio cycle).
func FromSchedule(o *taprio.Options, iface string, prio int, cycle int64, window [2]int64) (Timing, int, error) {
	if prio < 0 || prio > 15 {
		return Timing{}, 0, param.Errorf("priority", prio, "taprio maps priorities 0-15; give {priority} with {from-qdisc}")
	}
	tc := int(o.Map[prio])
	ws := taprio.Windows(o.Schedule.Entries, tc)
	if len(ws) == 0 {
		return Timing{}, tc, param.Errorf("priority", prio, "maps to traffic class %d, which never has an open gate in the schedule installed on %s: "+
			"its packets would wait forever; pick a priority whose class has a window (tsnctl show --iface %s)", tc, iface, iface)
	}
	qcycle := o.Schedule.Cycle()
	if cycle == 0 {
		cycle = qcycle
	}
	if cycle < 0 || qcycle <= 0 || cycle%qcycle != 0 {
		return Timing{}, tc, param.Errorf("cycle", time.Duration(cycle), "not a whole multiple of the %v cycle of the taprio on %s, so the sender's cycles would drift "+
			"against the gates; use %v, %v, ...", time.Duration(qcycle), iface, time.Duration(qcycle), time.Duration(2*qcycle))
	}
	t := Timing{BaseTime: o.Schedule.BaseTime, Cycle: cycle}
	if window[1] == 0 {
		w := ws[0]
		t.WindowStart, t.WindowEnd = w.Offset, min(w.End(), qcycle) // a window wrapping into the next cycle: its part in this one
		return t, tc, nil
	}
	t.WindowStart, t.WindowEnd = window[0], window[1]
	check := NewWindowCheck(o, tc)
	if window[0] < 0 || window[1] <= window[0] || window[1] > cycle || !check.Covers(t.BaseTime+window[0], t.BaseTime+window[1]) {
		var open []string
		for r := int64(0); r < cycle/qcycle && len(open) < 16; r++ {
			for _, w := range ws {
				open = append(open, fmt.Sprintf("%v-%v", time.Duration(r*qcycle+w.Offset), time.Duration(r*qcycle+w.End())))
			}
		}
		return Timing{}, tc, param.Errorf("window", fmt.Sprintf("%v,%v", time.Duration(window[0]), time.Duration(window[1])),
			"not inside an open window of traffic class %d ({priority} %d) of the taprio on %s; in a %v cycle its windows are %s",
			tc, prio, iface, time.Duration(cycle), strings.Join(open, ", "))
	}
	return t, tc, nil
}

// WindowCheck tells whether a txtime falls inside an open window of one traffic class of an
// installed schedule: every planned txtime is checked against what the kernel has. Contains does
// not allocate.
type WindowCheck struct {
	base, cycle int64
	windows     []taprio.Window
}

// NewWindowCheck prepares the check for class tc of o.
func NewWindowCheck(o *taprio.Options, tc int) WindowCheck {
	return WindowCheck{base: o.Schedule.BaseTime, cycle: o.Schedule.Cycle(), windows: taprio.Windows(o.Schedule.Entries, tc)}
}

// Contains reports whether txtime is inside one of the class's windows.
func (c WindowCheck) Contains(txtime int64) bool {
	if c.cycle <= 0 {
		return false
	}
	in := floorMod(txtime-c.base, c.cycle)
	for _, w := range c.windows {
		if (in >= w.Offset && in < w.End()) || (w.End() > c.cycle && in < w.End()-c.cycle) {
			return true
		}
	}
	return false
}

// Covers reports whether all of [start, end) is inside one open window of the class.
func (c WindowCheck) Covers(start, end int64) bool {
	if c.cycle <= 0 || end <= start {
		return false
	}
	in := floorMod(start-c.base, c.cycle)
	for _, w := range c.windows {
		for _, off := range []int64{w.Offset, w.Offset - c.cycle} { // a wrapping window also opens at -cycle
			if in >= off && in < off+w.Length {
				return end-start <= off+w.Length-in
			}
		}
	}
	return false
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
