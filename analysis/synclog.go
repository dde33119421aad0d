package analysis

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// FormatSyncLog is `tsnctl ptp run --log`: one status JSON object per poll.
const FormatSyncLog = "tsnctl-ptp"

// SyncResult is the time-sync record of a run: how long the node was in each state, when the
// state changed and why, and the offsets.
type SyncResult struct {
	Path           string             `json:"path"`
	Samples        int                `json:"samples"`
	From           time.Time          `json:"from"`
	To             time.Time          `json:"to"`
	Seconds        map[string]float64 `json:"seconds_in_state"`
	LockedFraction float64            `json:"locked_fraction"`
	Changes        []SyncChange       `json:"changes"`
	// OffsetLocked are the master offsets while LOCKED; PathDelay all path delays answered.
	OffsetLocked *Indicator       `json:"offset_locked,omitempty"`
	PathDelay    *Indicator       `json:"path_delay,omitempty"`
	Restarts     map[string]int64 `json:"restarts,omitempty"`
	// Window is "traffic" when the statuses were cut to the time of the run's packets (±1 s,
	// through the kernel TAI offset each status records), else "whole log".
	Window string `json:"window"`

	locked, unlocked Series // offset (ns) by ms since From
}

// SyncChange is one state change.
type SyncChange struct {
	At     time.Time `json:"at"`
	State  string    `json:"state"`
	Reason string    `json:"reason,omitempty"`
}

// maxChanges bounds the changes kept (a flapping night must not grow the report without end).
const maxChanges = 200

type syncStatus struct {
	State           string           `json:"state"`
	PortState       string           `json:"port_state"`
	OffsetNs        int64            `json:"offset_ns"`
	PathDelayNs     int64            `json:"path_delay_ns"`
	Reason          string           `json:"reason"`
	Updated         time.Time        `json:"updated"`
	KernelTAIOffset int              `json:"kernel_tai_offset_s"`
	Restarts        map[string]int64 `json:"restarts"`
}

// maxSyncSamples bounds the statuses kept to cut the log to the traffic's time (a week at 4/s).
const maxSyncSamples = 2_500_000

// syncSample is one status, compactly.
type syncSample struct {
	at, taiAt   int64 // UTC and TAI ns
	offset, dly int64
	state       string // interned by the decoder's small set
	answered    bool
	reason      string
	ptp4l       int64
}

// OffsetSeries returns the offsets by milliseconds since From, while LOCKED and otherwise.
func (s *SyncResult) OffsetSeries() (locked, other *Series) { return &s.locked, &s.unlocked }

func (a *Analyzer) readSyncLog(in io.Reader, fi *FileInfo) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	states := map[string]string{}
	var samples []syncSample
	for sc.Scan() {
		line++
		var st syncStatus
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil || st.State == "" || st.Updated.IsZero() {
			fi.warn("line %d: not a tsnctl ptp status line", line)
			continue
		}
		if len(samples) == maxSyncSamples {
			fi.warn("more than %d statuses: the rest left out", maxSyncSamples)
			break
		}
		if _, ok := states[st.State]; !ok {
			states[st.State] = st.State
		}
		at := st.Updated.UnixNano()
		samples = append(samples, syncSample{at: at, taiAt: at + int64(st.KernelTAIOffset)*1e9, offset: st.OffsetNs, dly: st.PathDelayNs,
			state: states[st.State], answered: st.PortState != "", reason: st.Reason, ptp4l: st.Restarts["ptp4l"]})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("no tsnctl ptp status line")
	}
	fi.Records = int64(len(samples))
	a.syncPath, a.syncSamples = fi.Path, samples
	return nil
}

// syncResult summarises the statuses whose TAI time lies in [from, to] (all when from == to == 0).
func syncResult(path string, samples []syncSample, from, to int64) *SyncResult {
	sr := &SyncResult{Path: path, Seconds: map[string]float64{}, Window: "whole log"}
	if from != 0 || to != 0 {
		sr.Window = "traffic"
	}
	var off, delay Dist
	var prev *syncSample
	var t0 int64
	for i := range samples {
		sm := &samples[i]
		if sr.Window == "traffic" && (sm.taiAt < from || sm.taiAt > to) {
			continue
		}
		if prev == nil {
			t0 = sm.at
			sr.From = time.Unix(0, sm.at).UTC()
		} else if d := sm.at - prev.at; d > 0 && d < int64(time.Minute) {
			sr.Seconds[prev.state] += float64(d) / 1e9
		}
		if (prev == nil || sm.state != prev.state) && len(sr.Changes) < maxChanges {
			sr.Changes = append(sr.Changes, SyncChange{At: time.Unix(0, sm.at).UTC(), State: sm.state, Reason: sm.reason})
		}
		ms := uint64(max((sm.at-t0)/1e6, 0))
		if sm.answered {
			if sm.state == "LOCKED" {
				off.Add(sm.offset)
				sr.locked.Add(ms, sm.offset)
			} else {
				sr.unlocked.Add(ms, sm.offset)
			}
			delay.Add(sm.dly)
		}
		sr.Restarts = map[string]int64{"ptp4l": sm.ptp4l}
		sr.To = time.Unix(0, sm.at).UTC()
		sr.Samples++
		prev = sm
	}
	if sr.Samples == 0 {
		return nil
	}
	var total float64
	for _, v := range sr.Seconds {
		total += v
	}
	if total > 0 {
		sr.LockedFraction = sr.Seconds["LOCKED"] / total
	} else if prev.state == "LOCKED" {
		sr.LockedFraction = 1
	}
	if off.N() > 0 {
		in := indicatorOf(&off, 0)
		sr.OffsetLocked = &in
	}
	if delay.N() > 0 {
		in := indicatorOf(&delay, 0)
		sr.PathDelay = &in
	}
	return sr
}
