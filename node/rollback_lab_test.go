//go:build lab

package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/testbed/labtest"
	"golang.org/x/sys/unix"
)

// A failed apply must leave the kernel exactly as it found it: the same qdisc tree, handles and
// parameters, and the same schedules in force. A software taprio's schedule is operational (tc's
// top-level "schedule") once the kernel's gate timer has run; a taprio that shows only an "admin"
// schedule long after its base-time has no gates running. These tests compare iproute2's whole
// read-back (tc -j -d qdisc show) before the failing apply and after its rollback, with nothing
// normalised: the kernel dumps base-time as configured, so the rolled-back taprio, rebuilt with the
// snapshot's base-time and cycle, reads back byte for byte as the original did, and its gates run in
// the same phase (base-time + n cycles). What a rebuilt qdisc cannot have is not in that read-back:
// its counters (tc -s) start again from zero, and from its re-creation to its next cycle boundary
// (at most one cycle) the taprio has no operational schedule yet; Rollback returns after that.

// rollbackFirst is the previous state: a software taprio with 8 entries, a 1 ms cycle and a
// base-time in the past, with an ETF on TX queue 1.
const rollbackFirst = `interfaces:
  - name: v0
    taprio:
      handle: 100
      num-tc: 4
      map: [3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3]
      queues: ["1@0", "1@1", "1@2", "1@3"]
      clockid: CLOCK_TAI
      base-time: 1000000
      mode: software
      schedule:
        - {cmd: S, gates: 0x01, interval: 200us}
        - {cmd: S, gates: 0x02, interval: 100us}
        - {cmd: S, gates: 0x04, interval: 100us}
        - {cmd: S, gates: 0x08, interval: 100us}
        - {cmd: S, gates: 0x01, interval: 200us}
        - {cmd: S, gates: 0x02, interval: 100us}
        - {cmd: S, gates: 0x04, interval: 100us}
        - {cmd: S, gates: 0x08, interval: 100us}
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 300us}
`

// rollbackTwoClass replaces it with a 2-class taprio with an ETF and a cbs that asks for offload,
// which a veth refuses ("Specified device does not support cbs offload") and lint cannot know of
// (an ETF's offload it refuses before, on a NIC without a PTP clock).
const rollbackTwoClass = `interfaces:
  - name: v0
    taprio:
      handle: 100
      num-tc: 2
      map: [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: auto
      mode: software
      schedule:
        - {cmd: S, gates: 0x1, interval: 500us}
        - {cmd: S, gates: 0x2, interval: 500us}
    etf:
      - {queue: 1, clockid: CLOCK_TAI, delta: 200us}
    cbs:
      - {queue: 0, idleslope: 1000, offload: true}
`

// rollbackNS is labNetns with both ends of the veth up: a qdisc graft resets the taprio (and stops
// its gate timer) only on a device that is up, as a real port is.
func rollbackNS(t *testing.T) string {
	t.Helper()
	ns := labNetns(t, 4)
	labtest.Run(t, "ip", "-n", ns, "link", "set", "v0", "up")
	labtest.Run(t, "ip", "-n", ns, "link", "set", "v1", "up")
	return ns
}

