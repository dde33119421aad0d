package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/testbed/labtest"
)

// On the host kernel the agent can manage NIC channels (veth has RX/TX channels); taprio, ETF and
// VLANs are repaired in the lab (lab_test.go).

type notes struct {
	mu    sync.Mutex
	lines []string
}

func (n *notes) add(s string) { n.mu.Lock(); n.lines = append(n.lines, s); n.mu.Unlock() }
func (n *notes) has(prefix string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func channels(t *testing.T, ns, dev string) string {
	out := labtest.Run(t, "ip", "netns", "exec", ns, "ethtool", "-l", dev)
	_, cur, _ := strings.Cut(out, "Current hardware settings:")
	return strings.Join(strings.Fields(cur), " ")
}

func TestAgentKeepsChannels(t *testing.T) {
	ns := fmt.Sprintf("tsnag%d", os.Getpid())
	labtest.Run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	in := func(args ...string) string {
		return labtest.Run(t, append([]string{"ip", "netns", "exec", ns}, args...)...)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "tsnctl.yaml")
	os.WriteFile(file, []byte("interfaces:\n  - name: ag0\n    channels: {rx: 4, tx: 4}\n"), 0o644)
	var n notes
	reload := make(chan struct{})
	m := NewMetrics("test")
	a := New(Options{File: file, NetNS: ns, StatusPath: filepath.Join(dir, "status.json"), Notify: n.add, Reload: reload,
		VerifyEvery: time.Hour, Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	m.SetAgent(a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if !n.has("STOPPING=1") {
			t.Error("no STOPPING=1")
		}
	}()
	state := func() State { return a.Snapshot().Interfaces[0].State }

	// Not there yet: waiting, ready is false, READY=1 all the same (the service is up).
	labtest.Eventually(t, 5*time.Second, "READY=1", func() bool { return n.has("READY=1") })
	if st := a.Snapshot(); st.Interfaces[0].State != Waiting || st.Ready || !strings.Contains(st.NotReady, "ag0 waiting") {
		t.Fatalf("%+v", st)
	}
	// It appears: configured by the link event, no periodic check needed.
	in("ip", "link", "add", "ag0", "numtxqueues", "8", "numrxqueues", "8", "type", "veth", "peer", "name", "ag1", "numtxqueues", "8", "numrxqueues", "8")
	took := labtest.Eventually(t, 5*time.Second, "ag0 configured", func() bool { return state() == Configured })
	if got := channels(t, ns, "ag0"); !strings.Contains(got, "RX: 4 TX: 4") {
		t.Fatalf("channels %q", got)
	}
	t.Logf("configured %v after the interface appeared", took)
	if i := a.Snapshot().Interfaces[0]; i.Repairs != 0 || len(i.Drift) != 0 || i.LastDrift != "" {
		t.Fatalf("the first configuration counted as a drift repair: %d repairs, drift %v %q", i.Repairs, i.Drift, i.LastDrift)
	}
	// Drift: someone changes the channels. Repaired through ethtool's notification.
	for k := range 3 {
		before := a.Snapshot().Interfaces[0].Repairs
		in("ethtool", "-L", "ag0", "rx", "1", "tx", "2")
		took := labtest.Eventually(t, 5*time.Second, "channels repaired", func() bool {
			return a.Snapshot().Interfaces[0].Repairs == before+1 && strings.Contains(channels(t, ns, "ag0"), "RX: 4 TX: 4")
		})
		t.Logf("repair %d: %v (ethtool -L to restored, seen by ethtool -l)", k, took)
	}
	if d := a.Snapshot().Interfaces[0]; d.Drift["set-channels"] < 3 || !strings.Contains(d.LastDrift, "channels") {
		t.Errorf("%+v", d)
	}
	// Deleted and created again (a new ifindex): waiting, then configured again.
	in("ip", "link", "del", "ag0")
	labtest.Eventually(t, 5*time.Second, "waiting after delete", func() bool { return state() == Waiting })
	in("ip", "link", "add", "ag0", "numtxqueues", "8", "numrxqueues", "8", "type", "veth", "peer", "name", "ag1", "numtxqueues", "8", "numrxqueues", "8")
	labtest.Eventually(t, 5*time.Second, "configured after re-creation", func() bool {
		return state() == Configured && strings.Contains(channels(t, ns, "ag0"), "RX: 4 TX: 4")
	})
	// Reload with an invalid file: refused, the old configuration stays in force.
	os.WriteFile(file, []byte("interfaces:\n  - name: \"a b\"\n"), 0o644)
	reload <- struct{}{}
	labtest.Eventually(t, 5*time.Second, "reload refused", func() bool { return a.Snapshot().ReloadFailures == 1 })
	if st := a.Snapshot(); !st.Ready || !strings.Contains(st.LastError, "not a valid interface name") || !n.has("RELOADING=1") {
		t.Errorf("%+v", st)
	}
	// A valid one (other counts) is applied.
	os.WriteFile(file, []byte("interfaces:\n  - name: ag0\n    channels: {rx: 2, tx: 2}\n"), 0o644)
	reload <- struct{}{}
	labtest.Eventually(t, 5*time.Second, "reload applied", func() bool { return strings.Contains(channels(t, ns, "ag0"), "RX: 2 TX: 2") })
	// The status file is written after the kernel is changed: ethtool can see the new counts
	// before the file says so, so wait for the file rather than read it once.
	var st *Status
	labtest.Eventually(t, 5*time.Second, "reload published", func() bool {
		s, err := ReadStatus(filepath.Join(dir, "status.json"))
		st = s
		return err == nil && s.Reloads == 2
	})
	if st.ReloadFailures != 1 || len(st.Interfaces) != 1 || st.Interfaces[0].State != Configured {
		t.Errorf("published status: %+v", st)
	}
	// Metrics and health on a listener of its own.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go m.Serve(ctx, l)
	get := func(path string) (int, string) {
		r, err := http.Get("http://" + l.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	code, body := get("/metrics")
	for _, want := range []string{`tsnctl_interface_state{interface="ag0",state="configured"} 1`, `tsnctl_drift_repaired_total{interface="ag0",kind="set-channels"}`,
		`tsnctl_reload_failures_total 1`, `tsnctl_ready 1`, "tsnctl_repair_duration_seconds_bucket", `tsnctl_build_info{version="test"} 1`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// What promtool check metrics checks (client_golang's promlint: names, units, _total, help).
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %+v", err, problems)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Errorf("/readyz %d %s", code, body)
	}
}

// The listener is on loopback by default: from another namespace with a route to the agent's
// addresses it cannot be reached, while a listener on the routed address can (the control).
// Both namespaces are the test's own.
func TestMetricsListenerIsLoopbackOnly(t *testing.T) {
	a, b := fmt.Sprintf("tsnla%d", os.Getpid()), fmt.Sprintf("tsnlb%d", os.Getpid())
	for _, ns := range []string{a, b} {
		labtest.Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	labtest.Run(t, "ip", "-n", a, "link", "add", "la0", "type", "veth", "peer", "name", "lb0", "netns", b)
	labtest.Run(t, "ip", "-n", a, "addr", "add", "10.213.0.1/24", "dev", "la0")
	labtest.Run(t, "ip", "-n", b, "addr", "add", "10.213.0.2/24", "dev", "lb0")
	for _, ns := range []string{a, b} {
		labtest.Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	labtest.Run(t, "ip", "-n", a, "link", "set", "la0", "up")
	labtest.Run(t, "ip", "-n", b, "link", "set", "lb0", "up")
	var metrics, control net.Listener
	if err := nsexec.Do(a, func() (err error) {
		if metrics, err = Listen("127.0.0.1:0"); err != nil {
			return err
		}
		control, err = net.Listen("tcp", "10.213.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer metrics.Close()
	defer control.Close()
	go http.Serve(metrics, NewMetrics("t").Handler())
	go http.Serve(control, http.NotFoundHandler())
	port := func(l net.Listener) string { return fmt.Sprint(l.Addr().(*net.TCPAddr).Port) }
	dial := func(addr string) error {
		return nsexec.Do(b, func() error {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
	}
	if err := dial("10.213.0.1:" + port(control)); err != nil {
		t.Fatalf("control: the routed address is not reachable from %s: %v", b, err)
	}
	if err := dial("10.213.0.1:" + port(metrics)); err == nil {
		t.Errorf("the metrics port is reachable from another namespace")
	}
}

// lockedBuffer collects the output of several processes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }
func (l *lockedBuffer) Reset()         { l.mu.Lock(); defer l.mu.Unlock(); l.b.Reset() }

// The seed's node in the lab's txtime-assist form, on a 4-queue veth.
const labFile = `interfaces:
  - name: v0
    vlans:
      - {id: 3, egress-qos-map: {6: 6}}
    taprio:
      num-tc: 4
      map: [3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3]
      queues: ["1@0", "1@1", "1@2", "1@3"]
      clockid: CLOCK_TAI
      base-time: auto
      mode: txtime-assist
      txtime-delay: 600us
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
      - {queue: 1, clockid: CLOCK_TAI, delta: 500us, skip-sock-check: true}
`

// runAgent runs an agent on text (a tsnctl file) in namespace ns ("" for the test's own), its
// files in a temporary directory, logging nowhere; stop ends it (once) and reports Run's error.
func runAgent(t testing.TB, text, ns string, verify time.Duration, opts ...func(*Options)) (a *Agent, stop func()) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "tsnctl.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// The agent's log is kept and shown when the test fails (a lab failure is otherwise a bare
	// "not ready", without the agent's reasons).
	log := new(lockedBuffer)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the agent's log:\n%s", log)
		}
	})
	o := Options{File: file, NetNS: ns, StatusPath: filepath.Join(dir, "status.json"), VerifyEvery: verify,
		PTPRunDir: filepath.Join(dir, "ptp"), PTPStatus: filepath.Join(dir, "sync.json"), Log: slog.New(slog.NewTextHandler(log, nil))}
	for _, f := range opts {
		f(&o)
	}
	a = New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// Before the agent has read its file it is not ready: /readyz must not say 200 in the moment between
// the process starting and the configuration being known (a two-guest lab run caught it doing so).
func TestNotReadyBeforeTheFileIsRead(t *testing.T) {
	a := New(Options{File: filepath.Join(t.TempDir(), "none.yaml"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if st := a.Snapshot(); st.Ready || !strings.Contains(st.NotReady, "configuration not loaded yet") {
		t.Errorf("%+v", st)
	}
}

// The loop and the time-sync goroutine both publish the status file. Once publish returns, the
// file is at least as new as the state it was called with: an older snapshot written last would
// leave tsnctl status showing a stale state (e.g. still LOCKING after LOCKED) until the next
// verification.
func TestStatusFileNeverGoesBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status.json")
	a := New(Options{StatusPath: path, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	a.st = Status{PID: os.Getpid(), Started: time.Now()}
	var wg sync.WaitGroup
	var stale atomic.Int64
	for range 4 {
		wg.Go(func() {
			for range 200 {
				a.mu.Lock()
				a.st.Reloads++
				mine := a.st.Reloads
				a.mu.Unlock()
				a.publish()
				if st, err := ReadStatus(path); err != nil {
					t.Error(err)
				} else if st.Reloads < mine {
					stale.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := stale.Load(); n > 0 {
		t.Errorf("%d times of 800 the status file was older than the state published just before", n)
	}
}
