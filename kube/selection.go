package kube

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ErrNoConfig: no TSNConfig selects the node.
var ErrNoConfig = errors.New("no TSNConfig selects this node")

// AmbiguousError: more than one TSNConfig selects the node. The agent keeps what it has and says
// which; it never picks one.
type AmbiguousError struct {
	Node  string
	Names []string // the TSNConfigs, sorted
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("TSNConfigs %s all select node %s: a node takes exactly one (narrow their nodeNames or nodeSelector)",
		strings.Join(e.Names, ", "), e.Node)
}

// Selects reports whether c selects the node: by name, or by labels.
func (c *TSNConfig) Selects(node string, nodeLabels map[string]string) (bool, error) {
	if slices.Contains(c.Spec.NodeNames, node) {
		return true, nil
	}
	if c.Spec.NodeSelector == nil {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(c.Spec.NodeSelector)
	if err != nil {
		return false, fmt.Errorf("TSNConfig %s: spec.nodeSelector: %w", c.Name, err)
	}
	return sel.Matches(labels.Set(nodeLabels)), nil
}

// Select returns the one TSNConfig that selects the node, ErrNoConfig, or an *AmbiguousError.
// A TSNConfig whose selector cannot be read is an error too: it might select the node.
func Select(cfgs []TSNConfig, node string, nodeLabels map[string]string) (*TSNConfig, error) {
	var found []*TSNConfig
	for i := range cfgs {
		ok, err := cfgs[i].Selects(node, nodeLabels)
		if err != nil {
			return nil, err
		}
		if ok {
			found = append(found, &cfgs[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, ErrNoConfig
	case 1:
		return found[0], nil
	}
	e := &AmbiguousError{Node: node}
	for _, c := range found {
		e.Names = append(e.Names, c.Name)
	}
	slices.Sort(e.Names)
	return nil, e
}
