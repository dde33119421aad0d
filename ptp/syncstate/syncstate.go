// Package syncstate decides whether a node's time can be trusted, from samples of ptp4l's state:
// FREERUN → LOCKING → LOCKED → HOLDOVER → FREERUN, with hysteresis. Pure: the caller takes the
// samples (package ptp/mgmt) and supplies their times, so tests run on a fake clock.
package syncstate

import (
	"fmt"
	"time"
)

// State is the node's sync state.
type State string

// States.
const (
	FreeRun  State = "FREERUN"  // not synchronised: do not trust the clock
	Locking  State = "LOCKING"  // good samples, not yet enough in a row
	Locked   State = "LOCKED"   // LockSamples good samples in a row: the clock can be trusted
	Holdover State = "HOLDOVER" // was LOCKED, now bad samples, within the holdover budget
)

// Valid reports whether s is one of the four states.
func (s State) Valid() bool { return s == FreeRun || s == Locking || s == Locked || s == Holdover }

// Policy holds the thresholds.
type Policy struct {
	OffsetThreshold    time.Duration // |master offset| above it: bad
	LockSamples        int           // good samples in a row to become LOCKED (again)
	Holdover           time.Duration // time a node stays in HOLDOVER before FREERUN
	PHCOffsetThreshold time.Duration // |system clock − PHC| above it: bad (when measured)
	// Grandmaster: the node is meant to be the grandmaster. Its time is good when its port is
	// MASTER and the grandmaster is itself (it receives no Sync, so offset and ingress time are
	// not judged).
	Grandmaster bool
}

// Sample is one look at ptp4l (and the kernel's clocks).
type Sample struct {
	At          time.Time // when it was taken (the poller's clock)
	Answered    bool      // ptp4l answered the management queries
	Error       string    // why not, if it did not
	PortState   string    // PORT_DATA_SET portState, e.g. SLAVE
	GMPresent   bool      // TIME_STATUS_NP gmPresent
	GMIdentity  string    // TIME_STATUS_NP gmIdentity
	IngressTime int64     // TIME_STATUS_NP ingress_time: the last Sync's arrival (ns)
	OffsetNs    int64     // TIME_STATUS_NP master_offset
	PathDelayNs int64     // PORT_DATA_SET peerMeanPathDelay (P2P) or CURRENT_DATA_SET meanPathDelay
	ASCapable   *bool     // PORT_DATA_SET_NP asCapable, where ptp4l gives it
	// UTCOffset is ptp4l's currentUtcOffset (TIME_PROPERTIES_DATA_SET) and KernelTAIOffset the
	// kernel's (adjtimex); both in s, compared when UTCOffsetValid.
	UTCOffset       int
	UTCOffsetValid  bool
	KernelTAIOffset int
	// PHCOffsetNs is system clock − PHC, when phc2sys runs and it was measured.
	PHCOffsetNs *int64
	// OwnIdentity is the node's clock identity (DEFAULT_DATA_SET), to recognise itself as grandmaster.
	OwnIdentity string
}

// Machine is the state machine. The zero value is not ready: use New.
type Machine struct {
	p           Policy
	state       State
	since       time.Time
	good        int
	gm          string
	lastIngress int64
	holdStart   time.Time
	reason      string
}

// New starts in FREERUN at time now.
func New(p Policy, now time.Time) *Machine {
	if p.LockSamples < 1 {
		p.LockSamples = 1
	}
	return &Machine{p: p, state: FreeRun, since: now, reason: "no sample yet"}
}

// State returns the state and since when.
func (m *Machine) State() (State, time.Time) { return m.state, m.since }

// Reason says why the last sample was bad ("" if it was good).
func (m *Machine) Reason() string { return m.reason }

// GoodInARow is the number of good samples in a row.
func (m *Machine) GoodInARow() int { return m.good }

// judge returns "" for a good sample, else why it is bad. It updates the grandmaster and the last
// ingress time it remembers.
func (m *Machine) judge(s Sample) string {
	if !s.Answered {
		if s.Error != "" {
			return "ptp4l does not answer: " + s.Error
		}
		return "ptp4l does not answer"
	}
	defer func() { m.lastIngress = s.IngressTime }()
	if m.p.Grandmaster {
		switch {
		case s.PortState != "MASTER" && s.PortState != "GRAND_MASTER":
			return "port state " + s.PortState + ", not MASTER (this node is to be the grandmaster)"
		case s.OwnIdentity == "" || s.GMIdentity != s.OwnIdentity:
			return fmt.Sprintf("grandmaster is %s, not this node (%s)", s.GMIdentity, s.OwnIdentity)
		}
		return ""
	}
	switch {
	case s.PortState != "SLAVE":
		return "port state " + s.PortState + ", not SLAVE"
	case !s.GMPresent:
		return "no grandmaster (gmPresent false)"
	case s.ASCapable != nil && !*s.ASCapable:
		return "port not asCapable (peer delay above neighborPropDelayThresh?)"
	}
	if m.gm != s.GMIdentity {
		old := m.gm
		m.gm = s.GMIdentity
		if old != "" {
			return fmt.Sprintf("grandmaster changed from %s to %s", old, s.GMIdentity)
		}
	}
	if m.lastIngress != 0 && s.IngressTime <= m.lastIngress {
		return "no new Sync since the last sample (ingress_time did not advance)"
	}
	if abs(s.OffsetNs) > int64(m.p.OffsetThreshold) {
		return fmt.Sprintf("|offset| %d ns above the threshold %v", abs(s.OffsetNs), m.p.OffsetThreshold)
	}
	if s.UTCOffsetValid && s.UTCOffset != s.KernelTAIOffset {
		return fmt.Sprintf("kernel TAI offset %d s differs from PTP's UTC offset %d s: CLOCK_TAI is wrong", s.KernelTAIOffset, s.UTCOffset)
	}
	if s.PHCOffsetNs != nil && abs(*s.PHCOffsetNs) > int64(m.p.PHCOffsetThreshold) {
		return fmt.Sprintf("|system clock − PHC| %d ns above the threshold %v (is phc2sys running?)", abs(*s.PHCOffsetNs), m.p.PHCOffsetThreshold)
	}
	return ""
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func (m *Machine) enter(s State, at time.Time) {
	if s != m.state {
		m.state, m.since = s, at
	}
}

// Step feeds one sample and returns the new state and whether it changed.
func (m *Machine) Step(s Sample) (State, bool) {
	before := m.state
	m.reason = m.judge(s)
	good := m.reason == ""
	if good {
		m.good++
	} else {
		m.good = 0
	}
	switch m.state {
	case FreeRun, Locking:
		switch {
		case good && m.good >= m.p.LockSamples:
			m.enter(Locked, s.At)
		case good:
			m.enter(Locking, s.At)
		default:
			m.enter(FreeRun, s.At)
		}
	case Locked:
		if !good {
			m.enter(Holdover, s.At)
			m.holdStart = s.At
		}
	case Holdover:
		switch {
		case good && m.good >= m.p.LockSamples:
			m.enter(Locked, s.At)
		case s.At.Sub(m.holdStart) >= m.p.Holdover && good:
			m.enter(Locking, s.At)
		case s.At.Sub(m.holdStart) >= m.p.Holdover:
			m.enter(FreeRun, s.At)
		}
	}
	return m.state, m.state != before
}
