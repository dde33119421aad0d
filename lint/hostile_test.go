package lint

import (
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/clock"
)

// taprioWith is a one-interface file whose taprio has the given extra keys and schedule.
func taprioWith(extra, schedule string) string {
	return "interfaces:\n  - name: eth1\n    taprio:\n      num-tc: 2\n      map: [0, 1]\n      queues: [\"1@0\", \"1@1\"]\n" +
		"      clockid: CLOCK_TAI\n" + extra + "      schedule:\n" + schedule
}

// Files that once made a rule divide by zero or overflow: every one is refused with the rule that
// names the real mistake, and no rule panics (the agent's reload runs the same Check).
func TestHostileSchedules(t *testing.T) {
	two := "        - {cmd: S, gates: 0x1, interval: 1ms}\n        - {cmd: S, gates: 0x2, interval: 1ms}\n"
	cases := []struct {
		name, text string
		rule, want string
	}{
		{"intervals sum to 0 with base-time-offset", taprioWith("      base-time: auto\n      base-time-offset: 100us\n",
			"        - {cmd: S, gates: 0x1, interval: 0s}\n        - {cmd: S, gates: 0x2, interval: 0s}\n"), "interval", "must be positive"},
		{"intervals cancel out (1ms, -1ms) with base-time-offset", taprioWith("      base-time: auto\n      base-time-offset: 100us\n",
			"        - {cmd: S, gates: 0x1, interval: 1ms}\n        - {cmd: S, gates: 0x2, interval: -1ms}\n"), "interval", "must be positive"},
		{"negative sum with a negative offset", taprioWith("      base-time: auto\n      base-time-offset: -5us\n",
			"        - {cmd: S, gates: 0x1, interval: -1ms}\n"), "interval", "must be positive"},
		{"cycle-time 0 with base-time-offset", taprioWith("      base-time: auto\n      cycle-time: 0s\n      base-time-offset: 1us\n", two), "cycle-time", "the intervals sum to 2ms"},
		{"negative cycle-time with base-time-offset", taprioWith("      base-time: auto\n      cycle-time: -2ms\n      base-time-offset: 1us\n", two), "cycle-time", "the intervals sum to 2ms"},
		{"base-time plus offset overflows", taprioWith("      base-time: 9223372036854775000\n      base-time-offset: 1ms\n", two), "base-time", "passes the largest time"},
		{"largest base-time plus largest offset", taprioWith("      base-time: 9223372036854775807\n      base-time-offset: 1999999ns\n", two), "base-time", "passes the largest time"},
		{"negative offset, fix modulo the cycle is not negative", taprioWith("      base-time: auto\n      base-time-offset: -1us\n", two), "base-time-offset", "e.g. 1999us"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := Check(load(t, c.text), Facts{})
			if !HasErrors(fs) {
				t.Fatalf("accepted: %v", fs)
			}
			found := false
			for _, f := range fs {
				if f.Rule == c.rule && strings.Contains(f.String(), c.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s finding saying %q: %v", c.rule, c.want, fs)
			}
		})
	}
}

// A base-time far ahead of its clock is a warning under --live (Facts.Now), and nothing without it.
func TestBaseTimeAhead(t *testing.T) {
	two := "        - {cmd: S, gates: 0x1, interval: 1ms}\n        - {cmd: S, gates: 0x2, interval: 1ms}\n"
	now := clock.Snapshot{clock.TAI: 1795000000000000000, clock.Monotonic: 5e12}
	cases := []struct {
		name, extra string
		facts       Facts
		warn        bool
	}{
		{"a century ahead", "      base-time: 4950000000000000000\n", Facts{Now: now}, true},
		{"367 days ahead", "      base-time: 1826708800000000000\n", Facts{Now: now}, true},
		{"a day ahead", "      base-time: 1795086400000000000\n", Facts{Now: now}, false},
		{"in the past", "      base-time: 1000000000000000000\n", Facts{Now: now}, false},
		{"TAI time on CLOCK_MONOTONIC", "      base-time: 1795000000000000000\n", Facts{Now: now}, true},
		{"a century ahead, no live facts", "      base-time: 4950000000000000000\n", Facts{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := taprioWith(c.extra, two)
			if strings.Contains(c.name, "MONOTONIC") {
				text = strings.Replace(text, "CLOCK_TAI", "CLOCK_MONOTONIC", 1)
			}
			fs := Check(load(t, text), c.facts)
			var got []Finding
			for _, f := range fs {
				if f.Rule == "base-time-ahead" {
					got = append(got, f)
				}
			}
			if HasErrors(fs) {
				t.Errorf("errors: %v", fs)
			}
			if (len(got) > 0) != c.warn {
				t.Errorf("base-time-ahead findings %v, want a warning: %v", got, c.warn)
			}
			if c.warn && len(got) > 0 && (got[0].Severity != Warning || !strings.Contains(got[0].Msg, "days ahead")) {
				t.Errorf("finding %v", got[0])
			}
		})
	}
}
