package qdisc

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/mdlayher/netlink"
	"github.com/tsnctl/tsnctl/cbs"
	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/etf"
	"github.com/tsnctl/tsnctl/mqprio"
	"github.com/tsnctl/tsnctl/taprio"
	"github.com/tsnctl/tsnctl/testbed/nlmon"
	"golang.org/x/sys/unix"
)

// The tests here replay netlink messages recorded in the lab (testdata/netlink, make
// netlink-golden): iproute2's request for the same change is what tsnctl's request is checked
// against, and the kernel's recorded answer is what tsnctl gets back.

func replay(t *testing.T, name string, check func(tb testing.TB, ours, theirs netlink.Message)) *Conn {
	return &Conn{c: nlmon.Replay(t, "testdata/netlink/"+name, check)}
}

// sameRequest checks a request against iproute2's: message type and flags (what the kernel does
// with it), the tcmsg, the kind, and the options decoded by dec and compared as values, the same
// top-level attributes present.
func sameRequest(dec func([]byte) (any, error)) func(t testing.TB, ours, theirs netlink.Message) {
	return func(t testing.TB, ours, theirs netlink.Message) {
		t.Helper()
		if ours.Header.Type != theirs.Header.Type || ours.Header.Flags != theirs.Header.Flags {
			t.Errorf("header: type %d flags %v, iproute2 sends type %d flags %v", ours.Header.Type, ours.Header.Flags,
				theirs.Header.Type, theirs.Header.Flags)
		}
		if string(ours.Data[:tcmsgLen]) != string(theirs.Data[:tcmsgLen]) {
			t.Errorf("tcmsg % x, iproute2's % x", ours.Data[:tcmsgLen], theirs.Data[:tcmsgLen])
		}
		oa, ta := nlmon.Attrs(t, ours.Data[tcmsgLen:]), nlmon.Attrs(t, theirs.Data[tcmsgLen:])
		if string(oa[tcaKind]) != string(ta[tcaKind]) {
			t.Errorf("kind %q, iproute2's %q", oa[tcaKind], ta[tcaKind])
		}
		if dec == nil {
			return
		}
		oo, to := nlmon.Attrs(t, oa[tcaOptions]), nlmon.Attrs(t, ta[tcaOptions])
		if !reflect.DeepEqual(slices.Sorted(maps.Keys(oo)), slices.Sorted(maps.Keys(to))) {
			t.Errorf("option attributes %v, iproute2 sends %v", slices.Sorted(maps.Keys(oo)), slices.Sorted(maps.Keys(to)))
		}
		ov, err1 := dec(oa[tcaOptions])
		tv, err2 := dec(ta[tcaOptions])
		if err1 != nil || err2 != nil || !reflect.DeepEqual(ov, tv) {
			t.Errorf("options decode as\n%+v (%v)\niproute2's as\n%+v (%v)", ov, err1, tv, err2)
		}
	}
}

// seedTaprio is the schedule the recordings' tc command installs (configs/seed.yaml's, base-time 1 s).
func seedTaprio(interval0 uint32) taprio.Options {
	tai := clock.TAI
	o := taprio.Options{NumTC: 4, Map: [16]uint8{3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3},
		Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}, {Count: 1, Offset: 2}, {Count: 1, Offset: 3}}, ClockID: &tai}
	o.Schedule.BaseTime = 1e9
	for range 2 {
		o.Schedule.Entries = append(o.Schedule.Entries, taprio.Entry{Gates: 1, Interval: 200000}, taprio.Entry{Gates: 2, Interval: 100000},
			taprio.Entry{Gates: 4, Interval: 100000}, taprio.Entry{Gates: 8, Interval: 100000})
	}
	if interval0 != 200000 {
		o.Schedule.Entries = o.Schedule.Entries[:1]
		o.Schedule.Entries[0].Interval = interval0
	}
	return o
}

func decodeTaprio(b []byte) (any, error) {
	var o taprio.Options
	err := o.UnmarshalBinary(b)
	return o, err
}

func decodeETF(b []byte) (any, error) {
	var o etf.Options
	err := o.UnmarshalBinary(b)
	return o, err
}

// v0's index in the recordings' namespace.
const goldIfindex = 3

