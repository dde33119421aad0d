//go:build lab

package node

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// A stream through a software-mode taprio whose class is open 100 us of each 1 ms cycle: bursts of
// 4 packets wait in the taprio while its gate is shut, so it always holds some. Changing only the schedule mid-stream goes through
// change-schedule (the kernel swaps the schedule at its base-time, the root and its queues stay)
// and loses no packet. Replacing the root instead (a map change: delete + install) drops what was
// queued, which is what this test would see if the plan deleted the root.
const hitlessBase = `interfaces:
  - name: v0
    taprio:
      num-tc: 2
      map: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
      queues: ["1@0", "1@1"]
      clockid: CLOCK_TAI
      base-time: auto
      mode: software
      schedule:
        - {cmd: S, gates: 0x01, interval: 900us}
        - {cmd: S, gates: 0x02, interval: 100us}
`

// stream sends count packets of priority 1 from namespace tx to rx through v0's taprio, applying
// change after the first ~quarter, and returns what the receiver says was lost.
func stream(t *testing.T, tx string, change func()) (lost int, summary string) {
	t.Helper()
	recv := exec.Command("tsnctl", "recv", "--netns", "rx", "--listen", ":7790", "--count", "4000", "--duration", "60s")
	var out strings.Builder
	recv.Stdout, recv.Stderr = &out, &out
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	send := exec.Command("tsnctl", "send", "--netns", tx, "--dest", "10.31.0.2:7790", "--priority", "1", "--count", "4000",
		"--cycle", "1ms", "--window", "0,1ms", "--offset", "0", "--per-cycle", "4", "--spacing", "20us", "--quiet")
	var sout strings.Builder
	send.Stdout, send.Stderr = &sout, &sout
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	change()
	if err := send.Wait(); err != nil {
		t.Fatalf("send: %v\n%s", err, sout.String())
	}
	time.Sleep(500 * time.Millisecond)
	recv.Process.Signal(os.Interrupt)
	recv.Wait()
	m := regexp.MustCompile(`lost (\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no summary from tsnctl recv:\n%s", out.String())
	}
	n, _ := strconv.Atoi(m[1])
	return n, strings.TrimSpace(out.String())
}

func TestLabScheduleChangeIsHitless(t *testing.T) {
	labtest.Run(t, "ip", "netns", "add", "tx")
	labtest.Run(t, "ip", "netns", "add", "rx")
	defer exec.Command("ip", "netns", "del", "tx").Run()
	defer exec.Command("ip", "netns", "del", "rx").Run()
	labtest.Run(t, "ip", "-n", "tx", "link", "add", "name", "v0", "numtxqueues", "2", "numrxqueues", "2", "type", "veth", "peer", "name", "v1", "numtxqueues", "2", "numrxqueues", "2")
	labtest.Run(t, "ip", "-n", "tx", "link", "set", "v1", "netns", "rx")
	for _, c := range [][]string{{"tx", "v0", "10.31.0.1"}, {"rx", "v1", "10.31.0.2"}} {
		labtest.Run(t, "ip", "-n", c[0], "addr", "add", c[2]+"/24", "dev", c[1])
		labtest.Run(t, "ip", "-n", c[0], "link", "set", c[1], "up")
		labtest.Run(t, "ip", "-n", c[0], "link", "set", "lo", "up")
	}
	mac := ipLink(t, "rx", "v1")["address"].(string)
	labtest.Run(t, "ip", "-n", "tx", "neigh", "add", "10.31.0.2", "lladdr", mac, "dev", "v0", "nud", "permanent")
	sys, err := Open("tx")
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close()
	apply := func(text string) []Step {
		now, _ := clock.ReadAll()
		p, err := sys.Prepare(mustParse(t, text), now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Apply(p); err != nil {
			t.Fatal(err)
		}
		return p.Steps
	}
	apply(hitlessBase)
	var steps []Step
	lost, summary := stream(t, "tx", func() {
		steps = apply(strings.Replace(hitlessBase, "gates: 0x01, interval: 900us}\n        - {cmd: S, gates: 0x02, interval: 100us}",
			"gates: 0x01, interval: 800us}\n        - {cmd: S, gates: 0x02, interval: 200us}", 1))
	})
	if len(steps) != 1 || steps[0].Action != ChangeSchedule {
		t.Errorf("a schedule-only change planned %d steps, first %s (want one change-schedule)", len(steps), steps[0].Action)
	}
	if lost != 0 {
		t.Errorf("the in-place schedule change lost %d packets:\n%s", lost, summary)
	}
	if q := tcShow(t, "tx", "v0"); !strings.Contains(fmt.Sprint(q), "800000") {
		t.Errorf("the new schedule is not installed: %+v", q)
	}
	t.Logf("4000 packets, schedule changed in place mid-stream: %d lost", lost)
}
