package sender

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func taiSyscall() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_TAI, &ts)
	return ts.Nano()
}

// now (vDSO CLOCK_REALTIME + the TAI offset) agrees with the kernel's CLOCK_TAI, through the
// re-reads of the offset, and never goes back.
func TestNowIsCLOCK_TAI(t *testing.T) {
	prev := now()
	for i := range 5000 {
		a := taiSyscall()
		n := now()
		b := taiSyscall()
		if n < a || n > b || n < prev {
			t.Fatalf("reading %d: now() %d outside the system call's %d ... %d (previous %d)", i, n, a, b, prev)
		}
		prev = n
	}
	if readTAIOffset()%int64(time.Second) != 0 {
		t.Error("the TAI offset is not whole seconds")
	}
}

// go test -bench Clock ./sender: the loop's clock read against the system call it replaced.
func BenchmarkClockNowVDSO(b *testing.B) {
	for b.Loop() {
		now()
	}
}

func BenchmarkClockGettimeTAISyscall(b *testing.B) {
	for b.Loop() {
		taiSyscall()
	}
}
