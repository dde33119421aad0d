package main

import (
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/ptp/syncstate"
	"github.com/tsnctl/tsnctl/ptp/watch"
)

func publish(t *testing.T, path string, state syncstate.State, updated time.Time) {
	t.Helper()
	yes := true
	if err := watch.WriteStatus(path, &watch.Status{State: state, PortState: "SLAVE", OffsetNs: -23, PathDelayNs: 1301, GMPresent: true,
		GMIdentity: "aabbcc.fffe.000001", ASCapable: &yes, UTCOffsetS: 37, KernelTAIOffsetS: 37, Since: updated.Add(-time.Minute),
		Updated: updated, PollEvery: 250 * time.Millisecond, PID: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestPtpStatusCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status.json")
	publish(t, path, syncstate.Locked, time.Now())
	out, err := run(t, "ptp", "status", "-o", "json", "--status", path)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"state", "port_state", "offset_ns", "path_delay_ns", "gm_present", "gm_identity", "as_capable", "utc_offset_s", "kernel_tai_offset_s", "since"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
	out, _ = run(t, "ptp", "status", "--status", path)
	if !strings.Contains(out, "state") || !strings.Contains(out, "LOCKED") || !strings.Contains(out, "UTC offset") {
		t.Errorf("text:\n%s", out)
	}
	// Not LOCKED, stale, missing: exit status 1.
	publish(t, path, syncstate.Holdover, time.Now())
	_, err = run(t, "ptp", "status", "--status", path)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("HOLDOVER: %v", err)
	}
	publish(t, path, syncstate.Locked, time.Now().Add(-time.Minute))
	if _, err := run(t, "ptp", "status", "--status", path); !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("stale: %v", err)
	}
	if _, err := run(t, "ptp", "status", "--status", path+".none"); err == nil || !strings.Contains(err.Error(), "tsnctl ptp run") {
		t.Errorf("missing: %v", err)
	}
	if _, err := run(t, "ptp", "config", "-f", writeFile(t, "ptp:\n  interface: eth1\n  role: chief\n")); err == nil || !strings.Contains(err.Error(), "ptp.role") {
		t.Errorf("bad config: %v", err)
	}
	out, err = run(t, "ptp", "config", "-f", writeFile(t, "ptp:\n  interface: eth1\n"))
	if err != nil || !strings.Contains(out, "ptp4l -f /run/tsnctl/ptp/ptp4l-eth1.conf -H -m -q") || !strings.Contains(out, "pmc -u -b 0 -t 1 -d 0 -s /run/tsnctl/ptp/ptp4l") ||
		!strings.Contains(out, "phc2sys -s eth1 -c CLOCK_REALTIME -w") {
		t.Errorf("config: %v\n%s", err, out)
	}
}

// The gated sender: nothing leaves before LOCKED; it starts once the status says LOCKED.
func TestSendRequireSync(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dest := sink.LocalAddr().String()
	path := filepath.Join(t.TempDir(), "status.json")
	publish(t, path, syncstate.Locking, time.Now())
	_, err = run(t, "send", "--dest", dest, "--count", "3", "--cycle", "2ms", "--require-sync", "--sync-timeout", "300ms", "--sync-status", path)
	if err == nil || !strings.Contains(err.Error(), "not LOCKED after 300ms: state LOCKING") || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("err %v", err)
	}
	sink.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := sink.ReadFrom(make([]byte, 1500)); err == nil {
		t.Errorf("a packet of %d bytes was sent before LOCKED", n)
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	defer func() { close(stop); <-stopped }() // before the temporary directory goes
	go func() {                               // a publisher that becomes LOCKED after 300 ms
		defer close(stopped)
		time.Sleep(300 * time.Millisecond)
		for {
			publish(t, path, syncstate.Locked, time.Now())
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	out, err := run(t, "send", "--dest", dest, "--count", "3", "--cycle", "2ms", "--require-sync", "--sync-timeout", "5s", "--sync-status", path)
	if err != nil || time.Since(start) < 300*time.Millisecond || !strings.Contains(out, "sent 3") || !strings.Contains(out, "sent while time sync was not locked: 0") {
		t.Errorf("after %v: %v\n%s", time.Since(start), err, out)
	}
	if _, err := run(t, "send", "--dest", dest, "--require-sync", "--on-sync-loss", "panic", "--sync-status", path); err == nil || !strings.Contains(err.Error(), "--on-sync-loss") {
		t.Errorf("bad --on-sync-loss: %v", err)
	}
}
