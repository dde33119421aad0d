package node

import (
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/nic"
)

// A file's mac-merge: becomes one ethtool --set-mm step with only what differs from the NIC's
// state; the NIC as the file says plans nothing; a NIC whose state is unknown gets every key.
func TestPlanMACMerge(t *testing.T) {
	seed, _ := configs.Examples.ReadFile("seed.yaml")
	text := strings.Replace(string(seed), "channels: 4 ", "channels: 4\n    mac-merge: {pmac-enabled: true, tx-enabled: true, verify-enabled: true, verify-time: 10}\n   ", 1)
	c, err := configs.Parse("mm.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if err := lint.Err(lint.Check(c, lint.Facts{})); err != nil {
		t.Fatal(err)
	}
	w := Resolve(c, nil)[0]
	live := liveAsWanted(seedWants(t, 0)[0])
	live.MM = &nic.MACMerge{PMACEnabled: true, VerifyTime: 10, TxMinFragSize: 60, MaxVerifyTime: 128}
	st := Plan(w, live, "ns1")
	if len(st) != 1 || st[0].Action != SetMACMerge || st[0].Command != "ip netns exec ns1 ethtool --set-mm eth1 tx-enabled on verify-enabled on" ||
		st[0].Summary != "MAC merge layer tx-enabled on verify-enabled on" {
		t.Fatalf("plan %+v", st)
	}
	live.MM.TxEnabled, live.MM.VerifyEnabled = true, true
	if st := Plan(w, live, ""); len(st) != 0 {
		t.Errorf("as the file says: %+v", st)
	}
	live.MM = nil
	if st := Plan(w, live, ""); len(st) != 1 || !strings.HasSuffix(st[0].Command, "--set-mm eth1 pmac-enabled on tx-enabled on verify-enabled on verify-time 10") {
		t.Errorf("state unknown: %+v", st)
	}
}
