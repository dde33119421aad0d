package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// formatValue is the -o/--output flag of every command: one of a fixed set of formats, checked
// when the flag is parsed.
type formatValue struct {
	p       *string
	allowed []string
}

func (f formatValue) String() string { return *f.p }
func (f formatValue) Type() string   { return "format" }
func (f formatValue) Set(s string) error {
	if !slices.Contains(f.allowed, s) {
		return fmt.Errorf("-o %q: use %s", s, strings.Join(f.allowed, " or "))
	}
	*f.p = s
	return nil
}

// outputFlag registers -o/--output on fs: allowed[0] is the default.
func outputFlag(fs *pflag.FlagSet, p *string, usage string, allowed ...string) {
	*p = allowed[0]
	fs.VarP(formatValue{p, allowed}, "output", "o", usage+": "+strings.Join(allowed, " or "))
}

// choiceValue is a flag that takes one of a fixed set of words, checked when it is parsed.
type choiceValue struct {
	p       *string
	allowed []string
}

func (f choiceValue) String() string { return *f.p }
func (f choiceValue) Type() string   { return strings.Join(f.allowed, "|") }
func (f choiceValue) Set(s string) error {
	if !slices.Contains(f.allowed, s) {
		return fmt.Errorf("use %s", strings.Join(f.allowed, " or "))
	}
	*f.p = s
	return nil
}

// choiceFlag registers --name on fs taking one of allowed; allowed[0] is the default.
func choiceFlag(fs *pflag.FlagSet, p *string, name, usage string, allowed ...string) {
	*p = allowed[0]
	fs.Var(choiceValue{p, allowed}, name, usage)
}
