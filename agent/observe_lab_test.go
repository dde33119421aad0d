//go:build lab || labsd

package agent

import (
	"os/exec"
	"testing"
	"time"
)

// observe starts iproute2 as the independent observer of what the kernel is told: ip monitor
// (links) and tc monitor (qdiscs), in namespace ns ("": the test's own). It returns what they
// print and a stop that ends them; they are given 200 ms to subscribe before observe returns.
func observe(t *testing.T, ns string) (*lockedBuffer, func()) {
	var seen lockedBuffer
	var mons []*exec.Cmd
	nsArgs := func(tool string, rest ...string) []string {
		if ns == "" {
			return append([]string{tool}, rest...)
		}
		return append([]string{tool, "-n", ns}, rest...)
	}
	for _, args := range [][]string{nsArgs("ip", "monitor", "link"), nsArgs("tc", "monitor")} {
		mon := exec.Command(args[0], args[1:]...)
		mon.Stdout, mon.Stderr = &seen, &seen
		if err := mon.Start(); err != nil {
			t.Fatal(err)
		}
		mons = append(mons, mon)
	}
	time.Sleep(200 * time.Millisecond)
	return &seen, func() {
		for _, m := range mons {
			m.Process.Kill()
			m.Wait()
		}
	}
}
