// Package nsexec runs a function inside a named network namespace (ip netns) on a locked thread
// and moves the thread back: sockets created there stay in that namespace for their whole life.
package nsexec

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Do runs fn in network namespace name ("" runs it right here).
func Do(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	target, err := netns.GetFromName(name)
	if err != nil {
		return fmt.Errorf("network namespace %q: %w (see ip netns list)", name, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter network namespace %q: %w", name, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- ferr // leave the thread locked: it ends with this goroutine, never reused
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}
