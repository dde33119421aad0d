// Package seqtrack counts a stream's sequence numbers as they arrive: duplicates, reordering and
// loss, in constant memory. The receiver uses it live; the analysis uses it on sample logs.
package seqtrack

// window is how many recent sequence numbers a Tracker remembers.
const window = 1 << 16

// Tracker counts a stream's sequence numbers: duplicates, reordering, restarts and (at the end)
// loss. It remembers the last 65536 sequence numbers of a run; one older than that which is not
// below the run's lowest cannot be judged (duplicate or very late) and is counted in Stale, never
// as received.
//
// A run restarts when a sequence number at or below the highest one arrives with a later cycle
// start than the highest one had (a sender started again: its numbers begin anew while time goes
// on). A late packet of the same run has an earlier cycle start. The runs' counts add up.
type Tracker struct {
	started         bool
	lowest, highest uint64
	highestCycle    int64
	unique          uint64
	doneUnique      uint64 // of the runs before this one
	doneLost        uint64
	Duplicates      uint64
	Reordered       uint64
	Restarts        uint64
	Stale           uint64
	seen            [window / 64]uint64
}

// Add records seq, sent in the cycle that starts at cycle (0 if unknown), and says whether it was
// a duplicate or arrived out of order.
func (t *Tracker) Add(seq uint64, cycle int64) (dup, reordered bool) {
	if t.started && seq <= t.highest && cycle > 0 && t.highestCycle > 0 && cycle > t.highestCycle {
		t.doneUnique += t.unique
		t.doneLost = satAdd(t.doneLost, t.runLost())
		t.Restarts++
		t.started = false
		t.seen = [window / 64]uint64{}
	}
	if !t.started {
		t.started, t.lowest, t.highest, t.highestCycle = true, seq, seq, cycle
		t.mark(seq)
		t.unique = 1
		return false, false
	}
	if seq > t.highest {
		// Clear the bits of the numbers skipped over, which the window now reuses.
		for s := t.highest + 1; s < seq && s-t.highest <= window; s++ {
			t.seen[(s&(window-1))/64] &^= 1 << (s % 64)
		}
		t.highest, t.highestCycle = seq, cycle
		t.mark(seq)
		t.unique++
		return false, false
	}
	switch {
	case t.highest-seq < window && t.isSet(seq):
		t.Duplicates++
		return true, false
	case t.highest-seq >= window && seq >= t.lowest:
		t.Stale++ // seen or not: the window has moved on
		return false, true
	}
	if seq < t.lowest {
		t.lowest = seq
	}
	t.mark(seq)
	t.unique++
	t.Reordered++
	return false, true
}

func (t *Tracker) mark(seq uint64)       { t.seen[(seq&(window-1))/64] |= 1 << (seq % 64) }
func (t *Tracker) isSet(seq uint64) bool { return t.seen[(seq&(window-1))/64]&(1<<(seq%64)) != 0 }

// Received is the number of distinct sequence numbers seen, over all runs.
func (t *Tracker) Received() uint64 { return t.doneUnique + t.unique }

// Lost is the number of sequence numbers missing between each run's lowest and highest.
func (t *Tracker) Lost() uint64 { return satAdd(t.doneLost, t.runLost()) }

// satAdd is a+b, at most the largest uint64 (runs of hostile sequence numbers each spanning most
// of the range must not add up to a small loss).
func satAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

func (t *Tracker) runLost() uint64 {
	if !t.started {
		return 0
	}
	// The span is highest-lowest+1, which wraps to 0 for the whole uint64 range: subtract first
	// (unique is at least 1 once started).
	if span := t.highest - t.lowest; span >= t.unique {
		return span - t.unique + 1
	}
	return 0
}
