// Package netevents turns the kernel's network notifications into events: links appearing,
// changing and going (rtnetlink RTNLGRP_LINK), qdiscs added, changed and deleted (RTNLGRP_TC), and
// NIC settings changed through ethtool (ethtool netlink's "monitor" group: channels, link modes…).
// It knows netlink, not what the events mean to a controller (see package agent).
package netevents

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Kind is what an event is about.
type Kind string

// Kinds.
const (
	Link    Kind = "link"    // RTM_NEWLINK / RTM_DELLINK
	Qdisc   Kind = "qdisc"   // RTM_NEWQDISC / RTM_DELQDISC
	Ethtool Kind = "ethtool" // an ethtool notification (ETHTOOL_MSG_*_NTF): channels and the like
	// Overrun: the kernel dropped notifications (the socket's buffer was full): what changed is
	// unknown, everything must be checked.
	Overrun Kind = "overrun"
)

// Event is one notification.
type Event struct {
	Kind    Kind
	Ifindex int
	Name    string // link events; ethtool events when the kernel names the device
	Parent  int    // link events of a stacked link (a VLAN): its lower link's ifindex
	Deleted bool   // the link or qdisc went away
	OperUp  bool   // link events: the operational state is up (IF_OPER_UP)
	Handle  uint32 // qdisc events
	QParent uint32 // qdisc events: the qdisc's parent (TC_H_ROOT for a root qdisc)
	Command uint8  // ethtool events: the ETHTOOL_MSG_*_NTF command
}

func (e Event) String() string {
	switch e.Kind {
	case Link:
		return fmt.Sprintf("link %s (%d) deleted=%v up=%v", e.Name, e.Ifindex, e.Deleted, e.OperUp)
	case Qdisc:
		return fmt.Sprintf("qdisc %x: parent %x on ifindex %d deleted=%v", e.Handle>>16, e.QParent, e.Ifindex, e.Deleted)
	case Ethtool:
		return fmt.Sprintf("ethtool notification %d on ifindex %d", e.Command, e.Ifindex)
	}
	return string(e.Kind)
}

// Subscription delivers events until its context ends or Close is called.
type Subscription struct {
	Events <-chan Event
	// Err receives the error that ended the subscription (nil after Close).
	Err <-chan error

	rt     *netlink.Conn
	et     *genetlink.Conn
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Subscribe listens in the network namespace netns (a file descriptor; 0 for the caller's). The
// ethtool group is joined when the kernel has ethtool netlink; without it, channel changes are only
// seen through the link events the driver sends (igb resets the link) or by a periodic check.
func Subscribe(ctx context.Context, netns int) (*Subscription, error) {
	rt, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns,
		Groups: 1<<(unix.RTNLGRP_LINK-1) | 1<<(unix.RTNLGRP_TC-1)})
	if err != nil {
		return nil, fmt.Errorf("rtnetlink notifications: %w", err)
	}
	events := make(chan Event, 256)
	errs := make(chan error, 2)
	ctx, cancel := context.WithCancel(ctx)
	s := &Subscription{Events: events, Err: errs, rt: rt, cancel: cancel}
	if et, err := genetlink.Dial(&netlink.Config{NetNS: netns}); err == nil {
		if fam, err := et.GetFamily(unix.ETHTOOL_GENL_NAME); err == nil {
			for _, g := range fam.Groups {
				if g.Name == unix.ETHTOOL_MCGRP_MONITOR_NAME && et.JoinGroup(g.ID) == nil {
					s.et = et
				}
			}
		}
		if s.et == nil {
			et.Close()
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.readRoute(ctx, events, errs)
	}()
	if s.et != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.readEthtool(ctx, events, errs)
		}()
	}
	go func() { // closing the sockets ends the blocked reads
		<-ctx.Done()
		rt.Close()
		if s.et != nil {
			s.et.Close()
		}
		s.wg.Wait()
		close(events)
	}()
	return s, nil
}

// Close ends the subscription; Events is closed once both readers have stopped.
func (s *Subscription) Close() { s.cancel() }

