package node

import (
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/lint"
	"sort"

	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/qdisc/tree"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Live is what one interface has now.
type Live struct {
	Name      string
	Ifindex   int
	TxQueues  int
	SpeedMbps int
	// MACMerge says whether the NIC has a MAC merge layer (nil: not known): what lint's fp and
	// mac-merge rules judge by.
	MACMerge *bool
	// MM is the MAC merge layer's state, when the NIC has one.
	MM          *nic.MACMerge
	Channels    nic.Channels
	ChannelsErr error // the driver has no channel operations (e.g. lo)
	VLANs       []VLAN
	// Qdiscs is the interface's qdisc tree as dumped (root first).
	Qdiscs []qdisc.Qdisc
	// Taprio is the decoded root taprio, if the root is one.
	Taprio       *taprio.Options
	TaprioHandle uint16
	// Mqprio is the decoded root mqprio, if the root is one.
	Mqprio       *mqprio.Options
	MqprioHandle uint16
	// RootETF is the decoded root etf, if the root is one.
	RootETF       *etf.Options
	RootETFHandle uint16
	// ETF is the decoded ETF children of the root taprio or mqprio, by TX queue.
	ETF map[int]etf.Options
	// CBS is the decoded cbs children of the root taprio or mqprio, by TX queue.
	CBS map[int]cbs.Options
}

// Root returns the root qdisc, if any.
func (l *Live) Root() *qdisc.Qdisc { return tree.Root(l.Qdiscs) }

// Child returns the qdisc whose parent is parent.
func (l *Live) Child(parent uint32) *qdisc.Qdisc {
	for i := range l.Qdiscs {
		if l.Qdiscs[i].Parent == parent {
			return &l.Qdiscs[i]
		}
	}
	return nil
}

// System is a connection to one network namespace's networking.
type System struct {
	NetNS   string // "" for the caller's namespace
	nsFD    netns.NsHandle
	link    *netlink.Handle
	qdiscs  *qdisc.Conn
	ethtool *nic.Ethtool
}

// Open connects to the named network namespace (as `ip netns` names it), or to the caller's when
// name is "".
func Open(name string) (*System, error) {
	s := &System{NetNS: name}
	var err error
	if name != "" {
		s.nsFD, err = nsexec.Open(name)
		if err != nil {
			return nil, err
		}
		s.link, err = netlink.NewHandleAt(s.nsFD, unix.NETLINK_ROUTE)
	} else {
		s.link, err = netlink.NewHandle(unix.NETLINK_ROUTE)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("rtnetlink: %w", err)
	}
	if s.qdiscs, err = qdisc.Dial(int(s.nsFD)); err != nil {
		s.Close()
		return nil, err
	}
	// Without ethtool netlink, channels cannot be read or set; everything else still works.
	s.ethtool, _ = nic.DialEthtool(int(s.nsFD))
	return s, nil
}

// NSFD is the namespace's file descriptor (0 for the caller's namespace), for other netlink
// sockets in the same namespace (notifications).
func (s *System) NSFD() int { return int(s.nsFD) }

// Close releases the connections.
func (s *System) Close() {
	if s.ethtool != nil {
		s.ethtool.Close()
	}
	if s.qdiscs != nil {
		s.qdiscs.Close()
	}
	if s.link != nil {
		s.link.Close()
	}
	if s.nsFD > 0 {
		s.nsFD.Close()
	}
}

// ErrNoInterface is returned when an interface does not exist.
var ErrNoInterface = errors.New("no such interface")

// Read returns the live state of interface name.
func (s *System) Read(name string) (*Live, error) {
	l, err := s.link.LinkByName(name)
	if err != nil {
		where := ""
		if s.NetNS != "" {
			where = " in network namespace " + s.NetNS
		}
		return nil, fmt.Errorf("interface %s%s: %w (ip link show lists the interfaces)", name, where, ErrNoInterface)
	}
	live := &Live{Name: name, Ifindex: l.Attrs().Index, TxQueues: l.Attrs().NumTxQueues}
	if s.ethtool != nil {
		live.Channels, live.ChannelsErr = s.ethtool.Channels(name)
	} else {
		live.ChannelsErr = errors.New("ethtool netlink unavailable")
	}
	if s.ethtool != nil {
		live.SpeedMbps, _ = s.ethtool.Speed(name)
		switch mm, err := s.ethtool.MACMerge(name); {
		case err == nil:
			live.MACMerge, live.MM = ptr(true), &mm
		case errors.Is(err, unix.EOPNOTSUPP):
			live.MACMerge = ptr(false)
		}
	}
	links, err := s.link.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, ll := range links {
		v, ok := ll.(*netlink.Vlan)
		if !ok || v.ParentIndex != live.Ifindex {
			continue
		}
		live.VLANs = append(live.VLANs, VLAN{Name: v.Name, ID: uint16(v.VlanId), Egress: v.EgressQosMap, Ingress: v.IngressQosMap})
	}
	sort.Slice(live.VLANs, func(a, b int) bool { return live.VLANs[a].ID < live.VLANs[b].ID })
	live.Qdiscs, err = s.qdiscs.List(live.Ifindex)
	if err != nil {
		return nil, err
	}
	t, err := tree.Decode(live.Qdiscs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	live.Taprio, live.Mqprio, live.ETF, live.CBS = t.Taprio, t.Mqprio, t.ETF, t.CBS
	if t.Taprio != nil {
		live.TaprioHandle = t.Handle
	}
	if t.Mqprio != nil {
		live.MqprioHandle = t.Handle
	}
	if t.RootETF != nil {
		live.RootETF, live.RootETFHandle = t.RootETF, t.Handle
	}
	return live, nil
}

func ptr[T any](v T) *T { return &v }

// Links lists every link of the namespace as lint sees it: its kind and, for a VLAN, its parent and
// id (so that a VLAN the file names can be told from another link that has its name).
func (s *System) Links() (map[string]lint.Link, error) {
	links, err := s.link.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	byIndex := map[int]string{}
	for _, l := range links {
		byIndex[l.Attrs().Index] = l.Attrs().Name
	}
	out := map[string]lint.Link{}
	for _, l := range links {
		ll := lint.Link{Kind: l.Type()}
		if v, ok := l.(*netlink.Vlan); ok {
			ll.Parent, ll.VLANID = byIndex[v.ParentIndex], uint16(v.VlanId)
		}
		out[l.Attrs().Name] = ll
	}
	return out, nil
}

// ConfiguredInterfaces lists the interfaces that have a taprio or mqprio root or VLANs on top (what `show`
// prints by default), in name order.
func (s *System) ConfiguredInterfaces() ([]string, error) {
	links, err := s.link.LinkList()
	if err != nil {
		return nil, err
	}
	parents := map[int]bool{}
	for _, l := range links {
		if v, ok := l.(*netlink.Vlan); ok {
			parents[v.ParentIndex] = true
		}
	}
	all, err := s.qdiscs.List(0)
	if err != nil {
		return nil, err
	}
	for _, q := range all {
		if q.Parent == qdisc.HandleRoot && (q.Kind == taprio.Kind || q.Kind == mqprio.Kind || q.Kind == etf.Kind) {
			parents[q.Ifindex] = true
		}
	}
	var names []string
	for _, l := range links {
		if parents[l.Attrs().Index] {
			names = append(names, l.Attrs().Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Execute runs steps that need no rollback (reset).
func (s *System) Execute(steps []Step) error {
	for _, st := range steps {
		if _, err := s.do(st, nil); err != nil {
			return fmt.Errorf("%s: %s: %w", st.Iface, st.Summary, err)
		}
	}
	return nil
}
