package kube

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func config(name string, nodes []string, sel *metav1.LabelSelector) TSNConfig {
	return TSNConfig{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: TSNConfigSpec{NodeNames: nodes, NodeSelector: sel}}
}

func TestSelect(t *testing.T) {
	lineA := &metav1.LabelSelector{MatchLabels: map[string]string{"tsnctl.io/line": "a"}}
	hasTaprio := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "feature.node.kubernetes.io/tsnctl-taprio", Operator: metav1.LabelSelectorOpExists}}}
	for _, tc := range []struct {
		name   string
		cfgs   []TSNConfig
		labels map[string]string
		want   string // the config's name, or the error's text
	}{
		{"by name", []TSNConfig{config("x", []string{"edge-2"}, nil), config("y", []string{"edge-1"}, nil)}, nil, "y"},
		{"by labels", []TSNConfig{config("x", nil, lineA)}, map[string]string{"tsnctl.io/line": "a"}, "x"},
		{"labels differ", []TSNConfig{config("x", nil, lineA)}, map[string]string{"tsnctl.io/line": "b"}, "no TSNConfig selects this node"},
		{"by an expression", []TSNConfig{config("x", nil, hasTaprio)}, map[string]string{"feature.node.kubernetes.io/tsnctl-taprio": "true"}, "x"},
		{"name or labels: either selects", []TSNConfig{config("x", []string{"edge-9"}, lineA)}, map[string]string{"tsnctl.io/line": "a"}, "x"},
		{"an empty selector selects every node", []TSNConfig{config("all", nil, &metav1.LabelSelector{})}, nil, "all"},
		{"none", nil, nil, "no TSNConfig selects this node"},
		{"two: an error, never a guess", []TSNConfig{config("z", nil, lineA), config("a", []string{"edge-1"}, nil)},
			map[string]string{"tsnctl.io/line": "a"}, "TSNConfigs a, z all select node edge-1"},
		{"a selector that cannot be read", []TSNConfig{config("bad", nil, &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "k", Operator: "Near"}}})}, nil, "TSNConfig bad: spec.nodeSelector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Select(tc.cfgs, "edge-1", tc.labels)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = c.Name
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	_, err := Select([]TSNConfig{config("a", []string{"edge-1"}, nil), config("b", []string{"edge-1"}, nil)}, "edge-1", nil)
	var amb *AmbiguousError
	if !errors.As(err, &amb) || strings.Join(amb.Names, ",") != "a,b" {
		t.Fatalf("%v", err)
	}
}
