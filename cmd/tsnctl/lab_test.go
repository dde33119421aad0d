//go:build lab

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The command-line flow in the lab: dry run changes nothing, apply, show's output applies again
// with nothing to change (YAML and JSON), reset removes what the file made.
func TestLabCLIFlow(t *testing.T) {
	if os.Getenv("TSNCTL_LAB") != "1" {
		t.Fatal("lab only")
	}
	sh := func(args ...string) string {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	sh("ip", "netns", "add", "cli")
	defer exec.Command("ip", "netns", "del", "cli").Run()
	sh("ip", "-n", "cli", "link", "add", "name", "v0", "numtxqueues", "4", "numrxqueues", "4", "type", "veth",
		"peer", "name", "v1", "numtxqueues", "4", "numrxqueues", "4")
	seed, _ := os.ReadFile("../../configs/seed.yaml")
	f := writeFile(t, strings.ReplaceAll(string(seed), "eth1", "v0"))
	state := func() string { return sh("tc", "-n", "cli", "qdisc", "show") + sh("ip", "-n", "cli", "link", "show") }

	before := state()
	out, err := run(t, "apply", "--netns", "cli", "--dry-run", "-f", f)
	if err != nil || !strings.Contains(out, "would apply (dry run) 4 change(s)") || !strings.Contains(out, "tc -n cli qdisc replace dev v0 parent root handle 100: taprio") ||
		!strings.Contains(out, "+ restart the gates of taprio 100:") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if state() != before {
		t.Fatal("--dry-run changed the namespace")
	}
	if out, err := run(t, "apply", "--netns", "cli", "-f", f); err != nil || !strings.Contains(out, "applied and verified") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, format := range []string{"yaml", "json"} {
		shown, err := run(t, "show", "--netns", "cli", "-o", format)
		if err != nil {
			t.Fatal(err)
		}
		out, err := run(t, "apply", "--netns", "cli", "-f", writeFile(t, shown))
		if err != nil || !strings.Contains(out, "v0: nothing to change") {
			t.Errorf("re-applying show -o %s: %v\n%s\n%s", format, err, out, shown)
		}
	}
	if out, err := run(t, "reset", "--netns", "cli", "-f", f); err != nil || !strings.Contains(out, "delete taprio 100:") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	if s := state(); strings.Contains(s, "taprio") || strings.Contains(s, "v0.3") {
		t.Errorf("reset left:\n%s", s)
	}
}
