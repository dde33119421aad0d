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
	State       string           `json:"state"`
	PortState   string           `json:"port_state"`
	OffsetNs    int64            `json:"offset_ns"`
	PathDelayNs int64            `json:"path_delay_ns"`
	Reason      string           `json:"reason"`
	Updated     time.Time        `json:"updated"`
	Restarts    map[string]int64 `json:"restarts"`
}

// OffsetSeries returns the offsets by milliseconds since From, while LOCKED and otherwise.
func (s *SyncResult) OffsetSeries() (locked, other *Series) { return &s.locked, &s.unlocked }

func (a *Analyzer) readSyncLog(in io.Reader, fi *FileInfo) error {
	sr := &SyncResult{Path: fi.Path, Seconds: map[string]float64{}}
	var off, delay Dist
	var prev syncStatus
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		var st syncStatus
		if err := json.Unmarshal(sc.Bytes(), &st); err != nil || st.State == "" || st.Updated.IsZero() {
			fi.warn("line %d: not a tsnctl ptp status line", line)
			continue
		}
		if sr.Samples == 0 {
			sr.From = st.Updated
		} else {
			if d := st.Updated.Sub(prev.Updated); d > 0 && d < time.Minute {
				sr.Seconds[prev.State] += d.Seconds()
			}
		}
		if sr.Samples == 0 || st.State != prev.State {
			if len(sr.Changes) < maxChanges {
				sr.Changes = append(sr.Changes, SyncChange{At: st.Updated, State: st.State, Reason: st.Reason})
			}
		}
		ms := uint64(max(st.Updated.Sub(sr.From).Milliseconds(), 0))
		if st.PortState != "" {
			if st.State == "LOCKED" {
				off.Add(st.OffsetNs)
				sr.locked.Add(ms, st.OffsetNs)
			} else {
				sr.unlocked.Add(ms, st.OffsetNs)
			}
			delay.Add(st.PathDelayNs)
		}
		sr.Restarts = st.Restarts
		sr.To = st.Updated
		sr.Samples++
		prev = st
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if sr.Samples == 0 {
		return fmt.Errorf("no tsnctl ptp status line")
	}
	var total float64
	for _, v := range sr.Seconds {
		total += v
	}
	if total > 0 {
		sr.LockedFraction = sr.Seconds["LOCKED"] / total
	}
	if off.N() > 0 {
		in := indicatorOf(&off, 0)
		sr.OffsetLocked = &in
	}
	if delay.N() > 0 {
		in := indicatorOf(&delay, 0)
		sr.PathDelay = &in
	}
	fi.Records = int64(sr.Samples)
	a.sync = sr
	return nil
}