// send delivers e unless ctx ended.
func send(ctx context.Context, out chan<- Event, e Event) bool {
	select {
	case out <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Subscription) readRoute(ctx context.Context, out chan<- Event, errs chan<- error) {
	readLoop(ctx, out, errs, "rtnetlink notifications", s.rt.Receive, decodeRoute)
}

func (s *Subscription) readEthtool(ctx context.Context, out chan<- Event, errs chan<- error) {
	receive := func() ([]genetlink.Message, error) { m, _, err := s.et.Receive(); return m, err }
	readLoop(ctx, out, errs, "ethtool notifications", receive, decodeEthtool)
}

// readLoop receives batches of messages and sends their events until ctx ends or a receive fails
// (the error goes to errs); a full socket buffer (ENOBUFS) is an Overrun event.
func readLoop[M any](ctx context.Context, out chan<- Event, errs chan<- error, what string, receive func() ([]M, error), decode func(M) (Event, bool)) {
	for {
		msgs, err := receive()
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, unix.ENOBUFS) {
			if !send(ctx, out, Event{Kind: Overrun}) {
				return
			}
			continue
		}
		if err != nil {
			errs <- fmt.Errorf("%s: %w", what, err)
			return
		}
		for _, m := range msgs {
			if e, ok := decode(m); ok && !send(ctx, out, e) {
				return
			}
		}
	}
}

// ifOperUp is IF_OPER_UP (RFC 2863 "up"; linux/if.h), which x/sys does not define.
const ifOperUp = 6

// ifinfomsg and tcmsg, the fixed headers of link and qdisc messages (rtnetlink.h).
const (
	sizeofIfinfomsg = 16 // family, pad, type u16, index i32, flags u32, change u32
	sizeofTcmsg     = 20 // family, pad[3], ifindex i32, handle u32, parent u32, info u32
)

// decodeRoute reads a link or qdisc notification; other messages are not events.
func decodeRoute(m netlink.Message) (Event, bool) {
	b := m.Data
	switch m.Header.Type {
	case unix.RTM_NEWLINK, unix.RTM_DELLINK:
		if len(b) < sizeofIfinfomsg {
			return Event{}, false
		}
		e := Event{Kind: Link, Ifindex: int(int32(binary.NativeEndian.Uint32(b[4:8]))), Deleted: m.Header.Type == unix.RTM_DELLINK}
		ad, err := netlink.NewAttributeDecoder(b[sizeofIfinfomsg:])
		if err != nil {
			return e, true
		}
		for ad.Next() {
			switch ad.Type() {
			case unix.IFLA_IFNAME:
				e.Name = ad.String()
			case unix.IFLA_LINK:
				e.Parent = int(ad.Uint32())
			case unix.IFLA_OPERSTATE:
				e.OperUp = ad.Uint8() == ifOperUp
			}
		}
		return e, true
	case unix.RTM_NEWQDISC, unix.RTM_DELQDISC:
		if len(b) < sizeofTcmsg {
			return Event{}, false
		}
		return Event{Kind: Qdisc, Ifindex: int(int32(binary.NativeEndian.Uint32(b[4:8]))), Deleted: m.Header.Type == unix.RTM_DELQDISC,
			Handle: binary.NativeEndian.Uint32(b[8:12]), QParent: binary.NativeEndian.Uint32(b[12:16])}, true
	}
	return Event{}, false
}

// decodeEthtool reads an ethtool notification: every one starts with a header attribute that
// names the device (ETHTOOL_A_*_HEADER is attribute 1 of every message kind).
func decodeEthtool(m genetlink.Message) (Event, bool) {
	e := Event{Kind: Ethtool, Command: m.Header.Command}
	ad, err := netlink.NewAttributeDecoder(m.Data)
	if err != nil {
		return e, false
	}
	for ad.Next() {
		if ad.Type() != 1 {
			continue
		}
		ad.Nested(func(nad *netlink.AttributeDecoder) error {
			for nad.Next() {
				switch nad.Type() {
				case unix.ETHTOOL_A_HEADER_DEV_INDEX:
					e.Ifindex = int(nad.Uint32())
				case unix.ETHTOOL_A_HEADER_DEV_NAME:
					e.Name = nad.String()
				}
			}
			return nil
		})
	}
	return e, e.Ifindex != 0
}
