package lint

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The corpus (lint/testdata/corpus) holds configuration files with the verdict they must get, judged
// by `tsnctl lint` (TestCorpus) and by the TSNConfig CRD in a real API server (deploy/kubernetes'
// TestCRDAgreesWithLint): one set of examples for the two places that validate a configuration. Each
// file starts with comment lines: "# want: ok" or "# want: RULE" (the rule that refuses it), and may
// say "# field: PATH", the field under spec.config the API server's refusal names. Files named node-*
// hold what only a node can judge, with the node's facts: "# facts: txqueues IFACE=N",
// "# facts: link NAME=KIND", "# facts: speed IFACE=MBPS" or "# facts: phc IFACE=yes|no". Lint passes them without facts (as the
// agent checks a file before it looks at the node) and refuses them with; the CRD accepts them. Everything lint refuses without
// facts the CRD refuses.
//
// Streams: a configuration is planned before lint sees it (plan.Parse, as every command and the
// agent read one), and two refusals come before lint: "# want: streams", the loader refuses the
// streams: or a plan: section (configs; the refusal's field starts with the "# field:" path), and
// "# want: plan", the planner refuses the streams, with "# constraint: NAME" the constraint it
// names (plan.Error). Files named plan-* hold what only planning can judge (does it fit): the CRD
// accepts them, the agent and tsnctl fleet check refuse them.

// CorpusCase is one file of the corpus.
type CorpusCase struct {
	Name  string // file name without .yaml
	Want  string // "ok" or a rule name
	Field string // what the API server's refusal names, under spec.config
	Facts Facts  // node-* cases: the node's facts that make lint refuse them
	// Constraint is what the planner's refusal names (want plan).
	Constraint string
	Data       []byte
}

// NodeOnly reports whether only a node can judge the case (the CRD takes it).
func (c CorpusCase) NodeOnly() bool { return strings.HasPrefix(c.Name, "node-") }

// PlanOnly reports whether only planning can judge the case (the CRD takes it, the agent refuses it).
func (c CorpusCase) PlanOnly() bool { return strings.HasPrefix(c.Name, "plan-") }

// CRDTakes reports whether the API server takes the case whatever its verdict: it is refused only on
// a node (NodeOnly) or by planning (PlanOnly).
func (c CorpusCase) CRDTakes() bool { return c.Want == "ok" || c.NodeOnly() || c.PlanOnly() }

// ReadCorpus reads the corpus files in dir.
func ReadCorpus(dir string) ([]CorpusCase, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no corpus in %s (%v)", dir, err)
	}
	var out []CorpusCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c := CorpusCase{Name: strings.TrimSuffix(filepath.Base(f), ".yaml"), Data: b}
		for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan() && strings.HasPrefix(sc.Text(), "#"); {
			if v, ok := strings.CutPrefix(sc.Text(), "# want: "); ok {
				c.Want = v
			}
			if v, ok := strings.CutPrefix(sc.Text(), "# field: "); ok {
				c.Field = v
			}
			if v, ok := strings.CutPrefix(sc.Text(), "# constraint: "); ok {
				c.Constraint = v
			}
			if v, ok := strings.CutPrefix(sc.Text(), "# facts: "); ok {
				kind, kv, _ := strings.Cut(v, " ")
				k, val, _ := strings.Cut(kv, "=")
				switch kind {
				case "txqueues":
					n, err := strconv.Atoi(val)
					if err != nil {
						return nil, fmt.Errorf("%s: %q: want txqueues IFACE=N", f, sc.Text())
					}
					c.Facts.TxQueues = map[string]int{k: n}
				case "link":
					c.Facts.Links = map[string]Link{k: {Kind: val}}
				case "phc":
					c.Facts.PHC = map[string]bool{k: val == "yes"}
				case "speed":
					n, err := strconv.Atoi(val)
					if err != nil {
						return nil, fmt.Errorf("%s: %q: want speed IFACE=MBPS", f, sc.Text())
					}
					c.Facts.SpeedMbps = map[string]int{k: n}
				default:
					return nil, fmt.Errorf("%s: %q: want txqueues IFACE=N, link NAME=KIND, speed IFACE=MBPS or phc IFACE=yes|no", f, sc.Text())
				}
			}
		}
		if c.Want == "" {
			return nil, fmt.Errorf("%s: no '# want:' line", f)
		}
		out = append(out, c)
	}
	return out, nil
}
