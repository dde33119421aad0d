package mgmt

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	ptp "github.com/facebook/time/ptp/protocol"
	"github.com/tsnctl/tsnctl/ptp/internal/ptptest"
)

// The client against a real ptp4l (linuxptp from Debian), gPTP profile, software timestamps,
// free_running: what it reads matches what pmc reads.
func TestRealPtp4l(t *testing.T) {
	pair := ptptest.NewPair(t)
	dir := t.TempDir()
	gmUDS, nodeUDS := filepath.Join(dir, "gm.sock"), filepath.Join(dir, "node.sock")
	ptptest.Grandmaster(t, pair, gmUDS)
	plan, _ := ptptest.Node(t, pair, nodeUDS, "")

	c, err := Dial(nodeUDS, dir, plan.TransportSpecific, plan.Domain, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Wait for the node to hear the grandmaster (announce every 2 s, timeout 3 announces).
	var pds *PortDataSetTLV
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tlv, err := c.Get(ptp.IDPortDataSet, 1)
		if err == nil {
			pds = tlv.(*PortDataSetTLV)
			if pds.PortState == ptp.PortStateUncalibrated || pds.PortState == ptp.PortStateSlave {
				break
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	if pds == nil || (pds.PortState != ptp.PortStateUncalibrated && pds.PortState != ptp.PortStateSlave) {
		t.Fatalf("the node never followed the grandmaster: %+v", pds)
	}
	ts, err := c.Get(ptp.IDTimeStatusNP, AllPorts)
	if err != nil {
		t.Fatal(err)
	}
	np, err := c.Get(IDPortDataSetNP, 1)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := c.Get(ptp.IDTimePropertiesDataSet, AllPorts)
	if err != nil {
		t.Fatal(err)
	}
	pmc := ptptest.Sh(t, "pmc", "-u", "-b", "0", "-t", "1", "-s", nodeUDS, "-i", filepath.Join(dir, "pmc.sock"),
		"GET PORT_DATA_SET", "GET TIME_STATUS_NP", "GET PORT_DATA_SET_NP", "GET TIME_PROPERTIES_DATA_SET")
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(name) + `\s+(\S+)`).FindStringSubmatch(pmc)
		if m == nil {
			t.Fatalf("pmc printed no %s:\n%s", name, pmc)
		}
		return m[1]
	}
	tsn := ts.(*ptp.TimeStatusNPTLV)
	npt := np.(*PortDataSetNPTLV)
	tpt := tp.(*TimePropertiesTLV)
	if got, want := tsn.GMIdentity.String(), field("gmIdentity"); got != want {
		t.Errorf("gmIdentity %s, pmc %s", got, want)
	}
	if got := strconv.FormatUint(uint64(npt.NeighborPropDelayThresh), 10); got != field("neighborPropDelayThresh") || got != "100000000" {
		t.Errorf("neighborPropDelayThresh %s, pmc %s", got, field("neighborPropDelayThresh"))
	}
	if got := strconv.Itoa(int(npt.ASCapable)); got != field("asCapable") {
		t.Errorf("asCapable %s, pmc %s", got, field("asCapable"))
	}
	if got := strconv.Itoa(int(tpt.CurrentUTCOffset)); got != field("currentUtcOffset") {
		t.Errorf("currentUtcOffset %s, pmc %s", got, field("currentUtcOffset"))
	}
	if got := strconv.Itoa(int(pds.LogSyncInterval)); got != field("logSyncInterval") || got != "-3" {
		t.Errorf("logSyncInterval %s, pmc %s", got, field("logSyncInterval"))
	}
	if tsn.GMPresent != 1 {
		t.Errorf("gmPresent %d", tsn.GMPresent)
	}
	t.Logf("node: %s, peer delay %.0f ns, GM %s, asCapable %d, UTC offset %d; pmc agrees", pds.PortState, pds.PeerMeanPathDelay.Nanoseconds(),
		tsn.GMIdentity, npt.ASCapable, tpt.CurrentUTCOffset)

	// The same ptp4l with transportSpecific 0: Probe names the right value.
	c0, err := Dial(nodeUDS, dir, 0, plan.Domain, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c0.Close()
	if err := c0.Probe(); err == nil || !strings.Contains(err.Error(), "answers those with 1") {
		t.Errorf("probe with transportSpecific 0: %v", err)
	}
}
