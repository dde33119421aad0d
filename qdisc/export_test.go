package qdisc

import "github.com/mdlayher/netlink"

// NewConnOver is a Conn on c, for the examples, whose kernel is a recording (nlmon.Play): Dial is
// the only way to a Conn outside the package.
func NewConnOver(c *netlink.Conn) *Conn { return &Conn{c: c} }
