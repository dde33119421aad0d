package node

import (
	"fmt"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
)

// Action is what a step does.
type Action string

// Actions.
const (
	SetChannels Action = "set-channels"
	// SetMACMerge changes the NIC's MAC merge layer (ethtool --set-mm).
	SetMACMerge Action = "set-mac-merge"
	AddVLAN     Action = "add-vlan"
	ModifyVLAN  Action = "modify-vlan"
	DeleteRoot  Action = "delete-root"
	ReplaceRoot Action = "replace-root"
	// ChangeSchedule changes the running taprio's schedule in place (hitless): the kernel keeps the
	// old schedule operational until the new one's base-time, then switches; the root and its ETF
	// children stay.
	ChangeSchedule Action = "change-schedule"
	ReplaceETF     Action = "replace-etf"
	// ReplaceCBS installs a cbs on a TX queue: a new qdisc, grafted (a queue without one, or with
	// another kind of child).
	ReplaceCBS Action = "replace-cbs"
	// ChangeCBS changes a running cbs's parameters in place (the kernel's cbs has a change
	// operation): no graft, the queue's packets and the gates stay.
	ChangeCBS Action = "change-cbs"
	// RestartSchedule re-sends the root's own schedule as a change after ETF children were
	// grafted onto a software-mode taprio. Grafting a child stops such a taprio's gates: the
	// kernel's taprio_graft deactivates the device, taprio_reset cancels the timer that advances
	// the schedule, and nothing starts it again, so the gates freeze at the entry they were in
	// (or never start, if base-time was still ahead) and packets wait in closed classes forever.
	// A change starts the timer again; it keeps the schedule's phase (same base-time).
	RestartSchedule Action = "restart-schedule"
	DeleteVLAN      Action = "delete-vlan"
)

// Step is one change, with what it was before (for the diff) and the equivalent command.
type Step struct {
	Action  Action
	Iface   string
	Summary string // e.g. "channels combined 2 -> 4"
	Command string // the equivalent ethtool/ip/tc command

	Channels nic.ChannelsUpdate
	MACMerge nic.MACMergeUpdate
	VLAN     VLAN
	Taprio   *Taprio
	Mqprio   *Mqprio
	RootETF  *ETF
	ETF      ETF
	CBS      CBS
	Handle   uint16
}

