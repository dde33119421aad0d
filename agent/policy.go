package agent

import (
	"time"

	"github.com/tsnctl/tsnctl/netevents"
)

// State is what the agent knows of one managed interface.
type State string

// States.
const (
	// Waiting: the interface does not exist (yet): a NIC that appears after boot, a veth not made
	// yet. Not an error; it is configured when it appears.
	Waiting State = "waiting"
	// Configured: the kernel's state equals the file (verified).
	Configured State = "configured"
	// Degraded: the last repair failed; the interface was rolled back to what it had, and the
	// agent tries again later (backing off).
	Degraded State = "degraded"
)

// Backoff is how long to wait before trying a failed interface again: Min after the first
// failure, doubling up to Max.
type Backoff struct{ Min, Max time.Duration }

// Delay is the wait after the n-th failure in a row (n >= 1).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Iface is one managed interface's status, as `tsnctl status`, the metrics and the log show it.
type Iface struct {
	Name   string `json:"name"`
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"` // why waiting or degraded (the kernel's message)
	// Repairs counts drift repairs: reconciliations that changed the kernel's state of an
	// interface once verified as the file says (its first configuration is not one; an interface
	// that comes back, e.g. after a driver reload, and is configured again is). Drift counts what
	// the repairs did, by the plan's action (delete-root, add-vlan, …).
	Repairs       uint64            `json:"repairs"`
	Failures      uint64            `json:"failures"` // failed repairs in all
	Drift         map[string]uint64 `json:"drift,omitempty"`
	LastDrift     string            `json:"last_drift,omitempty"` // the plan's steps, "; "-joined
	LastChange    time.Time         `json:"last_change,omitzero"`
	LastVerified  time.Time         `json:"last_verified,omitzero"`
	LastRepairSec float64           `json:"last_repair_seconds,omitempty"`

	failuresInRow int
	nextTry       time.Time
	ifindex       int
}

// failed records a failed repair at now and returns when to try again.
func (i *Iface) failed(now time.Time, reason string, b Backoff) time.Time {
	i.State, i.Reason = Degraded, reason
	i.Failures++
	i.failuresInRow++
	i.nextTry = now.Add(b.Delay(i.failuresInRow))
	return i.nextTry
}

// verified records that the kernel's state equals the file at now; steps (the plan's summaries
// by action) are what had to be done for that, none when nothing drifted. It reports whether
// that was a repair: a change to an interface verified before (else its first configuration).
func (i *Iface) verified(now time.Time, actions []string, summary string, took time.Duration) (repaired bool) {
	repaired = len(actions) > 0 && !i.LastVerified.IsZero()
	if i.State != Configured || len(actions) > 0 {
		i.LastChange = now
	}
	i.State, i.Reason, i.failuresInRow, i.nextTry = Configured, "", 0, time.Time{}
	i.LastVerified = now
	if repaired {
		i.Repairs++
		i.LastDrift, i.LastRepairSec = summary, took.Seconds()
		if i.Drift == nil {
			i.Drift = map[string]uint64{}
		}
		for _, a := range actions {
			i.Drift[a]++
		}
	}
	return repaired
}

// waiting records that the interface is not there.
func (i *Iface) waiting(now time.Time, reason string) {
	if i.State != Waiting {
		i.LastChange = now
	}
	i.State, i.Reason, i.failuresInRow, i.nextTry, i.ifindex = Waiting, reason, 0, time.Time{}, 0
}

// due reports whether a degraded interface may be tried again at now (an event does not shorten
// the backoff: a repair that keeps failing must not flap the configuration at the event rate).
func (i *Iface) due(now time.Time) bool { return i.State != Degraded || !now.Before(i.nextTry) }

// Affected returns the managed interfaces an event touches: by name (an interface that appears,
// or is created again with a new index), by index (qdiscs, ethtool), or through the parent of a
// stacked link (a VLAN on it deleted or changed). An overrun touches every interface.
func Affected(e netevents.Event, ifaces map[string]*Iface) []string {
	var out []string
	for name, i := range ifaces {
		switch {
		case e.Kind == netevents.Overrun,
			e.Kind == netevents.Link && e.Name == name,
			e.Ifindex != 0 && e.Ifindex == i.ifindex,
			e.Kind == netevents.Link && e.Parent != 0 && e.Parent == i.ifindex:
			out = append(out, name)
		}
	}
	return out
}
