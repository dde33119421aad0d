package main

import (
	"testing"

	"github.com/tsnctl/tsnctl/sender"
)

// A plain sender (the seed's case 1) writes no window into its log: analyze would otherwise judge
// every packet premature against --window's default, which plain sends never aimed at.
func TestSendParamsWindowOnlyWithTxtime(t *testing.T) {
	cfg := sender.Config{Timing: sender.Timing{Cycle: 2e6, WindowStart: 1.2e6, WindowEnd: 1.3e6, Offset: 5e4}}
	if p := sendParams(cfg, ""); p["window_start_ns"] != nil || p["window_end_ns"] != nil || p["mode"] != "plain" {
		t.Errorf("plain: %v", p)
	}
	cfg.Timing.Txtime = true
	if p := sendParams(cfg, "v0"); p["window_start_ns"] != int64(1.2e6) || p["window_end_ns"] != int64(1.3e6) || p["offset_ns"] != int64(5e4) {
		t.Errorf("txtime: %v", p)
	}
}