// Plan lists the steps that take live to want, in the order they must run: channels, VLANs, the
// root taprio or mqprio (deleting an older root of tsnctl's first), then ETF and cbs children. An empty plan means the
// node already is as intended.
func Plan(want Iface, live *Live, netns string) []Step {
	var steps []Step
	cmd := commands{netns: netns}
	if u := ChannelTarget(want.Channels, live); !u.IsZero() {
		steps = append(steps, Step{Action: SetChannels, Iface: want.Name, Channels: u,
			Summary: "channels " + channelWords(live, u), Command: cmd.ethtoolL(want.Name, u)})
	}
	if u := MACMergeTarget(want.MACMerge, live.MM); u != nil {
		steps = append(steps, Step{Action: SetMACMerge, Iface: want.Name, MACMerge: *u,
			Summary: "MAC merge layer " + macMergeWords(*u), Command: cmd.ethtoolSetMM(want.Name, *u)})
	}
	for _, v := range want.VLANs {
		var cur *VLAN
		for i := range live.VLANs {
			if live.VLANs[i].ID == v.ID || live.VLANs[i].Name == v.Name {
				cur = &live.VLANs[i]
			}
		}
		switch {
		case cur == nil:
			steps = append(steps, Step{Action: AddVLAN, Iface: want.Name, VLAN: v, Summary: fmt.Sprintf("add VLAN %s (id %d)", v.Name, v.ID),
				Command: cmd.vlanAdd(want.Name, v)})
		case !VLANEqual(v, *cur):
			steps = append(steps, Step{Action: ModifyVLAN, Iface: want.Name, VLAN: v, Summary: fmt.Sprintf("change VLAN %s QoS maps", v.Name),
				Command: cmd.vlanSet(v)})
		}
	}
	rootChanged := false
	ours := live.Taprio != nil || live.Mqprio != nil || live.RootETF != nil // a root tsnctl configures: deleted before another is made
	if e := want.RootETF; e != nil && (live.RootETF == nil || !ETFEqual(*e, *live.RootETF)) {
		// ETF has no change operation: a new one under a handle not in use replaces it.
		r := *e
		r.Handle = etfHandle(0xFF, qdisc.Handle(live.RootETFHandle, 0))
		if live.Taprio != nil || live.Mqprio != nil {
			steps = append(steps, Step{Action: DeleteRoot, Iface: want.Name, Summary: "delete the old root (the file has an etf at the root)",
				Command: cmd.tc("qdisc del dev %s root", quote(want.Name))})
		}
		steps = append(steps, Step{Action: ReplaceRoot, Iface: want.Name, RootETF: &r,
			Summary: fmt.Sprintf("install etf %s at the root%s", qdisc.FormatHandle(r.Handle),
				map[bool]string{true: "; offload: auto, so without offload if the NIC refuses it", false: ""}[r.Offload == configs.OffloadAuto]),
			Command: cmd.etfAt(want.Name, "root", r)})
	}
	if want.Taprio != nil {
		if d := TaprioDiff(want.Taprio, live.Taprio, live.TaprioHandle); d != "" && ScheduleOnly(want.Taprio, live.Taprio, live.TaprioHandle) {
			steps = append(steps, Step{Action: ChangeSchedule, Iface: want.Name, Taprio: want.Taprio,
				Summary: fmt.Sprintf("change the schedule of taprio %x: in place (%s); the kernel switches to it at base-time %d, without interrupting traffic",
					want.Taprio.Handle, d, want.Taprio.Options.Schedule.BaseTime),
				Command: cmd.taprio(want.Name, want.Taprio)})
		} else if d != "" {
			rootChanged = true
			if ours {
				steps = append(steps, Step{Action: DeleteRoot, Iface: want.Name, Summary: "delete the old root (" + d + ")",
					Command: cmd.tc("qdisc del dev %s root", quote(want.Name))})
			}
			steps = append(steps, Step{Action: ReplaceRoot, Iface: want.Name, Taprio: want.Taprio,
				Summary: fmt.Sprintf("install taprio %x: (base-time %d)", want.Taprio.Handle, want.Taprio.Options.Schedule.BaseTime),
				Command: cmd.taprio(want.Name, want.Taprio)})
		}
	}
	if want.Mqprio != nil {
		// mqprio has no change operation: a different one is a new root.
		if d := MqprioDiff(want.Mqprio, live.Mqprio, live.MqprioHandle); d != "" {
			rootChanged = true
			if ours {
				steps = append(steps, Step{Action: DeleteRoot, Iface: want.Name, Summary: "delete the old root (" + d + ")",
					Command: cmd.tc("qdisc del dev %s root", quote(want.Name))})
			}
			steps = append(steps, Step{Action: ReplaceRoot, Iface: want.Name, Mqprio: want.Mqprio,
				Summary: fmt.Sprintf("install mqprio %x: (%d traffic classes)", want.Mqprio.Handle, want.Mqprio.Options.NumTC),
				Command: cmd.mqprio(want.Name, want.Mqprio)})
		}
	}
	if handle := want.RootHandle(); handle != 0 {
		grafted := false
		for _, e := range want.ETF {
			cur, ok := live.ETF[e.Queue]
			if rootChanged || !ok || !ETFEqual(e, cur) {
				var old uint32
				if c := live.Child(e.Parent(handle)); c != nil && !rootChanged {
					old = c.Handle
				}
				e.Handle = etfHandle(e.Queue, old)
				steps = append(steps, Step{Action: ReplaceETF, Iface: want.Name, ETF: e, Handle: handle,
					Summary: fmt.Sprintf("install etf on TX queue %d (parent %s)%s", e.Queue, qdisc.FormatHandle(e.Parent(handle)),
						map[bool]string{true: "; offload: auto, so without offload if the NIC refuses it", false: ""}[e.Offload == "auto"]),
					Command: cmd.etf(want.Name, handle, e)})
				grafted = true
			}
		}
		for _, c := range want.CBSAt(live.SpeedMbps) {
			cur, ok := live.CBS[c.Queue]
			if !rootChanged && ok && CBSEqual(c, cur) {
				continue
			}
			parent := c.Parent(handle)
			if child := live.Child(parent); child != nil && !rootChanged && ok {
				c.Handle = child.Handle
				steps = append(steps, Step{Action: ChangeCBS, Iface: want.Name, CBS: c, Handle: handle,
					Summary: fmt.Sprintf("change the cbs on TX queue %d in place (%s)", c.Queue, cbsWords(c.Options, cur)),
					Command: cmd.cbs(want.Name, handle, c)})
				continue
			}
			var old uint32
			if child := live.Child(parent); child != nil && !rootChanged {
				old = child.Handle
			}
			c.Handle = cbsHandle(c.Queue, old)
			steps = append(steps, Step{Action: ReplaceCBS, Iface: want.Name, CBS: c, Handle: handle,
				Summary: fmt.Sprintf("install cbs on TX queue %d (parent %s): idleslope %d kbit/s%s", c.Queue, qdisc.FormatHandle(parent), c.Options.IdleSlope,
					map[bool]string{true: "; offload: auto, so without offload if the NIC refuses it", false: ""}[c.Offload == configs.OffloadAuto]),
				Command: cmd.cbs(want.Name, handle, c)})
			grafted = true
		}
		if grafted && want.Taprio != nil && want.Taprio.Options.Mode == taprio.Software {
			steps = append(steps, Step{Action: RestartSchedule, Iface: want.Name, Taprio: want.Taprio,
				Summary: fmt.Sprintf("restart the gates of taprio %x: (grafting a child onto a software-mode taprio stops its schedule timer; the same schedule as a change starts it again)",
					want.Taprio.Handle),
				Command: cmd.taprio(want.Name, want.Taprio)})
		}
	}
	return steps
}

