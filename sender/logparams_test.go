package sender

import "testing"

// A plain sender (the seed's case 1) writes no window into its log: analyze would otherwise judge
// every packet premature against --window's default, which plain sends never aimed at.
func TestLogParamsWindowOnlyWithTxtime(t *testing.T) {
	cfg := Config{Timing: Timing{Cycle: 2e6, WindowStart: 1.2e6, WindowEnd: 1.3e6, Offset: 5e4}}
	if p := cfg.LogParams(""); p.WindowStart != 0 || p.WindowEnd != 0 || p.Mode != "plain" {
		t.Errorf("plain: %+v", p)
	}
	if _, _, ok := cfg.LogParams("").Window(); ok {
		t.Error("plain: a window")
	}
	cfg.Timing.Txtime = true
	p := cfg.LogParams("v0")
	if p.WindowStart != 1.2e6 || p.WindowEnd != 1.3e6 || p.Offset != 5e4 || p.Mode != "txtime" || p.FromQdisc != "v0" {
		t.Errorf("txtime: %+v", p)
	}
	if s, e, ok := p.Window(); !ok || s != 1.2e6 || e != 1.3e6 {
		t.Errorf("txtime: window %d..%d %v", s, e, ok)
	}
}
