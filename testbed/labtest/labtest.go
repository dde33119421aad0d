// Package labtest holds what the tests that drive real tools share: running a command as a test
// step (ip, tc, ethtool, systemctl…) and waiting for a condition. They run on the host (root) or in
// the lab guest (testbed/go-exec).
package labtest

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Run runs a command and returns its combined output; a failure ends the test with the command,
// its error and its output.
func Run(tb testing.TB, args ...string) string {
	tb.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Output runs a command and returns its combined output, trimmed, whether it failed or not (for
// commands whose answer is the point, such as systemctl is-active).
func Output(args ...string) string {
	b, _ := exec.Command(args[0], args[1:]...).CombinedOutput()
	return strings.TrimSpace(string(b))
}

// Eventually polls cond every 2 ms until it holds and returns how long that took; if it does not
// hold within d, the test ends saying what was awaited.
func Eventually(tb testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(2 * time.Millisecond)
	}
	tb.Fatalf("not within %v: %s", d, what)
	return 0
}

// vethPairScript makes VethPair's namespaces and links (replacing any of a failed test before).
const vethPairScript = `set -e
ip netns del tx 2>/dev/null || true; ip netns del rx 2>/dev/null || true
ip netns add tx; ip netns add rx
ip -n tx link add name v0 numtxqueues 4 numrxqueues 4 type veth peer name v1 numtxqueues 4 numrxqueues 4
ip -n tx link set v1 netns rx
ip -n tx link set v0 up; ip -n rx link set v1 up; ip -n tx link set lo up; ip -n rx link set lo up
ip -n rx link add link v1 name v1.3 type vlan id 3
ip -n rx link set v1.3 up; ip -n rx addr add 10.3.0.2/24 dev v1.3`

// VethPair makes the lab's talker and listener: namespace tx with v0 (4 TX queues, up), namespace
// rx with its peer v1 and, on it, VLAN 3 (v1.3, 10.3.0.2/24). The namespaces go when the test ends.
func VethPair(tb testing.TB) {
	tb.Helper()
	Run(tb, "bash", "-c", vethPairScript)
	tb.Cleanup(func() { exec.Command("bash", "-c", "ip netns del tx; ip netns del rx").Run() })
}

// Talker addresses the talker's VLAN interface (tx's v0.3, 10.3.0.1/24, which the test's
// configuration or the test made on v0) and gives both ends static neighbour entries: with taprio
// installed, ARP could wait in a closed gate.
func Talker(tb testing.TB) {
	tb.Helper()
	Run(tb, "bash", "-c", `set -e
ip -n tx addr add 10.3.0.1/24 dev v0.3; ip -n tx link set v0.3 up
ip -n tx neigh add 10.3.0.2 lladdr "$(ip -n rx -br link show v1.3 | awk '{print $3}')" dev v0.3
ip -n rx neigh add 10.3.0.1 lladdr "$(ip -n tx -br link show v0.3 | awk '{print $3}')" dev v1.3`)
}