func TestGoldenReplaceTaprio(t *testing.T) {
	o := seedTaprio(200000)
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := replay(t, "taprio-replace.nl", sameRequest(decodeTaprio))
	// The kernel acknowledges with a warning (no size table): not an error.
	if err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: taprio.Kind, Options: b}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

func TestGoldenReplaceETF(t *testing.T) {
	o := etf.Options{Delta: 200000, ClockID: clock.TAI, DeadlineMode: true, SkipSockCheck: true}
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := replay(t, "etf-replace.nl", sameRequest(decodeETF))
	if err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: Handle(0x100, 2), Handle: Handle(0xe001, 0), Kind: etf.Kind, Options: b}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

// The kernel's dump of taprio with an ETF child (and the pfifo children taprio made itself),
// decoded: what tc qdisc show printed.
func TestGoldenList(t *testing.T) {
	c := replay(t, "show.nl", sameRequest(nil))
	qs, err := c.List(goldIfindex)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, q := range qs {
		kinds = append(kinds, q.Kind+" "+FormatHandle(q.Handle)+" parent "+FormatHandle(q.Parent))
		if q.Ifindex != goldIfindex || q.Stats != (Stats{}) {
			t.Errorf("%s: ifindex %d, stats %+v (the link was down: no traffic)", q.Kind, q.Ifindex, q.Stats)
		}
	}
	want := []string{"taprio 100: parent root", "pfifo 0: parent 100:4", "pfifo 0: parent 100:3", "pfifo 0: parent 100:1", "etf e001: parent 100:2"}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("qdiscs %q, want %q (v1's noqueue is another interface's)", kinds, want)
	}
	var got taprio.Options
	if err := got.UnmarshalBinary(qs[0].Options); err != nil {
		t.Fatal(err)
	}
	wantT := seedTaprio(200000)
	wantT.Oper = &wantT.Schedule // base-time passed: the schedule runs
	wantT.Schedule.CycleTime = 1000000
	if !reflect.DeepEqual(got, wantT) {
		t.Errorf("taprio\n got %+v\nwant %+v", got, wantT)
	}
	var e etf.Options
	if err := e.UnmarshalBinary(qs[4].Options); err != nil || e != (etf.Options{Delta: 200000, ClockID: clock.TAI, DeadlineMode: true, SkipSockCheck: true}) {
		t.Errorf("etf %+v %v", e, err)
	}
}

// The kernel's refusal, with its extended ACK, becomes an Error that keeps the message.
func TestGoldenKernelError(t *testing.T) {
	o := seedTaprio(0)
	b, _ := o.MarshalBinary()
	c := replay(t, "taprio-invalid.nl", sameRequest(decodeTaprio))
	err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: taprio.Kind, Options: b})
	var e *Error
	if !errors.As(err, &e) || e.Kernel != "Invalid interval for schedule entry" || e.Offset != 0 || !errors.Is(err, unix.EINVAL) ||
		errors.Is(err, ErrUnknownKind) || e.Op != "replace" {
		t.Fatalf("%#v", err)
	}
	want := "replace taprio (ifindex 3, parent root, handle 100:): kernel says: Invalid interval for schedule entry (invalid argument)"
	if err.Error() != want {
		t.Errorf("%q\nwant %q", err, want)
	}
}

func TestGoldenUnknownKind(t *testing.T) {
	c := replay(t, "unknown-kind.nl", sameRequest(nil))
	err := c.Add(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: "nosuchqdisc"})
	var e *Error
	if !errors.Is(err, ErrUnknownKind) || !errors.Is(err, unix.ENOENT) || !errors.As(err, &e) || e.Kernel != "Specified qdisc kind is unknown" {
		t.Fatalf("%v", err)
	}
	// ENOENT of a delete is another matter: no such qdisc.
	if errors.Is(&Error{Op: "delete", Err: unix.ENOENT}, ErrUnknownKind) {
		t.Error("a delete's ENOENT matched ErrUnknownKind")
	}
}

func TestGoldenDelete(t *testing.T) {
	if err := replay(t, "delete.nl", sameRequest(nil)).Delete(goldIfindex, HandleRoot, 0); err != nil {
		t.Fatal(err)
	}
}

func decodeCBS(b []byte) (any, error) {
	var o cbs.Options
	err := o.UnmarshalBinary(b)
	return o, err
}

