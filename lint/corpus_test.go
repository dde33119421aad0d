package lint_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/plan"
)

// TestCorpus: lint gives every corpus file its verdict (a node-* case only with its facts), and reads
// the JSON form the API server hands the agent exactly as it reads the file.
func TestCorpus(t *testing.T) {
	corpus, err := lint.ReadCorpus("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			if c.Want != "ok" && c.Want != "streams" && c.Want != "plan" && !slices.ContainsFunc(lint.Rules, func(r *lint.Rule) bool { return r.Name == c.Want }) {
				t.Fatalf("want: %s is not a lint rule", c.Want)
			}
			if c.PlanOnly() != (c.Want == "plan" && c.Field == "") {
				t.Fatal("a plan-* case is one only the planner refuses (want: plan), with no field the API server names; " +
					"one the API server refuses too is a bad-* case with its field")
			}
			// As the agent reads it: parsed strictly, then its streams planned.
			cfg, err := plan.Parse(c.Name+".yaml", c.Data)
			var ce *configs.Error
			var pe *plan.Error
			switch {
			case c.Want == "streams":
				if !errors.As(err, &ce) || c.Field == "" || !strings.HasPrefix(ce.Field, c.Field) {
					t.Fatalf("want the loader's refusal of the streams (a field under %q), got %v", c.Field, err)
				}
				return
			case c.Want == "plan":
				if !errors.As(err, &pe) || pe.Constraint != c.Constraint || c.Constraint == "" {
					t.Fatalf("want the planner's refusal (constraint %q), got %v", c.Constraint, err)
				}
				return
			}
			var findings []lint.Finding
			if err == nil {
				findings = lint.Check(cfg, lint.Facts{})
			}
			if c.NodeOnly() {
				// Only the node's facts refuse it: without them lint (and so the CRD) passes it.
				if err != nil || lint.HasErrors(findings) {
					t.Fatalf("a node-* case that lint refuses without facts (%v %v): the CRD must refuse it too; rename it bad-*", err, findings)
				}
				if c.Facts.TxQueues == nil && c.Facts.Links == nil && c.Facts.SpeedMbps == nil && c.Facts.PHC == nil {
					t.Fatal("a node-* case without a '# facts:' line")
				}
				findings = lint.Check(cfg, c.Facts)
			}
			got := "ok"
			for _, f := range findings {
				if f.Severity == lint.Error {
					got = f.Rule
					if f.Rule == c.Want {
						break
					}
				}
			}
			if err != nil {
				got = "load error: " + err.Error()
				if c.Want == "interface-name" && strings.Contains(err.Error(), "name") {
					got = c.Want // the loader refuses names the kernel would (the rule's summary says so)
				}
			}
			if got != c.Want {
				t.Fatalf("want %s, lint says %s (findings %v)", c.Want, got, findings)
			}
			if err != nil {
				return
			}
			// The cluster stores the object as JSON: masks and handles stay strings, maps' keys
			// become strings, durations stay as written.
			js, err := yaml.YAMLToJSON(c.Data)
			if err != nil {
				t.Fatal(err)
			}
			fromJSON, err := plan.Parse(c.Name+".json", js)
			if err != nil {
				t.Fatalf("the JSON form is refused: %v\n%s", err, js)
			}
			a, _ := json.Marshal(cfg)
			b, _ := json.Marshal(fromJSON)
			if !bytes.Equal(a, b) {
				t.Fatalf("the JSON form reads differently:\n%s\n%s", a, b)
			}
		})
	}
}

// TestCorpusCoversEveryRule: each error rule that needs no facts has a bad-* case in the corpus, so
// that the CRD is tried against every refusal lint makes on its own.
func TestCorpusCoversEveryRule(t *testing.T) {
	corpus, err := lint.ReadCorpus("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range lint.Rules {
		if r.Severity != lint.Error || r.Name == "stream-windows" {
			// stream-windows judges planned schedules against their streams: the loader refuses a
			// hand-written schedule on an interface with streams, so no file makes it fire (its
			// tests build the configuration in memory: TestEveryRule, plan's TestLintChecksPlannedWindows).
			continue
		}
		if r.Name == "stream-speed" || r.Name == "offload" {
			// They judge only with the node's facts (link speed, PTP clock): a node-* case (the CRD takes it).
			if !slices.ContainsFunc(corpus, func(c lint.CorpusCase) bool { return c.Want == r.Name && c.NodeOnly() }) {
				t.Errorf("rule %s has no node-* case in lint/testdata/corpus", r.Name)
			}
			continue
		}
		if !slices.ContainsFunc(corpus, func(c lint.CorpusCase) bool { return c.Want == r.Name && !c.NodeOnly() }) {
			t.Errorf("rule %s has no bad-* case in lint/testdata/corpus", r.Name)
		}
	}
}
