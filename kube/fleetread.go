package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"github.com/tsnctl/tsnctl/termsafe"
	"io"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tsnctl/tsnctl/configs"
)

// Fleet is what tsnctl fleet check reads: the TSNConfigs and the nodes.
type Fleet struct {
	Configs []TSNConfig
	Nodes   []FleetNode
}

// ReadFleet lists the TSNConfigs and nodes of the API server.
func ReadFleet(ctx context.Context, cfg *rest.Config) (*Fleet, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	f := &Fleet{}
	cl, err := dyn.Resource(TSNConfigs).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing TSNConfigs: %w", err)
	}
	nl, err := dyn.Resource(nodes).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	for _, u := range append(cl.Items, nl.Items...) {
		if err := f.add(&u); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// MaxFleetFile is the largest file tsnctl fleet check reads: read whole or refused, never cut.
const MaxFleetFile = 64 << 20

// ReadFleetFile reads TSNConfigs and Nodes from a YAML or JSON file of one or more documents, each
// an object or a List of them (as kubectl get tsnconfigs,nodes -o yaml prints); other kinds are
// left out.
func ReadFleetFile(f *Fleet, path string) error {
	b, err := safefile.ReadInput(path, MaxFleetFile, "a fleet file (kubectl get tsnconfigs,nodes -o yaml)")
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		// Raw first: decoded into a map, a base-time of TAI nanoseconds would pass through a float64.
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		obj, _, err := unstructured.UnstructuredJSONScheme.Decode(raw, nil, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		items := []unstructured.Unstructured{}
		switch o := obj.(type) {
		case *unstructured.UnstructuredList:
			items = o.Items
		case *unstructured.Unstructured:
			items = append(items, *o)
		}
		for i := range items {
			if err := f.add(&items[i]); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	}
}

func (f *Fleet) add(u *unstructured.Unstructured) error {
	switch u.GetKind() {
	case "TSNConfig":
		var c TSNConfig
		if err := fromUnstructured(u, &c); err != nil {
			return fmt.Errorf("TSNConfig %s: %w", u.GetName(), err)
		}
		f.Configs = append(f.Configs, c)
	case "Node":
		f.Nodes = append(f.Nodes, FleetNode{Name: u.GetName(), Labels: u.GetLabels()})
	}
	return nil
}

// WriteFleetText prints the rows as a table, problems last on each line.
func WriteFleetText(w io.Writer, rows []FleetRow) error {
	safe := termsafe.String
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tTSNCONFIG\tINTERFACE\tCYCLE\tBASE-TIME\tOFFSET\tPHASE\tVERDICT")
	bad := 0
	for _, r := range rows {
		verdict := "ok"
		if r.Problem != "" {
			verdict, bad = "PROBLEM: "+r.Problem, bad+1
		}
		// The names and values are the file's: printed escaped (termsafe), never raw to a terminal.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safe(r.Node), dash(safe(r.Config)), dash(safe(r.Interface)), configs.Duration(r.CycleNs),
			dash(safe(r.BaseTime)), configs.Duration(r.OffsetNs), configs.Duration(r.PhaseNs), safe(verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d schedules, %d with a problem\n", len(rows), bad)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
