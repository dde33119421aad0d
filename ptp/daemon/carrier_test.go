package daemon

import (
	"testing"

	"github.com/tsnctl/tsnctl/netevents"
)

// Only the carrier's return on the watched interface counts, once per return.
func TestCameBack(t *testing.T) {
	link := func(name string, up bool) netevents.Event {
		return netevents.Event{Kind: netevents.Link, Name: name, OperUp: up}
	}
	for _, tc := range []struct {
		name   string
		up     bool // before the events
		events []netevents.Event
		want   []bool
	}{
		{"down then up", true, []netevents.Event{link("eth0", false), link("eth0", true)}, []bool{false, true}},
		{"started down", false, []netevents.Event{link("eth0", true), link("eth0", true)}, []bool{true, false}},
		{"up stays up (an MTU change)", true, []netevents.Event{link("eth0", true)}, []bool{false}},
		{"another interface", false, []netevents.Event{link("eth1", true), link("eth0.3", true)}, []bool{false, false}},
		{"deleted and back", true, []netevents.Event{{Kind: netevents.Link, Name: "eth0", Deleted: true}, link("eth0", true)}, []bool{false, true}},
		{"lost notifications", true, []netevents.Event{{Kind: netevents.Overrun}, link("eth0", true)}, []bool{false, true}},
		{"qdisc events", false, []netevents.Event{{Kind: netevents.Qdisc, Ifindex: 2}}, []bool{false}},
	} {
		up := tc.up
		for i, e := range tc.events {
			if got := cameBack(&up, "eth0", e); got != tc.want[i] {
				t.Errorf("%s: event %d (%v): back %v, want %v", tc.name, i, e, got, tc.want[i])
			}
		}
	}
}
