// Package wire is the header every tsnctl test packet carries (UDP payload or raw Ethernet
// payload after the 802.1Q tag). Version 1, little-endian, 52 bytes; the rest of the payload is
// padding:
//
//	offset size field
//	0      4    magic "TSN1"
//	4      1    version (1)
//	5      1    flags (bit 0: sent with SO_TXTIME)
//	6      2    reserved, 0
//	8      4    stream id
//	12     8    sequence number (from 0)
//	20     8    cycle start, TAI ns
//	28     8    wake-up time (after clock_nanosleep), TAI ns
//	36     8    time of the send call, TAI ns
//	44     8    planned txtime, TAI ns (0 in plain mode)
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Len is the header's length; a payload is at least this long.
const Len = 52

// Version is the header version written.
const Version = 1

var magic = [4]byte{'T', 'S', 'N', '1'}

// FlagTxtime marks a packet sent with SO_TXTIME.
const FlagTxtime = 1

// Header is the decoded header.
type Header struct {
	Flags      uint8
	Stream     uint32
	Seq        uint64
	CycleStart int64
	Wakeup     int64
	SendCall   int64
	Txtime     int64
}

// ErrNotOurs is returned for payloads that are not tsnctl test packets.
var ErrNotOurs = errors.New("not a tsnctl packet")

// Put writes h into b (len(b) >= Len) without allocating.
func Put(b []byte, h *Header) {
	_ = b[Len-1]
	copy(b[0:4], magic[:])
	b[4] = Version
	b[5] = h.Flags
	b[6], b[7] = 0, 0
	binary.LittleEndian.PutUint32(b[8:], h.Stream)
	binary.LittleEndian.PutUint64(b[12:], h.Seq)
	binary.LittleEndian.PutUint64(b[20:], uint64(h.CycleStart))
	binary.LittleEndian.PutUint64(b[28:], uint64(h.Wakeup))
	binary.LittleEndian.PutUint64(b[36:], uint64(h.SendCall))
	binary.LittleEndian.PutUint64(b[44:], uint64(h.Txtime))
}

// Parse reads a header from a payload.
func Parse(b []byte, h *Header) error {
	if len(b) < Len || [4]byte(b[0:4]) != magic {
		return ErrNotOurs
	}
	if b[4] != Version {
		return fmt.Errorf("tsnctl packet version %d, this tsnctl reads version %d", b[4], Version)
	}
	h.Flags = b[5]
	h.Stream = binary.LittleEndian.Uint32(b[8:])
	h.Seq = binary.LittleEndian.Uint64(b[12:])
	h.CycleStart = int64(binary.LittleEndian.Uint64(b[20:]))
	h.Wakeup = int64(binary.LittleEndian.Uint64(b[28:]))
	h.SendCall = int64(binary.LittleEndian.Uint64(b[36:]))
	h.Txtime = int64(binary.LittleEndian.Uint64(b[44:]))
	return nil
}
