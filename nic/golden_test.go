package nic

import (
	"errors"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/testbed/nlmon"
	"golang.org/x/sys/unix"
)

// The tests here replay generic netlink messages recorded in the lab (testdata/netlink, make
// netlink-golden): ethtool's request for the same thing is what tsnctl's is checked against, and
// the kernel's recorded answers (the ethtool family's lookup first) are what tsnctl gets back.

// replay is an Ethtool connected to a recording of ethtool(8) on v0; flags gets each request's flags.
func replay(t *testing.T, name string, flags ...*netlink.HeaderFlags) *Ethtool {
	t.Helper()
	c := nlmon.Replay(t, "testdata/netlink/"+name, func(tb testing.TB, ours, theirs netlink.Message) {
		sameRequest(tb, ours, theirs)
		for _, f := range flags {
			*f = ours.Header.Flags
		}
	})
	e, err := newEthtool(genetlink.NewConn(c))
	if err != nil {
		t.Fatalf("the family lookup, answered by the recording: %v", err)
	}
	return e
}

// sameRequest checks a request against ethtool's: the family lookup names the same family; an
// ethtool request has the same message type (family id), flags (but for the acknowledgement
// ethtool asks for with every request, tsnctl only with changes), command and version, and the
// same attributes, the header's nest compared by its device name (ethtool also asks for flags
// tsnctl leaves at their defaults).
func sameRequest(tb testing.TB, ours, theirs netlink.Message) {
	tb.Helper()
	var og, tg genetlink.Message
	if err := og.UnmarshalBinary(ours.Data); err != nil {
		tb.Fatal(err)
	}
	if err := tg.UnmarshalBinary(theirs.Data); err != nil {
		tb.Fatal(err)
	}
	oa, ta := nlmon.Attrs(tb, og.Data), nlmon.Attrs(tb, tg.Data)
	if ours.Header.Type == unix.GENL_ID_CTRL {
		if theirs.Header.Type != unix.GENL_ID_CTRL || string(oa[unix.CTRL_ATTR_FAMILY_NAME]) != string(ta[unix.CTRL_ATTR_FAMILY_NAME]) {
			tb.Errorf("family lookup %q, ethtool's %q", oa[unix.CTRL_ATTR_FAMILY_NAME], ta[unix.CTRL_ATTR_FAMILY_NAME])
		}
		return
	}
	if ours.Header.Type != theirs.Header.Type || ours.Header.Flags&^netlink.Acknowledge != theirs.Header.Flags&^netlink.Acknowledge || og.Header != tg.Header {
		tb.Errorf("type %d flags %v %+v; ethtool sends type %d flags %v %+v", ours.Header.Type, ours.Header.Flags, og.Header,
			theirs.Header.Type, theirs.Header.Flags, tg.Header)
	}
	for typ, v := range ta {
		if typ == 1 { // ETHTOOL_A_*_HEADER in every message
			if string(nlmon.Attrs(tb, oa[1])[unix.ETHTOOL_A_HEADER_DEV_NAME]) != string(nlmon.Attrs(tb, v)[unix.ETHTOOL_A_HEADER_DEV_NAME]) {
				tb.Errorf("header names %q, ethtool's %q", nlmon.Attrs(tb, oa[1])[unix.ETHTOOL_A_HEADER_DEV_NAME], nlmon.Attrs(tb, v)[unix.ETHTOOL_A_HEADER_DEV_NAME])
			}
			continue
		}
		if string(oa[typ]) != string(v) {
			tb.Errorf("attribute %d: % x, ethtool's % x", typ, oa[typ], v)
		}
	}
	if len(oa) != len(ta) {
		tb.Errorf("%d attributes, ethtool sends %d", len(oa), len(ta))
	}
}

// ethtool -l v0 on a 4-queue veth, as the kernel answered it.
func TestGoldenChannels(t *testing.T) {
	ch, err := replay(t, "channels-get.nl").Channels("v0")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Channels{RxMax: 4, TxMax: 4, Rx: 4, Tx: 4}); ch != want {
		t.Errorf("%+v, want %+v", ch, want)
	}
}

func TestGoldenSetChannels(t *testing.T) {
	two := uint32(2)
	var flags netlink.HeaderFlags
	if err := replay(t, "channels-set.nl", &flags).SetChannels("v0", ChannelsUpdate{Rx: &two, Tx: &two}); err != nil {
		t.Fatal(err)
	}
	if flags&netlink.Acknowledge == 0 {
		t.Errorf("flags %v: a change must ask for the kernel's acknowledgement", flags)
	}
}

// The kernel's refusal names the attribute it refused (the extended ACK's offset).
func TestGoldenSetChannelsRefused(t *testing.T) {
	nine := uint32(9)
	err := replay(t, "channels-set-invalid.nl").SetChannels("v0", ChannelsUpdate{Rx: &nine})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, unix.EINVAL) || e.Kernel != "requested channel count exceeds maximum" || e.Offset != 32 || e.Ifname != "v0" {
		t.Fatalf("%#v", err)
	}
	// Offset 32: the request's nlmsghdr (16), genlmsghdr (4), the header nest (12), then the rx count.
	if want := "ethtool: set channels of v0: kernel says: requested channel count exceeds maximum (invalid argument)"; err.Error() != want {
		t.Errorf("%q\nwant %q", err, want)
	}
}

// `ethtool v0`'s link modes: a veth says 10000 Mb/s.
func TestGoldenSpeed(t *testing.T) {
	e := replay(t, "linkmodes-get.nl")
	speed, err := e.Speed("v0")
	if err != nil || speed != 10000 {
		t.Fatalf("speed %d, %v", speed, err)
	}
}

func TestChannelsUpdate(t *testing.T) {
	for _, tc := range []struct {
		name string
		u    ChannelsUpdate
		zero bool
	}{{"empty", ChannelsUpdate{}, true}, {"combined", ChannelsUpdate{Combined: new(uint32)}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.u.IsZero() != tc.zero {
				t.Errorf("IsZero %v", !tc.zero)
			}
		})
	}
}
