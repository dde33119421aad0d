package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/samplelog"
)

// Two planned streams over loopback (their VLAN interface named lo, so that the test needs no
// VLAN): one process sends both, each packet with its stream's id, its txtime the plan's in its
// own period, and the log's header names the plan and the streams.
func TestSendPlannedStreams(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() { // drain, so that the kernel has a listener and no port-unreachable comes back
		b := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	dest := pc.LocalAddr().String()
	file := writeFile(t, fmt.Sprintf(`interfaces:
  - name: lo
    vlans: [{id: 3, name: lo}]
streams:
  - {name: slow, interface: lo, dest: "%s", vlan: 3, period: 2ms, size: 64, offset: 1250us, max-latency: 50us}
  - {name: fast, interface: lo, dest: "%s", vlan: 3, pcp: 5, period: 1ms, size: 100, offset: 500us, max-latency: 100us}
`, dest, dest))
	logPath := filepath.Join(t.TempDir(), "tx.log")
	out, err := run(t, "send", "--stream", "slow,fast", "-f", file, "--count", "6", "--log", logPath, "--quiet")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// lo has no taprio: the txtimes cannot be checked against an installed schedule, said once per stream.
	for _, want := range []string{"slow:", "fast:", "stream 2 (txtime, cycle 2ms, priority 6", "stream 1 (txtime, cycle 1ms, priority 5", "sent 6, send errors 0",
		"warning: stream slow: its txtimes are not checked against the installed schedule: lo: no taprio qdisc is installed there",
		"warning: stream fast: its txtimes are not checked"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "outside the installed schedule's window") {
		t.Errorf("a window check without a schedule:\n%s", out)
	}
	r, f, err := samplelog.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := r.Header.Send; p == nil || p.Plan != file || p.Streams != "slow=2,fast=1" || r.Header.Stream != 2 {
		t.Errorf("header %+v %+v", r.Header, p)
	}
	// The plan's txtimes (fast is 1, slow 2, by name): slow at its offset; fast's window in its
	// second period would overlap slow's, so the plan moves it to where slow's ends (1251.072 us).
	in := map[uint32]int64{1: 551_072, 2: 1_250_000}
	n := map[uint32]int{}
	var rec samplelog.Record
	for r.Next(&rec) == nil {
		if rec.Type != samplelog.TypeTx {
			continue
		}
		n[rec.Stream]++
		if rec.Txtime-rec.CycleStart != in[rec.Stream] {
			t.Errorf("stream %d: txtime %d into its cycle, want %d", rec.Stream, rec.Txtime-rec.CycleStart, in[rec.Stream])
		}
	}
	if n[1] != 6 || n[2] != 6 {
		t.Errorf("packets per stream: %v", n)
	}
}

// What --stream NAME -f FILE refuses: a flag the plan decides (naming both), a name the file does
// not have, no name; and --stream without -f is still the id.
func TestSendStreamRefuses(t *testing.T) {
	file := writeFile(t, streamsFile)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stream", "control", "-f", file, "--window", "1200us,1300us"}, "--window cannot be combined with --stream NAME -f FILE"},
		{[]string{"--stream", "control", "-f", file, "--dest", "127.0.0.1:9"}, "--dest cannot be combined with --stream NAME -f FILE"},
		{[]string{"--stream", "control", "-f", file, "--cycle", "1ms"}, "--cycle cannot be combined with --stream"},
		{[]string{"--stream", "control", "-f", file, "--offset", "50us"}, "--offset cannot be combined with --stream"},
		{[]string{"--stream", "control", "-f", file, "--from-qdisc", "eth1"}, "--from-qdisc cannot be combined with --stream"},
		{[]string{"--stream", "nope", "-f", file}, `--stream "nope": ` + file + ` has no stream of this name; its streams: control, fast`},
		{[]string{"--stream", "fast,fast", "-f", file}, "--stream fast: named twice"},
		{[]string{"-f", file}, "give --stream NAME[,NAME...], the streams to send; its streams: control, fast"},
		{[]string{"--stream", "control", "--dest", "127.0.0.1:9"}, `--stream "control": without -f FILE, the stream id`},
		{[]string{"--stream", "control", "-f", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
	} {
		_, err := run(t, append([]string{"send"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v\nwant %q", tc.args, err, tc.want)
		}
	}
	// The planned stream's interface (eth1.3) is not on this machine: the error names the stream.
	if _, err := os.Stat("/sys/class/net/eth1.3"); err == nil {
		return // it is: nothing to refuse
	}
	if _, err := run(t, "send", "--stream", "control", "-f", file, "--count", "1"); err == nil || !strings.Contains(err.Error(), "stream control, as planned in "+file+": iface eth1.3") {
		t.Errorf("missing interface: %v", err)
	}
}
