// Package ptptest gives host tests a real ptp4l to talk to, safely: two network namespaces joined
// by a veth pair, and ptp4l started only with free_running 1 (on the host, namespaces share
// CLOCK_REALTIME: a ptp4l allowed to steer it would steer the machine's clock).
package ptptest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/ptp"
)

// TB is what the helpers need of a test: a *testing.T has it, and so has an Outside.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	Failed() bool
}

// Outside is a TB for the helpers outside a test, in an Example (which has none): Close runs the
// cleanups, last first; a failure logs to stderr, runs the cleanups registered so far and panics
// with its message (which fails the Example).
type Outside struct {
	cleanups []func()
	failed   bool
}

func (o *Outside) Helper()                           {}
func (o *Outside) Fatal(args ...any)                 { o.fail(fmt.Sprint(args...)) }
func (o *Outside) Fatalf(format string, args ...any) { o.fail(fmt.Sprintf(format, args...)) }
func (o *Outside) Logf(format string, args ...any)   { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (o *Outside) Cleanup(f func())                  { o.cleanups = append(o.cleanups, f) }
func (o *Outside) Failed() bool                      { return o.failed }

func (o *Outside) fail(msg string) {
	o.failed = true
	o.Logf("ptptest: %s", msg)
	o.Close()
	panic("ptptest: " + msg)
}

// Close runs the cleanups registered so far, last first.
func (o *Outside) Close() {
	for len(o.cleanups) > 0 {
		f := o.cleanups[len(o.cleanups)-1]
		o.cleanups = o.cleanups[:len(o.cleanups)-1]
		f()
	}
}

// Pair is two namespaces, GM and Node, with veth ends p0 (in GM) and p1 (in Node).
type Pair struct{ GM, Node string }

// Sh runs a command and returns its output; it fails the test with the output when the command fails.
func Sh(t TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

// NewPair makes the namespaces; they are deleted when the test ends. It fails the test (never
// skips) when ptp4l is missing: `make deps` installs linuxptp.
func NewPair(t TB) Pair {
	t.Helper()
	if _, err := exec.LookPath("ptp4l"); err != nil {
		t.Fatal("ptp4l is not installed: `make deps` installs Debian's linuxptp for this test")
	}
	id := strconv.Itoa(os.Getpid())
	p := Pair{GM: "tsnctl-gm-" + id, Node: "tsnctl-node-" + id}
	for _, ns := range []string{p.GM, p.Node} {
		Sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	Sh(t, "ip", "-n", p.GM, "link", "add", "p0", "type", "veth", "peer", "name", "p1", "netns", p.Node)
	Sh(t, "ip", "-n", p.GM, "link", "set", "p0", "up")
	Sh(t, "ip", "-n", p.Node, "link", "set", "p1", "up")
	return p
}

var freeRunning = regexp.MustCompile(`(?m)^free_running\s+1$`)

// Plan builds the plan of a ptp: section for runDir and refuses one that could steer a clock.
func Plan(t TB, yaml, runDir string) *ptp.Plan {
	t.Helper()
	c, err := configs.Parse("host.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ptp.Build(c.PTP, runDir)
	if err != nil {
		t.Fatal(err)
	}
	if !freeRunning.MatchString(p.Ptp4lConf()) {
		t.Fatalf("refusing a host ptp4l without free_running 1:\n%s", p.Ptp4lConf())
	}
	return p
}

// Grandmaster starts a free-running ptp4l as grandmaster on p0 with its management socket at
// uds (its configuration beside it); it is stopped when the test ends (its output is logged if the
// test failed).
func Grandmaster(t TB, pair Pair, uds string) {
	t.Helper()
	start(t, pair.GM, "grandmaster", filepath.Dir(uds), "ptp:\n  interface: p0\n  role: grandmaster\n  timestamping: software\n  options: {free_running: 1, neighborPropDelayThresh: 100000000, uds_address: "+filepath.Base(uds)+"}\n")
}

// Node starts the node's free-running ptp4l on p1 (NodeYAML(uds) plus extra) as someone other than
// tsnctl would, and returns its plan and process; it is stopped when the test ends.
func Node(t TB, pair Pair, uds, extra string) (*ptp.Plan, *exec.Cmd) {
	t.Helper()
	return start(t, pair.Node, "node", filepath.Dir(uds), NodeYAML(uds)+extra)
}

func start(t TB, ns, name, runDir, yaml string) (*ptp.Plan, *exec.Cmd) {
	t.Helper()
	p := Plan(t, yaml, runDir)
	if err := os.WriteFile(p.Ptp4lArgs[1], []byte(p.Ptp4lConf()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ptp4l", p.Ptp4lArgs...)
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := nsexec.Do(ns, cmd.Start); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s ptp4l:\n%s", name, log.String())
		}
	})
	return p, cmd
}

// NodeYAML is the node's ptp: section (software timestamps, free running) with its socket at uds
// (the run directory is uds's directory).
func NodeYAML(uds string) string {
	return "ptp:\n  interface: p1\n  timestamping: software\n  options: {free_running: 1, neighborPropDelayThresh: 100000000, uds_address: " + filepath.Base(uds) + "}\n"
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
