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
		dup, re := tr.Add(e.seq)
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
		tr.Add(s)
	}
	if tr.Lost() != 298 || tr.Duplicates != 0 || tr.Reordered != 0 {
		t.Errorf("lost %d dup %d reordered %d", tr.Lost(), tr.Duplicates, tr.Reordered)
	}
	if dup, _ := tr.Add(299990); !dup {
		t.Error("a recent duplicate went unnoticed after the window wrapped")
	}
}
