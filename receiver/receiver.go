// Package receiver is tsnctl's receiver: it takes tsnctl test packets off a UDP socket with RX
// timestamps (the NIC's when it gives them, else the kernel's), counts loss, duplicates and
// reordering, and writes every packet to a sample log.
package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/tsnctl/tsnctl/clock"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/samplelog"
	"github.com/tsnctl/tsnctl/seqtrack"
	"github.com/tsnctl/tsnctl/socket"
	"github.com/tsnctl/tsnctl/wire"
	"golang.org/x/sys/unix"
)

// Config is what to receive.
type Config struct {
	Listen   string // UDP address to listen on, e.g. ":7788" or "192.168.3.2:7788"
	Iface    string // bind to this interface; with HardwareTimestamps, the NIC to configure
	Count    int64  // packets; 0: until Duration or stopped
	Duration time.Duration
	// HardwareTimestamps turns on the NIC's RX timestamping of all packets (SIOCSHWTSTAMP,
	// as ptp4l does). Without it, or where the NIC has none, the kernel's software timestamps are used.
	HardwareTimestamps bool
	Log                *samplelog.Writer
	// NetNS is the network namespace (ip netns name) to open the socket in; "" for the current one.
	NetNS string
	// Raw receives tsnctl's raw Ethernet frames (EtherType 0x88B5) on Iface through AF_PACKET,
	// with their 802.1Q tag (VID, PCP) recorded.
	Raw bool
}

// Summary counts what arrived.
type Summary struct {
	Packets, NotOurs      uint64
	Received, Lost        uint64
	Duplicates, Reordered uint64
	Restarts, Stale       uint64 // sender runs after the first; numbers too late to judge (seqtrack)
	Hardware, Software    uint64
	FirstSeq, LastSeq     uint64
	TimestampSource       string
	Tagged                uint64 // raw: frames with an 802.1Q tag
	LastVLAN              uint16
	LastPCP               uint8
	Streams               int // stream ids seen (sequence numbers are counted per stream)
}

// Receiver is an open, configured socket.
type Receiver struct {
	cfg       Config
	fd        int
	recv      func() (n, oobn int, err error)
	closer    func() error
	msg       *socket.Msg
	taiOffset int64
	// tracks counts each stream's sequence numbers (send --stream a,b sends several to one
	// port); a stream past maxStreams shares the last one's.
	tracks map[uint32]*seqtrack.Tracker
	last   *seqtrack.Tracker
	lastID uint32
	sum    Summary
	rec    samplelog.Record
}

// Open validates cfg and opens the socket.
func Open(cfg Config) (*Receiver, error) {
	switch {
	case cfg.Count < 0:
		return nil, param.Errorf("count", cfg.Count, "give a number of packets, or 0 to receive until {duration} or Ctrl-C")
	case cfg.Duration < 0:
		return nil, param.Errorf("duration", cfg.Duration, "must not be negative (0: until {count} or Ctrl-C)")
	}
	laddr, err := net.ResolveUDPAddr("udp4", cfg.Listen)
	var dnsErr *net.DNSError
	if !cfg.Raw && errors.As(err, &dnsErr) {
		return nil, param.Errorf("listen", strconv.Quote(cfg.Listen), "cannot resolve the host: %w", err)
	}
	if !cfg.Raw && (err != nil || laddr.Port == 0) {
		return nil, param.Errorf("listen", strconv.Quote(cfg.Listen), "want [host]:port, e.g. :7788")
	}
	var r *Receiver
	err = nsexec.Do(cfg.NetNS, func() error {
		var err error
		if cfg.Raw {
			r, err = openRaw(cfg)
		} else {
			r, err = open(cfg, laddr)
		}
		return err
	})
	return r, err
}

