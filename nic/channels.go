// Package nic reads and changes what a network interface offers for TSN: its channel (queue)
// counts through ethtool's generic netlink family (ETHTOOL_MSG_CHANNELS_GET/SET, as `ethtool -l/-L`),
// its TX queue count, and its timestamping capabilities (ETHTOOL_GET_TS_INFO, as `ethtool -T`).
// github.com/mdlayher/ethtool has neither channels nor timestamping, so they are built here on
// github.com/mdlayher/genetlink.
package nic

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/internal/extack"
	"golang.org/x/sys/unix"
)

// Channels is an interface's channel counts and their maxima (ethtool -l). A maximum of 0 means the
// driver has no such channels ("n/a" in ethtool).
type Channels struct {
	RxMax, TxMax, OtherMax, CombinedMax uint32
	Rx, Tx, Other, Combined             uint32
}

// Ethtool is a connection to the kernel's ethtool netlink family.
type Ethtool struct {
	c      *genetlink.Conn
	family genetlink.Family
}

// DialEthtool opens it. netns is a network namespace file descriptor, or 0 for the current one.
func DialEthtool(netns int) (*Ethtool, error) {
	c, err := genetlink.Dial(&netlink.Config{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("ethtool netlink: %w", err)
	}
	_ = c.SetOption(netlink.ExtendedAcknowledge, true)
	return newEthtool(c)
}

// newEthtool looks the ethtool family up on c.
func newEthtool(c *genetlink.Conn) (*Ethtool, error) {
	f, err := c.GetFamily("ethtool")
	if err != nil {
		c.Close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("the kernel has no ethtool netlink family (CONFIG_ETHTOOL_NETLINK, Linux >= 5.6)")
		}
		return nil, fmt.Errorf("ethtool netlink: %w", err)
	}
	return &Ethtool{c: c, family: f}, nil
}

// Close closes the connection.
func (e *Ethtool) Close() error { return e.c.Close() }

// request sends one ethtool request about ifname and returns the kernel's replies: command cmd,
// the request header naming ifname in attribute hdr (ETHTOOL_A_*_HEADER, 1 in every message
// family, named per message all the same), then the attributes attrs writes (nil: none). flags
// are added to netlink.Request: netlink.Acknowledge for a change. The kernel's refusal is an
// *Error of op.
func (e *Ethtool) request(op string, cmd uint8, hdr uint16, ifname string, flags netlink.HeaderFlags, attrs func(*netlink.AttributeEncoder)) ([]genetlink.Message, error) {
	ae := netlink.NewAttributeEncoder()
	ae.Nested(hdr, func(nae *netlink.AttributeEncoder) error {
		nae.String(unix.ETHTOOL_A_HEADER_DEV_NAME, ifname)
		return nil
	})
	if attrs != nil {
		attrs(ae)
	}
	b, err := ae.Encode()
	if err != nil {
		return nil, err
	}
	msgs, err := e.c.Execute(genetlink.Message{
		Header: genetlink.Header{Command: cmd, Version: e.family.Version},
		Data:   b,
	}, e.family.ID, netlink.Request|flags)
	if err != nil {
		return nil, opError(op, ifname, err)
	}
	return msgs, nil
}

// Channels reads ifname's channel counts.
func (e *Ethtool) Channels(ifname string) (Channels, error) {
	msgs, err := e.request("read channels of", unix.ETHTOOL_MSG_CHANNELS_GET, unix.ETHTOOL_A_CHANNELS_HEADER, ifname, 0, nil)
	if err != nil {
		return Channels{}, err
	}
	if len(msgs) != 1 {
		return Channels{}, fmt.Errorf("ethtool channels %s: %d replies", ifname, len(msgs))
	}
	ad, err := netlink.NewAttributeDecoder(msgs[0].Data)
	if err != nil {
		return Channels{}, err
	}
	var ch Channels
	err = ch.decode(ad)
	return ch, err
}

