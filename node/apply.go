package node

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/qdisc/tree"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Prepared is a checked plan for a whole configuration.
type Prepared struct {
	Wants    []Iface
	Before   []*Live // the snapshot rollback returns to, one per interface
	Steps    []Step
	Findings []lint.Finding
}

// Prepare reads the live state of every interface the configuration names, lints the configuration
// against the devices, resolves it (planning base-time auto from now) and plans the change. It
// changes nothing. An error means nothing may be applied (lint errors are in the error's text).
func (s *System) Prepare(cfg *configs.Config, now clock.Snapshot) (*Prepared, error) {
	p := &Prepared{}
	facts := lint.Facts{TxQueues: map[string]int{}, SpeedMbps: map[string]int{}, SpeedUnknown: map[string]bool{}, Now: now,
		PHC: map[string]bool{}, MACMerge: map[string]bool{}}
	links, err := s.Links()
	if err != nil {
		return nil, err
	}
	facts.Links = links
	lives := map[string]*Live{}
	for _, ci := range cfg.Interfaces {
		name := string(ci.Name)
		if name == "" {
			continue // lint says it is missing
		}
		live, err := s.Read(name)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: interfaces: %w", ci.Pos.File, ci.Pos.LineOf("name"), err)
		}
		lives[name] = live
		var ch *Channels
		if ci.Channels != nil {
			ch = &Channels{Count: ci.Channels.Count, Combined: ci.Channels.Combined, RX: ci.Channels.RX, TX: ci.Channels.TX}
		}
		facts.TxQueues[name] = EffectiveTxQueues(ch, live)
		if live.SpeedMbps > 0 {
			facts.SpeedMbps[name] = live.SpeedMbps
		} else {
			facts.SpeedUnknown[name] = true
		}
		if s.ethtool != nil { // only lint needs the PTP clock: read here, not at every Read
			if phc, err := s.ethtool.PHCIndex(name); err == nil {
				facts.PHC[name] = phc >= 0
			}
		}
		if live.MACMerge != nil {
			facts.MACMerge[name] = *live.MACMerge
		}
	}
	p.Findings = lint.Check(cfg, facts)
	if err := lint.Err(p.Findings); err != nil {
		return p, fmt.Errorf("the configuration has errors, nothing was changed:\n  %w", err)
	}
	wants := Resolve(cfg, now)
	p.Wants = wants
	for _, w := range wants {
		live := lives[w.Name]
		if live == nil {
			return p, fmt.Errorf("interface %q: not read", w.Name) // lint refuses a file without names
		}
		p.Before = append(p.Before, live)
		if w.Channels != nil && live.ChannelsErr != nil {
			return p, fmt.Errorf("%s: channels: cannot read the channel counts (%v): remove channels: for this interface", w.Name, live.ChannelsErr)
		}
		p.Steps = append(p.Steps, Plan(w, live, s.NetNS)...)
	}
	return p, nil
}

// Result is what Apply did.
type Result struct {
	Done     []Step
	Warnings []string
}

// ApplyError is a failed apply: which step failed, and whether the node was returned to its
// previous state.
type ApplyError struct {
	Step        Step
	Err         error
	RolledBack  bool
	RollbackErr error
}

