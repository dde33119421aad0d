package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tsnctl/tsnctl/lint"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := execute(root)
	return out.String(), err
}

func TestCheckJSONShapeAndExitStatus(t *testing.T) {
	out, err := run(t, "check", "-o", "json", "--iface", "lo")
	var doc struct {
		Checks []map[string]any `json:"checks"`
		OK     *bool            `json:"ok"`
	}
	if jerr := json.Unmarshal([]byte(out), &doc); jerr != nil {
		t.Fatalf("not JSON: %v\n%s", jerr, out)
	}
	if doc.OK == nil || len(doc.Checks) < 9 {
		t.Fatalf("want ok and at least 9 checks, got %s", out)
	}
	failed := false
	names := map[string]bool{}
	for _, c := range doc.Checks {
		for _, k := range []string{"name", "status", "detail"} {
			if _, ok := c[k].(string); !ok {
				t.Errorf("check %v lacks string %q", c, k)
			}
		}
		names[c["name"].(string)] = true
		failed = failed || c["status"] == "fail"
	}
	for _, n := range []string{"kernel/taprio", "kernel/etf", "kernel/mqprio", "kernel/vlan", "iface/lo/queues",
		"iface/lo/timestamping", "clock/tai-offset", "ptp/linuxptp", "privileges"} {
		if !names[n] {
			t.Errorf("no check %s", n)
		}
	}
	var ee exitError
	if *doc.OK == failed || failed != (errors.As(err, &ee) && ee.code == 1) {
		t.Errorf("ok=%v, a check failed=%v, exit error %v: they must agree", *doc.OK, failed, err)
	}
}