// goldCBS is the cbs the recordings' tc command installs on TX queue 2: 20 Mbit/s on the veth's
// 10 Gb/s, with the credits tsnctl derives for it.
var goldCBS = cbs.Options{IdleSlope: 20000, SendSlope: -9980000, HiCredit: 4, LoCredit: -1539}

func TestGoldenReplaceCBS(t *testing.T) {
	b, err := goldCBS.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := replay(t, "cbs-replace.nl", sameRequest(decodeCBS))
	if err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: Handle(0x100, 3), Handle: Handle(0xc002, 0), Kind: cbs.Kind, Options: b}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

// The dump of a taprio with a cbs child: the cbs's parameters as they were given (the kernel keeps
// the slopes in bytes per second and dumps them back in kbit/s), and the pfifo the cbs made for
// its own queue.
func TestGoldenListCBS(t *testing.T) {
	c := replay(t, "cbs-show.nl", sameRequest(nil))
	qs, err := c.List(goldIfindex)
	if err != nil {
		t.Fatal(err)
	}
	var got *cbs.Options
	var kinds []string
	for _, q := range qs {
		kinds = append(kinds, q.Kind+" "+FormatHandle(q.Handle)+" parent "+FormatHandle(q.Parent))
		if q.Kind == cbs.Kind {
			got = new(cbs.Options)
			if err := got.UnmarshalBinary(q.Options); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got == nil || *got != goldCBS {
		t.Errorf("cbs %+v, want %+v; qdiscs %q", got, goldCBS, kinds)
	}
}

// tc-taprio(8)'s txtime-assist example: three traffic classes share TX queue 0 (queues 1@0 1@0
// 1@0), which the kernel accepts in txtime-assist mode; tsnctl sends what tc sends.
func TestGoldenTaprioTxtimeAssistSharedQueue(t *testing.T) {
	tai := clock.TAI
	o := taprio.Options{NumTC: 3, Map: [16]uint8{2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
		Queues: []taprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 0}, {Count: 1, Offset: 0}}, ClockID: &tai,
		Mode: taprio.TxtimeAssist, TxtimeDelay: 200000}
	o.Schedule.BaseTime = 1528743495910289987
	o.Schedule.Entries = []taprio.Entry{{Gates: 1, Interval: 300000}, {Gates: 2, Interval: 300000}, {Gates: 4, Interval: 400000}}
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := replay(t, "taprio-txtime-assist.nl", sameRequest(decodeTaprio))
	if err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: taprio.Kind, Options: b}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

// A cycle of 2^31 ns: the kernel's limit is INT_MAX ns (lint's cycle-time rule refuses it first).
func TestGoldenTaprioCycleTooBig(t *testing.T) {
	o := seedTaprio(0)
	o.Schedule.Entries[0].Interval = 1 << 31
	b, _ := o.MarshalBinary()
	c := replay(t, "taprio-cycle-too-big.nl", sameRequest(decodeTaprio))
	err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: taprio.Kind, Options: b})
	var e *Error
	if !errors.As(err, &e) || e.Kernel != "'cycle_time' is too big" || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("%#v", err)
	}
}

// sameMqprio checks a request against iproute2's mqprio request: mqprio's options are a struct
// followed by attributes, not attributes, so they are compared byte for byte, and decoded.
func sameMqprio(t testing.TB, ours, theirs netlink.Message) {
	t.Helper()
	sameRequest(nil)(t, ours, theirs)
	oa, ta := nlmon.Attrs(t, ours.Data[tcmsgLen:]), nlmon.Attrs(t, theirs.Data[tcmsgLen:])
	if string(oa[tcaOptions]) != string(ta[tcaOptions]) {
		t.Errorf("options\n% x\niproute2's\n% x", oa[tcaOptions], ta[tcaOptions])
	}
	var o, w mqprio.Options
	if err1, err2 := o.UnmarshalBinary(oa[tcaOptions]), w.UnmarshalBinary(ta[tcaOptions]); err1 != nil || err2 != nil || !reflect.DeepEqual(o, w) {
		t.Errorf("options decode as\n%+v (%v)\niproute2's as\n%+v (%v)", o, err1, w, err2)
	}
}

