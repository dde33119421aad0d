package clock

import "testing"

func TestParseAndString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ID
	}{{"CLOCK_TAI", TAI}, {"tai", TAI}, {"clock_realtime", Realtime}, {" MONOTONIC ", Monotonic}, {"BOOTTIME", Boottime}} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := Parse("CLOCK_PTP"); err == nil {
		t.Error("Parse(CLOCK_PTP) accepted an unknown clock")
	}
	if TAI.String() != "CLOCK_TAI" || ID(99).String() != "99" {
		t.Errorf("String: %s %s", TAI, ID(99))
	}
}

func TestTAIOffsetReads(t *testing.T) {
	off, err := TAIOffset()
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 || off > 100 {
		t.Errorf("TAI offset %d s is not plausible", off)
	}
}
