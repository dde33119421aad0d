package sender

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/tsnctl/tsnctl/plan"
)

// FromPlan is the Config of a planned stream (tsnctl send --stream NAME -f FILE): what the plan
// says, and nothing else. Its period is the cycle, from base-time auto (the TAI epoch, as the
// plan's taprio with base-time: auto counts its cycles); the window is the plan's [open, close) in
// the period (open clamped at the period's start where the ETF delta reaches into the previous
// one), and the txtime is the plan's, so that Offset is the txtime's distance from the window's
// start; its frames go one wire time apart. SO_TXTIME is on (the plan puts an ETF under the
// stream's queue). Socket priority and, for a raw stream, the 802.1Q tag are the plan's; a UDP
// stream goes through the VLAN interface, whose egress map the plan wrote. The caller sets what
// the plan does not say: Count, Duration, the real-time settings, the log.
//
// A credit-shaped stream (a class) is sent in plain mode: its period's frames at once at its
// offset (Release), without SO_TXTIME (the plan puts a cbs, not an ETF, under its queue); its
// window runs from the offset to its bound.
func FromPlan(st plan.Stream) Config {
	r := st.Row
	var t Timing
	if r.Class != "" {
		t = Timing{Cycle: int64(r.Period), WindowStart: int64(r.Open), WindowEnd: int64(r.Close), PerCycle: st.FramesOrOne(), Release: int64(r.Txtime)}
	} else {
		start := max(r.Open, 0)
		t = Timing{Cycle: int64(r.Period), WindowStart: int64(start), WindowEnd: int64(r.Close), Offset: int64(r.Txtime - start),
			PerCycle: st.FramesOrOne(), Spacing: int64(r.Wire) / int64(st.FramesOrOne()), Txtime: true}
		// Woken before the ETF releases the frame (txtime − delta), with the default advance to spare.
		delta := int64(r.Txtime - r.Open)
		t.WakeAdvance = max(DefaultWakeAdvance(t.Cycle), delta+int64(100*time.Microsecond))
	}
	cfg := Config{Timing: t, Stream: st.ID, Iface: st.Iface, Priority: r.Priority, Size: st.Size, CPU: -1}
	if st.UDP() {
		cfg.Dest = st.Dest
	} else {
		cfg.Raw, cfg.VLAN, cfg.PCP = true, st.VLAN, uint8(r.PCP)
		cfg.DestMAC, _ = net.ParseMAC(st.Dest) // configs checked it
	}
	return cfg
}

// SelectStreams returns the streams of ss named in names, in the order of names: a name ss does
// not have, or one named twice, is refused with the names it has.
func SelectStreams(ss []plan.Stream, names []string, file string) ([]plan.Stream, error) {
	have := make([]string, len(ss))
	for i, st := range ss {
		have[i] = st.Name
	}
	slices.Sort(have)
	var out []plan.Stream
	for i, n := range names {
		j := slices.IndexFunc(ss, func(st plan.Stream) bool { return st.Name == n })
		switch {
		case len(ss) == 0:
			return nil, fmt.Errorf("--stream %s: %s has no streams: section", n, file)
		case j < 0:
			return nil, fmt.Errorf("--stream %q: %s has no stream of this name; its streams: %s", n, file, strings.Join(have, ", "))
		case slices.Contains(names[:i], n):
			return nil, fmt.Errorf("--stream %s: named twice", n)
		}
		out = append(out, ss[j])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-f %s: give --stream NAME[,NAME...], the streams to send; its streams: %s", file, strings.Join(have, ", "))
	}
	return out, nil
}
