//go:build kube

// Tests of the manifests against a real control plane (testbed/controlplane): make kube-test.
package kubernetes

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/tsnctl/tsnctl/lint"
	"github.com/tsnctl/tsnctl/testbed/controlplane"
)

var tsnconfigs = schema.GroupVersionResource{Group: "tsnctl.io", Version: "v1alpha1", Resource: "tsnconfigs"}

// TestCRDAgreesWithLint: the API server takes a TSNConfig exactly when `tsnctl lint` takes its
// configuration without a node's facts, over lint's corpus (lint/testdata/corpus): the node-* cases,
// which only a node's facts refuse, it takes (the agent lints them on its node and reports them in
// status), and so the plan-* cases, which only planning refuses (the agent and fleet check plan).
// A refusal names the field; one of a rule across fields names the lint rule.
func TestCRDAgreesWithLint(t *testing.T) {
	cp := controlplane.Start(t, controlplane.Options{CRDs: []string{"../helm/tsnctl/crds"}})
	// The CRDs as a user applies them: accepted without a warning.
	cp.Kubectl(t, "", "apply", "--server-side", "--field-manager", "tsnctl-test", "-f", "../helm/tsnctl/crds")

	dyn := dynamic.NewForConfigOrDie(cp.Config)
	corpus, err := lint.ReadCorpus("../../lint/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		t.Run(c.Name, func(t *testing.T) {
			var config map[string]any
			if err := yaml.Unmarshal(c.Data, &config); err != nil {
				t.Fatal(err)
			}
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "tsnctl.io/v1alpha1",
				"kind":       "TSNConfig",
				"metadata":   map[string]any{"name": c.Name},
				"spec":       map[string]any{"nodeNames": []any{"edge-1"}, "config": config},
			}}
			_, err := dyn.Resource(tsnconfigs).Apply(context.Background(), c.Name, obj,
				metav1.ApplyOptions{FieldManager: "tsnctl-test", DryRun: []string{metav1.DryRunAll}})
			switch {
			case c.CRDTakes():
				if err != nil {
					t.Fatalf("refused (lint says %s): %v", c.Want, err)
				}
			case err == nil:
				t.Fatalf("accepted, but lint refuses it (%s)", c.Want)
			case strings.Contains(err.Error(), "failed to create typed patch object"):
				// Server-side apply refuses a key the schema does not know (kubectl's strict field
				// validation too; TestMisspeltKeysRefused) and two list entries with one key.
				if !strings.Contains(err.Error(), "spec.config."+c.Field) {
					t.Fatalf("the refusal does not name spec.config.%s: %v", c.Field, err)
				}
			case !apierrors.IsInvalid(err):
				t.Fatalf("refused, but not as invalid: %v", err)
			case !strings.Contains(err.Error(), "spec.config."+c.Field):
				t.Fatalf("the refusal does not name spec.config.%s: %v", c.Field, err)
			case (strings.HasSuffix(c.Field, "taprio") || strings.HasSuffix(c.Field, "]") || c.Field == "interfaces") &&
				!strings.Contains(err.Error(), "["+c.Want+"]") && !strings.Contains(err.Error(), "Duplicate value"):
				// A rule across the taprio's fields: its message names the lint rule.
				t.Fatalf("the refusal does not name the rule [%s]: %v", c.Want, err)
			default:
				t.Logf("refused: %v", err)
			}
		})
	}

	// Beyond spec.config: a node's offset (spec.offsets) with streams, which the agent's side and
	// tsnctl fleet check refuse (planned schedules take no offset yet), the API server refuses too.
	t.Run("offsets-with-streams", func(t *testing.T) {
		var config map[string]any
		for _, c := range corpus {
			if c.Name == "ok-streams-seed" {
				if err := yaml.Unmarshal(c.Data, &config); err != nil {
					t.Fatal(err)
				}
			}
		}
		if config == nil {
			t.Fatal("no ok-streams-seed in the corpus")
		}
		apply := func(offsets map[string]any) error {
			spec := map[string]any{"nodeNames": []any{"edge-1"}, "config": config}
			if offsets != nil {
				spec["offsets"] = offsets
			}
			obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "tsnctl.io/v1alpha1", "kind": "TSNConfig",
				"metadata": map[string]any{"name": "offsets"}, "spec": spec}}
			_, err := dyn.Resource(tsnconfigs).Apply(context.Background(), "offsets", obj,
				metav1.ApplyOptions{FieldManager: "tsnctl-test", DryRun: []string{metav1.DryRunAll}})
			return err
		}
		if err := apply(nil); err != nil {
			t.Fatalf("streams without offsets: %v", err)
		}
		if err := apply(map[string]any{"edge-1": "250us"}); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.offsets") ||
			!strings.Contains(err.Error(), "a configuration with streams takes none") {
			t.Fatalf("streams with an offset: %v", err)
		}
	})
}
