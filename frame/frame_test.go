package frame

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for _, c := range []struct {
		payload int
		udp     bool
		want    int
	}{
		{1500, false, 1542}, // lint's sdu + 42: preamble 8, header 14, tag 4, FCS 4, gap 12
		{1, false, 84},      // padded to the 64-byte minimum frame
		{64, true, 8 + 14 + 4 + 28 + 64 + 4 + 12},
		{18, true, 88}, // 14+4+28+18+4 = 68: no padding
		{14, true, 84}, // 64 exactly
		{13, true, 84}, // padded
	} {
		if got := Bytes(c.payload, c.udp); got != c.want {
			t.Errorf("Bytes(%d, %v) = %d, want %d", c.payload, c.udp, got, c.want)
		}
	}
	if got := Untagged(MaxBestEffort); got != 1538 {
		t.Errorf("Untagged(MaxBestEffort) = %d, want 1538", got)
	}
}

func TestTime(t *testing.T) {
	for _, c := range []struct {
		bytes, speed int
		want         time.Duration
	}{
		{1542, 1000, 12336 * time.Nanosecond},
		{84, 1000, 672 * time.Nanosecond},
		{84, 100, 6720 * time.Nanosecond},
		{1, 2500, 4 * time.Nanosecond}, // 3.2 ns, rounded up
		{1542, 10, 1233600 * time.Nanosecond},
	} {
		if got := Time(c.bytes, c.speed); got != c.want {
			t.Errorf("Time(%d, %d) = %v, want %v", c.bytes, c.speed, got, c.want)
		}
	}
}
