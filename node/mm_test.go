package node

import (
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/nic"
	"github.com/tsnctl/tsnctl/taprio"
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

// An ETF at the root of a single-queue device: installed at the root under E0FF:, kept when it is
// as the file says, replaced under the other handle when it is not (ETF has no change operation),
// deleted by reset; a taprio the node had is deleted first.
func TestPlanRootETF(t *testing.T) {
	c, err := configs.Parse("r.yaml", []byte("interfaces:\n  - name: v0\n    etf:\n      - {queue: 0, clockid: CLOCK_TAI, delta: 200us, skip-sock-check: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := Resolve(c, nil)[0]
	if w.RootETF == nil || len(w.ETF) != 0 || w.RootHandle() != 0 {
		t.Fatalf("resolved %+v", w)
	}
	fresh := &Live{Name: "v0", Ifindex: 2}
	st := Plan(w, fresh, "")
	if len(st) != 1 || st[0].Action != ReplaceRoot || st[0].Command != "tc qdisc replace dev v0 parent root handle e0ff: etf clockid CLOCK_TAI delta 200000 skip_sock_check" {
		t.Fatalf("plan %+v", st)
	}
	live := &Live{Name: "v0", Ifindex: 2, RootETF: &w.RootETF.Options, RootETFHandle: 0xE0FF}
	if st := Plan(w, live, ""); len(st) != 0 {
		t.Errorf("as the file says: %+v", st)
	}
	other := w.RootETF.Options
	other.Delta = 1
	live.RootETF = &other
	if st := Plan(w, live, ""); len(st) != 1 || st[0].RootETF == nil || st[0].RootETF.Handle != 0xE8FF0000 {
		t.Errorf("another delta: %+v", st)
	}
	if st := ResetPlan(w, live, ""); len(st) != 1 || st[0].Action != DeleteRoot {
		t.Errorf("reset: %+v", st)
	}
	tap := &Live{Name: "v0", Ifindex: 2, Taprio: &taprio.Options{}, TaprioHandle: 0x100}
	if st := Plan(w, tap, ""); len(st) != 2 || st[0].Action != DeleteRoot || st[1].RootETF == nil {
		t.Errorf("over a taprio: %+v", st)
	}
}
