// Package clock names the POSIX clocks that TSN qdiscs and sockets use, and reads the kernel's
// TAI–UTC offset. It never sets a clock.
package clock

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// ID is a clockid_t as taprio, ETF and SO_TXTIME take it.
type ID int32

// The clocks a TSN configuration names.
const (
	Realtime  ID = unix.CLOCK_REALTIME
	Monotonic ID = unix.CLOCK_MONOTONIC
	Boottime  ID = unix.CLOCK_BOOTTIME
	TAI       ID = unix.CLOCK_TAI
)

var names = map[ID]string{
	Realtime:  "CLOCK_REALTIME",
	Monotonic: "CLOCK_MONOTONIC",
	Boottime:  "CLOCK_BOOTTIME",
	TAI:       "CLOCK_TAI",
}

// String returns the name tc prints ("CLOCK_TAI"), or the number for a clock without a name.
func (id ID) String() string {
	if n, ok := names[id]; ok {
		return n
	}
	return fmt.Sprintf("%d", int32(id))
}

// Parse reads a clock name as tc accepts it: CLOCK_TAI, TAI or tai (likewise REALTIME, MONOTONIC,
// BOOTTIME).
func Parse(s string) (ID, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "CLOCK_") {
		u = "CLOCK_" + u
	}
	for id, n := range names {
		if n == u {
			return id, nil
		}
	}
	return 0, fmt.Errorf("unknown clock %q: use CLOCK_TAI, CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME", s)
}

// UnmarshalText reads a clock name (Parse), so that a configuration holds an ID, not a word.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	*id = v
	return err
}

// MarshalText writes the clock's name as tc prints it.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// TAIOffset returns the kernel's TAI–UTC offset in seconds (adjtimex's tai field), read-only.
func TAIOffset() (int, error) {
	var tx unix.Timex // Modes 0: read, change nothing.
	if _, err := unix.Adjtimex(&tx); err != nil {
		return 0, fmt.Errorf("adjtimex: %w", err)
	}
	return int(tx.Tai), nil
}

// Now reads a clock, in nanoseconds.
func Now(id ID) (int64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(int32(id), &ts); err != nil {
		return 0, fmt.Errorf("read %s: %w", id, err)
	}
	return ts.Nano(), nil
}

// Snapshot is the time of each clock a schedule can run on (TAI, REALTIME, MONOTONIC, BOOTTIME),
// in ns, read one after the other: what planning a base-time in a schedule's own clock needs.
type Snapshot map[ID]int64

// ReadAll reads every clock of a Snapshot.
func ReadAll() (Snapshot, error) {
	s := Snapshot{}
	for _, id := range []ID{TAI, Realtime, Monotonic, Boottime} {
		t, err := Now(id)
		if err != nil {
			return nil, err
		}
		s[id] = t
	}
	return s, nil
}
