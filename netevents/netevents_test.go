package netevents

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/testbed/labtest"
	"github.com/vishvananda/netns"
)

// A namespace of its own: the host's links and qdiscs stay out of it.
func testNS(t *testing.T) netns.NsHandle {
	t.Helper()
	name := fmt.Sprintf("tsnev%d", os.Getpid())
	labtest.Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	t.Setenv("TSNEV_NS", name)
	return h
}

// wait returns the first event that matches, or fails after 5 s.
func wait(t *testing.T, s *Subscription, what string, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-s.Events:
			if !ok {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if match(e) {
				return e
			}
		case err := <-s.Err:
			t.Fatalf("waiting for %s: %v", what, err)
		case <-timeout:
			t.Fatalf("no event: %s", what)
		}
	}
}

// What iproute2 and ethtool do in the namespace arrives as events with the right interface, kind
// and deletion flag; nothing from outside the namespace does.
func TestEventsOfIproute2AndEthtool(t *testing.T) {
	h := testNS(t)
	ns := os.Getenv("TSNEV_NS")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := Subscribe(ctx, int(h))
	if err != nil {
		t.Fatal(err)
	}
	in := func(args ...string) { labtest.Run(t, append([]string{"ip", "netns", "exec", ns}, args...)...) }
	in("ip", "link", "add", "ev0", "numtxqueues", "4", "numrxqueues", "4", "type", "veth", "peer", "name", "ev1", "numtxqueues", "4", "numrxqueues", "4")
	link := wait(t, s, "ev0 created", func(e Event) bool { return e.Kind == Link && e.Name == "ev0" && !e.Deleted })
	in("ip", "link", "set", "ev0", "up")
	in("ip", "link", "set", "ev1", "up")
	wait(t, s, "ev0 up", func(e Event) bool { return e.Kind == Link && e.Ifindex == link.Ifindex && e.OperUp })
	in("tc", "qdisc", "add", "dev", "ev0", "root", "handle", "7:", "pfifo")
	wait(t, s, "pfifo added", func(e Event) bool {
		return e.Kind == Qdisc && e.Ifindex == link.Ifindex && e.Handle == 0x70000 && e.QParent == 0xFFFFFFFF && !e.Deleted
	})
	in("tc", "qdisc", "del", "dev", "ev0", "root")
	wait(t, s, "pfifo deleted", func(e Event) bool {
		return e.Kind == Qdisc && e.Ifindex == link.Ifindex && e.Handle == 0x70000 && e.Deleted
	})
	if s.et != nil {
		in("ethtool", "-L", "ev0", "rx", "2", "tx", "2")
		wait(t, s, "channels changed", func(e Event) bool { return e.Kind == Ethtool && e.Ifindex == link.Ifindex })
	} else {
		t.Error("no ethtool monitor group on this kernel")
	}
	// Something outside the namespace: no event.
	labtest.Run(t, "ip", "link", "add", "evout0", "type", "veth", "peer", "name", "evout1")
	defer exec.Command("ip", "link", "del", "evout0").Run()
	in("ip", "link", "del", "ev0")
	e := wait(t, s, "ev0 deleted", func(e Event) bool {
		return e.Kind == Link && e.Deleted && e.Ifindex == link.Ifindex || e.Name == "evout0"
	})
	if e.Name == "evout0" {
		t.Errorf("an event from outside the namespace: %v", e)
	}
	s.Close()
	for range s.Events { // drains, then closed
	}
}
