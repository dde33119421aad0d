//go:build lab

package node

import (
	"errors"
	"os/exec"
	"testing"

	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/nsexec"
	"github.com/tsnctl/tsnctl/testbed/labtest"
	"golang.org/x/sys/unix"
)

// (In package node, whose lab tests boot a guest anyway: one boot less for make test.)
//
// The MAC merge layer's requests against the lab kernel's own policy (Debian's 6.12; no lab device
// has a MAC merge layer, and Debian 12's ethtool 6.1 has no --set-mm to compare with): a
// well-formed read and change reach the driver, which has none (EOPNOTSUPP); a change out of the
// policy's range is refused before the driver, with the kernel's message and the offset of the
// attribute it names; and the veth has no PTP clock.
func TestLabMACMergeAgainstTheKernelsPolicy(t *testing.T) {
	labtest.Run(t, "ip", "netns", "add", "mm")
	t.Cleanup(func() { exec.Command("ip", "netns", "del", "mm").Run() })
	labtest.Run(t, "ip", "-n", "mm", "link", "add", "v0", "type", "veth", "peer", "name", "v1")
	ns, err := nsexec.Open("mm")
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	e, err := nic.DialEthtool(int(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	if _, err := e.MACMerge("v0"); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("read: %v, want EOPNOTSUPP (a veth has no MAC merge layer)", err)
	}
	on, verify, frag := true, uint32(10), uint32(60)
	if err := e.SetMACMerge("v0", nic.MACMergeUpdate{PMACEnabled: &on, TxEnabled: &on, VerifyTime: &verify, TxMinFragSize: &frag}); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("a well-formed change: %v, want the driver's EOPNOTSUPP", err)
	}
	for _, c := range []struct {
		name   string
		u      nic.MACMergeUpdate
		offset int
	}{
		// The request: netlink header (16), generic netlink header (4), the header nest naming
		// v0 (12), then the attribute: at 32.
		{"verify-time 0 (the policy's range: 1-128 ms)", nic.MACMergeUpdate{VerifyTime: ptr(uint32(0))}, 32},
		{"tx-min-frag-size 1000 (60-252 bytes)", nic.MACMergeUpdate{TxMinFragSize: ptr(uint32(1000))}, 32},
	} {
		err := e.SetMACMerge("v0", c.u)
		var ne *nic.Error
		if !errors.As(err, &ne) || !errors.Is(err, unix.ERANGE) || ne.Kernel != "integer out of range" || ne.Offset != c.offset {
			t.Errorf("%s: %#v, want ERANGE, \"integer out of range\" at offset %d", c.name, err, c.offset)
		} else {
			t.Logf("%s: %v (offset %d)", c.name, err, ne.Offset)
		}
	}
	if phc, err := e.PHCIndex("v0"); err != nil || phc != -1 {
		t.Errorf("PHC of a veth: %d, %v; want -1", phc, err)
	}
}