func (e *ApplyError) Error() string {
	s := fmt.Sprintf("%s: %s failed: %v", e.Step.Iface, e.Step.Summary, e.Err)
	if errors.Is(e.Err, unix.EPERM) {
		s += " (changing qdiscs, links and channels needs CAP_NET_ADMIN: run tsnctl as root, or give its container --cap-add NET_ADMIN)"
	}
	if e.RolledBack {
		return s + "; every interface was rolled back to its previous state"
	}
	return s + fmt.Sprintf("; ROLLBACK FAILED, the node is partly changed: %v", e.RollbackErr)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Apply runs the plan. If a step fails, or the read-back does not match the intent, every
// interface is restored to p.Before and the error says so.
func (s *System) Apply(p *Prepared) (*Result, error) {
	res := &Result{}
	for _, st := range p.Steps {
		warn, err := s.do(st, p)
		if err != nil {
			return res, s.fail(p, st, err)
		}
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
		res.Done = append(res.Done, st)
	}
	// Verify: read back, and plan again: nothing may be left to do.
	for _, w := range p.Wants {
		live, err := s.Read(w.Name)
		if err != nil {
			return res, s.fail(p, Step{Iface: w.Name, Summary: "read-back"}, err)
		}
		if left := Plan(w, live, s.NetNS); len(left) > 0 {
			return res, s.fail(p, Step{Iface: w.Name, Summary: "verification"},
				fmt.Errorf("the kernel's state differs from the intent after applying: %s", left[0].Summary))
		}
	}
	return res, nil
}

func (s *System) fail(p *Prepared, st Step, err error) error {
	ae := &ApplyError{Step: st, Err: err}
	ae.RollbackErr = s.Rollback(p.Before)
	ae.RolledBack = ae.RollbackErr == nil
	return ae
}

func (s *System) do(st Step, p *Prepared) (warning string, err error) {
	live, err := s.Read(st.Iface)
	if err != nil {
		return "", err
	}
	switch st.Action {
	case SetChannels:
		if s.ethtool == nil {
			return "", errors.New("ethtool netlink unavailable")
		}
		return "", s.ethtool.SetChannels(st.Iface, st.Channels)
	case SetMACMerge:
		if s.ethtool == nil {
			return "", errors.New("ethtool netlink unavailable")
		}
		return "", s.ethtool.SetMACMerge(st.Iface, st.MACMerge)
	case AddVLAN:
		v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: st.VLAN.Name, ParentIndex: live.Ifindex},
			VlanId: int(st.VLAN.ID), EgressQosMap: st.VLAN.Egress, IngressQosMap: st.VLAN.Ingress}
		if err := s.link.LinkAdd(v); err != nil {
			return "", fmt.Errorf("ip link add %s type vlan id %d: %w", st.VLAN.Name, st.VLAN.ID, err)
		}
		// Bring the VLAN up with its parent, as a user would; a VLAN cannot be up on a down parent.
		if parent, err := s.link.LinkByIndex(live.Ifindex); err == nil && parent.Attrs().Flags&net.FlagUp != 0 {
			return "", s.link.LinkSetUp(v)
		}
		return "", nil
	case ModifyVLAN:
		var cur VLAN
		for _, lv := range live.VLANs {
			if lv.Name == st.VLAN.Name {
				cur = lv
			}
		}
		return "", s.setVLANMaps(st.VLAN, cur)
	case DeleteRoot:
		return "", s.qdiscs.Delete(live.Ifindex, qdisc.HandleRoot, 0)
	case DeleteVLAN:
		l, err := s.link.LinkByName(st.VLAN.Name)
		if err != nil {
			return "", err
		}
		return "", s.link.LinkDel(l)
	case ReplaceRoot, ChangeSchedule, RestartSchedule: // on the existing handle, a replace is the kernel's change
		if e := st.RootETF; e != nil {
			return s.replaceOffload(e.Offload, func(soft bool) (qdisc.Qdisc, error) {
				o := e.Options
				o.Offload = o.Offload && !soft
				return encodeRootETF(live.Ifindex, *e, o)
			}, fmt.Sprintf("%s: etf at the root: the NIC refused launch-time offload (%%v); ETF runs in software (offload: auto)", st.Iface))
		}
		if st.Mqprio != nil {
			q, err := encodeMqprio(live.Ifindex, st.Mqprio)
			if err != nil {
				return "", err
			}
			return "", s.qdiscs.Replace(q)
		}
		q, err := encodeTaprio(live.Ifindex, st.Taprio)
		if err != nil {
			return "", err
		}
		return "", s.qdiscs.Replace(q)
	case ReplaceCBS, ChangeCBS: // a replace on the running cbs's own handle is the kernel's change
		return s.replaceOffload(st.CBS.Offload, func(soft bool) (qdisc.Qdisc, error) {
			o := st.CBS.Options
			o.Offload = o.Offload && !soft
			return encodeCBS(live.Ifindex, st.Handle, st.CBS, o)
		}, fmt.Sprintf("%s: cbs on TX queue %d: the NIC refused offload (%%v); the shaper runs in software (offload: auto)", st.Iface, st.CBS.Queue))
	case ReplaceETF:
		return s.replaceOffload(st.ETF.Offload, func(soft bool) (qdisc.Qdisc, error) {
			o := st.ETF.Options
			o.Offload = o.Offload && !soft
			return encodeETF(live.Ifindex, st.Handle, st.ETF, o)
		}, fmt.Sprintf("%s: etf on TX queue %d: the NIC refused launch-time offload (%%v); ETF runs in software (offload: auto)", st.Iface, st.ETF.Queue))
	}
	return "", fmt.Errorf("unknown step %q", st.Action)
}

