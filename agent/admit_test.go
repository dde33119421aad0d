package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/configs"
)

const admitFile = `interfaces:
  - name: v0
    channels: 4
    plan:
      etf-delta: 100us
      admission: {vlans: [3], pcp: [5, 6]}
streams:
  - {name: base, interface: v0, dest: 10.3.0.2:7788, vlan: 3, pcp: 6, period: 1ms, size: 64, offset: 0us, max-latency: 200us}
`

// admittedAgent is an agent (no kernel) whose file is text and that has admitted held at its
// planned txtime, as admit leaves it.
func admittedAgent(t *testing.T, text string) *Agent {
	t.Helper()
	cfg, _, err := Check("f.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{})
	a.setConfig(cfg, "h", nil)
	held := configs.Stream{Name: "held", Interface: "v0", Dest: "10.3.0.2:7790", VLAN: 3, Period: configs.Duration(time.Millisecond), Size: 64,
		MaxLatency: configs.Duration(300 * time.Microsecond)}
	out, res, err := a.replan(a.src, []configs.Stream{held}, a.pins())
	if err != nil {
		t.Fatal(err)
	}
	a.setAdmitted(out, res, []admitted{{stream: withPCP(res, held), from: 1}})
	return a
}

// On reload, the file's streams are placed first, then each admitted stream at its txtime; one
// that no longer fits there is evicted with the reason (its client sends at that txtime).
func TestReloadKeepsOrEvictsAdmitted(t *testing.T) {
	a := admittedAgent(t, admitFile)
	r, _ := rowIn(a.rows, "held")
	if r.Txtime <= 0 || len(a.st.Admitted) != 1 || a.st.Admitted[0].VLANInterface != "v0.3" || a.st.Admitted[0].Priority != 5 {
		t.Fatalf("held admitted as %+v / %+v", r, a.st.Admitted)
	}
	// The same file again: held kept at its txtime.
	cfg, _, _ := Check("f.yaml", []byte(admitFile))
	kept, err := a.keepAdmitted(cfg)
	if err != nil || len(kept.admits) != 1 || len(kept.evicted) != 0 {
		t.Fatalf("same file: %+v %v", kept, err)
	}
	if r2, _ := rowIn(kept.res.Rows, "held"); r2.Txtime != r.Txtime {
		t.Errorf("held moved from %v to %v", r.Txtime, r2.Txtime)
	}
	// base moved onto held's window: held no longer fits at its txtime and is evicted.
	moved := strings.Replace(admitFile, "offset: 0us, max-latency: 200us", "offset: 150us, max-latency: 20us", 1)
	cfg, _, err = Check("f.yaml", []byte(moved))
	if err != nil {
		t.Fatal(err)
	}
	kept, err = a.keepAdmitted(cfg)
	if err != nil || len(kept.admits) != 0 || len(kept.evicted) != 1 || kept.evicted[0].name != "held" || !strings.Contains(kept.evicted[0].reason, "no room for it at its txtime") {
		t.Fatalf("base moved onto held: %+v %v", kept, err)
	}
	// A file without admission: held evicted (the reservation is gone).
	cfg, _, _ = Check("f.yaml", []byte("interfaces:\n  - name: v0\n"))
	if kept, err = a.keepAdmitted(cfg); err != nil || len(kept.evicted) != 1 || !strings.Contains(kept.evicted[0].reason, "admits no streams") {
		t.Fatalf("admission removed: %+v %v", kept, err)
	}
	// Until the reload is in force, the agent's own state is unchanged.
	if len(a.admits) != 1 {
		t.Errorf("keepAdmitted changed the agent: %+v", a.admits)
	}
}

// A request the planner refuses names its constraint as the reason, a bad field as invalid.
func TestRefusalReasons(t *testing.T) {
	a := admittedAgent(t, admitFile)
	tight := configs.Stream{Name: "x", Interface: "v0", Dest: "10.3.0.2:7791", VLAN: 3, Period: configs.Duration(time.Millisecond), Size: 64,
		MaxLatency: configs.Duration(10 * time.Microsecond)}
	_, _, err := a.replan(a.src, append(streamsOf(a.admits), tight), a.pins())
	if err == nil || !strings.HasPrefix(err.Error(), "admission refused (pinned): ") {
		t.Errorf("a stream that fits only by moving base: %v", err)
	}
	bad := tight
	bad.Size = 1
	if _, _, err := a.replan(a.src, []configs.Stream{bad}, a.pins()); err == nil || !strings.HasPrefix(err.Error(), "admission refused (invalid): ") || !strings.Contains(err.Error(), "stream.size") {
		t.Errorf("a bad size: %v", err)
	}
}
