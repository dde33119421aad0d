package seqtrack

import (
	"math"
	"testing"
)

// Sequence numbers at both ends of uint64 (a hostile log): the span between them does not wrap
// to 0 and hide the loss.
func TestLostDoesNotWrap(t *testing.T) {
	var tr Tracker
	tr.Add(0, 0)
	tr.Add(math.MaxUint64, 0)
	if got, want := tr.Lost(), uint64(math.MaxUint64-1); got != want {
		t.Errorf("lost %d, want %d", got, want)
	}
}

// Two runs, each losing most of the range: the loss saturates instead of wrapping.
func TestLostSaturatesOverRuns(t *testing.T) {
	var tr Tracker
	tr.Add(0, 1)
	tr.Add(math.MaxUint64, 2)
	tr.Add(0, 3) // a restart: a later cycle start
	tr.Add(math.MaxUint64, 4)
	if got := tr.Lost(); got != math.MaxUint64 {
		t.Errorf("lost %d, want %d (saturated)", got, uint64(math.MaxUint64))
	}
}
