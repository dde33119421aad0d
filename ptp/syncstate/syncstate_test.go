package syncstate

import (
	"strings"
	"testing"
	"time"
)

var policy = Policy{OffsetThreshold: 100 * time.Nanosecond, LockSamples: 3, Holdover: 2 * time.Second, PHCOffsetThreshold: time.Microsecond}

// sample kinds used in the table
const (
	good       = "good"
	noAnswer   = "no-answer"
	listening  = "listening"
	noGM       = "no-gm"
	bigOffset  = "big-offset"
	staleSync  = "stale"
	otherGM    = "other-gm"
	taiWrong   = "tai-wrong"
	phcOff     = "phc-off"
	notCapable = "not-capable"
)

type sampler struct {
	t       time.Time
	ingress int64
}

func (g *sampler) next(kind string, dt time.Duration) Sample {
	g.t = g.t.Add(dt)
	if kind != staleSync {
		g.ingress += int64(125 * time.Millisecond)
	}
	yes := true
	s := Sample{At: g.t, Answered: true, PortState: "SLAVE", GMPresent: true, GMIdentity: "aa.fffe.01", IngressTime: g.ingress,
		OffsetNs: -40, ASCapable: &yes, UTCOffset: 37, UTCOffsetValid: true, KernelTAIOffset: 37}
	switch kind {
	case noAnswer:
		s = Sample{At: g.t, Error: "read: timeout"}
	case listening:
		s.PortState = "LISTENING"
	case noGM:
		s.GMPresent = false
	case bigOffset:
		s.OffsetNs = 250
	case otherGM:
		s.GMIdentity = "bb.fffe.02"
	case taiWrong:
		s.KernelTAIOffset = 0
	case phcOff:
		v := int64(5000)
		s.PHCOffsetNs = &v
	case notCapable:
		no := false
		s.ASCapable = &no
	}
	return s
}

func TestTransitions(t *testing.T) {
	type step struct {
		kind string
		dt   time.Duration
		want State
	}
	q := 250 * time.Millisecond
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"FREERUN → LOCKING → LOCKED after 3 good samples", []step{{good, q, Locking}, {good, q, Locking}, {good, q, Locked}}},
		{"LOCKING → FREERUN on a bad sample", []step{{good, q, Locking}, {bigOffset, q, FreeRun}, {good, q, Locking}}},
		{"LOCKED → HOLDOVER → LOCKED after 3 good again", []step{{good, q, Locking}, {good, q, Locking}, {good, q, Locked},
			{noAnswer, q, Holdover}, {good, q, Holdover}, {good, q, Holdover}, {good, q, Locked}}},
		{"HOLDOVER → FREERUN when the budget is spent", []step{{good, q, Locking}, {good, q, Locking}, {good, q, Locked},
			{noGM, q, Holdover}, {noGM, time.Second, Holdover}, {noGM, 999 * time.Millisecond, Holdover}, {noGM, time.Millisecond, FreeRun}}},
		{"HOLDOVER → LOCKING when the budget is spent during good samples", []step{{good, q, Locking}, {good, q, Locking}, {good, q, Locked},
			{listening, q, Holdover}, {listening, 1900 * time.Millisecond, Holdover}, {good, 100 * time.Millisecond, Locking}, {good, q, Locking}, {good, q, Locked}}},
		{"a bad sample in HOLDOVER restarts the count", []step{{good, q, Locking}, {good, q, Locking}, {good, q, Locked},
			{staleSync, q, Holdover}, {good, q, Holdover}, {good, q, Holdover}, {phcOff, q, Holdover}, {good, q, Holdover}, {good, q, Holdover}, {good, q, Locked}}},
		{"grandmaster change: bad once, then the new one counts", []step{{good, q, Locking}, {good, q, Locking}, {good, q, Locked},
			{otherGM, q, Holdover}, {otherGM, q, Holdover}, {otherGM, q, Holdover}, {otherGM, q, Locked}}},
		{"wrong kernel TAI offset never locks", []step{{taiWrong, q, FreeRun}, {taiWrong, q, FreeRun}, {taiWrong, q, FreeRun}, {taiWrong, q, FreeRun}}},
		{"not asCapable never locks", []step{{notCapable, q, FreeRun}, {notCapable, q, FreeRun}, {notCapable, q, FreeRun}}},
	} {
		start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		m := New(policy, start)
		g := &sampler{t: start}
		for i, st := range c.steps {
			got, _ := m.Step(g.next(st.kind, st.dt))
			if got != st.want {
				t.Errorf("%s: step %d (%s): %s, want %s (reason %q)", c.name, i, st.kind, got, st.want, m.Reason())
				break
			}
		}
	}
}

func TestReasonsAndSince(t *testing.T) {
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	m := New(policy, start)
	g := &sampler{t: start}
	for kind, want := range map[string]string{noAnswer: "ptp4l does not answer: read: timeout", listening: "port state LISTENING, not SLAVE",
		noGM: "no grandmaster", bigOffset: "|offset| 250 ns above the threshold 100ns", taiWrong: "kernel TAI offset 0 s differs from PTP's UTC offset 37 s",
		phcOff: "|system clock − PHC| 5000 ns", notCapable: "not asCapable"} {
		m.Step(g.next(good, time.Second)) // a fresh ingress time, so staleness is not the reason
		m.Step(g.next(kind, time.Second))
		if !strings.Contains(m.Reason(), want) {
			t.Errorf("%s: reason %q, want %q", kind, m.Reason(), want)
		}
	}
	m = New(policy, start)
	g = &sampler{t: start}
	m.Step(g.next(good, time.Second))
	m.Step(g.next(staleSync, time.Second))
	if !strings.Contains(m.Reason(), "ingress_time did not advance") {
		t.Errorf("stale: %q", m.Reason())
	}
	m = New(policy, start)
	g = &sampler{t: start}
	for range 3 {
		m.Step(g.next(good, time.Second))
	}
	st, since := m.State()
	if st != Locked || !since.Equal(start.Add(3*time.Second)) || m.Reason() != "" || m.GoodInARow() != 3 {
		t.Errorf("%s since %v, reason %q", st, since, m.Reason())
	}
	if _, changed := m.Step(g.next(good, time.Second)); changed {
		t.Error("LOCKED → LOCKED reported as a change")
	}
}

// A grandmaster node is in sync when its port is MASTER and the grandmaster is itself.
func TestGrandmasterRole(t *testing.T) {
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	p := policy
	p.Grandmaster = true
	m := New(p, start)
	at := start
	step := func(port, gm string) State {
		at = at.Add(250 * time.Millisecond)
		st, _ := m.Step(Sample{At: at, Answered: true, PortState: port, GMPresent: true, GMIdentity: gm, OwnIdentity: "aa.fffe.01"})
		return st
	}
	for i, c := range []struct {
		port, gm string
		want     State
	}{{"LISTENING", "", FreeRun}, {"MASTER", "aa.fffe.01", Locking}, {"MASTER", "aa.fffe.01", Locking}, {"MASTER", "aa.fffe.01", Locked},
		{"SLAVE", "bb.fffe.02", Holdover}} {
		if got := step(c.port, c.gm); got != c.want {
			t.Fatalf("step %d: %s, want %s (%s)", i, got, c.want, m.Reason())
		}
	}
	if !strings.Contains(m.Reason(), "not MASTER (this node is to be the grandmaster)") {
		t.Errorf("reason %q", m.Reason())
	}
}
