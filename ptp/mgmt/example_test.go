package mgmt_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	ptp "github.com/facebook/time/ptp/protocol"
	"github.com/tsnctl/tsnctl/ptp/internal/ptptest"
	"github.com/tsnctl/tsnctl/ptp/mgmt"
)

// Asking a ptp4l for its datasets, as pmc does: here a real ptp4l (Debian's linuxptp), started
// by the example as a gPTP grandmaster with software timestamps and free_running 1 (it never
// steers a clock) on a veth in network namespaces of its own. Its management socket is in a
// temporary directory, and the client's socket beside it.
func ExampleClient_Get() {
	uds, stop := grandmaster()
	defer stop()

	// transportSpecific 1 and domain 0: gPTP's, as in the ptp4l configuration; ptp4l ignores
	// requests with others (Probe finds out which it answers).
	c, err := mgmt.Dial(uds, filepath.Dir(uds), 1, 0, 500*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	tlv, err := c.Get(ptp.IDDefaultDataSet, mgmt.AllPorts)
	if err != nil {
		fmt.Println(err)
		return
	}
	dds := tlv.(*ptp.DefaultDataSetTLV) // priority1 100: tsnctl's grandmaster role (others have 128)
	fmt.Printf("DEFAULT_DATA_SET: %d port, domain %d, priority1 %d, clockClass %d\n", dds.NumberPorts, dds.DomainNumber,
		dds.Priority1, dds.ClockQuality.ClockClass)
	// A clock identity from a MAC address: its 3 first bytes, ff fe, its 3 last ones.
	fmt.Println("clockIdentity like 020000.fffe.000001:", regexp.MustCompile(`^[0-9a-f]{6}\.fffe\.[0-9a-f]{6}$`).MatchString(dds.ClockIdentity.String()))

	// Port 1 listens for another grandmaster's announces; none comes, so after the announce
	// receipt timeout (3 s) it takes the master role.
	var pds *mgmt.PortDataSetTLV
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		tlv, err := c.Get(ptp.IDPortDataSet, 1)
		if err != nil {
			fmt.Println(err)
			return
		}
		if pds = tlv.(*mgmt.PortDataSetTLV); pds.PortState == ptp.PortStateMaster {
			break
		}
	}
	fmt.Printf("PORT_DATA_SET: port %d of the same clock: %v, %s, logSyncInterval %d, delay mechanism %d (P2P), version %d\n",
		pds.PortIdentity.PortNumber, pds.PortIdentity.ClockIdentity == dds.ClockIdentity, pds.PortState, pds.LogSyncInterval,
		pds.DelayMechanism, pds.VersionNumber)

	tlv, err = c.Get(mgmt.IDPortDataSetNP, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	np := tlv.(*mgmt.PortDataSetNPTLV)
	fmt.Printf("PORT_DATA_SET_NP: neighborPropDelayThresh %d ns, asCapable %d (no peer answers its peer-delay requests)\n",
		np.NeighborPropDelayThresh, np.ASCapable)
	// Output:
	// DEFAULT_DATA_SET: 1 port, domain 0, priority1 100, clockClass 248
	// clockIdentity like 020000.fffe.000001: true
	// PORT_DATA_SET: port 1 of the same clock: true, MASTER, logSyncInterval -3, delay mechanism 2 (P2P), version 2
	// PORT_DATA_SET_NP: neighborPropDelayThresh 100000000 ns, asCapable 0 (no peer answers its peer-delay requests)
}

// grandmaster starts the ptp4l with ptptest (which refuses a configuration without free_running 1)
// and returns its management socket, once there, and what stops it.
func grandmaster() (uds string, stop func()) {
	var o ptptest.Outside
	dir, err := os.MkdirTemp("", "mgmt-example-")
	if err != nil {
		panic(err)
	}
	o.Cleanup(func() { os.RemoveAll(dir) })
	uds = filepath.Join(dir, "ptp4l")
	ptptest.Grandmaster(&o, ptptest.NewPair(&o), uds)
	// ptp4l makes its socket once it has started.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(uds); err == nil {
			break
		} else if time.Now().After(deadline) {
			o.Fatalf("ptp4l made no socket %s in 10 s: %v", uds, err)
		}
	}
	return uds, o.Close
}
