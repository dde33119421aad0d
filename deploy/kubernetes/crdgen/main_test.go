package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tsnctl/tsnctl/configs"
	"github.com/tsnctl/tsnctl/ptp"
)

const (
	crd    = "../../helm/tsnctl/crds/tsnconfigs.yaml"
	values = "../../helm/tsnctl/values.schema.json"
)

// TestCRDIsCurrent: the committed CRD and the chart's values schema are what crdgen makes of them
// (make crds after changing ptp's option table or the CRD by hand).
func TestCRDIsCurrent(t *testing.T) {
	have, err := os.ReadFile(crd)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(have)
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != string(want) {
		t.Fatalf("%s is not current: run make crds", crd)
	}
	haveValues, err := os.ReadFile(values)
	if err != nil {
		t.Fatal(err)
	}
	wantValues, err := ValuesSchema(want, haveValues)
	if err != nil {
		t.Fatal(err)
	}
	if string(haveValues) != string(wantValues) {
		t.Fatalf("%s is not current: run make crds", values)
	}
}

// TestEveryOptionInSchema: each option of ptp's table has a schema of its kind in the generated
// options, and nothing else is there.
func TestEveryOptionInSchema(t *testing.T) {
	b, err := os.ReadFile(crd)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	props := lookup(lookup(doc.Content[0], "spec", "versions").Content[0], "schema", "openAPIV3Schema", "properties", "spec",
		"properties", "config", "properties", "ptp", "properties", "options", "properties")
	opts := ptp.Options()
	if len(props.Content) != 2*len(opts) {
		t.Fatalf("%d options in the CRD, %d in ptp's table", len(props.Content)/2, len(opts))
	}
	want := map[string]string{"int": "integer", "double": "number", "enum": "string", "text": "string", "mac": "string", "socket": "string"}
	for i, o := range opts {
		if props.Content[2*i].Value != o.Name {
			t.Fatalf("option %d: %s in the CRD, %s in ptp's table", i, props.Content[2*i].Value, o.Name)
		}
		s := props.Content[2*i+1]
		if o.Kind == "int" {
			r := lookup(s, "allOf")
			if scalar(lookup(s, "x-kubernetes-int-or-string")) != "true" || r == nil || scalar(lookup(r.Content[0], "minimum")) != cInt(o.Min) || scalar(lookup(r.Content[0], "maximum")) != cInt(o.Max) {
				t.Errorf("%s: not an int-or-string from %s to %s", o.Name, cInt(o.Min), cInt(o.Max))
			}
		} else if got := scalar(lookup(s, "type")); got != want[o.Kind] {
			t.Errorf("%s: type %s, want %s", o.Name, got, want[o.Kind])
		}
		if o.Refused != "" && !strings.Contains(scalar(lookup(s, "description")), o.Refused) {
			t.Errorf("%s: refused without tsnctl's reason", o.Name)
		}
	}
}

// TestStreamsSchemaFollowsConfigs: spec.config.streams and each interface's plan: have exactly the
// keys of configs.Stream and configs.Planning, in their order, and require the keys the loader
// requires (no omitempty); a field without a schema, or a schema without a field, stops crdgen.
func TestStreamsSchemaFollowsConfigs(t *testing.T) {
	b, err := os.ReadFile(crd)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	config := lookup(lookup(doc.Content[0], "spec", "versions").Content[0], "schema", "openAPIV3Schema", "properties", "spec", "properties", "config")
	for _, c := range []struct {
		schema *yaml.Node
		typ    reflect.Type
	}{
		{lookup(config, "properties", "streams", "items"), reflect.TypeFor[configs.Stream]()},
		{lookup(config, "properties", "interfaces", "items", "properties", "plan"), reflect.TypeFor[configs.Planning]()},
	} {
		keys, required := fields(c.typ)
		var got, gotRequired []string
		props := lookup(c.schema, "properties")
		for i := 0; props != nil && i < len(props.Content); i += 2 {
			got = append(got, props.Content[i].Value)
		}
		if r := lookup(c.schema, "required"); r != nil {
			for _, n := range r.Content {
				gotRequired = append(gotRequired, n.Value)
			}
		}
		if !slices.Equal(got, keys) || !slices.Equal(gotRequired, required) || len(required) == 0 && c.typ == reflect.TypeFor[configs.Stream]() {
			t.Errorf("%s: the CRD has keys %v (required %v), the type %v (required %v)", c.typ, got, gotRequired, keys, required)
		}
	}
	if got := lookup(config, "properties", "interfaces", "items", "properties", "taprio", "properties", "schedule", "maxItems").Value; got != cInt(configs.MaxScheduleEntries) {
		t.Errorf("the CRD takes %s schedule entries, lint and plan %d (configs.MaxScheduleEntries)", got, configs.MaxScheduleEntries)
	}
	if lookup(config, "properties", "streams", "maxItems").Value != cInt(MaxStreams) {
		t.Error("streams has no maxItems: the API server could not bound its rules' cost")
	}
	type stream struct {
		Name  string `json:"name"`
		Extra int    `json:"extra,omitempty"`
	}
	if _, err := object(reflect.TypeFor[stream](), map[string]*yaml.Node{"name": str("x")}, ""); err == nil || !strings.Contains(err.Error(), "no schema for") {
		t.Errorf("a field without a schema: %v", err)
	}
	if _, err := object(reflect.TypeFor[stream](), map[string]*yaml.Node{"name": str("x"), "extra": str("x"), "gone": str("x")}, ""); err == nil || !strings.Contains(err.Error(), "does not have") {
		t.Errorf("a schema without a field: %v", err)
	}
}