func open(cfg Config, laddr *net.UDPAddr) (*Receiver, error) {
	fd, err := socket.UDP(cfg.Iface)
	if err != nil {
		return nil, err
	}
	r := &Receiver{cfg: cfg, fd: fd, msg: socket.NewMsg(9216, 512)}
	fail := func(err error) (*Receiver, error) { unix.Close(fd); return nil, err }
	if cfg.HardwareTimestamps {
		if cfg.Iface == "" {
			return fail(param.Errorf("hw-timestamps", nil, "needs {iface}: the NIC whose RX timestamping to turn on"))
		}
		hw := unix.HwTstampConfig{Rx_filter: unix.HWTSTAMP_FILTER_ALL}
		if err := unix.IoctlSetHwTstamp(fd, cfg.Iface, &hw); err != nil {
			return fail(param.Errorf("hw-timestamps", nil, "%s cannot timestamp all received packets (SIOCSHWTSTAMP: %w); drop the flag for software timestamps", cfg.Iface, err))
		}
	}
	if err := socket.SetTimestamping(fd, socket.TimestampRx); err != nil {
		return fail(err)
	}
	// Wake up regularly to notice the end of the run.
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail(err)
	}
	var sa unix.SockaddrInet4
	if ip := laddr.IP.To4(); ip != nil {
		copy(sa.Addr[:], ip)
	}
	sa.Port = laddr.Port
	if err := unix.Bind(fd, &sa); err != nil {
		return fail(param.Errorf("listen", cfg.Listen, "%w", err))
	}
	off, err := clock.TAIOffset()
	if err != nil {
		return fail(err)
	}
	r.taiOffset = int64(off) * 1e9
	r.recv = func() (int, int, error) { return r.msg.Recv(r.fd, 0) }
	return r, nil
}

// Close closes the socket.
func (r *Receiver) Close() error {
	if r.closer != nil {
		return r.closer()
	}
	return unix.Close(r.fd)
}

// Run receives until Count packets, Duration, or ctx ends.
func (r *Receiver) Run(ctx context.Context) (Summary, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var end time.Time
	if r.cfg.Duration > 0 {
		end = time.Now().Add(r.cfg.Duration)
	}
	var c socket.Control
	var h wire.Header
	done := ctx.Done()
	for r.cfg.Count == 0 || int64(r.sum.Packets) < r.cfg.Count {
		select {
		case <-done:
			return r.finish()
		default:
		}
		if !end.IsZero() && time.Now().After(end) {
			break
		}
		n, oobn, err := r.recv()
		if err != nil {
			if err == unix.EAGAIN || err == unix.EINTR || os.IsTimeout(err) {
				continue
			}
			return r.sum, fmt.Errorf("recvmsg: %w", err)
		}
		socket.ParseControl(r.msg.OOB[:oobn], &c)
		payload := r.msg.Data[:n]
		if r.cfg.Raw {
			// An 802.1Q tag still in the frame (no VLAN offload): take it from there.
			if len(payload) >= 18 && payload[12] == 0x81 && payload[13] == 0x00 {
				c.HaveVLAN, c.VLANTCI = true, uint16(payload[14])<<8|uint16(payload[15])
				payload = payload[18:]
			} else if len(payload) >= 14 {
				payload = payload[14:]
			}
		}
		if wire.Parse(payload, &h) != nil {
			r.sum.NotOurs++
			continue
		}
		r.packet(&h, &c)
	}
	return r.finish()
}

func (r *Receiver) packet(h *wire.Header, c *socket.Control) {
	var ts int64
	var flags uint8
	switch {
	case c.HaveHardware:
		ts, flags = c.Hardware, samplelog.FlagHardware
		r.sum.Hardware++
	case c.HaveSoftware:
		ts = c.Software + r.taiOffset // CLOCK_REALTIME -> TAI
		r.sum.Software++
	}
	if h.Flags&wire.FlagTxtime != 0 {
		flags |= samplelog.FlagTxtime
	}
	var tci uint16
	if c.HaveVLAN {
		flags |= samplelog.FlagVLAN
		tci = c.VLANTCI
		r.sum.LastVLAN, r.sum.LastPCP = c.VLANTCI&0xFFF, uint8(c.VLANTCI>>13)
		r.sum.Tagged++
	}
	if r.sum.Packets == 0 {
		r.sum.FirstSeq = h.Seq
	}
	r.sum.Packets++
	r.sum.LastSeq = h.Seq
	r.tracker(h.Stream).Add(h.Seq, h.CycleStart)
	if r.cfg.Log != nil {
		r.rec = samplelog.Record{Type: samplelog.TypeRx, Flags: flags, Stream: h.Stream, Seq: h.Seq,
			CycleStart: h.CycleStart, Wakeup: h.Wakeup, SendCall: h.SendCall, Txtime: h.Txtime, Timestamp: ts, TCI: tci}
		_ = r.cfg.Log.Write(&r.rec)
	}
}