func TestCheckRejectsUnknownFormat(t *testing.T) {
	_, err := run(t, "check", "-o", "xml")
	if err == nil || !strings.Contains(err.Error(), `-o "xml": use text or json`) {
		t.Errorf("got %v", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "tsnctl dev (commit ") {
		t.Errorf("%q %v", out, err)
	}
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := t.TempDir() + "/c.yaml"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLintCommand(t *testing.T) {
	out, err := run(t, "lint", "-f", "../../configs/seed.yaml")
	if err != nil || !strings.Contains(out, "no findings") {
		t.Errorf("seed: %q %v", out, err)
	}
	bad := writeFile(t, "interfaces:\n  - name: eth1\n    vlans: [{id: 0}]\n")
	out, err = run(t, "lint", "-f", bad)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out, "c.yaml:3: error [vlan-id] interfaces[0].vlans[0].id = 0") {
		t.Errorf("bad: %q %v", out, err)
	}
	out, err = run(t, "lint", "-o", "json", "-f", bad)
	var doc struct {
		Findings []map[string]any `json:"findings"`
		OK       bool             `json:"ok"`
	}
	if jerr := json.Unmarshal([]byte(out), &doc); jerr != nil || doc.OK || len(doc.Findings) != 1 || doc.Findings[0]["rule"] != "vlan-id" {
		t.Errorf("json: %q %v", out, jerr)
	}
	malformed := writeFile(t, "interfaces:\n  - name: eth1\n    taprio: {num-tc: four}\n")
	if _, err := run(t, "lint", "-f", malformed); err == nil || !strings.Contains(err.Error(), `c.yaml:3: interfaces[0].taprio.num-tc: "four": want a whole number`) {
		t.Errorf("malformed: %v", err)
	}
	out, _ = run(t, "lint", "--rules")
	for _, r := range lint.Rules {
		if !regexp.MustCompile(`(?m)^` + r.Name + ` +` + string(r.Severity) + ` +\S`).MatchString(out) {
			t.Errorf("lint --rules lacks %s (%s):\n%s", r.Name, r.Severity, out)
		}
	}
}

func TestApplyUnknownInterfaceChangesNothing(t *testing.T) {
	f := writeFile(t, "interfaces:\n  - name: nosuchif0\n    vlans: [{id: 3}]\n")
	_, err := run(t, "apply", "-f", f)
	if err == nil || !strings.Contains(err.Error(), "c.yaml:2: interfaces: interface nosuchif0") || !strings.Contains(err.Error(), "no such interface") {
		t.Errorf("got %v", err)
	}
	_, err = run(t, "apply", "--netns", "nosuchns", "-f", f)
	if err == nil || !strings.Contains(err.Error(), `network namespace "nosuchns"`) {
		t.Errorf("netns: %v", err)
	}
}

// Every command's -o refuses a format it does not write (lint used to take -o xml and exit 0).
func TestUnknownOutputFormatIsAnError(t *testing.T) {
	seed := writeFile(t, "interfaces:\n  - name: eth1\n")
	for _, args := range [][]string{{"lint", "-f", seed, "-o", "xml"}, {"check", "-o", "yaml"}, {"show", "-o", "text"},
		{"analyze", "-o", "csv", seed}, {"ptp", "status", "-o", "xml"}, {"dump", "-o", "xml", seed}} {
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "-o ") || !strings.Contains(err.Error(), ": use ") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// An interface entry without a name gets lint's finding, not "no such interface" from a device
// look-up of "".
func TestApplyShowsLintFindingForAMissingName(t *testing.T) {
	f := writeFile(t, "interfaces:\n  - vlans: [{id: 3}]\n")
	_, err := run(t, "apply", "--dry-run", "-f", f)
	if err == nil || !strings.Contains(err.Error(), "[interface-name] interfaces[0].name: missing") || strings.Contains(err.Error(), "no such interface") {
		t.Errorf("got %v", err)
	}
}

func TestFleetCheck(t *testing.T) {
	example := "../../deploy/kubernetes/example-fleet.yaml"
	out, err := run(t, "fleet", "check", "-f", example)
	if err != nil || !strings.Contains(out, "3 schedules, 0 with a problem") || !strings.Contains(out, "edge-2  line-a     eth1       1ms    auto       250us   250us  ok") {
		t.Fatalf("the example: %v\n%s", err, out)
	}
	// A fourth node, in its own TSNConfig with a base-time off the fleet's phase, and a fifth
	// that two TSNConfigs select.
	b, _ := os.ReadFile(example)
	off := strings.Replace(strings.Split(string(b), "---")[0], "name: line-a", "name: line-b", 1)
	off = strings.Replace(off, "tsnctl.io/line: a", "tsnctl.io/line: b", 1)
	off = strings.Replace(off, "base-time: auto", "base-time: 1795000000000000100", 1)
	extra := filepath.Join(t.TempDir(), "more.yaml")
	os.WriteFile(extra, []byte(off+`---
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-4", "labels": {"tsnctl.io/line": "b"}}}
---
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "edge-5", "labels": {"tsnctl.io/line": "b"}}}
---
{"apiVersion": "tsnctl.io/v1alpha1", "kind": "TSNConfig", "metadata": {"name": "edge-5"}, "spec": {"nodeNames": ["edge-5"], "config": {}}}
`), 0o644)
	out, err = run(t, "fleet", "check", "-f", example, "-f", extra, "-o", "json")
	var rows []map[string]any
	if jerr := json.Unmarshal([]byte(out), &rows); jerr != nil || err == nil || err.Error() != "exit status 1" {
		t.Fatalf("want JSON rows and exit 1: %v, %v\n%s", err, jerr, out)
	}
	problems := map[string]string{}
	for _, r := range rows {
		if p, ok := r["problem"].(string); ok {
			problems[r["node"].(string)] = p
		}
	}
	if len(problems) != 2 || !strings.Contains(problems["edge-4"], "its cycles start 100ns into the fleet's, not at its offset 0ns") ||
		!strings.Contains(problems["edge-5"], "TSNConfigs edge-5, line-b all select node edge-5") {
		t.Fatalf("problems: %v\n%s", problems, out)
	}
	if _, err := run(t, "fleet", "check", "-f", example, "--kubeconfig", "x"); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("%v", err)
	}
}
