package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
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