// replaceOffload installs the qdisc encode(false) makes; with offload auto, when the NIC refuses it,
// it installs the software one, encode(true), instead and returns warn, whose %v is the kernel's
// words.
func (s *System) replaceOffload(offload configs.Offload, encode func(software bool) (qdisc.Qdisc, error), warn string) (string, error) {
	q, err := encode(false)
	if err != nil {
		return "", err
	}
	err = s.qdiscs.Replace(q)
	if err != nil && offload == configs.OffloadAuto {
		if q2, err2 := encode(true); err2 == nil && s.qdiscs.Replace(q2) == nil {
			return fmt.Sprintf(warn, kernelWords(err)), nil
		}
	}
	return "", err
}

func kernelWords(err error) string {
	var qe *qdisc.Error
	if errors.As(err, &qe) && qe.Kernel != "" {
		return "kernel says: " + qe.Kernel
	}
	return err.Error()
}

// setVLANMaps sets want's QoS maps on an existing VLAN; entries only cur has are set to 0 (removed).
func (s *System) setVLANMaps(want, cur VLAN) error {
	l, err := s.link.LinkByName(want.Name)
	if err != nil {
		return err
	}
	full := func(w, c map[uint32]uint32) map[uint32]uint32 {
		m := map[uint32]uint32{}
		for k := range c {
			m[k] = 0
		}
		for k, v := range w {
			m[k] = v
		}
		return m
	}
	v := &netlink.Vlan{LinkAttrs: netlink.LinkAttrs{Name: want.Name, Index: l.Attrs().Index, ParentIndex: l.Attrs().ParentIndex},
		VlanId: int(want.ID), EgressQosMap: full(want.Egress, cur.Egress), IngressQosMap: full(want.Ingress, cur.Ingress)}
	if err := s.link.LinkModify(v); err != nil {
		return fmt.Errorf("ip link set %s type vlan (QoS maps): %w", want.Name, err)
	}
	return nil
}

