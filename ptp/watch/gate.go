package watch

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/termsafe"
)

// Gate follows the published sync status during a run; the send loop asks Locked once a cycle
// (an atomic load: no allocation, no file read in the loop). Run keeps it up to date.
type Gate struct {
	path   string
	locked atomic.Bool
}

// Locked reports whether sync was LOCKED at the last look (every 100 ms).
func (g *Gate) Locked() bool { return g.locked.Load() }

// Run refreshes the state until ctx ends. A stale or missing status counts as not locked.
func (g *Gate) Run(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := ReadStatus(g.path, time.Now())
		g.locked.Store(err == nil && st.Locked(time.Now()))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// WaitForSync blocks until the status at path says LOCKED and returns a Gate that follows it, or
// fails after timeout saying what it last saw (tsnctl send --require-sync).
func WaitForSync(ctx context.Context, progress io.Writer, path string, timeout time.Duration) (*Gate, error) {
	start := time.Now()
	st, err := WaitLocked(ctx, path, timeout)
	if err == nil && st.Locked(time.Now()) {
		fmt.Fprintf(progress, "time sync LOCKED (offset %d ns, grandmaster %s) after %v of waiting\n", st.OffsetNs, st.GMIdentity,
			time.Since(start).Round(time.Millisecond))
		g := &Gate{path: path}
		g.locked.Store(true)
		return g, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, param.Errorf("require-sync", nil, "%w", err)
	}
	return nil, param.Errorf("require-sync", nil, "time sync not LOCKED after %v: state %s (%s); nothing was sent", timeout, st.State, st.Reason)
}

// WaitLocked reads the status at path, waiting up to wait for LOCKED; it returns the last status
// read and its error.
func WaitLocked(ctx context.Context, path string, wait time.Duration) (*Status, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := ReadStatus(path, time.Now())
		if err == nil && st.Locked(time.Now()) || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WriteText prints the status as the table of `tsnctl ptp status`. The file's strings are printed
// with control characters escaped (termsafe): whoever can write the status file must not be able to
// drive the reader's terminal.
func (st *Status) WriteText(w io.Writer) {
	safe := termsafe.String
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	opt := func(b *bool) string {
		if b == nil {
			return "unknown"
		}
		return fmt.Sprint(*b)
	}
	fmt.Fprintf(tw, "state\t%s (since %s, %v ago)\n", safe(string(st.State)), st.Since.UTC().Format(time.RFC3339), time.Since(st.Since).Round(time.Second))
	if st.Reason != "" {
		fmt.Fprintf(tw, "last sample\tbad: %s\n", safe(st.Reason))
	} else {
		fmt.Fprintf(tw, "last sample\tgood (%d in a row)\n", st.GoodSamples)
	}
	fmt.Fprintf(tw, "port state\t%s\n", safe(st.PortState))
	fmt.Fprintf(tw, "offset\t%d ns\n", st.OffsetNs)
	fmt.Fprintf(tw, "path delay\t%d ns\n", st.PathDelayNs)
	fmt.Fprintf(tw, "grandmaster\t%s (present: %v)\n", safe(st.GMIdentity), st.GMPresent)
	fmt.Fprintf(tw, "asCapable\t%s\n", opt(st.ASCapable))
	fmt.Fprintf(tw, "UTC offset\tPTP %d s, kernel TAI offset %d s\n", st.UTCOffsetS, st.KernelTAIOffsetS)
	if st.PHCOffsetNs != nil {
		fmt.Fprintf(tw, "system clock - PHC\t%d ns\n", *st.PHCOffsetNs)
	}
	if len(st.Restarts) > 0 {
		var r []string
		for _, k := range slices.Sorted(maps.Keys(st.Restarts)) {
			r = append(r, fmt.Sprintf("%s %d", safe(k), st.Restarts[k]))
		}
		fmt.Fprintf(tw, "restarts\t%s\n", strings.Join(r, ", "))
	}
	fmt.Fprintf(tw, "updated\t%s by pid %d\n", st.Updated.UTC().Format(time.RFC3339Nano), st.PID)
	tw.Flush()
}