// goldMqprio is the recordings' mqprio: priority 3 -> class 0 (queue 0), 2 -> class 1 (queue 1),
// the rest -> class 2 (queues 2-3).
func goldMqprio() mqprio.Options {
	return mqprio.Options{NumTC: 3, Map: [16]uint8{2, 2, 1, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
		Queues: []mqprio.Queue{{Count: 1, Offset: 0}, {Count: 1, Offset: 1}, {Count: 2, Offset: 2}}}
}

func TestGoldenReplaceMqprio(t *testing.T) {
	o := goldMqprio()
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := replay(t, "mqprio-replace.nl", sameMqprio)
	if err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: mqprio.Kind, Options: b}); err != nil {
		t.Errorf("replace: %v", err)
	}
}

// hw 1 with mode channel, the bw_rlimit shaper, per-class rates (tc's 1Mbit is 125000 bytes per
// second) and frame preemption per class: tsnctl's request is tc's, byte for byte; the veth has
// no offload, and the kernel says so.
func TestGoldenMqprioHardware(t *testing.T) {
	o := goldMqprio()
	o.HW = true
	mode, shaper := mqprio.ModeChannel, mqprio.ShaperBWRlimit
	o.Mode, o.Shaper = &mode, &shaper
	o.MinRate = []uint64{125000, 250000, 375000}
	o.MaxRate = []uint64{1250000, 2500000, 3750000}
	o.FP = []mqprio.FP{mqprio.FPExpress, mqprio.FPPreemptible, mqprio.FPPreemptible}
	b, err := o.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := replay(t, "mqprio-hw.nl", sameMqprio)
	err = c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: mqprio.Kind, Options: b})
	var e *Error
	if !errors.As(err, &e) || e.Kernel != "Device does not support hardware offload" {
		t.Fatalf("%v", err)
	}
}

// mqprio has no change operation: a replace on its own handle is refused (tsnctl deletes the root
// and creates it again).
func TestGoldenMqprioChangeRefused(t *testing.T) {
	o := mqprio.Options{NumTC: 2, Map: [16]uint8{1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		Queues: []mqprio.Queue{{Count: 1, Offset: 0}, {Count: 3, Offset: 1}}}
	b, _ := o.MarshalBinary()
	c := replay(t, "mqprio-change.nl", sameMqprio)
	err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: mqprio.Kind, Options: b})
	var e *Error
	if !errors.As(err, &e) || e.Kernel != "Change operation not supported by specified qdisc" {
		t.Fatalf("%v", err)
	}
}

// The dump of an mqprio with an ETF and a cbs under its queues: the kernel's 16 TC entries (every
// class express by default, fp 0 read as the kernel's default) and the children.
func TestGoldenListMqprio(t *testing.T) {
	c := replay(t, "mqprio-show.nl", sameRequest(nil))
	qs, err := c.List(goldIfindex)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, q := range qs {
		kinds = append(kinds, q.Kind+" "+FormatHandle(q.Handle)+" parent "+FormatHandle(q.Parent))
	}
	if qs[0].Kind != mqprio.Kind {
		t.Fatalf("qdiscs %q", kinds)
	}
	var got mqprio.Options
	if err := got.UnmarshalBinary(qs[0].Options); err != nil {
		t.Fatal(err)
	}
	want := goldMqprio()
	if len(got.FP) != 16 {
		t.Errorf("%d TC entries, want the kernel's 16", len(got.FP))
	}
	got.FP = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mqprio\n got %+v\nwant %+v\nqdiscs %q", got, want, kinds)
	}
	t.Logf("%q", kinds)
}

// Frame preemption per class (tc's fp E P E E): tsnctl sends what tc sends, one TC entry per class
// with its preemption; a software taprio refuses it, and says why.
func TestGoldenTaprioFP(t *testing.T) {
	o := seedTaprio(200000)
	o.Preemptible = []bool{false, true, false, false}
	b, _ := o.MarshalBinary()
	c := replay(t, "taprio-fp.nl", sameRequest(decodeTaprio))
	err := c.Replace(Qdisc{Ifindex: goldIfindex, Parent: HandleRoot, Handle: Handle(0x100, 0), Kind: taprio.Kind, Options: b})
	var e *Error
	if !errors.As(err, &e) || e.Kernel != "Preemption only supported with full offload" {
		t.Fatalf("%v", err)
	}
}
