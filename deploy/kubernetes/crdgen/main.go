// Command crdgen writes the parts of the TSNConfig CRD that follow from tsnctl's own tables, so
// that the API server refuses what the agent would: the schema of spec.config.ptp.options, from
// package ptp's option table (each option's type and range; an option tsnctl refuses is refused
// with tsnctl's reason; an option ptp4l does not know is an unknown field, which kubectl refuses).
//
// The rest of the schema is written by hand in the same file. crdgen rewrites the file in place
// (make crds); with -check it only reports whether the file is current (a test runs that).
//
//	go run ./deploy/kubernetes/crdgen [-check] deploy/helm/tsnctl/crds/tsnconfigs.yaml
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tsnctl/tsnctl/ptp"
)

func main() {
	check := flag.Bool("check", false, "only report whether the file is current")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: crdgen [-check] deploy/helm/tsnctl/crds/tsnconfigs.yaml")
		os.Exit(2)
	}
	file := flag.Arg(0)
	have, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crdgen:", err)
		os.Exit(1)
	}
	want, err := Generate(have)
	if err != nil {
		fmt.Fprintf(os.Stderr, "crdgen: %s: %v\n", file, err)
		os.Exit(1)
	}
	switch {
	case bytes.Equal(have, want):
	case *check:
		fmt.Fprintf(os.Stderr, "crdgen: %s is not current: run make crds\n", file)
		os.Exit(1)
	default:
		if err := os.WriteFile(file, want, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "crdgen:", err)
			os.Exit(1)
		}
	}
}

// Generate returns the CRD src with its generated parts written anew.
func Generate(src []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	versions := lookup(doc.Content[0], "spec", "versions")
	if versions == nil || versions.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("no spec.versions")
	}
	for _, v := range versions.Content {
		spec := lookup(v, "schema", "openAPIV3Schema", "properties", "spec")
		if spec == nil {
			return nil, fmt.Errorf("no schema.openAPIV3Schema.properties.spec in version %s", scalar(lookup(v, "name")))
		}
		opts := lookup(spec, "properties", "config", "properties", "ptp", "properties", "options")
		if opts == nil {
			return nil, fmt.Errorf("no spec.config.ptp.options in version %s", scalar(lookup(v, "name")))
		}
		*opts = *optionsSchema()
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), enc.Close()
}

// lookup follows keys through mappings; nil when one is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

// set puts key: value into mapping n, replacing an existing value.
func set(n *yaml.Node, key string, value *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = value
			return
		}
	}
	n.Content = append(n.Content, str(key), value)
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func num(v float64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatFloat(v, 'f', -1, 64)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, str(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}

// celList is a CEL list literal of strings.
func celList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// optionsSchema is the schema of ptp.options: one property per option of ptp's table, typed.
// tsnctl's own file also takes numbers as strings (0x hexadecimal, as ptp4l reads them) and labels
// in any case; a TSNConfig takes numbers as numbers and labels as ptp4l spells them, which the
// schema checks without CEL (the API server bounds the cost of a schema's CEL rules).
func optionsSchema() *yaml.Node {
	props := mapping()
	for _, o := range ptp.Options() {
		var s *yaml.Node
		switch {
		case o.Refused != "":
			s = mapping("type", str("string"), "description", quoted("refused: "+o.Refused),
				"x-kubernetes-validations", seq(flow(mapping("rule", quoted("false"), "message", quoted(o.Refused)))))
		case o.Kind == "int":
			s = mapping("type", str("integer"), "minimum", num(o.Min), "maximum", num(o.Max))
		case o.Kind == "double":
			s = mapping("type", str("number"))
			if o.Min == math.SmallestNonzeroFloat64 {
				set(s, "minimum", num(0))
				set(s, "exclusiveMinimum", boolean(true))
			} else if o.Min > -math.MaxFloat64 {
				set(s, "minimum", num(o.Min))
			}
			if o.Max < math.MaxFloat64 {
				set(s, "maximum", num(o.Max))
			}
		case o.Kind == "enum":
			labels := make([]*yaml.Node, len(o.Labels))
			for i, l := range o.Labels {
				labels[i] = quoted(l)
			}
			s = mapping("type", str("string"), "enum", flow(seq(labels...)))
		case o.Kind == "text":
			s = mapping("type", str("string"), "maxLength", num(ptp.MaxTextLen), "pattern", quoted(`^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f ][^\x00-\x1f\x7f]*$`))
		case o.Kind == "mac":
			s = mapping("type", str("string"), "pattern", quoted(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$`))
		case o.Kind == "socket":
			s = mapping("type", str("string"), "description", quoted("a file name: the socket is made in the agent's run directory (--ptp-run-dir), never elsewhere"),
				"pattern", quoted(ptp.SocketNamePattern), "not", flow(mapping("enum", flow(seq(quoted("."), quoted(".."))))))
		default:
			panic("crdgen: no schema for ptp option kind " + o.Kind)
		}
		props.Content = append(props.Content, str(o.Name), flow(s))
	}
	return mapping(
		"description", quoted("ptp4l options of its [global] section by their linuxptp names (ptp4l(8)), each within ptp4l's range as tsnctl ptp config checks it: numbers as numbers, labels as ptp4l spells them. Generated from tsnctl's option table (make crds)."),
		"type", str("object"),
		"properties", props)
}

// flow writes n on one line.
func flow(n *yaml.Node) *yaml.Node {
	n.Style = yaml.FlowStyle
	return n
}

func cInt(v float64) string { return strconv.FormatInt(int64(v), 10) }


