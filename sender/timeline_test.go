package sender

import (
	"strings"
	"testing"
)

// A timeline of one stream is that stream's cycles: the same wake-ups, first cycle and overrun
// skips as Timing's.
func TestTimelineOfOneStreamIsItsTiming(t *testing.T) {
	tm := seedTiming()
	tm.BaseTime, tm.Txtime, tm.WakeAdvance = 1795372810046000000, true, 500*us
	tl, err := NewTimeline(tm)
	if err != nil {
		t.Fatal(err)
	}
	for n := int64(0); n < 50; n++ {
		if lane, k := tl.At(n); lane != 0 || k != n || tl.Wake(n) != tm.Wake(n) {
			t.Fatalf("event %d: lane %d cycle %d wake %d, want cycle %d wake %d", n, lane, k, tl.Wake(n), n, tm.Wake(n))
		}
	}
	for _, now := range []int64{tm.BaseTime, tm.BaseTime + 3*ms + 17, tm.BaseTime + 1234567891} {
		if got, want := tl.First(now, 10*ms), tm.FirstCycle(now, 10*ms); got != want {
			t.Errorf("First(%d) = %d, FirstCycle %d", now, got, want)
		}
		k := tm.FirstCycle(now, 0)
		for _, late := range []int64{0, 1*ms + 600*us, 7 * ms} { // on time, past the next wake-up, past several
			at := tm.Wake(k) + late
			n1, s1 := tl.Next(k, at)
			n2, s2 := tm.Next(k, at)
			if n1 != n2 || s1 != s2 {
				t.Errorf("Next(%d, +%d) = %d,%d; Timing.Next %d,%d", k, late, n1, s1, n2, s2)
			}
		}
	}
}

// Two streams of different periods: every cycle of each comes once, in its order, and the events
// come in wake-up order; the txtimes of each stream keep its period.
func TestTimelineMergesPeriods(t *testing.T) {
	a := Timing{BaseTime: 0, Cycle: 1 * ms, WindowStart: 100 * us, WindowEnd: 200 * us, Offset: 50 * us, PerCycle: 1, Txtime: true, WakeAdvance: 250 * us}
	b := Timing{BaseTime: 0, Cycle: 2 * ms, WindowStart: 1200 * us, WindowEnd: 1300 * us, Offset: 50 * us, PerCycle: 2, Spacing: 10 * us, Txtime: true, WakeAdvance: 500 * us}
	tl, err := NewTimeline(a, b)
	if err != nil {
		t.Fatal(err)
	}
	now := int64(1795372810000000000) + 333*us
	n0 := tl.First(now, 10*ms)
	next, first := []int64{-1, -1}, []int64{-1, -1}
	prevWake := int64(0)
	for n := n0; n < n0+300; n++ {
		lane, k := tl.At(n)
		if next[lane] >= 0 && k != next[lane] {
			t.Fatalf("event %d: lane %d cycle %d, want %d", n, lane, k, next[lane])
		}
		if first[lane] < 0 {
			first[lane] = k
		}
		next[lane] = k + 1
		w := tl.Wake(n)
		if w < prevWake || w < now+10*ms {
			t.Fatalf("event %d wakes at %d, after %d (now+lead %d)", n, w, prevWake, now+10*ms)
		}
		if want := []Timing{a, b}[lane].Wake(k); w != want {
			t.Fatalf("event %d: wake %d, lane %d cycle %d wakes at %d", n, w, lane, k, want)
		}
		prevWake = w
	}
	// 300 events of a 2 ms hyperperiod with 3 events: 200 of a's cycles, 100 of b's.
	if next[0]-first[0] != 200 || next[1]-first[1] != 100 {
		t.Errorf("%d cycles of a, %d of b", next[0]-first[0], next[1]-first[1])
	}
	ps := tl.Txtimes(now, 10*ms, 400)
	last := map[int]int64{}
	var nb int
	for _, p := range ps {
		if p.Lane == 1 {
			nb++
		}
		if prev, ok := last[p.Lane]; ok && p.Lane == 0 && p.Txtime-prev != 1*ms {
			t.Fatalf("stream a: txtimes %d then %d", prev, p.Txtime)
		}
		if prev, ok := last[p.Lane]; ok && p.Lane == 1 && p.Txtime-prev != 10*us && p.Txtime-prev != 2*ms-10*us {
			t.Fatalf("stream b: txtimes %d then %d", prev, p.Txtime)
		}
		last[p.Lane] = p.Txtime
	}
	if nb != 200 { // 2 packets in each of b's cycles, one in each of a's: 200 of 400
		t.Errorf("stream b: %d packets of %d", nb, len(ps))
	}
}

// Streams whose wake-ups coincide are served at once: the second is not skipped as an overrun
// though its wake-up has passed once the first is sent. A real overrun still skips.
func TestTimelineCoincidingWakeups(t *testing.T) {
	a := Timing{Cycle: 1 * ms, WindowStart: 0, WindowEnd: 500 * us, Offset: 400 * us, PerCycle: 1, Txtime: true, WakeAdvance: 300 * us}
	b := a
	b.Offset, b.WakeAdvance = 450*us, 350*us // the same wake-up: 100 us into the cycle
	tl, err := NewTimeline(a, b)
	if err != nil {
		t.Fatal(err)
	}
	n := tl.First(5*ms, 0)
	if l, k := tl.At(n); l != 0 || k != 5 || tl.Wake(n) != 5*ms+100*us || tl.Wake(n+1) != tl.Wake(n) {
		t.Fatalf("event %d: lane %d cycle %d wake %d/%d", n, l, k, tl.Wake(n), tl.Wake(n+1))
	}
	if next, skipped := tl.Next(n, tl.Wake(n)+20*us); next != n+1 || skipped != 0 {
		t.Errorf("coinciding: next %d skipped %d, want %d 0", next, skipped, n+1)
	}
	if next, skipped := tl.Next(n+1, tl.Wake(n)+2*ms+20*us); next != n+6 || skipped != 4 {
		t.Errorf("overrun of 2 ms: next %d skipped %d, want %d 4", next, skipped, n+6)
	}
}

func TestTimelineRefuses(t *testing.T) {
	a := seedTiming()
	b := a
	b.BaseTime = 1
	if _, err := NewTimeline(a, b); err == nil || !strings.Contains(err.Error(), "base-time") {
		t.Errorf("different base-times: %v", err)
	}
	b = a
	b.Cycle = 999_983 * us // prime µs against 2 ms: no common multiple below 10 s
	if _, err := NewTimeline(a, b); err == nil || !strings.Contains(err.Error(), "common multiple") {
		t.Errorf("no common cycle: %v", err)
	}
	if _, err := NewTimeline(); err == nil {
		t.Error("no stream: no error")
	}
}
