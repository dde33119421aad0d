//go:build lab

package nlmon

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/testbed/labtest"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "write the recordings to /host/golden/ (make netlink-golden copies them into the tree) instead of comparing")

// scenario is one recording: commands run in the namespace "gold" (lo, then the 4-queue veth
// v0 <-> v1, both down: no traffic changes a counter), the last one's messages kept in File.
type scenario struct {
	File  string     // relative to the repository (qdisc/ keeps rtnetlink's qdisc messages, nic/ generic netlink's)
	Setup [][]string // run first, not recorded
	Run   []string
	Fails bool // the kernel refuses it: the error is what is recorded
}

var scenarios = []scenario{
	{File: "qdisc/testdata/netlink/taprio-replace.nl", Run: tc("qdisc replace dev v0 parent root handle 100: " + taprioArgs)},
	{File: "qdisc/testdata/netlink/etf-replace.nl", Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + taprioArgs)},
		Run: tc("qdisc replace dev v0 parent 100:2 handle e001: etf clockid CLOCK_TAI delta 200000 deadline_mode skip_sock_check")},
	{File: "qdisc/testdata/netlink/show.nl", Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + taprioArgs),
		tc("qdisc replace dev v0 parent 100:2 handle e001: etf clockid CLOCK_TAI delta 200000 deadline_mode skip_sock_check")},
		Run: tc("qdisc show dev v0")},
	{File: "qdisc/testdata/netlink/delete.nl", Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + taprioArgs)},
		Run: tc("qdisc del dev v0 root")},
	{File: "qdisc/testdata/netlink/taprio-invalid.nl", Fails: true,
		Run: tc("qdisc replace dev v0 parent root handle 100: taprio num_tc 4 map 3 3 3 3 3 3 1 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 " +
			"base-time 1000000000 sched-entry S 01 0 clockid CLOCK_TAI")},
	{File: "qdisc/testdata/netlink/cbs-replace.nl", Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + taprioArgs)},
		Run: tc("qdisc replace dev v0 parent 100:3 handle c002: cbs idleslope 20000 sendslope -9980000 hicredit 4 locredit -1539")},
	{File: "qdisc/testdata/netlink/cbs-show.nl", Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + taprioArgs),
		tc("qdisc replace dev v0 parent 100:3 handle c002: cbs idleslope 20000 sendslope -9980000 hicredit 4 locredit -1539")},
		Run: tc("qdisc show dev v0")},
	// tc-taprio(8)'s txtime-assist example: three classes sharing TX queue 0, which the kernel
	// allows in txtime-assist mode only.
	{File: "qdisc/testdata/netlink/taprio-txtime-assist.nl", Run: tc("qdisc replace dev v0 parent root handle 100 taprio num_tc 3 " +
		"map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@0 1@0 base-time 1528743495910289987 " +
		"sched-entry S 01 300000 sched-entry S 02 300000 sched-entry S 04 400000 flags 0x1 txtime-delay 200000 clockid CLOCK_TAI")},
	// A cycle past the kernel's limit (INT_MAX ns): one entry of 2^31 ns.
	{File: "qdisc/testdata/netlink/taprio-cycle-too-big.nl", Fails: true,
		Run: tc("qdisc replace dev v0 parent root handle 100: taprio num_tc 4 map 3 3 3 3 3 3 1 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 " +
			"base-time 1000000000 sched-entry S 01 2147483648 clockid CLOCK_TAI")},
	{File: "qdisc/testdata/netlink/mqprio-replace.nl", Run: tc("qdisc replace dev v0 parent root handle 100: " + mqprioArgs)},
	{File: "qdisc/testdata/netlink/mqprio-show.nl", Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + mqprioArgs),
		tc("qdisc replace dev v0 parent 100:1 handle e000: etf clockid CLOCK_TAI delta 200000"),
		tc("qdisc replace dev v0 parent 100:2 handle c001: cbs idleslope 20000 sendslope -9980000 hicredit 4 locredit -1539")},
		Run: tc("qdisc show dev v0")},
	// mqprio has no change operation: a replace on its own handle is refused.
	{File: "qdisc/testdata/netlink/mqprio-change.nl", Fails: true, Setup: [][]string{tc("qdisc replace dev v0 parent root handle 100: " + mqprioArgs)},
		Run: tc("qdisc replace dev v0 parent root handle 100: mqprio num_tc 2 map 1 1 0 0 1 1 1 1 1 1 1 1 1 1 1 1 queues 1@0 3@1 hw 0")},
	// hw 1 with a mode, a shaper, per-class rates and frame preemption: what tc sends (the veth has
	// no offload: the kernel refuses it).
	{File: "qdisc/testdata/netlink/mqprio-hw.nl", Fails: true,
		Run: tc("qdisc replace dev v0 parent root handle 100: mqprio num_tc 3 map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@1 2@2 hw 1 " +
			"mode channel shaper bw_rlimit min_rate 1Mbit 2Mbit 3Mbit max_rate 10Mbit 20Mbit 30Mbit fp E P P")},
	// Frame preemption per class on a software taprio: what tc sends; the kernel refuses it outside
	// full offload.
	{File: "qdisc/testdata/netlink/taprio-fp.nl", Fails: true, Run: tc("qdisc replace dev v0 parent root handle 100: " +
		strings.Replace(taprioArgs, "clockid CLOCK_TAI", "fp E P E E clockid CLOCK_TAI", 1))},
	{File: "qdisc/testdata/netlink/unknown-kind.nl", Fails: true, Run: tc("qdisc add dev v0 root handle 100: nosuchqdisc")},
	{File: "nic/testdata/netlink/channels-get.nl", Run: in("ethtool", "-l", "v0")},
	{File: "nic/testdata/netlink/channels-set.nl", Run: in("ethtool", "-L", "v0", "rx", "2", "tx", "2")},
	{File: "nic/testdata/netlink/channels-set-invalid.nl", Fails: true, Run: in("ethtool", "-L", "v0", "rx", "9")},
	{File: "nic/testdata/netlink/linkmodes-get.nl", Run: in("ethtool", "v0")},
}