// maxStreams bounds the streams counted apart (a stray sender must not make one per packet).
const maxStreams = 64

// tracker is the sequence tracker of stream id: allocated when the stream is first seen only.
func (r *Receiver) tracker(id uint32) *seqtrack.Tracker {
	if r.last != nil && r.lastID == id {
		return r.last
	}
	t := r.tracks[id]
	if t == nil {
		if r.tracks == nil {
			r.tracks = map[uint32]*seqtrack.Tracker{}
		}
		if len(r.tracks) < maxStreams {
			t = &seqtrack.Tracker{}
			r.tracks[id] = t
		} else {
			t = r.last
		}
	}
	r.last, r.lastID = t, id
	return t
}

func (r *Receiver) finish() (Summary, error) {
	r.sum.Received, r.sum.Lost, r.sum.Duplicates, r.sum.Reordered, r.sum.Restarts, r.sum.Stale = 0, 0, 0, 0, 0, 0
	for _, t := range r.tracks {
		r.sum.Received, r.sum.Lost = r.sum.Received+t.Received(), r.sum.Lost+t.Lost()
		r.sum.Duplicates, r.sum.Reordered = r.sum.Duplicates+t.Duplicates, r.sum.Reordered+t.Reordered
		r.sum.Restarts, r.sum.Stale = r.sum.Restarts+t.Restarts, r.sum.Stale+t.Stale
	}
	r.sum.Streams = len(r.tracks)
	switch {
	case r.sum.Hardware > 0 && r.sum.Software > 0:
		r.sum.TimestampSource = "mixed"
	case r.sum.Hardware > 0:
		r.sum.TimestampSource = "hardware"
	case r.sum.Software > 0:
		r.sum.TimestampSource = "software"
	}
	if r.cfg.Log != nil {
		return r.sum, r.cfg.Log.Flush()
	}
	return r.sum, nil
}

// SetLog sets the sample log (after Open, before Run).
func (r *Receiver) SetLog(w *samplelog.Writer) { r.cfg.Log = w }

// Write prints the summary.
func (s Summary) Write(w io.Writer) {
	if s.Streams > 1 {
		fmt.Fprintf(w, "\nreceived %d packets of %d streams (%d distinct): lost %d, duplicates %d, reordered %d; not ours %d\n",
			s.Packets, s.Streams, s.Received, s.Lost, s.Duplicates, s.Reordered, s.NotOurs)
	} else {
		fmt.Fprintf(w, "\nreceived %d packets (%d distinct, sequence %d..%d): lost %d, duplicates %d, reordered %d; not ours %d\n",
			s.Packets, s.Received, s.FirstSeq, s.LastSeq, s.Lost, s.Duplicates, s.Reordered, s.NotOurs)
	}
	if s.Restarts > 0 || s.Stale > 0 {
		fmt.Fprintf(w, "  sender restarts (sequence began again): %d; too late to judge (over 65536 behind): %d\n", s.Restarts, s.Stale)
	}
	if s.TimestampSource != "" {
		fmt.Fprintf(w, "  RX timestamps: %s (%d hardware, %d software)\n", s.TimestampSource, s.Hardware, s.Software)
	}
	if s.Tagged > 0 {
		fmt.Fprintf(w, "  802.1Q: %d tagged frames, last VID %d PCP %d\n", s.Tagged, s.LastVLAN, s.LastPCP)
	}
}