// ResetPlan lists the steps that remove what want configures: the root taprio or mqprio (when it
// is the file's handle) with its children, and the file's VLANs. Channels stay as they are.
func ResetPlan(want Iface, live *Live, netns string) []Step {
	var steps []Step
	cmd := commands{netns: netns}
	switch {
	case want.Taprio != nil && live.Taprio != nil && live.TaprioHandle == want.Taprio.Handle:
		steps = append(steps, Step{Action: DeleteRoot, Iface: want.Name, Summary: fmt.Sprintf("delete taprio %x: and its children", live.TaprioHandle),
			Command: cmd.tc("qdisc del dev %s root", quote(want.Name))})
	case want.RootETF != nil && live.RootETF != nil && live.RootETFHandle&0xF7FF == 0xE0FF:
		steps = append(steps, Step{Action: DeleteRoot, Iface: want.Name, Summary: fmt.Sprintf("delete etf %x: at the root", live.RootETFHandle),
			Command: cmd.tc("qdisc del dev %s root", quote(want.Name))})
	case want.Mqprio != nil && live.Mqprio != nil && live.MqprioHandle == want.Mqprio.Handle:
		steps = append(steps, Step{Action: DeleteRoot, Iface: want.Name, Summary: fmt.Sprintf("delete mqprio %x: and its children", live.MqprioHandle),
			Command: cmd.tc("qdisc del dev %s root", quote(want.Name))})
	}
	for _, v := range want.VLANs {
		for _, lv := range live.VLANs {
			if lv.Name == v.Name && lv.ID == v.ID {
				steps = append(steps, Step{Action: DeleteVLAN, Iface: want.Name, VLAN: lv, Summary: "delete VLAN " + lv.Name,
					Command: cmd.ip("link del dev %s", quote(lv.Name))})
			}
		}
	}
	return steps
}

func channelWords(live *Live, u nic.ChannelsUpdate) string {
	s := ""
	add := func(name string, old uint32, p *uint32) {
		if p != nil {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%s %d -> %d", name, old, *p)
		}
	}
	add("combined", live.Channels.Combined, u.Combined)
	add("rx", live.Channels.Rx, u.Rx)
	add("tx", live.Channels.Tx, u.Tx)
	return s
}

// etfHandle picks the handle of a new ETF on a queue: E0QQ:, or E8QQ: when the ETF being replaced
// has E0QQ:. The kernel only swaps a qdisc for one of the same kind when the new one has a handle
// that does not exist yet; with the old handle (or none) it would try to change it, which ETF
// refuses ("Change operation not supported").
func etfHandle(queue int, old uint32) uint32 {
	h := qdisc.Handle(uint16(0xE000+queue), 0)
	if old == h {
		h = qdisc.Handle(uint16(0xE800+queue), 0)
	}
	return h
}

// cbsHandle picks the handle of a new cbs on a queue: C0QQ:, or C8QQ: when the qdisc being
// replaced has C0QQ: (see etfHandle).
func cbsHandle(queue int, old uint32) uint32 {
	h := qdisc.Handle(uint16(0xC000+queue), 0)
	if old == h {
		h = qdisc.Handle(uint16(0xC800+queue), 0)
	}
	return h
}

func cbsWords(want, live cbs.Options) string {
	return fmt.Sprintf("idleslope %d sendslope %d hicredit %d locredit %d, was %d %d %d %d",
		want.IdleSlope, want.SendSlope, want.HiCredit, want.LoCredit, live.IdleSlope, live.SendSlope, live.HiCredit, live.LoCredit)
}

func encodeCBS(ifindex int, handle uint16, c CBS, o cbs.Options) (qdisc.Qdisc, error) {
	b, err := o.MarshalBinary()
	return qdisc.Qdisc{Ifindex: ifindex, Parent: c.Parent(handle), Handle: c.Handle, Kind: cbs.Kind, Options: b}, err
}

func encodeRootETF(ifindex int, e ETF, o etf.Options) (qdisc.Qdisc, error) {
	b, err := o.MarshalBinary()
	return qdisc.Qdisc{Ifindex: ifindex, Parent: qdisc.HandleRoot, Handle: e.Handle, Kind: etf.Kind, Options: b}, err
}

func encodeMqprio(ifindex int, m *Mqprio) (qdisc.Qdisc, error) {
	b, err := m.Options.MarshalBinary()
	return qdisc.Qdisc{Ifindex: ifindex, Parent: qdisc.HandleRoot, Handle: qdisc.Handle(m.Handle, 0), Kind: mqprio.Kind, Options: b}, err
}

// encodeTaprio and encodeETF build the kernel objects of a step.
func encodeTaprio(ifindex int, t *Taprio) (qdisc.Qdisc, error) {
	b, err := t.Options.MarshalBinary()
	return qdisc.Qdisc{Ifindex: ifindex, Parent: qdisc.HandleRoot, Handle: qdisc.Handle(t.Handle, 0), Kind: taprio.Kind, Options: b}, err
}

func encodeETF(ifindex int, handle uint16, e ETF, o etf.Options) (qdisc.Qdisc, error) {
	b, err := o.MarshalBinary()
	return qdisc.Qdisc{Ifindex: ifindex, Parent: e.Parent(handle), Handle: e.Handle, Kind: etf.Kind, Options: b}, err
}
