package configs

import (
	"encoding"
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration error: where it is, which field, which value, and what would be right.
type Error struct {
	File  string
	Line  int
	Field string // e.g. interfaces[0].taprio.schedule[2].interval
	Value string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	if e.Value != "" {
		fmt.Fprintf(&b, "%q: ", e.Value)
	}
	b.WriteString(e.Msg)
	return b.String()
}

func valueError(n *yaml.Node, want string) error {
	return &Error{Line: n.Line, Value: n.Value, Msg: "want " + want}
}

// MaxSize is the largest configuration file Load reads: a node's configuration is a few KiB.
const MaxSize = 1 << 20

// Load reads and decodes a configuration file, at most MaxSize bytes: a regular file, or standard
// input as "-" or /dev/stdin (a FIFO, device or directory is refused without blocking).
func Load(path string) (*Config, error) {
	b, err := safefile.ReadInput(path, MaxSize, "a tsnctl configuration")
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes a configuration; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d KiB: not a tsnctl configuration", MaxSize>>10)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &Error{File: name, Msg: "the file is empty: a configuration has `interfaces:` and/or `ptp:`"}
	}
	var c Config
	d := &decoder{file: name, budget: aliasBudget(&doc)}
	if err := d.decode(doc.Content[0], reflect.ValueOf(&c).Elem()); err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = name
		}
		return nil, err
	}
	for i := range c.Interfaces {
		if ch := c.Interfaces[i].Channels; ch != nil {
			ch.Pos.File = name
		}
	}
	if len(c.Interfaces) == 0 && c.PTP == nil {
		return nil, &Error{File: name, Line: c.Line, Field: "interfaces", Msg: "no interfaces and no ptp: list at least one interface (- name: eth1) or give a ptp: section"}
	}
	if err := checkStreams(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

var (
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	posType             = reflect.TypeOf(Pos{})
)

// A decoder follows YAML aliases itself (the YAML library's own guard against alias expansion
// applies to its decoder, not to a walk of the node tree), so it bounds how many nodes it visits:
// a file of nested aliases ("billion laughs") would otherwise expand to gigabytes.
type decoder struct {
	file   string
	budget int // nodes left to visit
}

// aliasBudget allows every node of the document to be visited 20 times over (a schedule shared
// by a few interfaces through an alias is fine), and at least 20 000 visits.
func aliasBudget(doc *yaml.Node) int {
	n := 0
	var count func(*yaml.Node)
	count = func(x *yaml.Node) {
		n++
		for _, c := range x.Content {
			count(c)
		}
	}
	count(doc)
	return max(20*n, 20000)
}

func prefix(err error, field string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch {
	case e.Field == "":
		e.Field = field
	case strings.HasPrefix(e.Field, "["):
		e.Field = field + e.Field
	default:
		e.Field = field + "." + e.Field
	}
	return err
}

// decode fills v from n strictly: every key must be known, every value of the right type.
func (d *decoder) decode(n *yaml.Node, v reflect.Value) error {
	if d.budget--; d.budget < 0 {
		return &Error{Line: n.Line, Msg: "aliases expand to too much: a configuration this large is not a node's; write the values out, or alias fewer and smaller parts"}
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if v.Kind() == reflect.Pointer {
		if n.Tag == "!!null" {
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem())
	}
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(decodable); ok {
			return u.decodeWith(d, n)
		}
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		return v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n)
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshalerType) {
		if n.Kind != yaml.ScalarNode {
			return &Error{Line: n.Line, Value: short(n), Msg: "want a single value, not a list or mapping"}
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return &Error{Line: n.Line, Msg: err.Error()}
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		return d.decodeStruct(n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &Error{Line: n.Line, Value: short(n), Msg: "want a list"}
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			if err := d.decode(item, s.Index(i)); err != nil {
				return prefix(err, "["+strconv.Itoa(i)+"]")
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &Error{Line: n.Line, Value: short(n), Msg: "want a mapping such as {6: 6}"}
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(n.Content[i], k); err != nil {
				return err
			}
			if m.MapIndex(k).IsValid() {
				return &Error{Line: n.Content[i].Line, Field: n.Content[i].Value, Msg: "given twice in this mapping: keep one"}
			}
			if err := d.decode(n.Content[i+1], val); err != nil {
				return prefix(err, n.Content[i].Value)
			}
			m.SetMapIndex(k, val)
		}
		v.Set(m)
		return nil
	}
	return decodeScalar(n, v)
}

func decodeScalar(n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.ScalarNode {
		return &Error{Line: n.Line, Value: short(n), Msg: "want a single value, not a list or mapping"}
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return nil
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			return &Error{Line: n.Line, Value: n.Value, Msg: "want true or false"}
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 0, v.Type().Bits())
		if err != nil {
			return &Error{Line: n.Line, Value: n.Value, Msg: "want a whole number"}
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(n.Value, 0, v.Type().Bits())
		if err != nil {
			return &Error{Line: n.Line, Value: n.Value, Msg: fmt.Sprintf("want a whole number from 0 to %d", uint64(1)<<v.Type().Bits()-1)}
		}
		v.SetUint(u)
		return nil
	}
	return &Error{Line: n.Line, Value: n.Value, Msg: "unsupported field type " + v.Type().String()}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value) error {
	if n.Kind != yaml.MappingNode {
		return &Error{Line: n.Line, Value: short(n), Msg: "want a mapping of keys (key: value)"}
	}
	t := v.Type()
	fields := map[string]int{}
	var known []string
	posField := -1
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == posType {
			posField = i
			continue
		}
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		known = append(known, tag)
	}
	pos := Pos{File: d.file, Line: n.Line, Keys: map[string]int{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[key.Value]
		if !ok {
			return &Error{Line: key.Line, Field: Abbrev(key.Value), Msg: "unknown key; the keys here are " + strings.Join(sortedCopy(known), ", ") + suggest(key.Value, known)}
		}
		if _, dup := pos.Keys[key.Value]; dup {
			return &Error{Line: key.Line, Field: key.Value, Msg: "given twice"}
		}
		pos.Keys[key.Value] = val.Line
		if err := d.decode(val, v.Field(idx)); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Line == 0 {
				e.Line = val.Line
			}
			return prefix(err, key.Value)
		}
	}
	if posField >= 0 {
		v.Field(posField).Set(reflect.ValueOf(pos))
	}
	return nil
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// suggest proposes the known key closest to a misspelt one. A name far longer than any known one
// is no misspelling (and would cost seconds of edit distance).
func suggest(got string, known []string) string {
	if len(got) > 128 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Abbrev shortens a value for a message: at most 64 bytes, the rest counted.
func Abbrev(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 60
	for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(s))
}

func short(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "{...}"
	case yaml.SequenceNode:
		return "[...]"
	}
	return Abbrev(n.Value)
}

// decodable is a type that decodes itself with the loader's decoder (its strict key checks, its
// alias budget, the file name in positions) rather than as a plain yaml.Unmarshaler.
type decodable interface {
	decodeWith(d *decoder, n *yaml.Node) error
}

// UnmarshalYAML reads a plain count or a mapping {combined, rx, tx}.
func (c *Channels) UnmarshalYAML(n *yaml.Node) error {
	return c.decodeWith(&decoder{budget: aliasBudget(n)}, n)
}

func (c *Channels) decodeWith(d *decoder, n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := strconv.ParseUint(n.Value, 10, 32)
		if err != nil || v == 0 {
			return valueError(n, "a channel count >= 1, or {combined: N} / {rx: N, tx: N}")
		}
		u := uint32(v)
		*c = Channels{Count: &u, Pos: Pos{Line: n.Line}}
		return nil
	}
	type plain Channels
	return d.decodeStruct(n, reflect.ValueOf((*plain)(c)).Elem())
}
