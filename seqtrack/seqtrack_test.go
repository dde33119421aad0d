package seqtrack

import "testing"

func TestTracker(t *testing.T) {
	var tr Tracker
	type ev struct {
		seq            uint64
		dup, reordered bool
	}
	for _, e := range []ev{{0, false, false}, {1, false, false}, {3, false, false}, {2, false, true}, {2, true, false},
		{3, true, false}, {7, false, false}, {6, false, true}, {10, false, false}} {
		dup, re := tr.Add(e.seq, 0)
		if dup != e.dup || re != e.reordered {
			t.Errorf("seq %d: dup %v reordered %v, want %v %v", e.seq, dup, re, e.dup, e.reordered)
		}
	}
	// Seen 0,1,2,3,6,7,10: 7 distinct of 11; lost 4,5,8,9.
	if tr.Received() != 7 || tr.Lost() != 4 || tr.Duplicates != 2 || tr.Reordered != 2 {
		t.Errorf("received %d lost %d dup %d reordered %d", tr.Received(), tr.Lost(), tr.Duplicates, tr.Reordered)
	}
}

func TestTrackerLongRunAndLateStart(t *testing.T) {
	var tr Tracker
	for s := uint64(1000); s < 300000; s++ {
		if s%1000 == 0 {
			continue // lose one in a thousand
		}
		tr.Add(s, 0)
	}
	if tr.Lost() != 298 || tr.Duplicates != 0 || tr.Reordered != 0 {
		t.Errorf("lost %d dup %d reordered %d", tr.Lost(), tr.Duplicates, tr.Reordered)
	}
	if dup, _ := tr.Add(299990, 0); !dup {
		t.Error("a recent duplicate went unnoticed after the window wrapped")
	}
}

// Two runs of one sender into one receiver: the second starts at 0 again, in later cycles. That
// is a restart, not 100 duplicates.
func TestRestartIsANewRun(t *testing.T) {
	var tr Tracker
	const cycle = 2_000_000
	for s := range uint64(100) {
		tr.Add(s, int64(1_000_000_000+s*cycle))
	}
	tr.Add(40, 1_000_000_000+40*cycle) // a duplicate of the first run (same cycle)
	for s := range uint64(100) {
		if s == 50 {
			continue // lost in the second run
		}
		tr.Add(s, int64(2_000_000_000+s*cycle))
	}
	if tr.Received() != 199 || tr.Lost() != 1 || tr.Duplicates != 1 || tr.Restarts != 1 || tr.Reordered != 0 {
		t.Errorf("received %d lost %d dup %d restarts %d reordered %d; want 199 1 1 1 0",
			tr.Received(), tr.Lost(), tr.Duplicates, tr.Restarts, tr.Reordered)
	}
}

// Past the 65536-number window, numbers of unknown cycle that come again cannot be judged: they
// are counted as stale, and the loss count never underflows.
func TestNoUnderflowPastTheWindow(t *testing.T) {
	var tr Tracker
	for s := range uint64(100000) {
		tr.Add(s, 0)
	}
	for s := range uint64(5000) {
		tr.Add(s, 0)
	}
	if tr.Lost() != 0 || tr.Received() != 100000 || tr.Stale != 5000 || tr.Lost() > 1<<62 {
		t.Errorf("lost %d received %d stale %d", tr.Lost(), tr.Received(), tr.Stale)
	}
}
