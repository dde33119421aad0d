package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/configs"
)

const streamsFile = `interfaces:
  - name: eth1
    channels: 4
    plan: {etf-delta: 50us, best-effort: 50}
streams:
  - {name: control, interface: eth1, dest: 10.0.0.2:7788, vlan: 3, pcp: 6, period: 2ms, size: 64, offset: 1200us, max-latency: 100us}
  - {name: fast, interface: eth1, dest: 10.0.0.3:7788, vlan: 3, pcp: 5, period: 500us, size: 256, offset: 100us, max-latency: 200us}
`

// tsnctl plan writes a configuration that lint takes as written by hand, and the table; lint and
// apply --dry-run read the streams file itself the same way (one expansion); a set that does not
// fit is refused naming the stream and the constraint.
func TestPlanCommand(t *testing.T) {
	in := writeFile(t, streamsFile)
	dir := t.TempDir()
	planned, table := filepath.Join(dir, "planned.yaml"), filepath.Join(dir, "table.txt")
	if out, err := run(t, "plan", "-f", in, "-o", planned, "--table", table); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(planned)
	if strings.Contains(string(b), "streams") || !strings.Contains(string(b), "cycle-time: 2ms") {
		t.Errorf("planned configuration:\n%s", b)
	}
	tb, _ := os.ReadFile(table)
	for _, want := range []string{"control  eth1", "[1.15ms, 1.201072ms)", "fast ", "cycle of eth1: 2ms"} {
		if !strings.Contains(string(tb), want) {
			t.Errorf("the table has no %q:\n%s", want, tb)
		}
	}
	for _, f := range []string{planned, in} {
		if out, err := run(t, "lint", "-f", f); err != nil || !strings.Contains(out, "no findings") {
			t.Errorf("lint %s: %v\n%s", filepath.Base(f), err, out)
		}
	}
	tight := writeFile(t, strings.Replace(streamsFile, "max-latency: 100us", "max-latency: 500ns", 1))
	for _, c := range [][]string{{"plan", "-f", tight}, {"lint", "-f", tight}} {
		if _, err := run(t, c...); err == nil || !strings.Contains(err.Error(), "plan: stream control on eth1: deadline") {
			t.Errorf("%s of a set that does not fit: %v", c[0], err)
		}
	}
}

// --svg and --png draw the plan's cycle in the format of the flag: the streams are named in the
// SVG, the PNG is a PNG; a file name of another extension is refused before anything is written,
// naming the flag and the value; a file without streams has no schedule to draw.
func TestPlanDrawsTheCycle(t *testing.T) {
	in := writeFile(t, streamsFile)
	dir := t.TempDir()
	svg, png := filepath.Join(dir, "cycle.svg"), filepath.Join(dir, "cycle.PNG")
	if out, err := run(t, "plan", "-f", in, "--svg", svg, "--png", png, "--table", filepath.Join(dir, "t.txt")); err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	s, _ := os.ReadFile(svg)
	p, _ := os.ReadFile(png)
	if !strings.HasPrefix(string(s), "<?xml") || !strings.Contains(string(s), ">control</text>") || !strings.Contains(string(s), ">fast</text>") {
		t.Errorf("cycle.svg:\n%.500s", s)
	}
	if !strings.HasPrefix(string(p), "\x89PNG\r\n") {
		t.Errorf("cycle.PNG is not a PNG: %.8q", p)
	}
	wrong := filepath.Join(dir, "wrong.png")
	for _, c := range []struct{ args []string }{
		{[]string{"--svg", wrong}},
		{[]string{"--png", filepath.Join(dir, "cycle.svg.txt")}},
		{[]string{"--png", filepath.Join(dir, "noext")}},
	} {
		_, err := run(t, append([]string{"plan", "-f", in}, c.args...)...)
		want := c.args[0] + ` "` + c.args[1] + `": want a file name ending in .` + c.args[0][2:]
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", c.args, err, want)
		}
	}
	if _, err := os.Stat(wrong); err == nil {
		t.Errorf("a refused --svg wrote %s", wrong)
	}
	plain := writeFile(t, "interfaces:\n  - name: eth1\n")
	if _, err := run(t, "plan", "-f", plain, "--png", filepath.Join(dir, "none.png")); err == nil || !strings.Contains(err.Error(), "--png: no schedule to draw") {
		t.Errorf("a configuration without streams: %v", err)
	}
	cbs, _ := configs.Examples.ReadFile("cbs-streams.yaml")
	if _, err := run(t, "plan", "-f", writeFile(t, string(cbs)), "--svg", filepath.Join(dir, "cbs.svg")); err == nil || !strings.Contains(err.Error(), "--svg: no schedule to draw: the streams have a class") {
		t.Errorf("credit-shaped streams: %v", err)
	}
}
