package nic_test

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/testbed/nlmon"
	"golang.org/x/sys/unix"
)

// The examples talk to a recording of the kernel, not to this host's: ethtool(8) on a veth v0
// with 4 queues each way in the lab (testdata/netlink, made by make netlink-golden). On a host,
// the connection is
//
//	e, err := nic.DialEthtool(0) // 0: the current network namespace

// recorded is an Ethtool whose kernel answers as in testdata/netlink/name, to requests of the same
// message type and flags as ethtool's (which asks for an acknowledgement even of a read).
func recorded(name string) *nic.Ethtool {
	c, err := nlmon.Play(filepath.Join("testdata", "netlink", name), func(ours, theirs netlink.Message) error {
		if ours.Header.Type != theirs.Header.Type || ours.Header.Flags&^netlink.Acknowledge != theirs.Header.Flags&^netlink.Acknowledge {
			return fmt.Errorf("not the request ethtool made: %+v", ours.Header)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	e, err := nic.NewEthtoolOver(genetlink.NewConn(c))
	if err != nil {
		panic(err)
	}
	return e
}

// Reading an interface's channel counts (ethtool -l v0).
func ExampleEthtool_Channels() {
	e := recorded("channels-get.nl")
	defer e.Close()

	ch, err := e.Channels("v0")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("rx %d of %d, tx %d of %d, combined %d of %d\n", ch.Rx, ch.RxMax, ch.Tx, ch.TxMax, ch.Combined, ch.CombinedMax)
	// Output:
	// rx 4 of 4, tx 4 of 4, combined 0 of 0
}

// Changing channel counts (ethtool -L v0 rx 2 tx 2): counts left nil are left as they are.
func ExampleEthtool_SetChannels() {
	e := recorded("channels-set.nl")
	defer e.Close()

	two := uint32(2)
	err := e.SetChannels("v0", nic.ChannelsUpdate{Rx: &two, Tx: &two})
	fmt.Println("set channels:", err)
	// Output:
	// set channels: <nil>
}

// The kernel's refusal is an *Error with the kernel's own explanation and the offset of the
// attribute it refused (ethtool -L v0 rx 9, on a veth with 4 at most).
func ExampleError() {
	e := recorded("channels-set-invalid.nl")
	defer e.Close()

	nine := uint32(9)
	err := e.SetChannels("v0", nic.ChannelsUpdate{Rx: &nine})
	fmt.Println(err)
	var ne *nic.Error
	if errors.As(err, &ne) {
		fmt.Printf("kernel %q at offset %d, EINVAL: %v\n", ne.Kernel, ne.Offset, errors.Is(err, unix.EINVAL))
	}
	// Output:
	// ethtool: set channels of v0: kernel says: requested channel count exceeds maximum (invalid argument)
	// kernel "requested channel count exceeds maximum" at offset 32, EINVAL: true
}

// The link speed taprio times frames by (ethtool v0's "Speed:").
func ExampleEthtool_Speed() {
	e := recorded("linkmodes-get.nl")
	defer e.Close()

	speed, err := e.Speed("v0")
	fmt.Printf("%d Mb/s %v\n", speed, err)
	// Output:
	// 10000 Mb/s <nil>
}

// Timestamping capabilities in ethtool -T's words; nic.TimestampingInfo(ifname) reads them from the
// kernel. Here those of a NIC with a PTP hardware clock (an igb, as in the lab).
func ExampleTsInfo() {
	t := nic.TsInfo{
		PHC: 0,
		Modes: unix.SOF_TIMESTAMPING_TX_HARDWARE | unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_RX_HARDWARE |
			unix.SOF_TIMESTAMPING_RX_SOFTWARE | unix.SOF_TIMESTAMPING_SOFTWARE | unix.SOF_TIMESTAMPING_RAW_HARDWARE,
		TxTypes:   1<<unix.HWTSTAMP_TX_OFF | 1<<unix.HWTSTAMP_TX_ON,
		RxFilters: 1<<unix.HWTSTAMP_FILTER_NONE | 1<<unix.HWTSTAMP_FILTER_ALL,
	}
	fmt.Println(t.PHCDevice())
	fmt.Println(t.ModeNames())
	fmt.Println(t)
	// Output:
	// /dev/ptp0
	// [hardware-transmit software-transmit hardware-receive software-receive software-system-clock hardware-raw-clock]
	// PHC /dev/ptp0; hardware-transmit, software-transmit, hardware-receive, software-receive, software-system-clock, hardware-raw-clock; hw tx modes: off,on; hw rx filters: none,all
}
