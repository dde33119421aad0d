// Package qdisc creates, replaces, deletes and lists Linux queueing disciplines over rtnetlink
// (RTM_NEWQDISC, RTM_DELQDISC, RTM_GETQDISC), in the current or any network namespace.
//
// It carries a qdisc's kind-specific options as the raw TCA_OPTIONS payload: the taprio and etf
// packages encode and decode those. github.com/florianl/go-tc cannot be used for this: it has no ETF,
// cannot build a taprio schedule, and aborts a whole dump on the first taprio or ETF qdisc it cannot
// decode. Errors carry the kernel's extended-ACK message.
package qdisc

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/internal/extack"
	"golang.org/x/sys/unix"
)

// Handles, as in <linux/pkt_sched.h>.
const (
	HandleRoot    uint32 = 0xFFFFFFFF // TC_H_ROOT
	HandleIngress uint32 = 0xFFFFFFF1 // TC_H_INGRESS
)

// Handle makes a handle MAJ:MIN.
func Handle(maj, min uint16) uint32 { return uint32(maj)<<16 | uint32(min) }

// FormatHandle prints a handle the way tc does: "root", "100:", "100:2" (hexadecimal).
func FormatHandle(h uint32) string {
	switch h {
	case HandleRoot:
		return "root"
	case HandleIngress:
		return "ingress"
	}
	if h&0xFFFF == 0 {
		return fmt.Sprintf("%x:", h>>16)
	}
	return fmt.Sprintf("%x:%x", h>>16, h&0xFFFF)
}

// Qdisc is one queueing discipline.
type Qdisc struct {
	Ifindex int
	Handle  uint32
	Parent  uint32
	Kind    string
	// Options is the TCA_OPTIONS payload: kind-specific attributes (see the taprio and etf packages).
	Options []byte
	// Stats are the qdisc's counters (TCA_STATS2), in a dump.
	Stats Stats
}

// Stats are a qdisc's counters as the kernel dumps them (TCA_STATS2: struct gnet_stats_basic and
// struct gnet_stats_queue), what `tc -s qdisc show` prints.
type Stats struct {
	Bytes, Packets              uint64 // sent
	Qlen, Backlog               uint32 // packets and bytes queued now
	Drops, Requeues, Overlimits uint32
}

// tcmsg mirrors struct tcmsg from <linux/rtnetlink.h> field for field (20 bytes).
type tcmsg struct {
	Family  uint8
	_       [3]uint8
	Ifindex int32
	Handle  uint32
	Parent  uint32
	Info    uint32
}

var tcmsgLen = binary.Size(tcmsg{})

func (m tcmsg) encode() []byte {
	b, _ := binary.Append(nil, binary.NativeEndian, m) // a fixed-size struct: cannot fail
	return b
}

// gnetStatsBasic mirrors struct gnet_stats_basic's fields (TCA_STATS_BASIC; the kernel may pad it).
type gnetStatsBasic struct {
	Bytes   uint64
	Packets uint32
}

// gnetStatsQueue mirrors struct gnet_stats_queue (TCA_STATS_QUEUE).
type gnetStatsQueue struct {
	Qlen, Backlog, Drops, Requeues, Overlimits uint32
}

const (
	tcaKind    = 1 // TCA_KIND
	tcaOptions = 2 // TCA_OPTIONS
	tcaStats2  = 7 // TCA_STATS2, nested

	tcaStatsBasic = 1 // TCA_STATS_BASIC: gnetStatsBasic
	tcaStatsQueue = 3 // TCA_STATS_QUEUE: gnetStatsQueue
)

func marshalTcmsg(ifindex int, handle, parent uint32) []byte {
	return tcmsg{Family: unix.AF_UNSPEC, Ifindex: int32(ifindex), Handle: handle, Parent: parent}.encode()
}

// Conn is an rtnetlink connection for qdisc operations.
type Conn struct {
	c *netlink.Conn
}

// DumpBufferSize is the buffer a Conn receives with. The kernel builds a dump's messages in a
// buffer as large as the largest read the socket has made (at most 32 KiB), or about 3.7 KiB before
// any; a qdisc whose message does not fit an empty buffer is left out of the dump, without an error.
// Read with page-sized buffers, a taprio of more than 41 entries with a schedule change pending
// (two lists in its message) vanished from the dump (measured in the lab, 2026-12-06). iproute2
// reads with 32 KiB, and so does a Conn, from a first read on Dial.
const DumpBufferSize = 32 << 10

// Dial opens a connection. netns is a network namespace file descriptor, or 0 for the current one.
func Dial(netns int) (*Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{NetNS: netns, Strict: true, MessageBufferSize: DumpBufferSize})
	if err != nil {
		return nil, fmt.Errorf("qdisc: open rtnetlink: %w", err)
	}
	// Ask for the kernel's explanation with every error; old kernels do not know the option.
	_ = c.SetOption(netlink.ExtendedAcknowledge, true)
	// One read of a full-sized buffer before the first dump, so that the kernel sizes the dump's
	// first message by it: the loopback device's link message (ifindex 1 in every namespace).
	lo := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(lo[4:], 1) // struct ifinfomsg's ifi_index
	if _, err := c.Execute(netlink.Message{Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request}, Data: lo}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("qdisc: rtnetlink: read the loopback link: %w", err)
	}
	return &Conn{c: c}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }

// Add creates q and fails if a qdisc already sits at its parent (tc qdisc add).
func (c *Conn) Add(q Qdisc) error {
	return c.change("add", q, netlink.Create|netlink.Excl)
}

