package qdisc_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/tsnctl/tsnctl/testbed/nlmon"
	"golang.org/x/sys/unix"
)

// The examples talk to a recording of the kernel, not to this host's: tc(8) on a 4-queue veth v0
// in the lab (testdata/netlink, made by make netlink-golden). On a host, the connection is
//
//	c, err := qdisc.Dial(0) // 0: the current network namespace
//
// and the interface's index comes from net.InterfaceByName.
const v0 = 3 // v0's index in the recording's namespace

// recorded is a Conn whose kernel answers as in testdata/netlink/name, to requests of the same
// type, flags and tcmsg as tc's.
func recorded(name string) *qdisc.Conn {
	c, err := nlmon.Play(filepath.Join("testdata", "netlink", name), func(ours, tcs netlink.Message) error {
		if ours.Header.Type != tcs.Header.Type || ours.Header.Flags != tcs.Header.Flags || !bytes.Equal(ours.Data[:20], tcs.Data[:20]) {
			return fmt.Errorf("not the request tc made: %+v % x", ours.Header, ours.Data[:20])
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return qdisc.NewConnOver(c)
}

// seedTaprio is configs/seed.yaml's taprio with base-time 1 s, as the recording's tc installed it.
func seedTaprio() taprio.Options {
	tai := clock.TAI
	o := taprio.Options{NumTC: 4, Map: [16]uint8{3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3}, ClockID: &tai,
		Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}, {Count: 1, Offset: 2}, {Count: 1, Offset: 3}}}
	o.Schedule.BaseTime = int64(time.Second)
	for range 2 {
		o.Schedule.Entries = append(o.Schedule.Entries,
			taprio.Entry{Cmd: taprio.SetGates, Gates: 0x01, Interval: 200000}, taprio.Entry{Cmd: taprio.SetGates, Gates: 0x02, Interval: 100000},
			taprio.Entry{Cmd: taprio.SetGates, Gates: 0x04, Interval: 100000}, taprio.Entry{Cmd: taprio.SetGates, Gates: 0x08, Interval: 100000})
	}
	return o
}

// Installing a taprio qdisc as v0's root, handle 100: (tc qdisc replace dev v0 parent root handle
// 100: taprio ...): the taprio package encodes the options.
func ExampleConn_Replace() {
	c := recorded("taprio-replace.nl")
	defer c.Close()

	o := seedTaprio()
	opts, err := o.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	q := qdisc.Qdisc{Ifindex: v0, Parent: qdisc.HandleRoot, Handle: qdisc.Handle(0x100, 0), Kind: taprio.Kind, Options: opts}
	if err := c.Replace(q); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %s installed at %s, cycle %v\n", q.Kind, qdisc.FormatHandle(q.Handle), qdisc.FormatHandle(q.Parent), time.Duration(o.Schedule.Cycle()))
	// Output:
	// taprio 100: installed at root, cycle 1ms
}

// An ETF child on taprio's class 2 (TX queue 1), as tc qdisc replace dev v0 parent 100:2 handle
// e001: etf clockid CLOCK_TAI delta 200000 deadline_mode skip_sock_check.
func ExampleConn_Replace_etf() {
	c := recorded("etf-replace.nl")
	defer c.Close()

	o := etf.Options{Delta: 200000, ClockID: clock.TAI, DeadlineMode: true, SkipSockCheck: true}
	opts, err := o.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	err = c.Replace(qdisc.Qdisc{Ifindex: v0, Parent: qdisc.Handle(0x100, 2), Handle: qdisc.Handle(0xe001, 0), Kind: etf.Kind, Options: opts})
	fmt.Println("replace:", err)
	// Output:
	// replace: <nil>
}

// Listing v0's qdiscs (tc qdisc show dev v0) and decoding the options of the kinds tsnctl knows.
func ExampleConn_List() {
	c := recorded("show.nl")
	defer c.Close()

	qs, err := c.List(v0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, q := range qs {
		fmt.Printf("%s %s parent %s, sent %d packets\n", q.Kind, qdisc.FormatHandle(q.Handle), qdisc.FormatHandle(q.Parent), q.Stats.Packets)
		switch q.Kind {
		case taprio.Kind:
			var o taprio.Options
			if err := o.UnmarshalBinary(q.Options); err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("  %d classes, %s, cycle %v, %d entries, running: %v\n", o.NumTC, o.ClockID, time.Duration(o.Schedule.Cycle()),
				len(o.Schedule.Entries), o.Oper != nil)
		case etf.Kind:
			var o etf.Options
			if err := o.UnmarshalBinary(q.Options); err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("  %s, delta %v, deadline mode %v\n", o.ClockID, time.Duration(o.Delta), o.DeadlineMode)
		}
	}
	// Output:
	// taprio 100: parent root, sent 0 packets
	//   4 classes, CLOCK_TAI, cycle 1ms, 8 entries, running: true
	// pfifo 0: parent 100:4, sent 0 packets
	// pfifo 0: parent 100:3, sent 0 packets
	// pfifo 0: parent 100:1, sent 0 packets
	// etf e001: parent 100:2, sent 0 packets
	//   CLOCK_TAI, delta 200µs, deadline mode true
}

// Removing v0's root qdisc (tc qdisc del dev v0 root).
func ExampleConn_Delete() {
	c := recorded("delete.nl")
	defer c.Close()
	fmt.Println("delete:", c.Delete(v0, qdisc.HandleRoot, 0))
	// Output:
	// delete: <nil>
}

// The kernel's refusal is an *Error that keeps the kernel's own explanation (its extended ACK):
// here a schedule entry of 0 ns.
func ExampleError() {
	c := recorded("taprio-invalid.nl")
	defer c.Close()

	o := seedTaprio()
	o.Schedule.Entries = []taprio.Entry{{Cmd: taprio.SetGates, Gates: 0x01, Interval: 0}}
	opts, _ := o.MarshalBinary()
	err := c.Replace(qdisc.Qdisc{Ifindex: v0, Parent: qdisc.HandleRoot, Handle: qdisc.Handle(0x100, 0), Kind: taprio.Kind, Options: opts})
	fmt.Println(err)
	var e *qdisc.Error
	if errors.As(err, &e) {
		fmt.Printf("op %q, kernel %q, EINVAL: %v\n", e.Op, e.Kernel, errors.Is(err, unix.EINVAL))
	}
	// Output:
	// replace taprio (ifindex 3, parent root, handle 100:): kernel says: Invalid interval for schedule entry (invalid argument)
	// op "replace", kernel "Invalid interval for schedule entry", EINVAL: true
}

// A kernel without the qdisc kind (not built, module not loadable) refuses it with ENOENT, which
// ErrUnknownKind matches.
func ExampleConn_Add_unknownKind() {
	c := recorded("unknown-kind.nl")
	defer c.Close()

	err := c.Add(qdisc.Qdisc{Ifindex: v0, Parent: qdisc.HandleRoot, Handle: qdisc.Handle(0x100, 0), Kind: "nosuchqdisc"})
	fmt.Println(errors.Is(err, qdisc.ErrUnknownKind))
	fmt.Println(err)
	// Output:
	// true
	// add nosuchqdisc (ifindex 3, parent root, handle 100:): kernel says: Specified qdisc kind is unknown (no such file or directory)
}

// Handles print as tc prints them, in hexadecimal.
func ExampleFormatHandle() {
	fmt.Println(qdisc.FormatHandle(qdisc.HandleRoot), qdisc.FormatHandle(qdisc.Handle(0x100, 0)), qdisc.FormatHandle(qdisc.Handle(0x100, 2)),
		qdisc.FormatHandle(qdisc.Handle(0xe001, 0)))
	// Output:
	// root 100: 100:2 e001:
}
