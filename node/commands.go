package node

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"al.essio.dev/pkg/shellescape"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
)

// commands writes the iproute2/ethtool command equivalent to each step, for --dry-run. Every name
// (interface, VLAN, namespace) is shell-quoted where the shell would read it otherwise, so that a
// pasted command does what the step does and nothing else.
type commands struct{ netns string }

// quote quotes one word for a POSIX shell.
func quote(s string) string { return shellescape.Quote(s) }

func (c commands) tc(format string, args ...any) string {
	if c.netns != "" {
		return "tc -n " + quote(c.netns) + " " + fmt.Sprintf(format, args...)
	}
	return "tc " + fmt.Sprintf(format, args...)
}

func (c commands) ip(format string, args ...any) string {
	if c.netns != "" {
		return "ip -n " + quote(c.netns) + " " + fmt.Sprintf(format, args...)
	}
	return "ip " + fmt.Sprintf(format, args...)
}

func (c commands) ethtoolL(ifname string, u nic.ChannelsUpdate) string {
	s := "ethtool -L " + quote(ifname)
	if c.netns != "" {
		s = "ip netns exec " + quote(c.netns) + " " + s
	}
	for _, a := range []struct {
		n string
		v *uint32
	}{{"combined", u.Combined}, {"rx", u.Rx}, {"tx", u.Tx}} {
		if a.v != nil {
			s += fmt.Sprintf(" %s %d", a.n, *a.v)
		}
	}
	return s
}

// macMergeArgs are ethtool --set-mm's words for u.
func macMergeArgs(u nic.MACMergeUpdate) string {
	s := ""
	onoff := map[bool]string{true: "on", false: "off"}
	for _, f := range []struct {
		name string
		v    *bool
	}{{"pmac-enabled", u.PMACEnabled}, {"tx-enabled", u.TxEnabled}, {"verify-enabled", u.VerifyEnabled}} {
		if f.v != nil {
			s += " " + f.name + " " + onoff[*f.v]
		}
	}
	if u.VerifyTime != nil {
		s += fmt.Sprintf(" verify-time %d", *u.VerifyTime)
	}
	if u.TxMinFragSize != nil {
		s += fmt.Sprintf(" tx-min-frag-size %d", *u.TxMinFragSize)
	}
	return s
}

func macMergeWords(u nic.MACMergeUpdate) string { return strings.TrimSpace(macMergeArgs(u)) }

func (c commands) ethtoolSetMM(ifname string, u nic.MACMergeUpdate) string {
	s := "ethtool --set-mm " + quote(ifname) + macMergeArgs(u)
	if c.netns != "" {
		s = "ip netns exec " + quote(c.netns) + " " + s
	}
	return s
}

func qosMap(m map[uint32]uint32) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func vlanMaps(v VLAN) string {
	s := ""
	if len(v.Egress) > 0 {
		s += " egress-qos-map " + qosMap(v.Egress)
	}
	if len(v.Ingress) > 0 {
		s += " ingress-qos-map " + qosMap(v.Ingress)
	}
	return s
}

func (c commands) vlanAdd(parent string, v VLAN) string {
	return c.ip("link add link %s name %s type vlan id %d%s", quote(parent), quote(v.Name), v.ID, vlanMaps(v))
}

func (c commands) vlanSet(v VLAN) string {
	return c.ip("link set dev %s type vlan%s", quote(v.Name), vlanMaps(v))
}