// Rollback returns every interface to its snapshot: the qdisc tree, the VLANs and the channels.
func (s *System) Rollback(before []*Live) error {
	var errs []error
	for _, b := range before {
		if err := s.restore(b); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *System) restore(b *Live) error {
	now, err := s.Read(b.Name)
	if err != nil {
		return err
	}
	var errs []error
	// Order matters: take the new root away, put the channels back (a root qdisc sizes itself to
	// the TX queues there are when it is created), rebuild the old tree, then the VLANs.
	treeChanged := !sameTree(b, now)
	if treeChanged {
		if r := now.Root(); r != nil && r.Handle != 0 {
			if err := s.qdiscs.Delete(now.Ifindex, qdisc.HandleRoot, 0); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if b.ChannelsErr == nil && now.Channels != b.Channels && s.ethtool != nil {
		var u nic.ChannelsUpdate
		if b.Channels.CombinedMax > 0 {
			u.Combined = &b.Channels.Combined
		}
		if b.Channels.RxMax > 0 {
			u.Rx = &b.Channels.Rx
		}
		if b.Channels.TxMax > 0 {
			u.Tx = &b.Channels.Tx
		}
		if err := s.ethtool.SetChannels(b.Name, u); err != nil {
			errs = append(errs, err)
		}
	}
	if b.MM != nil && now.MM != nil && *now.MM != *b.MM && s.ethtool != nil {
		m := b.MM
		if err := s.ethtool.SetMACMerge(b.Name, nic.MACMergeUpdate{PMACEnabled: &m.PMACEnabled, TxEnabled: &m.TxEnabled, VerifyEnabled: &m.VerifyEnabled,
			VerifyTime: &m.VerifyTime, TxMinFragSize: &m.TxMinFragSize}); err != nil {
			errs = append(errs, fmt.Errorf("restore the MAC merge layer: %w", err))
		}
	}
	if r := b.Root(); treeChanged && r != nil && r.Handle != 0 {
		rootErr := s.qdiscs.Add(restorable(*r, b))
		if rootErr != nil {
			errs = append(errs, fmt.Errorf("restore the %s root: %w", r.Kind, rootErr))
		}
		grafted := false
		for _, c := range b.Qdiscs {
			if c.Parent == qdisc.HandleRoot || c.Handle == 0 {
				continue
			}
			if err := s.qdiscs.Replace(restorable(c, b)); err != nil {
				errs = append(errs, fmt.Errorf("restore the %s at %s: %w", c.Kind, qdisc.FormatHandle(c.Parent), err))
			}
			grafted = true
		}
		if r.Kind == taprio.Kind && b.Taprio != nil && rootErr == nil {
			if err := s.restoreSchedules(b, *r, grafted); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if treeChanged && len(errs) == 0 {
		// What Rollback reports as rolled back is what the kernel reads back.
		if again, err := s.Read(b.Name); err != nil {
			errs = append(errs, err)
		} else if !sameTree(b, again) {
			errs = append(errs, errors.New("the restored qdiscs read back other than the snapshot"))
		} else if b.Taprio != nil && b.Taprio.Oper != nil && again.Taprio.Oper == nil {
			errs = append(errs, errors.New("the restored taprio's schedule is not operational"))
		}
	}
	for _, v := range now.VLANs {
		var old *VLAN
		for i := range b.VLANs {
			if b.VLANs[i].Name == v.Name {
				old = &b.VLANs[i]
			}
		}
		switch {
		case old == nil:
			if l, err := s.link.LinkByName(v.Name); err == nil {
				if err := s.link.LinkDel(l); err != nil {
					errs = append(errs, err)
				}
			}
		case !VLANEqual(*old, v):
			if err := s.setVLANMaps(*old, v); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// restoreSchedules puts back the schedules of the snapshot's taprio root r, just re-created (with
// its operational schedule, or its pending one if none ran yet: see restorable) and given its
// children again:
//
//   - In software mode, grafting the children stopped the gate timer (see RestartSchedule): the
//     schedule is sent again as a change, which starts the timer at the same phase. Without it the
//     re-created taprio keeps its schedule pending (admin) forever, or its gates frozen.
//   - A schedule that was operational in the snapshot must be operational again before Rollback
//     returns. A re-created software taprio whose base-time is past starts at its next cycle
//     boundary (taprio_get_start_time), so this waits for it, at most two cycles and 100 ms.
//   - A change that was pending in the snapshot (admin, its base-time ahead) is sent last, as the
//     change it was, once the restored schedule runs: sent earlier, it would replace that schedule
//     before it started.
func (s *System) restoreSchedules(b *Live, r qdisc.Qdisc, grafted bool) error {
	o := *b.Taprio
	o.Oper = nil
	running := b.Taprio.Oper != nil
	if running {
		o.Schedule = *b.Taprio.Oper
	}
	resend := func(o taprio.Options, what string) error {
		q := r
		enc, err := o.MarshalBinary()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		q.Options = enc
		if err := s.qdiscs.Replace(q); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if grafted && o.Mode == taprio.Software {
		if err := resend(o, "restart the gates of the restored taprio"); err != nil {
			return err
		}
	}
	if !running {
		return nil
	}
	if err := s.waitOperational(b.Ifindex, r.Handle, o.Schedule); err != nil {
		return err
	}
	if pending := b.Taprio.Schedule; !reflect.DeepEqual(pending, *b.Taprio.Oper) {
		o.Schedule = pending
		return resend(o, "restore the taprio's pending schedule change")
	}
	return nil
}

// waitOperational waits until the taprio root handle on ifindex runs schedule want (its dump's
// operational schedule).
func (s *System) waitOperational(ifindex int, handle uint32, want taprio.Schedule) error {
	limit := 2*time.Duration(want.Cycle()) + 100*time.Millisecond
	deadline := time.Now().Add(limit)
	for {
		qs, err := s.qdiscs.List(ifindex)
		if err != nil {
			return err
		}
		t, err := tree.Decode(qs)
		if err != nil {
			return err
		}
		if t.Taprio != nil && qdisc.Handle(t.Handle, 0) == handle && t.Taprio.Oper != nil && reflect.DeepEqual(*t.Taprio.Oper, want) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the restored taprio's schedule (base-time %d) is not operational after %v", want.BaseTime, limit)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// sameTree reports whether two dumps show the same qdiscs (kinds, handles, parents, options).
func sameTree(a, b *Live) bool {
	if len(a.Qdiscs) != len(b.Qdiscs) {
		return false
	}
	for i := range a.Qdiscs {
		x, y := a.Qdiscs[i], b.Qdiscs[i]
		if x.Kind != y.Kind || x.Handle != y.Handle || x.Parent != y.Parent {
			return false
		}
		if x.Kind == taprio.Kind {
			if a.Taprio == nil || b.Taprio == nil || TaprioDiff(&Taprio{Handle: uint16(x.Handle >> 16), Options: *a.Taprio}, b.Taprio, uint16(y.Handle>>16)) != "" {
				return false
			}
		} else if string(x.Options) != string(y.Options) {
			return false
		}
	}
	return true
}

// restorable turns a dumped qdisc into one the kernel accepts back: taprio, mqprio and etf options
// are re-encoded (a dump carries read-only attributes); other kinds are replayed as dumped.
func restorable(q qdisc.Qdisc, b *Live) qdisc.Qdisc {
	switch q.Kind {
	case taprio.Kind:
		if b.Taprio != nil {
			// The schedule that ran, if one did; a pending change follows (restoreSchedules).
			o := *b.Taprio
			if o.Oper != nil {
				o.Schedule = *o.Oper
			}
			o.Oper = nil
			if enc, err := o.MarshalBinary(); err == nil {
				q.Options = enc
			}
		}
	case mqprio.Kind:
		// A dump lists a TC entry per possible class, which the kernel refuses back in software.
		var o mqprio.Options
		if o.UnmarshalBinary(q.Options) == nil {
			if !o.HW {
				o.FP = nil
			}
			if enc, err := o.MarshalBinary(); err == nil {
				q.Options = enc
			}
		}
	case etf.Kind:
		var o etf.Options
		if o.UnmarshalBinary(q.Options) == nil {
			if enc, err := o.MarshalBinary(); err == nil {
				q.Options = enc
			}
		}
	}
	return q
}

// PrepareReset plans the removal of what cfg configures (see ResetPlan), for every interface.
func (s *System) PrepareReset(cfg *configs.Config, now clock.Snapshot) ([]Step, error) {
	if err := lint.Err(lint.Check(cfg, lint.Facts{})); err != nil {
		return nil, fmt.Errorf("the configuration has errors, nothing was changed:\n  %w", err)
	}
	wants := Resolve(cfg, now)
	var steps []Step
	for _, w := range wants {
		live, err := s.Read(w.Name)
		if err != nil {
			return nil, err
		}
		steps = append(steps, ResetPlan(w, live, s.NetNS)...)
	}
	return steps, nil
}
