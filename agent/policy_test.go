package agent

import (
	"slices"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/netevents"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 5 * time.Second}
	want := []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000}
	for n, w := range want {
		if got := b.Delay(n + 1); got != w*time.Millisecond {
			t.Errorf("failure %d: %v, want %v", n+1, got, w*time.Millisecond)
		}
	}
	if got := b.Delay(1000); got != 5*time.Second {
		t.Errorf("failure 1000: %v (no overflow past Max)", got)
	}
}

// A repair that keeps failing backs off and is not tried earlier; a success resets it.
func TestFailuresBackOffAndSuccessResets(t *testing.T) {
	b := Backoff{Min: time.Second, Max: 8 * time.Second}
	t0 := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	var i Iface
	next := i.failed(t0, "Operation not supported", b)
	if i.State != Degraded || next != t0.Add(time.Second) || i.due(t0.Add(999*time.Millisecond)) || !i.due(next) {
		t.Fatalf("%+v next %v", i, next)
	}
	next = i.failed(next, "again", b)
	next2 := i.failed(next, "again", b)
	if next2.Sub(next) != 4*time.Second || i.Failures != 3 || i.Reason != "again" {
		t.Errorf("third failure waits %v, %d failures", next2.Sub(next), i.Failures)
	}
	// The first success is the interface's configuration, not a repair.
	if i.verified(next2, []string{"replace-root", "replace-etf"}, "install taprio; install etf", 3*time.Millisecond) ||
		i.State != Configured || !i.due(next2) || i.Repairs != 0 || len(i.Drift) != 0 || i.LastChange != next2 {
		t.Errorf("first configuration: %+v", i)
	}
	// A change to it once verified is a drift repair.
	if !i.verified(next2, []string{"replace-root", "replace-etf"}, "install taprio; install etf", 3*time.Millisecond) ||
		i.Repairs != 1 || i.Drift["replace-root"] != 1 || i.LastDrift != "install taprio; install etf" {
		t.Errorf("drift repair: %+v", i)
	}
	if d := i.failed(next2, "x", b).Sub(next2); d != time.Second {
		t.Errorf("after a success the backoff starts again at Min, got %v", d)
	}
	// Verified with nothing to do: no repair counted, no change recorded.
	i.verified(next2.Add(time.Minute), nil, "", 0)
	later := next2.Add(2 * time.Minute)
	i.verified(later, nil, "", 0)
	if i.Repairs != 1 || i.LastVerified != later || i.LastChange != next2.Add(time.Minute) {
		t.Errorf("%+v", i)
	}
}

func TestAffected(t *testing.T) {
	ifaces := map[string]*Iface{"eth1": {ifindex: 3}, "eth2": {ifindex: 4}, "eth9": {}}
	for _, c := range []struct {
		e    netevents.Event
		want []string
	}{
		{netevents.Event{Kind: netevents.Qdisc, Ifindex: 3}, []string{"eth1"}},
		{netevents.Event{Kind: netevents.Qdisc, Ifindex: 7}, nil},
		{netevents.Event{Kind: netevents.Link, Ifindex: 9, Name: "eth1.3", Parent: 3, Deleted: true}, []string{"eth1"}},
		{netevents.Event{Kind: netevents.Link, Ifindex: 12, Name: "eth9"}, []string{"eth9"}},
		{netevents.Event{Kind: netevents.Ethtool, Ifindex: 4}, []string{"eth2"}},
		{netevents.Event{Kind: netevents.Overrun}, []string{"eth1", "eth2", "eth9"}},
	} {
		got := Affected(c.e, ifaces)
		slices.Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.e, got, c.want)
		}
	}
}