func (c commands) mqprio(ifname string, m *Mqprio) string {
	o := m.Options
	var b strings.Builder
	fmt.Fprintf(&b, "qdisc replace dev %s parent root handle %x: mqprio num_tc %d map", quote(ifname), m.Handle, o.NumTC)
	for _, v := range o.Map {
		fmt.Fprintf(&b, " %d", v)
	}
	b.WriteString(" queues")
	for _, q := range o.Queues {
		fmt.Fprintf(&b, " %d@%d", q.Count, q.Offset)
	}
	fmt.Fprintf(&b, " hw %d", map[bool]int{true: 1, false: 0}[o.HW])
	if o.Mode != nil {
		fmt.Fprintf(&b, " mode %s", *o.Mode)
	}
	if o.Shaper != nil {
		fmt.Fprintf(&b, " shaper %s", *o.Shaper)
	}
	for _, r := range []struct {
		name  string
		rates []uint64
	}{{"min_rate", o.MinRate}, {"max_rate", o.MaxRate}} {
		if len(r.rates) > 0 {
			b.WriteString(" " + r.name)
			for _, v := range r.rates {
				fmt.Fprintf(&b, " %dbit", v*8)
			}
		}
	}
	return c.tc("%s", b.String())
}

func (c commands) taprio(ifname string, t *Taprio) string {
	o := t.Options
	var b strings.Builder
	fmt.Fprintf(&b, "qdisc replace dev %s parent root handle %x: taprio num_tc %d map", quote(ifname), t.Handle, o.NumTC)
	for _, m := range o.Map {
		fmt.Fprintf(&b, " %d", m)
	}
	b.WriteString(" queues")
	for _, q := range o.Queues {
		b.WriteString(" " + q.String())
	}
	fmt.Fprintf(&b, " base-time %d", o.Schedule.BaseTime)
	for _, e := range o.Schedule.Entries {
		fmt.Fprintf(&b, " sched-entry %s %02x %d", e.Cmd, e.Gates, e.Interval)
	}
	if o.Schedule.CycleTime != 0 {
		fmt.Fprintf(&b, " cycle-time %d", o.Schedule.CycleTime)
	}
	if o.Schedule.CycleTimeExtension != 0 {
		fmt.Fprintf(&b, " cycle-time-extension %d", o.Schedule.CycleTimeExtension)
	}
	if len(o.MaxSDU) > 0 {
		b.WriteString(" max-sdu")
		for _, s := range o.MaxSDU {
			fmt.Fprintf(&b, " %d", s)
		}
	}
	if o.Mode != taprio.Software {
		fmt.Fprintf(&b, " flags 0x%x", uint32(o.Mode))
	}
	if o.TxtimeDelay != 0 {
		fmt.Fprintf(&b, " txtime-delay %d", o.TxtimeDelay)
	}
	if o.ClockID != nil {
		fmt.Fprintf(&b, " clockid %s", *o.ClockID)
	}
	return c.tc("%s", b.String())
}

func (c commands) cbs(ifname string, handle uint16, q CBS) string {
	o := q.Options
	s := fmt.Sprintf("qdisc replace dev %s parent %s", quote(ifname), qdisc.FormatHandle(q.Parent(handle)))
	if q.Handle != 0 {
		s += " handle " + qdisc.FormatHandle(q.Handle)
	}
	s += fmt.Sprintf(" cbs idleslope %d sendslope %d hicredit %d locredit %d", o.IdleSlope, o.SendSlope, o.HiCredit, o.LoCredit)
	if o.Offload {
		s += " offload 1"
	}
	return c.tc("%s", s)
}

func (c commands) etf(ifname string, handle uint16, e ETF) string {
	return c.etfAt(ifname, qdisc.FormatHandle(e.Parent(handle)), e)
}

// etfAt is tc's command for an etf at parent (a class, or root).
func (c commands) etfAt(ifname, parent string, e ETF) string {
	o := e.Options
	s := fmt.Sprintf("qdisc replace dev %s parent %s", quote(ifname), parent)
	if e.Handle != 0 {
		s += " handle " + qdisc.FormatHandle(e.Handle)
	}
	s += fmt.Sprintf(" etf clockid %s delta %d", o.ClockID, o.Delta)
	if o.DeadlineMode {
		s += " deadline_mode"
	}
	if o.Offload {
		s += " offload"
	}
	if o.SkipSockCheck {
		s += " skip_sock_check"
	}
	return c.tc("%s", s)
}
