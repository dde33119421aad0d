package analysis

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestSyncLog(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	// 4 s FREERUN, 10 s LOCKED (offsets -50..40), 2 s HOLDOVER, 4 s LOCKED: one status per second.
	states := []string{"FREERUN", "FREERUN", "FREERUN", "FREERUN"}
	for range 10 {
		states = append(states, "LOCKED")
	}
	states = append(states, "HOLDOVER", "HOLDOVER", "LOCKED", "LOCKED", "LOCKED", "LOCKED", "LOCKED")
	for i, s := range states {
		line, _ := json.Marshal(map[string]any{"state": s, "port_state": "SLAVE", "offset_ns": -50 + 10*(i%10), "path_delay_ns": 700,
			"updated": t0.Add(time.Duration(i) * time.Second), "reason": map[bool]string{true: "", false: "bad"}[s == "LOCKED"],
			"restarts": map[string]int{"ptp4l": 1}})
		b.Write(line)
		b.WriteByte('\n')
	}
	res := analyze(t, Options{}, writeFile(t, b.String()))
	sy := res.Sync
	if sy == nil || res.Files[0].Format != FormatSyncLog || sy.Samples != 21 {
		t.Fatalf("%+v %+v", res.Files, sy)
	}
	// 20 s in all: FREERUN 4, LOCKED 10 + 4, HOLDOVER 2.
	if sy.Seconds["FREERUN"] != 4 || sy.Seconds["LOCKED"] != 14 || sy.Seconds["HOLDOVER"] != 2 || sy.LockedFraction != 0.7 {
		t.Errorf("seconds %v, locked %v", sy.Seconds, sy.LockedFraction)
	}
	if len(sy.Changes) != 4 || sy.Changes[1].State != "LOCKED" || !sy.Changes[1].At.Equal(t0.Add(4*time.Second)) || sy.Changes[2].Reason != "bad" {
		t.Errorf("changes %+v", sy.Changes)
	}
	if o := sy.OffsetLocked; o == nil || o.Count != 15 || o.Min != -50 || o.Max != 40 || sy.Restarts["ptp4l"] != 1 || sy.PathDelay.P50 != 700 {
		t.Errorf("offset %+v", sy.OffsetLocked)
	}
	var out strings.Builder
	res.WriteText(&out)
	if !strings.Contains(out.String(), "LOCKED 70.0 % of the time") {
		t.Errorf("text:\n%s", out.String())
	}
}
