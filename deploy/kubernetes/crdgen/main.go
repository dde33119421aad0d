// Command crdgen writes the parts of the TSNConfig CRD that follow from tsnctl's own tables, so
// that the API server refuses what the agent would: the schema of spec.config.ptp.options, from
// package ptp's option table (each option's type and range; an option tsnctl refuses is refused
// with tsnctl's reason; an option ptp4l does not know is an unknown field, which kubectl refuses);
// the schemas of spec.config.streams and each interface's plan:, from configs.Stream and
// configs.Planning (their keys, the keys they require, the ranges the loader and the planner check
// without planning), and spec.config's rules across streams and interfaces (streams.go).
//
// The rest of the schema is written by hand in the same file. From the whole, crdgen also writes
// the schema of a TSNConfig's spec into the chart's values.schema.json (tsnConfigs): as JSON
// Schema, every object refusing a key it does not list. The API server prunes an unknown key with
// only a warning when the client asks for no strict field validation, as helm install does; the
// values schema makes helm refuse it before anything is sent.
//
// crdgen rewrites the files in place (make crds); with -check it only reports whether they are
// current (a test runs that).
//
//	go run ./deploy/kubernetes/crdgen [-check] deploy/helm/tsnctl/crds/tsnconfigs.yaml deploy/helm/tsnctl/values.schema.json
package main

import (
	"bytes"
	"encoding/json"
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
	check := flag.Bool("check", false, "only report whether the files are current")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: crdgen [-check] deploy/helm/tsnctl/crds/tsnconfigs.yaml deploy/helm/tsnctl/values.schema.json")
		os.Exit(2)
	}
	crdFile, valuesFile := flag.Arg(0), flag.Arg(1)
	crd, err := os.ReadFile(crdFile)
	if err != nil {
		fail(err)
	}
	values, err := os.ReadFile(valuesFile)
	if err != nil {
		fail(err)
	}
	newCRD, err := Generate(crd)
	if err != nil {
		fail(fmt.Errorf("%s: %w", crdFile, err))
	}
	newValues, err := ValuesSchema(newCRD, values)
	if err != nil {
		fail(fmt.Errorf("%s: %w", valuesFile, err))
	}
	for _, f := range []struct {
		name      string
		have, new []byte
	}{{crdFile, crd, newCRD}, {valuesFile, values, newValues}} {
		switch {
		case bytes.Equal(f.have, f.new):
		case *check:
			fail(fmt.Errorf("%s is not current: run make crds", f.name))
		default:
			if err := os.WriteFile(f.name, f.new, 0o644); err != nil {
				fail(err)
			}
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crdgen:", err)
	os.Exit(1)
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
		if err := writeStreams(lookup(spec, "properties", "config")); err != nil {
			return nil, err
		}
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

// optionsSchema is the schema of ptp.options: one property per option of ptp's table, typed, and
// checked with as little CEL as will do (the API server bounds the cost of a schema's rules): a
// whole number as a number or a decimal string within its range; a decimal number as a number;
// labels as ptp4l spells them (tsnctl's own file also takes 0x numbers and labels in any case).
func optionsSchema() *yaml.Node {
	props := mapping()
	for _, o := range ptp.Options() {
		var s *yaml.Node
		switch {
		case o.Refused != "":
			s = mapping("type", str("string"), "description", quoted("refused: "+o.Refused),
				"x-kubernetes-validations", seq(flow(mapping("rule", quoted("false"), "message", quoted(o.Refused)))))
		case o.Kind == "int":
			// A number, or a decimal string (as tsnctl's own files hold them), within the range. Not
			// 0x or 0-octal strings, which ptp4l and tsnctl's own files take: CEL cannot read
			// them, and a form the API server took without its range would reach a node that refuses it.
			rule := fmt.Sprintf("type(self) != string || !self.matches('^ *[+-]?[1-9][0-9]{0,18} *$') || (int(self.trim().replace('+', '')) >= %s && int(self.trim().replace('+', '')) <= %s)", cInt(o.Min), cInt(o.Max))
			s = mapping("x-kubernetes-int-or-string", boolean(true), "maxLength", num(24),
				"allOf", flow(seq(flow(mapping("minimum", num(o.Min), "maximum", num(o.Max))),
					flow(mapping("pattern", quoted(`^ *[+-]?(0|[1-9][0-9]{0,18}) *$`))))),
				"x-kubernetes-validations", seq(flow(mapping("rule", quoted(rule),
					"message", quoted(fmt.Sprintf("out of ptp4l's range %s to %s", cInt(o.Min), cInt(o.Max)))))))
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
		"description", quoted("ptp4l options of its [global] section by their linuxptp names (ptp4l(8)), each of its type and within ptp4l's range as tsnctl ptp config checks it (whole numbers as numbers or decimal strings); labels as ptp4l spells them. Generated from tsnctl's option table (make crds)."),
		"type", str("object"),
		"properties", props)
}

// flow writes n on one line.
func flow(n *yaml.Node) *yaml.Node {
	n.Style = yaml.FlowStyle
	return n
}

func cInt(v float64) string { return strconv.FormatInt(int64(v), 10) }

// ValuesSchema returns the chart's values schema with the spec of each tsnConfigs entry written
// from the CRD's schema of spec (crd), converted to JSON Schema.
func ValuesSchema(crd, values []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(crd, &doc); err != nil {
		return nil, err
	}
	spec, ok := dig(doc, "spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "spec").(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the CRD has no schema of spec")
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(values))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	entries, ok := dig(v, "properties", "tsnConfigs", "patternProperties").(map[string]any)
	if !ok || len(entries) != 1 {
		return nil, fmt.Errorf("want properties.tsnConfigs.patternProperties with one pattern (the TSNConfig names)")
	}
	for name, old := range entries {
		s := jsonSchema(spec)
		s["description"] = "A TSNConfig's spec: the TSNConfig CRD's schema of spec (generated by make crds), so that a misspelt key is refused here; the API server checks the rest. Integers of 2^53 or more as strings."
		if a, ok := old.(map[string]any)["anyOf"]; ok {
			s["anyOf"] = a // a TSNConfig selects its nodes (the CRD says so in CEL)
		}
		entries[name] = s
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// jsonSchema converts a structural OpenAPI v3 schema of the CRD into JSON Schema (2020-12): the
// same types and bounds, int-or-string as two types, objects with properties closed to other keys;
// without the CEL rules and list types, which only the API server evaluates.
func jsonSchema(o map[string]any) map[string]any {
	s := map[string]any{}
	for k, v := range o {
		switch k {
		case "type", "required", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems", "maxItems",
			"maxProperties", "description":
			s[k] = v
		case "exclusiveMinimum":
			if v == true {
				s["exclusiveMinimum"] = o["minimum"]
				delete(s, "minimum")
			}
		case "x-kubernetes-int-or-string":
			s["type"] = []any{"integer", "string"}
		case "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				props[name] = jsonSchema(p.(map[string]any))
			}
			s["properties"] = props
			s["additionalProperties"] = false
		case "items", "additionalProperties", "not":
			s[k] = jsonSchema(v.(map[string]any))
		case "allOf", "anyOf":
			var l []any
			for _, x := range v.([]any) {
				l = append(l, jsonSchema(x.(map[string]any)))
			}
			s[k] = l
		}
	}
	if _, ok := o["exclusiveMinimum"]; ok && o["exclusiveMinimum"] == true {
		delete(s, "minimum")
	}
	return s
}
