// Package seqtrack counts a stream's sequence numbers as they arrive: duplicates, reordering and
// loss, in constant memory. The receiver uses it live; the analysis uses it on sample logs.
package seqtrack

// Tracker counts a stream's sequence numbers: duplicates, reordering, and (at the end) loss.
// It remembers the last 65536 sequence numbers, so a duplicate older than that counts as reordered.
type Tracker struct {
	started         bool
	lowest, highest uint64
	unique          uint64
	Duplicates      uint64
	Reordered       uint64
	seen            [1 << 16 / 64]uint64
}

// Add records seq and says whether it was a duplicate or arrived out of order.
func (t *Tracker) Add(seq uint64) (dup, reordered bool) {
	if !t.started {
		t.started, t.lowest, t.highest = true, seq, seq
		t.mark(seq)
		t.unique = 1
		return false, false
	}
	if seq > t.highest {
		// Clear the bits of the numbers skipped over, which the window now reuses.
		for s := t.highest + 1; s < seq && s-t.highest <= 1<<16; s++ {
			t.seen[(s&0xFFFF)/64] &^= 1 << (s % 64)
		}
		t.highest = seq
		t.mark(seq)
		t.unique++
		return false, false
	}
	if t.highest-seq < 1<<16 && t.isSet(seq) {
		t.Duplicates++
		return true, false
	}
	if seq < t.lowest {
		t.lowest = seq
	}
	t.mark(seq)
	t.unique++
	t.Reordered++
	return false, true
}

func (t *Tracker) mark(seq uint64)       { t.seen[(seq&0xFFFF)/64] |= 1 << (seq % 64) }
func (t *Tracker) isSet(seq uint64) bool { return t.seen[(seq&0xFFFF)/64]&(1<<(seq%64)) != 0 }

// Received is the number of distinct sequence numbers seen.
func (t *Tracker) Received() uint64 { return t.unique }

// Lost is the number of sequence numbers between the lowest and the highest seen that never came.
func (t *Tracker) Lost() uint64 {
	if !t.started {
		return 0
	}
	return t.highest - t.lowest + 1 - t.unique
}
