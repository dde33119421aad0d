package receiver

import (
	"fmt"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/socket"
	"golang.org/x/sys/unix"
)

const ethPAll = 0x0003 // ETH_P_ALL

// openRaw listens for tsnctl's raw frames (EtherType 0x88B5) on cfg.Iface (github.com/mdlayher/packet), with
// PACKET_AUXDATA for the 802.1Q tag the kernel strips and SO_TIMESTAMPING for RX timestamps.
func openRaw(cfg Config) (*Receiver, error) {
	// ETH_P_ALL: taps see a frame before the kernel hands it to a VLAN interface (which would
	// clear its tag); the tag is then in the frame's metadata, which PACKET_AUXDATA reports.
	_, conn, rc, err := socket.Packet(cfg.Iface, ethPAll)
	if err != nil {
		return nil, err
	}
	r := &Receiver{cfg: cfg, msg: socket.NewMsg(9216, 512), closer: conn.Close}
	var optErr error
	rc.Control(func(fd uintptr) {
		if err := unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
			optErr = fmt.Errorf("PACKET_AUXDATA: %w", err)
			return
		}
		optErr = socket.SetTimestamping(int(fd), socket.TimestampRx)
	})
	if optErr != nil {
		conn.Close()
		return nil, optErr
	}
	off, err := clock.TAIOffset()
	if err != nil {
		conn.Close()
		return nil, err
	}
	r.taiOffset = int64(off) * 1e9
	// The connection's descriptor is non-blocking (Go's poller): read through RawConn.Read, with
	// a deadline so that the loop sees the end of the run. The closure is made once.
	var n, oobn int
	var rerr error
	read := func(fd uintptr) bool {
		n, oobn, rerr = r.msg.Recv(int(fd), 0)
		return rerr != unix.EAGAIN
	}
	r.recv = func() (int, int, error) {
		if err := conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
			return 0, 0, err
		}
		if err := rc.Read(read); err != nil {
			return 0, 0, err
		}
		return n, oobn, rerr
	}
	return r, nil
}
