// Package socket holds the socket plumbing of time-sensitive traffic that golang.org/x/sys does not
// have: struct sock_txtime and the SOF_TXTIME_* flags, the SCM_TXTIME control message, SO_TIMESTAMPING
// setup and the parsing of SCM_TIMESTAMPING and sock_extended_err (ETF drops, TX timestamps), and a
// reusable message header so that sendmsg/recvmsg run without allocating.
package socket

import (
	"encoding/binary"
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"github.com/mdlayher/packet"
	"github.com/tsnctl/tsnctl/param"
	"golang.org/x/sys/unix"
)

// SO_TXTIME flags (<linux/net_tstamp.h>), not in x/sys.
const (
	TxtimeDeadlineMode = 1 << 0 // SOF_TXTIME_DEADLINE_MODE
	TxtimeReportErrors = 1 << 1 // SOF_TXTIME_REPORT_ERRORS
)

// Extended error origins and codes (<linux/errqueue.h>).
const (
	OriginTimestamping     = 4                    // SO_EE_ORIGIN_TIMESTAMPING
	OriginTxtime           = 6                    // SO_EE_ORIGIN_TXTIME
	CodeTxtimeInvalidParam = 1                    // SO_EE_CODE_TXTIME_INVALID_PARAM
	CodeTxtimeMissed       = 2                    // SO_EE_CODE_TXTIME_MISSED
	scmTimestamping        = unix.SO_TIMESTAMPING // SCM_TIMESTAMPING (the old, timespec-based one)
	sockExtendedErrLen     = 16
)

// SetTxtime enables SO_TXTIME on fd with clock clockid. struct sock_txtime is {s32 clockid; u32 flags}:
// the kernel wants exactly 8 bytes.
func SetTxtime(fd int, clockid int32, flags uint32) error {
	var b [8]byte
	binary.NativeEndian.PutUint32(b[0:], uint32(clockid))
	binary.NativeEndian.PutUint32(b[4:], flags)
	if err := unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_TXTIME, string(b[:])); err != nil {
		if err == unix.EPERM {
			return fmt.Errorf("SO_TXTIME on a clock other than CLOCK_MONOTONIC needs CAP_NET_ADMIN: run as root or add the capability (%w)", err)
		}
		return fmt.Errorf("setsockopt SO_TXTIME: %w", err)
	}
	return nil
}

// Timestamping flags for SetTimestamping.
const (
	TimestampTx = unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_TX_HARDWARE |
		unix.SOF_TIMESTAMPING_SOFTWARE | unix.SOF_TIMESTAMPING_RAW_HARDWARE |
		unix.SOF_TIMESTAMPING_OPT_ID | unix.SOF_TIMESTAMPING_OPT_TSONLY
	TimestampRx = unix.SOF_TIMESTAMPING_RX_SOFTWARE | unix.SOF_TIMESTAMPING_RX_HARDWARE |
		unix.SOF_TIMESTAMPING_SOFTWARE | unix.SOF_TIMESTAMPING_RAW_HARDWARE
)

// SetTimestamping enables SO_TIMESTAMPING with flags.
func SetTimestamping(fd int, flags int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPING, flags); err != nil {
		return fmt.Errorf("setsockopt SO_TIMESTAMPING: %w", err)
	}
	return nil
}

// Msg is a reusable message: one data buffer and one control buffer, sent and received with raw
// syscalls so that nothing is allocated per call.
type Msg struct {
	hdr  unix.Msghdr
	iov  unix.Iovec
	Data []byte
	OOB  []byte
	name [128]byte
}

// NewMsg makes a message with room for dataLen bytes of data and oobLen bytes of control data.
func NewMsg(dataLen, oobLen int) *Msg {
	return &Msg{Data: make([]byte, dataLen), OOB: make([]byte, oobLen)}
}

// SetTxtimeCmsg makes OOB one SCM_TXTIME control message carrying txtime.
func (m *Msg) SetTxtimeCmsg(txtime int64) {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&m.OOB[0]))
	h.Level = unix.SOL_SOCKET
	h.Type = unix.SCM_TXTIME
	h.SetLen(unix.CmsgLen(8))
	binary.NativeEndian.PutUint64(m.OOB[unix.CmsgLen(0):], uint64(txtime))
}

// TxtimeOOBLen is the OOB length of one SCM_TXTIME message.
var TxtimeOOBLen = unix.CmsgSpace(8)

// Send sends the first n bytes of Data with the first oobn bytes of OOB (connected socket).
func (m *Msg) Send(fd, n, oobn, flags int) error {
	m.iov.Base = &m.Data[0]
	m.iov.SetLen(n)
	m.hdr = unix.Msghdr{Iov: &m.iov, Iovlen: 1}
	if oobn > 0 {
		m.hdr.Control = &m.OOB[0]
		m.hdr.SetControllen(oobn)
	}
	_, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&m.hdr)), uintptr(flags))
	if e != 0 {
		return e
	}
	return nil
}

