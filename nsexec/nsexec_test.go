package nsexec

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// Needs root (make unit runs as root): it creates network namespaces.
func TestDoAndNew(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	here, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()

	ns, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if ns.Equal(here) {
		t.Fatal("New returned the caller's namespace")
	}
	if now, _ := netns.Get(); !now.Equal(here) {
		t.Fatal("New moved the caller")
	}

	name := fmt.Sprintf("tsnnsexec%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", name).Run()
	named, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer named.Close()
	var inside bool
	if err := Do(name, func() error {
		cur, err := netns.Get()
		if err != nil {
			return err
		}
		defer cur.Close()
		inside = cur.Equal(named)
		return nil
	}); err != nil || !inside {
		t.Fatalf("Do: inside %v, %v", inside, err)
	}
	if now, _ := netns.Get(); !now.Equal(here) {
		t.Fatal("Do moved the caller")
	}
	if err := Do("tsn-no-such-ns", func() error { return nil }); err == nil {
		t.Error("Do in a namespace that does not exist")
	}
}
