package kube

import (
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tsnctl/tsnctl/agent"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
	"github.com/tsnctl/tsnctl/ptp/watch"
)

func cond(t *testing.T, st TSNNodeStatus, typ string) metav1.Condition {
	t.Helper()
	c := meta.FindStatusCondition(st.Conditions, typ)
	if c == nil {
		t.Fatalf("no %s condition in %+v", typ, st.Conditions)
	}
	return *c
}

func TestNodeStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	ref := &ConfigRef{Name: "line-a", Hash: "abc"}

	// Before the agent runs: nothing configured, not ready, but the selection is said.
	st := NodeStatus(TSNNodeStatus{}, nil, Selection{Err: ErrNoConfig}, t0)
	if c := cond(t, st, ConfigSelected); c.Status != metav1.ConditionFalse || c.Reason != "NoConfig" {
		t.Fatalf("%+v", c)
	}
	if c := cond(t, st, Ready); c.Status != metav1.ConditionFalse {
		t.Fatalf("%+v", c)
	}

	// Configured, LOCKED, ready.
	a := agent.Status{Ready: true, ConfigHash: "abc", Interfaces: []agent.Iface{
		{Name: "eth1", State: agent.Configured, Repairs: 3, LastChange: t0.Add(time.Second)},
		{Name: "eth2", State: agent.Configured, Repairs: 1},
	}, Sync: &watch.Status{State: syncstate.Locked, OffsetNs: -12, PathDelayNs: 500, GMIdentity: "001122.fffe.334455"}}
	t1 := t0.Add(time.Minute)
	st = NodeStatus(st, &a, Selection{InForce: ref}, t1)
	for _, typ := range []string{ConfigSelected, Configured, TimeSynced, Ready} {
		if c := cond(t, st, typ); c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Time.Equal(t1) {
			t.Fatalf("%s: %+v", typ, c)
		}
	}
	if st.Repairs != 4 || st.Sync.OffsetNanoseconds != -12 || st.Sync.Grandmaster != "001122.fffe.334455" || st.Config.Name != "line-a" || !st.LastChange.Time.Equal(t1) {
		t.Fatalf("%+v", st)
	}

	// The agent started but has not read the file: not configured (it has no interfaces yet).
	if c := cond(t, NodeStatus(st, &agent.Status{NotReady: "configuration not loaded yet"}, Selection{InForce: ref}, t1), Configured); c.Status != metav1.ConditionFalse || c.Reason != "Loading" {
		t.Fatalf("%+v", c)
	}

	// Nothing changes: the transition times stay.
	st2 := NodeStatus(st, &a, Selection{InForce: ref}, t1.Add(time.Minute))
	if c := cond(t, st2, Ready); !c.LastTransitionTime.Time.Equal(t1) || !st2.LastChange.Time.Equal(t1) {
		t.Fatalf("%+v, last change %v", c, st2.LastChange)
	}

	// A second TSNConfig selects the node; an interface degrades; sync in holdover.
	a.Interfaces[1].State, a.Interfaces[1].Reason = agent.Degraded, "taprio: invalid argument"
	a.Sync.State = syncstate.Holdover
	a.Ready, a.NotReady = false, "eth2 degraded"
	t2 := t1.Add(2 * time.Minute)
	st3 := NodeStatus(st2, &a, Selection{InForce: ref, Err: &AmbiguousError{Node: "edge-1", Names: []string{"a", "b"}}}, t2)
	for typ, want := range map[string]string{ConfigSelected: "Ambiguous", Configured: "Degraded", TimeSynced: "Holdover", Ready: "NotReady"} {
		if c := cond(t, st3, typ); c.Status != metav1.ConditionFalse || c.Reason != want || !c.LastTransitionTime.Time.Equal(t2) {
			t.Fatalf("%s: %+v, want reason %s", typ, c, want)
		}
	}
	if c := cond(t, st3, Configured); c.Message != "eth2: taprio: invalid argument" {
		t.Fatalf("%q", c.Message)
	}
	if st3.Config.Name != "line-a" { // the configuration in force stays
		t.Fatalf("%+v", st3.Config)
	}

	// No ptp: section: no TimeSynced condition.
	a.Sync = nil
	if c := meta.FindStatusCondition(NodeStatus(st3, &a, Selection{InForce: ref}, t2).Conditions, TimeSynced); c != nil {
		t.Fatalf("%+v", c)
	}
	// A configuration the agent will not take.
	st4 := NodeStatus(st3, &a, Selection{InForce: ref, Err: fmt.Errorf("TSNConfig x (spec.config) has errors")}, t2)
	if c := cond(t, st4, ConfigSelected); c.Reason != "InvalidConfig" {
		t.Fatalf("%+v", c)
	}
}
