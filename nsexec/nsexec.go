// Package nsexec runs a function inside a network namespace on a locked thread and moves the
// thread back: sockets created there stay in that namespace for their whole life.
package nsexec

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/tsnctl/tsnctl/param"
	"github.com/vishvananda/netns"
)

// CheckName checks an ip netns name: one file in /run/netns, so a single path element (no '/',
// not "." or "..", no NUL). "" (the caller's namespace) is valid. The error names the parameter
// "netns" (param.Error), as the commands' flag is named.
func CheckName(name string) error {
	if name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return param.Errorf("netns", strconv.Quote(name), "an ip netns name is one path element (no '/', not . or ..): the name `ip netns list` shows, e.g. {netns} red")
	}
	return nil
}

// Open opens the network namespace of an ip netns name (CheckName); the caller closes it.
func Open(name string) (netns.NsHandle, error) {
	if err := CheckName(name); err != nil {
		return netns.None(), err
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		return netns.None(), fmt.Errorf("network namespace %q: %w (see ip netns list)", name, err)
	}
	return h, nil
}

// Do runs fn in network namespace name ("" runs it right here).
func Do(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	target, err := Open(name)
	if err != nil {
		return err
	}
	defer target.Close()
	return onThread(func() error {
		if err := netns.Set(target); err != nil {
			return fmt.Errorf("enter network namespace %q: %w", name, err)
		}
		return fn()
	})
}

// New creates a new, unnamed network namespace without moving the caller into it. The handle keeps
// the namespace alive: it disappears, with everything in it, once the handle is closed and nothing
// else holds it.
func New() (netns.NsHandle, error) {
	ns := netns.None()
	err := onThread(func() error {
		var err error
		ns, err = netns.New() // unshare(CLONE_NEWNET): this thread is now in it
		if err != nil {
			return fmt.Errorf("create a network namespace: %w", err)
		}
		return nil
	})
	return ns, err
}

// onThread runs fn on a thread of its own, locked, and moves the thread back to its network
// namespace afterwards (fn may change it). Should moving back fail, the goroutine ends with its
// thread still locked and Go retires that thread: no goroutine ever runs in the wrong namespace.
func onThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("read the current network namespace: %w", err)
			return
		}
		defer orig.Close()
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
