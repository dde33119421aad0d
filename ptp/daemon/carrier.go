package daemon

import (
	"context"
	"net"

	"github.com/tsnctl/tsnctl/netevents"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/nsexec"
)

// A ptp4l with software timestamping on a NIC that has a PHC must be started again when the
// interface's carrier comes back. When ptp4l sees its link come up, it reads the interface's
// timestamping information again and, finding a PHC there, switches its clock to that PHC even in
// software mode (port_link_status in linuxptp's port.c: 3.1.1 as Debian 12 ships it, and 4.x):
// from then on it steers /dev/ptpN while its timestamps still come from the system clock, so the
// servo runs away (seen in the lab after a cable was plugged in: freq +900000000 ppb, the offset
// unchanged at 650 ms, clockcheck warnings, the node FREERUN for good). A ptp4l started while the
// carrier is up keeps the system clock. So does one that started with the link down, until the
// link comes up: the case of a node whose ptp4l starts with its interface.

// carrierWatch follows one interface's carrier.
type carrierWatch struct {
	iface string
	up    bool
	sub   *netevents.Subscription
}

// watchCarrier subscribes to link events in network namespace netns ("" for this one) and reads
// iface's carrier; it returns nil when iface has no PHC (nothing to guard against). A PHC that
// cannot be read counts as one, and an interface that is not there yet (the agent waits for it)
// as one whose carrier is down: its arrival with the link up counts as the carrier's return.
func watchCarrier(ctx context.Context, netns, iface string) (*carrierWatch, error) {
	var w *carrierWatch
	err := nsexec.Do(netns, func() error {
		if ti, err := nic.TimestampingInfo(iface); err == nil && ti.PHC < 0 {
			return nil
		}
		// Subscribe before reading the state: a change in between is then seen as an event.
		sub, err := netevents.Subscribe(ctx, 0)
		if err != nil {
			return err
		}
		w = &carrierWatch{iface: iface, up: carrierUp(iface), sub: sub}
		return nil
	})
	return w, err
}

// carrierUp is whether iface is there and running (IFF_RUNNING: up, with carrier).
func carrierUp(iface string) bool {
	ifi, err := net.InterfaceByName(iface)
	return err == nil && ifi.Flags&net.FlagRunning != 0
}

// run reads events until ctx ends and calls back each time the carrier comes back.
func (w *carrierWatch) run(ctx context.Context, back func()) {
	defer w.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.sub.Events:
			if !ok {
				return
			}
			if cameBack(&w.up, w.iface, e) {
				back()
			}
		}
	}
}

// cameBack updates *up from event e and says whether iface's carrier has just returned. An
// overrun (notifications lost) counts as "maybe": the state is unknown until the next event, and a
// link that is up then counts as back.
func cameBack(up *bool, iface string, e netevents.Event) bool {
	switch {
	case e.Kind == netevents.Overrun:
		*up = false
		return false
	case e.Kind != netevents.Link || e.Name != iface:
		return false
	case e.Deleted:
		*up = false
		return false
	}
	back := e.OperUp && !*up
	*up = e.OperUp
	return back
}
