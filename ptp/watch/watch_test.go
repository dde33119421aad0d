package watch

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ptp "github.com/facebook/time/ptp/protocol"
	"github.com/tsnctl/tsnctl/ptp/mgmt"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
	"github.com/tsnctl/tsnctl/termsafe"
)

// fakeQ answers as a ptp4l whose port is SLAVE, with a new Sync every call.
type fakeQ struct {
	ingress int64
	down    bool
	offset  int64
	calls   map[ptp.ManagementID]int
}

func (f *fakeQ) Get(id ptp.ManagementID, port uint16) (ptp.ManagementTLV, error) {
	f.calls[id]++
	if f.down {
		return nil, mgmt.ErrTimeout
	}
	switch id {
	case ptp.IDTimeStatusNP:
		f.ingress += 125e6
		return &ptp.TimeStatusNPTLV{MasterOffsetNS: f.offset, IngressTimeNS: f.ingress, GMPresent: 1, GMIdentity: 0xaabbccfffe000001}, nil
	case ptp.IDPortDataSet:
		return &mgmt.PortDataSetTLV{PortState: ptp.PortStateSlave, PeerMeanPathDelay: ptp.NewTimeInterval(1301), DelayMechanism: 2}, nil
	case ptp.IDCurrentDataSet:
		return &ptp.CurrentDataSetTLV{StepsRemoved: 1}, nil
	case ptp.IDTimePropertiesDataSet:
		return &mgmt.TimePropertiesTLV{CurrentUTCOffset: 37, Flags: 1<<2 | 1<<3}, nil
	case mgmt.IDPortDataSetNP:
		return &mgmt.PortDataSetNPTLV{NeighborPropDelayThresh: 800, ASCapable: 1}, nil
	}
	return nil, &mgmt.StatusError{ID: id, Status: ptp.ErrorNoSuchID}
}

func TestLoopPublishesStatus(t *testing.T) {
	q := &fakeQ{offset: -12, calls: map[ptp.ManagementID]int{}}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "status.json")
	l := &Loop{
		Poller:   &Poller{Q: q, Port: 1, SlowEvery: 4, KernelTAIOffset: func() (int, error) { return 37, nil }},
		Machine:  syncstate.New(syncstate.Policy{OffsetThreshold: 100, LockSamples: 3, Holdover: time.Second}, now),
		Interval: 250 * time.Millisecond, Path: path, Iface: "eth1",
		Now: func() time.Time { return now },
	}
	var st Status
	for i := 0; i < 3; i++ {
		now = now.Add(250 * time.Millisecond)
		var err error
		if st, err = l.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if st.State != syncstate.Locked || st.PathDelayNs != 1301 || st.UTCOffsetS != 37 || st.ASCapable == nil || !*st.ASCapable {
		t.Fatalf("status %+v", st)
	}
	// The slow datasets every 4th poll, the fast ones every poll.
	if q.calls[ptp.IDTimeStatusNP] != 3 || q.calls[ptp.IDTimePropertiesDataSet] != 1 || q.calls[ptp.IDPortDataSet] != 3 {
		t.Errorf("calls %v", q.calls)
	}
	b, _ := os.ReadFile(path)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"state", "port_state", "offset_ns", "path_delay_ns", "gm_present", "gm_identity", "as_capable", "utc_offset_s", "kernel_tai_offset_s", "since"} {
		if _, ok := m[k]; !ok {
			t.Errorf("status.json lacks %q: %s", k, b)
		}
	}
	if m["state"] != "LOCKED" || m["gm_identity"] != "aabbcc.fffe.000001" {
		t.Errorf("status.json %s", b)
	}
	got, err := ReadStatus(path, now.Add(time.Second))
	if err != nil || !got.Locked(now.Add(time.Second)) {
		t.Errorf("read back: %+v %v", got, err)
	}
	// ptp4l gone: HOLDOVER, with the reason.
	q.down = true
	now = now.Add(250 * time.Millisecond)
	st, _ = l.Step()
	if st.State != syncstate.Holdover || !strings.Contains(st.Reason, "ptp4l does not answer: TIME_STATUS_NP: no reply") || st.PortState != "" {
		t.Errorf("after ptp4l went away: %+v", st)
	}
	// A status nobody updates is stale; a missing one says who should publish it.
	if _, err := ReadStatus(path, now.Add(time.Minute)); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("stale: %v", err)
	}
	if _, err := ReadStatus(filepath.Join(t.TempDir(), "none"), now); !errors.Is(err, ErrNoPublisher) {
		t.Errorf("missing: %v", err)
	}
}

// A file that is JSON but not a status tsnctl wrote ({} or a foreign object) is refused: it used
// to print "since 0001-01-01".
func TestReadStatusRefusesForeignJSON(t *testing.T) {
	dir := t.TempDir()
	for _, text := range []string{"{}", `{"state":"BOGUS","updated":"2026-11-29T00:00:00Z","since":"2026-11-29T00:00:00Z"}`, `{"state":"LOCKED"}`} {
		p := filepath.Join(dir, "s.json")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadStatus(p, time.Now()); err == nil || !strings.Contains(err.Error(), "not a sync status tsnctl wrote") {
			t.Errorf("%s: %v", text, err)
		}
	}
}

// hostileStatus is a sync status whose strings carry terminal escape sequences.
const hostileStatus = `{"state":"LOCKED","port_state":"SLAVE\u001b]0;owned\u0007","gm_identity":"\u001b[2J","reason":"\u009b31m",` +
	`"restarts":{"ptp4l\u001b[1m":1},"since":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:01Z","pid":1}`

// TestWriteTextEscapes: the strings of a status file reach the terminal without their control
// characters (ESC, BEL, CSI), so its writer cannot drive the reader's terminal.
func TestWriteTextEscapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "status.json")
	os.WriteFile(path, []byte(hostileStatus), 0o644)
	st, _ := ReadStatus(path, time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC))
	if st == nil {
		t.Fatal("the status was not read")
	}
	var b strings.Builder
	st.WriteText(&b)
	if i := termsafe.IndexControl(b.String()); i >= 0 {
		t.Fatalf("a control character reaches the terminal at %d:\n%q", i, b.String())
	}
	for _, want := range []string{`SLAVE\x1b]0;owned\a`, `\x1b[2J`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("%q not shown escaped:\n%s", want, b.String())
		}
	}
}

// FuzzReadStatus: whatever a status file holds, ReadStatus returns a status or an error, never
// panics, and what WriteText prints of it has no control character but newlines.
func FuzzReadStatus(f *testing.F) {
	f.Add([]byte(hostileStatus))
	f.Add([]byte(`{"state":"FREERUN","since":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:01Z","phc_offset_ns":-9223372036854775808}`))
	f.Add([]byte(`{"state":"LOCKED"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte("\xff\xfe"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "status.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		st, _ := ReadStatus(path, time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC))
		if st == nil {
			return
		}
		var out strings.Builder
		st.WriteText(&out)
		if i := termsafe.IndexControl(out.String()); i >= 0 {
			t.Fatalf("a control character reaches the terminal at %d:\n%q", i, out.String())
		}
	})
}