// tcJSON is tc -j -d qdisc show dev dev, decoded (numbers exact) and written again indented, one
// field a line, so that two read-backs compare as text and a difference shows by line.
func tcJSON(t *testing.T, ns, dev string) string {
	t.Helper()
	out := labtest.Run(t, append(append([]string{"tc"}, nsArgs(ns)...), "-j", "-d", "qdisc", "show", "dev", dev)...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("tc -j: %v\n%s", err, out)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readBack is the whole qdisc state of both ends of the veth.
func readBack(t *testing.T, ns string) string {
	t.Helper()
	return "v0: " + tcJSON(t, ns, "v0") + "\nv1: " + tcJSON(t, ns, "v1") + "\n"
}

// lineDiff is a line diff of a and b (longest common subsequence): "-" lines only a has, "+" lines
// only b has, with the line before each change for context.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	l := make([][]int, len(x)+1)
	for i := range l {
		l[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var d bytes.Buffer
	last := ""
	shown := false
	for i, j := 0, 0; i < len(x) || j < len(y); {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			last, shown = x[i], false
			i, j = i+1, j+1
			continue
		case j < len(y) && (i == len(x) || l[i][j+1] >= l[i+1][j]):
			if !shown {
				fmt.Fprintf(&d, "  %s\n", last)
				shown = true
			}
			fmt.Fprintf(&d, "+ %s\n", y[j])
			j++
		default:
			if !shown {
				fmt.Fprintf(&d, "  %s\n", last)
				shown = true
			}
			fmt.Fprintf(&d, "- %s\n", x[i])
			i++
		}
	}
	return d.String()
}

// rootSchedules says which schedules v0's root taprio reads back: "oper" (tc's top-level
// schedule), "admin", both, or "none".
func rootSchedules(t *testing.T, ns string) string {
	t.Helper()
	for _, q := range tcShow(t, ns, "v0") {
		if !q.Root || q.Kind != "taprio" {
			continue
		}
		var s []string
		if _, ok := q.Options["schedule"]; ok {
			s = append(s, "oper")
		}
		if _, ok := q.Options["admin"]; ok {
			s = append(s, "admin")
		}
		if len(s) == 0 {
			return "none"
		}
		return strings.Join(s, "+")
	}
	return "no taprio"
}

// rxPackets is v1's received-packet counter (ip -s: what v0 put on the veth).
func rxPackets(t *testing.T, ns string) int64 {
	t.Helper()
	stats, _ := ipLinkStats(t, ns, "v1")["stats64"].(map[string]any)
	rx, _ := stats["rx"].(map[string]any)
	return num(rx["packets"])
}

func ipLinkStats(t *testing.T, ns, dev string) map[string]any {
	t.Helper()
	out := labtest.Run(t, "ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev)
	var ls []map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&ls); err != nil || len(ls) != 1 {
		t.Fatalf("ip -s -j: %v\n%s", err, out)
	}
	return ls[0]
}

// checkGatesRun sends n frames of socket priority 0 (traffic class 3 of rollbackFirst's map, open
// 200 us of each 1 ms cycle in two windows) into v0 and asserts that all of them reach v1 within
// settle. A software taprio whose gate timer was stopped after its schedule became operational
// keeps its gates as they were, and a frame passes only before the frozen entry's close time, long
// gone: the frames wait for ever. The read-back cannot tell running gates from frozen ones; traffic
// can. (A taprio with only a pending admin schedule, the state, has no current entry and
// lets everything through, as if every gate were open: that only the read-back shows.)
func checkGatesRun(t *testing.T, ns string, n int) {
	t.Helper()
	rx0 := rxPackets(t, ns)
	err := nsexec.Do(ns, func() error {
		const proto = 0x88b5 // IEEE 802 local experimental ethertype
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(proto)))
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		l, err := net.InterfaceByName("v0")
		if err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PRIORITY, 0); err != nil {
			return err
		}
		frame := make([]byte, 60)
		copy(frame, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		copy(frame[6:], l.HardwareAddr)
		frame[12], frame[13] = proto>>8, proto&0xff
		to := &unix.SockaddrLinklayer{Ifindex: l.Index, Protocol: htons(proto), Halen: 6}
		copy(to.Addr[:], frame[:6])
		for i := 0; i < n; i++ {
			if err := unix.Sendto(fd, frame, 0, to); err != nil {
				return fmt.Errorf("frame %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("send frames on v0: %v", err)
	}
	time.Sleep(settle)
	if got := rxPackets(t, ns) - rx0; got < int64(n) {
		t.Errorf("the gates do not run: %d of %d frames of traffic class 3 reached v1 in %v (tc -s: %s)", got, n, settle,
			labtest.Run(t, "tc", "-n", ns, "-s", "qdisc", "show", "dev", "v0"))
	}
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// cycles of the 1 ms schedules: how long the tests let the kernel's gate timer run before each read-back.
const settle = 50 * time.Millisecond

// rollbackCase applies first (nothing when ""), reads back, applies bad, which must fail at step
// failAt and be rolled back, and compares the read-back right after the rollback and settle later
// with the one before. wantSchedules is what the root taprio must show before and after ("" when
// there is no taprio).
func rollbackCase(t *testing.T, first, bad string, failAt Action, wantSchedules string) {
	t.Helper()
	ns := rollbackNS(t)
	if first != "" {
		apply(t, ns, first)
	}
	software := strings.Contains(first, "mode: software") // the traffic check is for software gates
	time.Sleep(settle)
	if wantSchedules != "" {
		if got := rootSchedules(t, ns); got != wantSchedules {
			t.Fatalf("the state before the failing apply shows %s schedules, the test expects %s:\n%s", got, wantSchedules, readBack(t, ns))
		}
		if software {
			checkGatesRun(t, ns, 8) // the check itself: apply's restart-schedule started these gates
		}
	}
	before := readBack(t, ns)
	sys, p, err := prepare(t, ns, bad)
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	start := time.Now()
	_, err = sys.Apply(p)
	took := time.Since(start)
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Step.Action != failAt {
		t.Fatalf("want a failure at %s, got %v", failAt, err)
	}
	if !ae.RolledBack || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("the failure was not rolled back: %v", err)
	}
	var plan []string
	for _, st := range p.Steps {
		plan = append(plan, string(st.Action))
	}
	t.Logf("plan %v failed and was rolled back in %v: %v", plan, took.Round(time.Microsecond), err)
	// Right after Rollback returns, and settle (50 cycles) later: the same read-back, byte for byte.
	now := readBack(t, ns)
	if now != before {
		t.Errorf("right after the rollback the read-back differs (taprio schedules now: %s; - before, + after):\n%s", rootSchedules(t, ns), lineDiff(before, now))
	}
	time.Sleep(settle)
	after := readBack(t, ns)
	if after != before {
		t.Errorf("%v after the rollback the read-back differs (taprio schedules now: %s; - before, + after):\n%s",
			settle, rootSchedules(t, ns), lineDiff(before, after))
	}
	if wantSchedules != "" {
		if got := rootSchedules(t, ns); got != wantSchedules {
			t.Errorf("after the rollback the root taprio shows %s schedules, want %s", got, wantSchedules)
		}
		if software {
			checkGatesRun(t, ns, 8)
		}
	}
}

// The case: the 8-entry software taprio with its ETF is deleted for a 2-class one whose ETF
// the veth refuses; the rollback rebuilds the old root and ETF, and the old schedule must be
// operational again (not a pending admin schedule), with the same base-time and cycle.
func TestLabRollbackRestoresOperationalSchedule(t *testing.T) {
	rollbackCase(t, rollbackFirst, rollbackTwoClass, ReplaceCBS, "oper")
}

// The failing apply changes only the ETFs of the running taprio: the ETF on queue 1 is replaced (a
// new delta: the kernel accepts it, and the graft stops the software taprio's gate timer), a new ETF
// on queue 2 is grafted, then a cbs on queue 3 asks for offload and is refused. The rollback rebuilds the tree; the gates must run
// again, which the read-back cannot show and checkGatesRun's traffic does.
func TestLabRollbackAfterETFOnlyChange(t *testing.T) {
	bad := strings.Replace(rollbackFirst, "      - {queue: 1, clockid: CLOCK_TAI, delta: 300us}\n",
		"      - {queue: 1, clockid: CLOCK_TAI, delta: 250us}\n      - {queue: 2, clockid: CLOCK_TAI, delta: 300us}\n    cbs:\n      - {queue: 3, idleslope: 1000, offload: true}\n", 1)
	rollbackCase(t, rollbackFirst, bad, ReplaceCBS, "oper")
}

// The failing apply installs a txtime-assist taprio (its cbs with offload, refused) in place of the
// software one.
func TestLabRollbackFromTxtimeAssist(t *testing.T) {
	bad := strings.Replace(rollbackTwoClass, "      mode: software\n", "      mode: software\n      txtime-delay: 400us\n", 1)
	bad = strings.Replace(bad, "mode: software", "mode: txtime-assist", 1)
	bad = strings.Replace(bad, "delta: 200us}", "delta: 200us, skip-sock-check: true}", 1)
	rollbackCase(t, rollbackFirst, bad, ReplaceCBS, "oper")
}

// The previous state is a txtime-assist taprio (ETF children do the timing; the kernel makes its
// schedule operational at once, and a graft does not stop it).
func TestLabRollbackToTxtimeAssist(t *testing.T) {
	first := strings.Replace(rollbackFirst, "      mode: software\n", "      mode: txtime-assist\n      txtime-delay: 400us\n", 1)
	first = strings.Replace(first, "delta: 300us}", "delta: 300us, skip-sock-check: true}", 1)
	rollbackCase(t, first, rollbackTwoClass, ReplaceCBS, "oper")
}

// Before the failing apply there is no qdisc at all (the veth's default): the rollback deletes what
// the apply installed and the kernel's default is back.
func TestLabRollbackToNoQdisc(t *testing.T) {
	rollbackCase(t, "", rollbackTwoClass, ReplaceCBS, "")
}

// The taprio has a pending schedule change (admin, base-time an hour ahead) on top of the running one
// (oper) when the failing apply replaces it: both must be back, each with its own base-time.
func TestLabRollbackRestoresPendingAdminSchedule(t *testing.T) {
	tai, err := clock.Now(clock.TAI)
	if err != nil {
		t.Fatal(err)
	}
	ahead := (tai/1e9 + 3600) * 1e9 // a whole second an hour from now: a multiple of the 1 ms cycle
	pending := strings.Replace(rollbackFirst, "base-time: 1000000", fmt.Sprintf("base-time: %d", ahead), 1)
	pending = strings.Replace(pending, "{cmd: S, gates: 0x01, interval: 200us}", "{cmd: S, gates: 0x03, interval: 200us}", 1)
	ns := rollbackNS(t)
	apply(t, ns, rollbackFirst)
	time.Sleep(settle)
	p, _ := apply(t, ns, pending)
	if len(p.Steps) != 1 || p.Steps[0].Action != ChangeSchedule {
		t.Fatalf("the pending change planned %+v, want one change-schedule", p.Steps)
	}
	if got := rootSchedules(t, ns); got != "oper+admin" {
		t.Fatalf("after a change with base-time an hour ahead the taprio shows %s, want oper+admin", got)
	}
	before := readBack(t, ns)
	sys, p2, err := prepare(t, ns, rollbackTwoClass)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sys.Apply(p2)
	var ae *ApplyError
	if !errors.As(err, &ae) || !ae.RolledBack {
		t.Fatalf("want a rolled-back failure, got %v", err)
	}
	time.Sleep(settle)
	if after := readBack(t, ns); after != before {
		t.Errorf("after the rollback the read-back differs (taprio schedules now: %s; - before, + after):\n%s",
			rootSchedules(t, ns), lineDiff(before, after))
	}
	checkGatesRun(t, ns, 8)
}
