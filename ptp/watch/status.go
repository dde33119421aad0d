package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"io/fs"
	"os"
	"time"

	"github.com/tsnctl/tsnctl/ptp/syncstate"
)

// DefaultStatusPath is where the status is published.
const DefaultStatusPath = "/run/tsnctl/ptp/status.json"

// Status is the node's sync status, as `tsnctl ptp status -o json` prints it.
type Status struct {
	State            syncstate.State `json:"state"`
	PortState        string          `json:"port_state"`
	OffsetNs         int64           `json:"offset_ns"`
	PathDelayNs      int64           `json:"path_delay_ns"`
	GMPresent        bool            `json:"gm_present"`
	GMIdentity       string          `json:"gm_identity"`
	ASCapable        *bool           `json:"as_capable"`
	UTCOffsetS       int             `json:"utc_offset_s"`
	KernelTAIOffsetS int             `json:"kernel_tai_offset_s"`
	Since            time.Time       `json:"since"`

	Reason      string           `json:"reason,omitempty"` // why the last sample was bad
	GoodSamples int              `json:"good_samples"`     // good samples in a row
	PHCOffsetNs *int64           `json:"phc_offset_ns,omitempty"`
	Interface   string           `json:"interface,omitempty"`
	Updated     time.Time        `json:"updated"`
	PollEvery   time.Duration    `json:"poll_interval_ns"`
	Restarts    map[string]int64 `json:"restarts,omitempty"` // ptp4l, phc2sys (tsnctl ptp run)
	PID         int              `json:"pid"`
}

// Locked reports whether the status says LOCKED and is fresh at now.
func (s *Status) Locked(now time.Time) bool { return s.State == syncstate.Locked && s.Fresh(now) }

// Fresh reports whether the publisher updated the status recently (three polls, at least 2 s).
func (s *Status) Fresh(now time.Time) bool {
	return now.Sub(s.Updated) <= max(3*s.PollEvery, 2*time.Second)
}

// WriteStatus publishes s atomically (write a temporary file, rename).
func WriteStatus(path string, s *Status) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(path, append(b, '\n'), 0o644)
}

// MaxStatusSize is the largest sync status file ReadStatus reads (one is under 1 KiB).
const MaxStatusSize = 64 << 10

// ErrNoPublisher means no tsnctl ptp run/watch publishes a status.
var ErrNoPublisher = errors.New("no sync status: start `tsnctl ptp run -f FILE` (or `tsnctl ptp watch`) on this node")

// ReadStatus reads the published status. A missing file is ErrNoPublisher; a stale one is
// returned with an error saying how old it is.
func ReadStatus(path string, now time.Time) (*Status, error) {
	b, err := safefile.Read(path, MaxStatusSize, "a sync status file")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoPublisher
	}
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !s.State.Valid() || s.Updated.IsZero() || s.Since.IsZero() {
		return nil, fmt.Errorf("%s: not a sync status tsnctl wrote (state %q, updated %v): is --status the right file?", path, s.State, s.Updated)
	}
	if !s.Fresh(now) {
		return &s, fmt.Errorf("sync status %s is stale (last updated %v ago by pid %d): is tsnctl ptp run/watch still running?",
			path, now.Sub(s.Updated).Round(time.Millisecond), s.PID)
	}
	return &s, nil
}

// Loop polls every interval until ctx ends, steps the machine and publishes each status (to path,
// if not "") and hands it to each (if not nil). now is the clock (time.Now outside tests).
type Loop struct {
	Poller   *Poller
	Machine  *syncstate.Machine
	Interval time.Duration
	Path     string
	Iface    string
	Now      func() time.Time
	Restarts func() map[string]int64
	Each     func(Status, syncstate.Sample, bool)
}

// Step takes one sample and publishes it.
func (l *Loop) Step() (Status, error) {
	now := l.Now()
	smp, ex := l.Poller.Sample(now)
	state, changed := l.Machine.Step(smp)
	_, since := l.Machine.State()
	st := Status{State: state, PortState: smp.PortState, OffsetNs: smp.OffsetNs, PathDelayNs: smp.PathDelayNs, GMPresent: smp.GMPresent,
		GMIdentity: smp.GMIdentity, ASCapable: smp.ASCapable, UTCOffsetS: smp.UTCOffset, KernelTAIOffsetS: smp.KernelTAIOffset,
		Since: since, Reason: l.Machine.Reason(), GoodSamples: l.Machine.GoodInARow(), PHCOffsetNs: ex.PHCOffsetNs,
		Interface: l.Iface, Updated: now, PollEvery: l.Interval, PID: os.Getpid()}
	if !smp.Answered {
		st.PortState = ""
	}
	if l.Restarts != nil {
		st.Restarts = l.Restarts()
	}
	if l.Each != nil {
		l.Each(st, smp, changed)
	}
	if l.Path == "" {
		return st, nil
	}
	return st, WriteStatus(l.Path, &st)
}

// Run steps every Interval until ctx ends; the status file is removed at the end, so nobody
// trusts a status whose publisher is gone.
func (l *Loop) Run(ctx context.Context) error {
	tick := time.NewTicker(l.Interval)
	defer tick.Stop()
	if l.Path != "" {
		defer os.Remove(l.Path)
	}
	for {
		if _, err := l.Step(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
