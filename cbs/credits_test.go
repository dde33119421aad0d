package cbs

import (
	"math"
	"strings"
	"testing"
)

// TestDeriveWorkedFigures: Avnu/tsn-doc's worked example ("Configuring TSN qdiscs", CBS;
// misc/calc-cbs-params.py --stream class=a,transport=avtp-cvf-h264,rate=8000,psize=1470
// --stream class=b,transport=avtp-aaf,rate=4000,psize=48 at its default 1 Gb/s and 1542-byte
// interferer): class A, H.264 video, 8000 frames/s of 1542 byte times; class B, AAF audio, 4000
// frames/s of 114 byte times. The page prints locredit -1389 and -113, from a script that rounded
// locredit towards zero; tsn-doc's pull request 37 made it round down (-1390, -114), as here: a
// locredit of -1389 would forgive 0.82 bytes of every full frame's cost.
//
// And tc-cbs(8)'s example: 20 Mbit/s on a 1 Gb/s port, a 1500-byte frame and interferer:
// idleslope 20000 sendslope -980000 hicredit 30 locredit -1470.
func TestDeriveWorkedFigures(t *testing.T) {
	got, err := Derive(1000000, 1542, Class{IdleSlope: 98688, MaxFrame: 1542}, Class{IdleSlope: 3648, MaxFrame: 114})
	if err != nil {
		t.Fatal(err)
	}
	want := []Options{
		{IdleSlope: 98688, SendSlope: -901312, HiCredit: 153, LoCredit: -1390},
		{IdleSlope: 3648, SendSlope: -996352, HiCredit: 12, LoCredit: -114},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("class %c: %+v, want %+v", 'A'+i, got[i], want[i])
		}
	}
	man, err := Derive(1000000, 1500, Class{IdleSlope: 20000, MaxFrame: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if w := (Options{IdleSlope: 20000, SendSlope: -980000, HiCredit: 30, LoCredit: -1470}); man[0] != w {
		t.Errorf("tc-cbs(8)'s example: %+v, want %+v", man[0], w)
	}
}

func TestDeriveRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		port    int64
		classes []Class
		want    string
	}{
		{"three classes", 1000000, []Class{{1000, 1542}, {1000, 1542}, {1000, 1542}}, "not 3"},
		{"no bandwidth", 1000000, []Class{{0, 1542}}, "idleslope 0"},
		{"the port's rate", 1000000, []Class{{1000000, 1542}}, "not below the port's rate"},
		{"A and B together over the port's rate", 1000000, []Class{{600000, 1542}, {400000, 1542}}, "class B"},
		{"no frame", 1000000, []Class{{1000, 0}}, "largest frame is 0"},
		{"no port", 0, []Class{{1000, 1542}}, "port's rate is 0"},
	} {
		if _, err := Derive(tc.port, 1542, tc.classes...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

// simulate runs 802.1Q's credit-based shaper (8.6.8.2) for a class that always has a frame
// waiting, sending frames of the class's largest size, against one lower-priority frame of
// maxInterference byte times that starts just before the class's first frame becomes ready, and
// returns the highest and lowest credit reached (in bytes). Credit rises at idleslope while the
// class waits (for the interfering frame, or for credit) and falls at sendslope while it sends;
// when it has nothing left to send with positive credit, credit is set to 0.
func simulate(portKbps, maxInterference int64, c Class, o Options, frames int) (hi, lo float64) {
	rate := float64(portKbps) * 1000 / 8 // bytes per second
	idle := float64(o.IdleSlope) * 1000 / 8
	send := float64(o.SendSlope) * 1000 / 8
	credit := 0.0
	hi, lo = 0, 0
	// The interfering frame: the class waits its whole transmission, earning credit.
	credit += idle * float64(maxInterference) / rate
	hi = max(hi, credit)
	for range frames {
		if credit < 0 { // wait for credit to reach 0
			credit = 0
		}
		credit += send * float64(c.MaxFrame) / rate
		lo = min(lo, credit)
	}
	return hi, lo
}

// simulateB: class B waits behind a lower-priority frame and then behind class A, which sends
// while it has credit (A's credit bounds how long: hicredit A lets it send a burst).
func simulateB(portKbps, maxInterference int64, a, b Class, oa, ob Options) (hi float64) {
	rate := float64(portKbps) * 1000 / 8
	idleA, sendA := float64(oa.IdleSlope)*1000/8, float64(oa.SendSlope)*1000/8
	idleB := float64(ob.IdleSlope) * 1000 / 8
	creditA, creditB := 0.0, 0.0
	// The interfering frame: both wait.
	d := float64(maxInterference) / rate
	creditA += idleA * d
	creditB += idleB * d
	hi = creditB
	// Class A sends while its credit is not negative; B waits and earns.
	for creditA >= 0 {
		d := float64(a.MaxFrame) / rate
		creditA += sendA * d
		creditB += idleB * d
		hi = max(hi, creditB)
	}
	return hi
}

// TestDeriveAgainstSimulation: at 100 Mb/s, 1 Gb/s and 2.5 Gb/s, the credits a class reaches in a
// simulation of the shaper stay within the derived [locredit, hicredit]: a class A waiting
// behind the largest interfering frame, then sending full frames back to back, and a class B
// waiting behind that frame and a burst of class A.
func TestDeriveAgainstSimulation(t *testing.T) {
	for _, speed := range []int64{100, 1000, 2500} {
		port := speed * 1000
		a := Class{IdleSlope: port / 10, MaxFrame: 1542}
		b := Class{IdleSlope: port / 20, MaxFrame: 314}
		os, err := Derive(port, 1542, a, b)
		if err != nil {
			t.Fatal(err)
		}
		hiA, loA := simulate(port, 1542, a, os[0], 50)
		if hiA > float64(os[0].HiCredit) || loA < float64(os[0].LoCredit) {
			t.Errorf("%d Mb/s, class A: credit reached [%.2f, %.2f], outside [%d, %d]", speed, loA, hiA, os[0].LoCredit, os[0].HiCredit)
		}
		if math.Ceil(hiA) != float64(os[0].HiCredit) {
			t.Errorf("%d Mb/s, class A: hicredit %d, the simulation's highest credit %.2f rounds up to %v", speed, os[0].HiCredit, hiA, math.Ceil(hiA))
		}
		if math.Floor(loA) != float64(os[0].LoCredit) {
			t.Errorf("%d Mb/s, class A: locredit %d, the simulation's lowest credit %.2f rounds down to %v", speed, os[0].LoCredit, loA, math.Floor(loA))
		}
		_, loB := simulate(port, 1542, b, os[1], 50)
		hiB := simulateB(port, 1542, a, b, os[0], os[1])
		if hiB > float64(os[1].HiCredit) || loB < float64(os[1].LoCredit) {
			t.Errorf("%d Mb/s, class B: credit reached [%.2f, %.2f], outside [%d, %d]", speed, loB, hiB, os[1].LoCredit, os[1].HiCredit)
		}
	}
}