// decode reads an ETHTOOL_MSG_CHANNELS_GET reply's attributes.
func (ch *Channels) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case unix.ETHTOOL_A_CHANNELS_RX_MAX:
			ch.RxMax = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_TX_MAX:
			ch.TxMax = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_OTHER_MAX:
			ch.OtherMax = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_COMBINED_MAX:
			ch.CombinedMax = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_RX_COUNT:
			ch.Rx = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_TX_COUNT:
			ch.Tx = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_OTHER_COUNT:
			ch.Other = ad.Uint32()
		case unix.ETHTOOL_A_CHANNELS_COMBINED_COUNT:
			ch.Combined = ad.Uint32()
		}
	}
	return ad.Err()
}

// ChannelsUpdate is a change of channel counts (ethtool -L): a nil count is left as it is.
type ChannelsUpdate struct {
	Rx, Tx, Other, Combined *uint32
}

// IsZero reports whether u changes nothing.
func (u ChannelsUpdate) IsZero() bool { return u == ChannelsUpdate{} }

// encode writes the counts u sets.
func (u ChannelsUpdate) encode(ae *netlink.AttributeEncoder) {
	for _, a := range []struct {
		typ uint16
		v   *uint32
	}{{unix.ETHTOOL_A_CHANNELS_RX_COUNT, u.Rx}, {unix.ETHTOOL_A_CHANNELS_TX_COUNT, u.Tx},
		{unix.ETHTOOL_A_CHANNELS_OTHER_COUNT, u.Other}, {unix.ETHTOOL_A_CHANNELS_COMBINED_COUNT, u.Combined}} {
		if a.v != nil {
			ae.Uint32(a.typ, *a.v)
		}
	}
}

// SetChannels changes ifname's channel counts (ethtool -L).
func (e *Ethtool) SetChannels(ifname string, u ChannelsUpdate) error {
	_, err := e.request("set channels of", unix.ETHTOOL_MSG_CHANNELS_SET, unix.ETHTOOL_A_CHANNELS_HEADER, ifname, netlink.Acknowledge, u.encode)
	return err
}

// Error is a failed ethtool netlink request, with the kernel's own explanation.
type Error struct {
	Op     string // e.g. "set channels of"
	Ifname string
	Err    error  // the errno, e.g. unix.EINVAL, unix.EOPNOTSUPP
	Kernel string // the kernel's extended-ACK message, if any
	// Offset is the extended ACK's offset of the attribute the kernel refused, in bytes from the
	// start of the request's netlink header (0: the kernel named none).
	Offset int
}

func (e *Error) Error() string {
	s := "ethtool: " + e.Op + " " + e.Ifname + ": "
	switch {
	case e.Kernel != "":
		return s + "kernel says: " + e.Kernel + " (" + e.Err.Error() + ")"
	case errors.Is(e.Err, unix.EOPNOTSUPP):
		return s + "the driver does not support it (" + e.Err.Error() + ")"
	}
	return s + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func opError(op, ifname string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Ifname: ifname}
	e.Err, e.Kernel, e.Offset = extack.Split(err)
	return e
}

// TxQueues returns the number of TX queues the kernel has for ifname (/sys/class/net/IF/queues),
// in the caller's network namespace.
func TxQueues(ifname string) (int, error) {
	ents, err := os.ReadDir(filepath.Join("/sys/class/net", ifname, "queues"))
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", ifname, err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "tx-") {
			n++
		}
	}
	return n, nil
}

// speedUnknown is SPEED_UNKNOWN (-1) as the u32 ETHTOOL_A_LINKMODES_SPEED carries it.
const speedUnknown = ^uint32(0)

// Speed returns ifname's link speed in Mb/s as the driver reports it (ethtool's "Speed:"), or 0
// when it is unknown (link down, or a driver without speeds). taprio uses the same number to time
// frames, and assumes 10 Mb/s when it is unknown.
func (e *Ethtool) Speed(ifname string) (int, error) {
	msgs, err := e.request("read link modes of", unix.ETHTOOL_MSG_LINKMODES_GET, unix.ETHTOOL_A_LINKMODES_HEADER, ifname, 0, nil)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		ad, err := netlink.NewAttributeDecoder(m.Data)
		if err != nil {
			return 0, err
		}
		for ad.Next() {
			if ad.Type() == unix.ETHTOOL_A_LINKMODES_SPEED {
				if v := ad.Uint32(); v != speedUnknown {
					return int(v), nil
				}
			}
		}
	}
	return 0, nil
}
