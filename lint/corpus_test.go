package lint

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tsnctl/tsnctl/configs"
)

// TestCorpus: lint gives every corpus file its verdict, and reads the JSON form the API server hands
// the agent exactly as it reads the file.
func TestCorpus(t *testing.T) {
	corpus, err := ReadCorpus("testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			if c.Want != "ok" && !slices.ContainsFunc(Rules, func(r *Rule) bool { return r.Name == c.Want }) {
				t.Fatalf("want: %s is not a lint rule", c.Want)
			}
			cfg, err := configs.Parse(c.Name+".yaml", c.Data)
			var findings []Finding
			if err == nil {
				findings = Check(cfg, Facts{})
			}
			got := "ok"
			for _, f := range findings {
				if f.Severity == Error {
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
			fromJSON, err := configs.Parse(c.Name+".json", js)
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
