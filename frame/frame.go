// Package frame is the arithmetic of an Ethernet frame on the wire: how many byte times a payload
// occupies (headers, 802.1Q tag, padding to the minimum frame, FCS, preamble and the inter-frame
// gap) and how long that is at a link speed. lint's window-frame rule and tsnctl plan's windows and
// guard bands both count with it.
package frame

import "time"

// The parts of a frame on the wire, in bytes.
const (
	Preamble = 8  // preamble and start-of-frame delimiter
	Header   = 14 // destination, source, EtherType
	Tag      = 4  // 802.1Q tag
	FCS      = 4  // frame check sequence
	Gap      = 12 // inter-frame gap
	Min      = 64 // the smallest frame, header to FCS (a shorter one is padded)
	IPv4UDP  = 28 // IPv4 header (20, no options) and UDP header (8)
	// MaxBestEffort is the largest untagged best-effort frame with a 1500-byte MTU, header to FCS.
	MaxBestEffort = Header + 1500 + FCS
)

// Bytes is the number of byte times a tagged frame carrying payload takes on the wire: payload is
// the UDP payload when udp is true (IPv4 and UDP headers are added), else the Ethernet payload
// after the tag.
func Bytes(payload int, udp bool) int {
	if udp {
		payload += IPv4UDP
	}
	return Preamble + max(Header+Tag+payload+FCS, Min) + Gap
}

// Untagged is Bytes for a frame of size bytes from header to FCS (a best-effort frame).
func Untagged(size int) int { return Preamble + max(size, Min) + Gap }

// PreemptedHold is the most byte times a preemptible frame can keep the link once an express frame
// is ready (802.3br): its current fragment cannot be cut before it reaches minFrag bytes (the
// NIC's tx-min-frag-size, without the fragment's 4-byte CRC), nor leave a rest shorter than that,
// so less than two minimum fragments with their CRCs, with preamble and gap.
func PreemptedHold(minFrag int) int { return Preamble + 2*(minFrag+FCS) + Gap }

// Time is how long bytes byte times take at speedMbps, rounded up to the nanosecond.
func Time(bytes, speedMbps int) time.Duration {
	bits := int64(bytes) * 8 * 1000 // ns at 1 Mb/s
	return time.Duration((bits + int64(speedMbps) - 1) / int64(speedMbps))
}
