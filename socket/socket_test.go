package socket

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, unix.CmsgSpace(len(data)))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(len(data)))
	copy(b[unix.CmsgLen(0):], data)
	return b
}

// An ETF drop report and a timestamp, as the kernel queues them on the error queue.
func TestParseControl(t *testing.T) {
	ee := make([]byte, 16)
	binary.NativeEndian.PutUint32(ee[0:], uint32(unix.ECANCELED))
	ee[4], ee[6] = OriginTxtime, CodeTxtimeMissed
	txtime := int64(1795375690282100000)
	binary.NativeEndian.PutUint32(ee[8:], uint32(txtime))      // info: low 32 bits
	binary.NativeEndian.PutUint32(ee[12:], uint32(txtime>>32)) // data: high 32 bits
	ts := make([]byte, 48)
	binary.NativeEndian.PutUint64(ts[0:], 5)   // software: 5 s
	binary.NativeEndian.PutUint64(ts[8:], 7)   //   + 7 ns
	binary.NativeEndian.PutUint64(ts[32:], 9)  // hardware: 9 s
	binary.NativeEndian.PutUint64(ts[40:], 11) //   + 11 ns
	oob := append(cmsg(unix.SOL_SOCKET, unix.SO_TIMESTAMPING, ts), cmsg(unix.SOL_IP, unix.IP_RECVERR, ee)...)
	var c Control
	ParseControl(oob, &c)
	if !c.HaveErr || c.Err.Origin != OriginTxtime || c.Err.Code != CodeTxtimeMissed || c.Err.Txtime() != txtime {
		t.Errorf("error: %+v txtime %d", c.Err, c.Err.Txtime())
	}
	if !c.HaveSoftware || c.Software != 5e9+7 || !c.HaveHardware || c.Hardware != 9e9+11 {
		t.Errorf("timestamps: %+v", c)
	}
	// Truncated and garbage control data is ignored, not a panic.
	for _, bad := range [][]byte{oob[:10], oob[:unix.CmsgLen(0)+3], {255, 255, 255, 255, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}} {
		ParseControl(bad, &c)
	}
	if a := testing.AllocsPerRun(100, func() { ParseControl(oob, &c) }); a != 0 {
		t.Errorf("%v allocations", a)
	}
}

func TestTxtimeCmsg(t *testing.T) {
	m := NewMsg(64, TxtimeOOBLen)
	m.SetTxtimeCmsg(0x0102030405060708)
	var c unix.Cmsghdr
	c = *(*unix.Cmsghdr)(unsafe.Pointer(&m.OOB[0]))
	if c.Level != unix.SOL_SOCKET || c.Type != unix.SCM_TXTIME || int(c.Len) != unix.CmsgLen(8) ||
		binary.NativeEndian.Uint64(m.OOB[unix.CmsgLen(0):]) != 0x0102030405060708 {
		t.Errorf("% x", m.OOB)
	}
}