// Replace creates q or replaces the qdisc at its parent (tc qdisc replace).
func (c *Conn) Replace(q Qdisc) error {
	return c.change("replace", q, netlink.Create|netlink.Replace)
}

func (c *Conn) change(op string, q Qdisc, flags netlink.HeaderFlags) error {
	ae := netlink.NewAttributeEncoder()
	ae.String(tcaKind, q.Kind)
	if q.Options != nil {
		ae.Bytes(tcaOptions, q.Options)
	}
	attrs, err := ae.Encode()
	if err != nil {
		return err
	}
	msg := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_NEWQDISC, Flags: netlink.Request | netlink.Acknowledge | flags},
		Data:   append(marshalTcmsg(q.Ifindex, q.Handle, q.Parent), attrs...),
	}
	_, err = c.c.Execute(msg)
	return wrap(op, q, err)
}

// Delete removes the qdisc at parent (and, when handle is not 0, with that handle) on ifindex.
func (c *Conn) Delete(ifindex int, parent, handle uint32) error {
	msg := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_DELQDISC, Flags: netlink.Request | netlink.Acknowledge},
		Data:   marshalTcmsg(ifindex, handle, parent),
	}
	_, err := c.c.Execute(msg)
	return wrap("delete", Qdisc{Ifindex: ifindex, Parent: parent, Handle: handle}, err)
}

// List returns the qdiscs of one interface (ifindex > 0) or of all interfaces (0), as the kernel
// dumps them: the root first, then its children.
func (c *Conn) List(ifindex int) ([]Qdisc, error) {
	msg := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETQDISC, Flags: netlink.Request | netlink.Dump},
		Data:   marshalTcmsg(ifindex, 0, 0),
	}
	msgs, err := c.c.Execute(msg)
	if err != nil {
		return nil, wrap("list", Qdisc{Ifindex: ifindex}, err)
	}
	out := make([]Qdisc, 0, len(msgs))
	for _, m := range msgs {
		q, err := unmarshal(m.Data)
		if err != nil {
			return nil, err
		}
		if ifindex == 0 || q.Ifindex == ifindex {
			out = append(out, q)
		}
	}
	return out, nil
}

func unmarshal(b []byte) (Qdisc, error) {
	if len(b) < tcmsgLen {
		return Qdisc{}, fmt.Errorf("qdisc: short tcmsg (%d bytes)", len(b))
	}
	var m tcmsg
	if _, err := binary.Decode(b, binary.NativeEndian, &m); err != nil {
		return Qdisc{}, fmt.Errorf("qdisc: tcmsg: %w", err)
	}
	q := Qdisc{Ifindex: int(m.Ifindex), Handle: m.Handle, Parent: m.Parent}
	ad, err := netlink.NewAttributeDecoder(b[tcmsgLen:])
	if err != nil {
		return Qdisc{}, fmt.Errorf("qdisc: decode attributes: %w", err)
	}
	for ad.Next() {
		switch ad.Type() {
		case tcaKind:
			q.Kind = ad.String()
		case tcaOptions:
			q.Options = append([]byte(nil), ad.Bytes()...)
		case tcaStats2:
			ad.Nested(q.Stats.decode)
		}
	}
	return q, ad.Err()
}

func (st *Stats) decode(ad *netlink.AttributeDecoder) error {
	for ad.Next() {
		switch ad.Type() {
		case tcaStatsBasic:
			var b gnetStatsBasic
			if _, err := binary.Decode(ad.Bytes(), binary.NativeEndian, &b); err == nil {
				st.Bytes, st.Packets = b.Bytes, uint64(b.Packets)
			}
		case tcaStatsQueue:
			var q gnetStatsQueue
			if _, err := binary.Decode(ad.Bytes(), binary.NativeEndian, &q); err == nil {
				st.Qlen, st.Backlog, st.Drops, st.Requeues, st.Overlimits = q.Qlen, q.Backlog, q.Drops, q.Requeues, q.Overlimits
			}
		}
	}
	return nil
}

// ErrUnknownKind matches (errors.Is) an Error of creating a qdisc whose kind the kernel does not
// have (not built, module not loadable): the kernel answers ENOENT, "Specified qdisc kind is
// unknown".
var ErrUnknownKind = errors.New("the kernel has no qdisc of this kind")

// Error is a failed qdisc operation with the kernel's own explanation.
type Error struct {
	Op     string // add, replace, change, delete, list
	Qdisc  Qdisc
	Err    error  // the errno, e.g. unix.EINVAL
	Kernel string // the kernel's extended-ACK message, if any
	// Offset is the extended ACK's offset of the attribute the kernel refused, in bytes from the
	// start of the request's netlink header (0: the kernel named none).
	Offset int
}

func (e *Error) Error() string {
	what := e.Qdisc.Kind
	if what == "" {
		what = "qdisc"
	}
	s := fmt.Sprintf("%s %s (ifindex %d, parent %s", e.Op, what, e.Qdisc.Ifindex, FormatHandle(e.Qdisc.Parent))
	if e.Qdisc.Handle != 0 {
		s += ", handle " + FormatHandle(e.Qdisc.Handle)
	}
	s += "): "
	if e.Kernel != "" {
		return s + "kernel says: " + e.Kernel + " (" + e.Err.Error() + ")"
	}
	return s + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnknownKind) true for a creation the kernel refused with ENOENT.
func (e *Error) Is(target error) bool {
	return target == ErrUnknownKind && (e.Op == "add" || e.Op == "replace") && errors.Is(e.Err, unix.ENOENT)
}

func wrap(op string, q Qdisc, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Qdisc: q}
	e.Err, e.Kernel, e.Offset = extack.Split(err)
	return e
}
