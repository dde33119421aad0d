package main

import (
	"strings"
	"testing"
)

// The libraries name a parameter in their own words (sender: "cycle 0s: ..."); tsnctl names the
// flag the user typed, in every command.
func TestErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "--dest", "127.0.0.1:9", "--cycle", "0"}, "--cycle 0s: must be positive, e.g. 2ms"},
		{[]string{"send", "--dest", "127.0.0.1:9", "--txtime", "--wake-advance", "0"}, "--wake-advance 0s: in txtime mode"},
		{[]string{"send", "--dest", "127.0.0.1:9", "--count", "-1"}, "--count -1: give a number of packets, or 0 to send until --duration or Ctrl-C"},
		{[]string{"send", "--dest", "nowhere"}, `--dest "nowhere": want an IPv4 host:port`},
		{[]string{"send", "--dest", "127.0.0.1:9", "--raw", "--dest-mac", "02:00:00:00:00:01"}, "--raw: needs --iface"},
		{[]string{"recv", "--hw-timestamps"}, "--hw-timestamps: needs --iface"},
		{[]string{"send", "--dest", "127.0.0.1:9", "--window", "5"}, `invalid argument "5" for "--window" flag: want START,END offsets in the cycle`},
		{[]string{"send", "--dest", "127.0.0.1:9", "--on-sync-loss", "drop"}, `invalid argument "drop" for "--on-sync-loss" flag: use mark or pause`},
		{[]string{"send", "--dest", "127.0.0.1:9", "--raw", "--iface", "lo"}, `--dest-mac "": want a MAC address`},
		{[]string{"calibrate", "--interval", "0"}, "--interval 0s: must be positive"},
		{[]string{"calibrate", "--loops", "5", "--rounds", "9", "--compare-cyclictest"}, "--rounds 9: from 1 to --loops (5)"},
		{[]string{"analyze", "--warmup", "soon", "x.log"}, `--warmup "soon": want a number of packets`},
		{[]string{"analyze", "--sla", "lost=0", "x.log"}, `--sla "lost=0": want INDICATOR.STAT OP VALUE`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := run(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}
