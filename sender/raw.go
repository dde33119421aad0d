package sender

import (
	"strconv"

	"github.com/mdlayher/ethernet"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/socket"
)

// EtherType is the EtherType of tsnctl's raw frames (IEEE 802 local experimental 1).
const EtherType = 0x88B5

// openRaw opens an AF_PACKET socket on cfg.Iface (github.com/mdlayher/packet) and prepares the
// frame template (github.com/mdlayher/ethernet): the tsnctl header goes after the Ethernet and
// 802.1Q headers, and is written in place for every packet.
func openRaw(cfg Config) (*Sender, error) {
	ifi, conn, rc, err := socket.Packet(cfg.Iface, EtherType)
	if err != nil {
		return nil, err
	}
	if len(cfg.DestMAC) != 6 {
		conn.Close()
		return nil, param.Errorf("dest-mac", strconv.Quote(cfg.DestMAC.String()), "want a MAC address such as 52:54:00:00:02:01")
	}
	if cfg.VLAN > 4094 || cfg.PCP > 7 {
		conn.Close()
		return nil, param.Errorf("vlan", cfg.VLAN, "with {pcp} %d: VLAN ids are 1-4094 (0: untagged), PCP 0-7", cfg.PCP)
	}
	f := ethernet.Frame{Destination: cfg.DestMAC, Source: ifi.HardwareAddr, EtherType: EtherType,
		Payload: make([]byte, cfg.Size)}
	hdr := 14
	if cfg.VLAN != 0 {
		f.VLAN = &ethernet.VLAN{Priority: ethernet.Priority(cfg.PCP), ID: cfg.VLAN}
		hdr = 18
	}
	frame, err := f.MarshalBinary()
	if err != nil {
		conn.Close()
		return nil, err
	}
	s := &Sender{cfg: cfg, msg: socket.NewMsg(len(frame), socket.TxtimeOOBLen), errMsg: socket.NewMsg(256, 512),
		hdrOff: hdr, sendLen: len(frame), closer: conn.Close}
	copy(s.msg.Data, frame)
	var optErr error
	if err := rc.Control(func(fd uintptr) {
		s.fd = int(fd) // used while conn stays open (Close closes conn)
		optErr = setOptions(s.fd, cfg)
	}); err != nil {
		conn.Close()
		return nil, err
	}
	if optErr != nil {
		conn.Close()
		return nil, optErr
	}
	if err := s.init(); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}
