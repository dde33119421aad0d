package daemon

import (
	"os"

	"golang.org/x/sys/unix"
)

// PHCOffset measures CLOCK_TAI − PHC in ns (the PHC runs on TAI, as ptp4l keeps it): the PHC read
// between two TAI reads, against their midpoint; the best of 5 tries (the shortest bracket).
func PHCOffset(dev string) (int64, error) {
	f, err := os.Open(dev)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	id := unix.FdToClockID(int(f.Fd()))
	best, off := int64(1<<62), int64(0)
	for range 5 {
		var a, p, b unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_TAI, &a); err != nil {
			return 0, err
		}
		if err := unix.ClockGettime(id, &p); err != nil {
			return 0, err
		}
		if err := unix.ClockGettime(unix.CLOCK_TAI, &b); err != nil {
			return 0, err
		}
		if d := b.Nano() - a.Nano(); d < best {
			best, off = d, (a.Nano()+b.Nano())/2-p.Nano()
		}
	}
	return off, nil
}