// taprioArgs is the seed's node schedule (configs/seed.yaml) with a fixed base-time.
const taprioArgs = "taprio num_tc 4 map 3 3 3 3 3 3 1 3 3 3 3 3 3 3 3 3 queues 1@0 1@1 1@2 1@3 base-time 1000000000 " +
	"sched-entry S 01 200000 sched-entry S 02 100000 sched-entry S 04 100000 sched-entry S 08 100000 " +
	"sched-entry S 01 200000 sched-entry S 02 100000 sched-entry S 04 100000 sched-entry S 08 100000 clockid CLOCK_TAI"

// mqprioArgs: three classes (priority 3 -> class 0, 2 -> 1, the rest -> 2) on queues 0, 1 and 2-3.
const mqprioArgs = "mqprio num_tc 3 map 2 2 1 0 2 2 2 2 2 2 2 2 2 2 2 2 queues 1@0 1@1 2@2 hw 0"

func tc(args string) []string { return append([]string{"tc", "-n", "gold"}, strings.Fields(args)...) }
func in(args ...string) []string {
	return append([]string{"ip", "netns", "exec", "gold"}, args...)
}

// The golden netlink messages the host tests of qdisc and nic replay are what this kernel and
// these tools exchange now: recorded again here and compared byte for byte (sequence numbers and
// port ids aside).
func TestLabGoldenMessages(t *testing.T) {
	tools := strings.TrimSpace(string(must(exec.Command("tc", "-V").CombinedOutput()))) + ", " +
		strings.TrimSpace(string(must(exec.Command("ethtool", "--version").CombinedOutput())))
	kernel := strings.TrimSpace(string(must(os.ReadFile("/proc/sys/kernel/osrelease"))))
	for _, sc := range scenarios {
		t.Run(filepath.Base(sc.File), func(t *testing.T) {
			labtest.Run(t, "ip", "netns", "add", "gold")
			defer exec.Command("ip", "netns", "del", "gold").Run()
			labtest.Run(t, "ip", "-n", "gold", "link", "add", "v0", "numtxqueues", "4", "numrxqueues", "4", "type", "veth",
				"peer", "name", "v1", "numtxqueues", "4", "numrxqueues", "4")
			r, err := Start("gold", "nlmon0")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, s := range sc.Setup {
				labtest.Run(t, s...)
			}
			msgs, out, err := r.Record(sc.Run[0], sc.Run[1:]...)
			switch {
			case sc.Fails && err == nil:
				t.Fatalf("%s: succeeded, want the kernel to refuse it: %s", strings.Join(sc.Run, " "), out)
			case !sc.Fails && err != nil:
				t.Fatal(err)
			}
			if strings.HasPrefix(sc.File, "qdisc/") {
				msgs = Only(msgs, unix.NETLINK_ROUTE, unix.RTM_NEWQDISC, unix.RTM_DELQDISC, unix.RTM_GETQDISC)
			} else {
				msgs = Only(msgs, unix.NETLINK_GENERIC)
			}
			var got bytes.Buffer
			Write(&got, []string{strings.Join(sc.Run, " "), "recorded on an nlmon device in the lab: " + tools + ", kernel " + kernel,
				"> request to the kernel, < the kernel's answer; PROTOCOL; the message in hex (sequence and port id zeroed)"},
				Normalize(msgs))
			if *update {
				dst := filepath.Join("/host/golden", sc.File)
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dst, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(filepath.Join("../..", sc.File))
			if err != nil {
				t.Fatalf("%v (record it: make netlink-golden)", err)
			}
			if !bytes.Equal(messageLines(got.Bytes()), messageLines(want)) {
				t.Errorf("%s: the kernel's and tools' messages changed (re-record with make netlink-golden and check the host tests):\ngot:\n%s\nwant:\n%s",
					sc.File, got.Bytes(), want)
			}
		})
	}
}

// messageLines drops the comments (they name tool versions).
func messageLines(b []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(l) > 0 && l[0] != '#' {
			out = append(out, l...)
		}
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
