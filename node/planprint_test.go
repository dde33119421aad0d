package node

import (
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/qdisc"
	"github.com/tsnctl/tsnctl/taprio"
	"golang.org/x/sys/unix"
)

func TestWritePlan(t *testing.T) {
	four := uint32(4)
	p := &Prepared{
		Wants: []Iface{
			{Name: "eth1", Taprio: &Taprio{BaseAuto: true, Options: taprio.Options{Schedule: taprio.Schedule{BaseTime: 1767225642148000000,
				Entries: []taprio.Entry{{Gates: 1, Interval: 500000}, {Gates: 2, Interval: 500000}}}}}},
			{Name: "eth2"},
		},
		Steps: []Step{{Action: SetChannels, Iface: "eth1", Channels: nic.ChannelsUpdate{Combined: &four},
			Summary: "channels combined 2 -> 4", Command: "ethtool -L eth1 combined 4"}},
	}
	want := `eth1: would apply (dry run) 1 change(s):
  + channels combined 2 -> 4
      ethtool -L eth1 combined 4
  base-time 1767225642148000000 (TAI 2026-01-01T00:00:42.148000000; auto: the first 1ms cycle boundary at least 2 cycles ahead)
eth2: nothing to change, the interface is as configured
`
	var b strings.Builder
	p.WritePlan(&b, true)
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	p.WritePlan(&b, false)
	if !strings.HasPrefix(b.String(), "eth1: applying 1 change(s):\n") {
		t.Errorf("not a dry run:\n%s", b.String())
	}
}

// A refusal for lack of privilege says which capability to give, and how.
func TestApplyErrorNamesTheCapability(t *testing.T) {
	perm := &ApplyError{Step: Step{Iface: "eth1", Summary: "install etf on TX queue 1"}, Err: &qdisc.Error{Op: "replace", Err: unix.EPERM}, RolledBack: true}
	if s := perm.Error(); !strings.Contains(s, "needs CAP_NET_ADMIN: run tsnctl as root, or give its container --cap-add NET_ADMIN") ||
		!strings.HasSuffix(s, "every interface was rolled back to its previous state") {
		t.Errorf("%s", s)
	}
	other := &ApplyError{Step: Step{Iface: "eth1"}, Err: &qdisc.Error{Op: "replace", Err: unix.EINVAL}, RolledBack: true}
	if strings.Contains(other.Error(), "CAP_NET_ADMIN") {
		t.Errorf("EINVAL named a capability: %s", other)
	}
}
