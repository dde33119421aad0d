//go:build lab

package daemon

// In the lab's guest (igb eth0 has a PHC): ptp4l with software timestamping, started while eth0's
// link is down, switches its clock to eth0's PHC when the link comes up (linuxptp's
// port_link_status), and from then on steers /dev/ptpN instead of the system clock. tsnctl must
// start it again once the carrier is back.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ptp"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// openPHCs lists the PTP clock devices process pid has open: a ptp4l that took a NIC's PHC as its
// clock holds /dev/ptpN open; one on the system clock holds none.
func openPHCs(pid int) []string {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, _ := os.ReadDir(dir)
	var devs []string
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(l, "/dev/ptp") {
			devs = append(devs, l)
		}
	}
	return devs
}

func TestLabCarrierBackRestartsSoftwarePtp4l(t *testing.T) {
	labtest.Run(t, "ip", "link", "set", "eth0", "down")
	dir := t.TempDir()
	c, err := configs.Parse("lab.yaml", []byte("ptp:\n  interface: eth0\n  role: slave\n  timestamping: software\n  options: {neighborPropDelayThresh: 100000000}\n"))
	if err != nil {
		t.Fatal(err)
	}
	conf := ptp.ConfigPath(dir, "eth0")
	plan, err := ptp.Build(c.PTP, dir)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	logged := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, plan, Options{RunDir: dir, StatusPath: filepath.Join(dir, "status.json"), Log: func(src, line string) {
			mu.Lock()
			log.WriteString(src + " " + line + "\n")
			mu.Unlock()
		}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if t.Failed() {
			t.Logf("log:\n%s", logged())
		}
	}()
	var first int
	labtest.Eventually(t, 20*time.Second, "ptp4l running, its port faulty (no link)", func() bool {
		first = findPtp4lOrZero(conf)
		return first != 0 && strings.Contains(logged(), "link down")
	})
	if devs := openPHCs(first); len(devs) != 0 {
		t.Fatalf("ptp4l -S holds %v before the link came up", devs)
	}
	labtest.Run(t, "ip", "link", "set", "eth0", "up")
	var second int
	labtest.Eventually(t, 30*time.Second, "a new ptp4l after the carrier came back", func() bool {
		second = findPtp4lOrZero(conf)
		return second != 0 && second != first
	})
	if !strings.Contains(logged(), "ptp4l restarting now: eth0's carrier is back") {
		t.Errorf("the restart does not say why")
	}
	// The new ptp4l saw the link up from its start: it stays on the system clock (the old one, left
	// running, would now hold /dev/ptp0; the mutation in the commit message shows it).
	time.Sleep(3 * time.Second)
	if devs := openPHCs(second); len(devs) != 0 {
		t.Errorf("ptp4l -S took %v as its clock after the link came up", devs)
	}
	if findPtp4lOrZero(conf) != second {
		t.Errorf("ptp4l restarted again although the link stayed up")
	}
}
