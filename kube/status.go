package kube

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tsnctl/tsnctl/agent"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
)

// Selection is how the node's configuration was chosen.
type Selection struct {
	// InForce is the configuration the agent runs (nil: none yet).
	InForce *ConfigRef
	// Err is why the latest TSNConfigs give no (new) configuration: ErrNoConfig, an
	// *AmbiguousError, or a configuration the agent will not take. nil: InForce is the latest.
	Err error
}

// NodeStatus makes the TSNNode status from the agent's status (nil: the agent is not running
// yet) and the selection, keeping prev's conditions' transition times where nothing changed.
func NodeStatus(prev TSNNodeStatus, st *agent.Status, sel Selection, now time.Time) TSNNodeStatus {
	out := TSNNodeStatus{ObservedTime: metav1.NewTime(now), Config: sel.InForce, Conditions: slices.Clone(prev.Conditions), LastChange: prev.LastChange}
	set := func(typ string, ok bool, reason, msg string) {
		status := metav1.ConditionFalse
		if ok {
			status = metav1.ConditionTrue
		}
		if meta.SetStatusCondition(&out.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg,
			LastTransitionTime: metav1.NewTime(now)}) {
			out.LastChange = metav1.NewTime(now)
		}
	}

	var amb *AmbiguousError
	switch {
	case errors.As(sel.Err, &amb):
		set(ConfigSelected, false, "Ambiguous", sel.Err.Error())
	case errors.Is(sel.Err, ErrNoConfig):
		set(ConfigSelected, false, "NoConfig", sel.Err.Error())
	case sel.Err != nil:
		set(ConfigSelected, false, "InvalidConfig", sel.Err.Error())
	default:
		set(ConfigSelected, true, "Selected", "TSNConfig "+sel.InForce.Name)
	}

	if st == nil {
		set(Configured, false, "NotStarted", "the agent has no configuration yet")
		set(Ready, false, "NotStarted", "the agent has no configuration yet")
		return out
	}
	out.LastError = st.LastError
	var waiting, degraded []string
	for _, i := range st.Interfaces {
		out.Repairs += i.Repairs
		out.Interfaces = append(out.Interfaces, InterfaceStatus{Name: i.Name, State: string(i.State), Reason: i.Reason,
			Repairs: i.Repairs, Failures: i.Failures, LastDrift: i.LastDrift, LastChange: metav1.NewTime(i.LastChange)})
		if i.LastChange.After(out.LastChange.Time) {
			out.LastChange = metav1.NewTime(i.LastChange)
		}
		switch i.State {
		case agent.Waiting:
			waiting = append(waiting, fmt.Sprintf("%s: %s", i.Name, i.Reason))
		case agent.Degraded:
			degraded = append(degraded, fmt.Sprintf("%s: %s", i.Name, i.Reason))
		}
	}
	switch {
	case st.ConfigHash == "":
		set(Configured, false, "Loading", "the agent has not read its configuration yet")
	case len(degraded) > 0:
		set(Configured, false, "Degraded", strings.Join(append(degraded, waiting...), "; "))
	case len(waiting) > 0:
		set(Configured, false, "Waiting", strings.Join(waiting, "; "))
	default:
		set(Configured, true, "Configured", fmt.Sprintf("%d interfaces as configured", len(st.Interfaces)))
	}
	if s := st.Sync; s != nil {
		out.Sync = &SyncStatus{State: string(s.State), OffsetNanoseconds: s.OffsetNs, PathDelayNanoseconds: s.PathDelayNs, Grandmaster: s.GMIdentity}
		set(TimeSynced, s.State == syncstate.Locked, conditionReason(string(s.State)), fmt.Sprintf("offset %d ns, grandmaster %s", s.OffsetNs, s.GMIdentity))
	} else {
		meta.RemoveStatusCondition(&out.Conditions, TimeSynced)
	}
	if st.Ready {
		set(Ready, true, "Ready", "configured and verified")
	} else {
		set(Ready, false, "NotReady", st.NotReady)
	}
	return out
}

// conditionReason makes a condition's reason (CamelCase) of a sync state (LOCKED -> Locked).
func conditionReason(state string) string {
	if state == "" {
		return "Unknown"
	}
	return strings.ToUpper(state[:1]) + strings.ToLower(state[1:])
}
