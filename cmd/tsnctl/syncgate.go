package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/tsnctl/tsnctl/ptp/watch"
)

// syncGate follows the published sync status during a run; the send loop asks Locked once a cycle
// (an atomic load: no allocation, no file read in the loop).
type syncGate struct {
	path   string
	locked atomic.Bool
}

// Locked reports whether sync was LOCKED at the last look (every 100 ms).
func (g *syncGate) Locked() bool { return g.locked.Load() }

// Run refreshes the state until ctx ends. A stale or missing status counts as not locked.
func (g *syncGate) Run(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := watch.ReadStatus(g.path, time.Now())
		g.locked.Store(err == nil && st.Locked(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitForSync blocks until the status says LOCKED, or fails after timeout saying what it last saw.
func waitForSync(ctx context.Context, progress io.Writer, path string, timeout time.Duration) (*syncGate, error) {
	start := time.Now()
	st, err := waitStatus(ctx, path, timeout)
	if err == nil && st.Locked(time.Now()) {
		fmt.Fprintf(progress, "time sync LOCKED (offset %d ns, grandmaster %s) after %v of waiting\n", st.OffsetNs, st.GMIdentity,
			time.Since(start).Round(time.Millisecond))
		g := &syncGate{path: path}
		g.locked.Store(true)
		return g, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("--require-sync: %w", err)
	}
	return nil, fmt.Errorf("--require-sync: time sync not LOCKED after %v: state %s (%s); nothing was sent", timeout, st.State, st.Reason)
}