// Recv receives into Data and OOB; it returns the data and control lengths.
func (m *Msg) Recv(fd, flags int) (n, oobn int, err error) {
	m.iov.Base = &m.Data[0]
	m.iov.SetLen(len(m.Data))
	m.hdr = unix.Msghdr{Name: &m.name[0], Namelen: uint32(len(m.name)), Iov: &m.iov, Iovlen: 1,
		Control: &m.OOB[0]}
	m.hdr.SetControllen(len(m.OOB))
	r, _, e := unix.Syscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&m.hdr)), uintptr(flags))
	if e != 0 {
		return 0, 0, e
	}
	return int(r), int(m.hdr.Controllen), nil
}

// Control is what the control messages of one received message carried.
type Control struct {
	HaveSoftware, HaveHardware bool
	Software, Hardware         int64 // ns; software on CLOCK_REALTIME, hardware on the NIC's PHC
	HaveErr                    bool
	Err                        ExtendedErr
	// HaveVLAN and VLANTCI: the 802.1Q tag the NIC or kernel stripped from a received frame
	// (PACKET_AUXDATA on AF_PACKET sockets).
	HaveVLAN bool
	VLANTCI  uint16
}

// ExtendedErr is struct sock_extended_err.
type ExtendedErr struct {
	Errno  uint32
	Origin uint8
	Type   uint8
	Code   uint8
	Info   uint32
	Data   uint32
}

// Txtime returns the txtime an ETF drop report carries: data holds the high 32 bits, info the low.
func (e ExtendedErr) Txtime() int64 { return int64(uint64(e.Data)<<32 | uint64(e.Info)) }

// ParseControl walks the control messages in oob without allocating.
func ParseControl(oob []byte, c *Control) {
	*c = Control{}
	for len(oob) >= unix.CmsgLen(0) {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.CmsgLen(0) || l > len(oob) {
			return
		}
		data := oob[unix.CmsgLen(0):l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == scmTimestamping && len(data) >= 48:
			// struct scm_timestamping { struct timespec ts[3]; }: [0] software, [2] hardware (raw).
			sw := ts(data[0:16])
			hw := ts(data[32:48])
			if sw != 0 {
				c.HaveSoftware, c.Software = true, sw
			}
			if hw != 0 {
				c.HaveHardware, c.Hardware = true, hw
			}
		case h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(data) >= 20:
			// struct tpacket_auxdata: status, len, snaplen (u32), mac, net, vlan_tci, vlan_tpid (u16).
			if binary.NativeEndian.Uint32(data[0:])&unix.TP_STATUS_VLAN_VALID != 0 {
				c.HaveVLAN, c.VLANTCI = true, binary.NativeEndian.Uint16(data[16:])
			}
		case (h.Level == unix.SOL_IP && h.Type == unix.IP_RECVERR) || (h.Level == unix.SOL_IPV6 && h.Type == unix.IPV6_RECVERR) ||
			(h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_TX_TIMESTAMP):
			if len(data) >= sockExtendedErrLen {
				c.HaveErr = true
				c.Err = ExtendedErr{
					Errno:  binary.NativeEndian.Uint32(data[0:]),
					Origin: data[4], Type: data[5], Code: data[6],
					Info: binary.NativeEndian.Uint32(data[8:]),
					Data: binary.NativeEndian.Uint32(data[12:]),
				}
			}
		}
		adv := unix.CmsgSpace(l - unix.CmsgLen(0))
		if adv >= len(oob) {
			return
		}
		oob = oob[adv:]
	}
}

func ts(b []byte) int64 {
	sec := int64(binary.NativeEndian.Uint64(b[0:]))
	nsec := int64(binary.NativeEndian.Uint64(b[8:]))
	return sec*1e9 + nsec
}

// IsAgain reports EAGAIN/EWOULDBLOCK.
func IsAgain(err error) bool { return err == syscall.EAGAIN }

// UDP opens an IPv4 UDP socket, bound to interface iface when it is not "" (SO_BINDTODEVICE), in
// the caller's network namespace.
func UDP(iface string) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if iface != "" {
		if err := unix.BindToDevice(fd, iface); err != nil {
			unix.Close(fd)
			if err == unix.ENODEV {
				return -1, param.Errorf("iface", iface, "no such interface (ip link show)")
			}
			return -1, param.Errorf("iface", iface, "SO_BINDTODEVICE: %w", err)
		}
	}
	return fd, nil
}

// Packet opens an AF_PACKET socket (github.com/mdlayher/packet) of protocol proto on interface
// iface, and its raw connection for socket options and allocation-free sendmsg/recvmsg.
func Packet(iface string, proto int) (*net.Interface, *packet.Conn, syscall.RawConn, error) {
	if iface == "" {
		return nil, nil, nil, param.Errorf("raw", nil, "needs {iface}: the interface the frames go out or come in on")
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, nil, nil, param.Errorf("iface", iface, "no such interface (ip link show)")
	}
	conn, err := packet.Listen(ifi, packet.Raw, proto, nil)
	if err != nil {
		return nil, nil, nil, param.Errorf("raw", nil, "on %s: %w (AF_PACKET needs CAP_NET_RAW)", iface, err)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return ifi, conn, rc, nil
}
