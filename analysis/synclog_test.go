package analysis

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/samplelog"
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
		line, _ := json.Marshal(map[string]any{"state": s, "port_state": "SLAVE", "offset_ns": -50 + 10*(i%10), "path_delay_ns": 700, "kernel_tai_offset_s": 37,
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

// With the run's packets given too, the statuses are cut to the packets' time (TAI, through each
// status's kernel TAI offset), ±1 s.
func TestSyncLogCutToTraffic(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := range 30 { // FREERUN for 10 s, then LOCKED
		state := "LOCKED"
		if i < 10 {
			state = "FREERUN"
		}
		line, _ := json.Marshal(map[string]any{"state": state, "port_state": "SLAVE", "offset_ns": 5, "updated": t0.Add(time.Duration(i) * time.Second), "kernel_tai_offset_s": 37})
		b.Write(line)
		b.WriteByte('\n')
	}
	// Packets from t0+15 s to t0+20 s (UTC), i.e. cycle starts 37 s later in TAI.
	var recs []samplelog.Record
	for i := range 6 {
		c := t0.Add(37*time.Second + time.Duration(15+i)*time.Second).UnixNano()
		recs = append(recs, samplelog.Record{Type: samplelog.TypeRx, Seq: uint64(i), CycleStart: c, Wakeup: c, SendCall: c, Timestamp: c + 1000})
	}
	res := analyze(t, Options{}, writeFile(t, b.String()), writeLog(t, samplelog.Header{Role: samplelog.RoleRecv}, recs))
	sy := res.Sync
	if sy.Window != "traffic" || sy.Samples != 8 || sy.LockedFraction != 1 || !sy.From.Equal(t0.Add(14*time.Second)) || len(sy.Changes) != 1 {
		t.Errorf("%+v", sy)
	}
}
