// Package param is the error a library returns for a parameter its caller gave it: which
// parameter, the value given, what is wrong and how to fix it. The library names the parameter
// in its own words ("cycle", "wake-advance"); a command names it after the flag its user typed
// (Rename), so that `tsnctl calibrate --interval 0` answers about --interval, although the
// calibrator's loop calls the same thing a cycle.
package param

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a refused parameter.
type Error struct {
	Name  string // the parameter, as the library names it
	Value string // the value given, as printed ("" if the parameter was missing)
	// Msg says what is wrong and the fix. It may name other parameters as {name}: they are
	// renamed with Name.
	Msg string
	Err error // the underlying error, if any
	// rename maps parameter names to what the caller calls them (Rename).
	rename func(string) string
}

// Errorf is an Error for parameter name with value (printed with %v; nil for none) and the message
// format and args make. A %w in format wraps that error as Err.
func Errorf(name string, value any, format string, args ...any) error {
	e := &Error{Name: name}
	if value != nil {
		e.Value = fmt.Sprint(value)
	}
	w := fmt.Errorf(format, args...)
	e.Msg, e.Err = w.Error(), errors.Unwrap(w)
	return e
}

func (e *Error) name(n string) string {
	if e.rename != nil {
		return e.rename(n)
	}
	return n
}

func (e *Error) Error() string {
	s := e.name(e.Name)
	if e.Value != "" {
		s += " " + e.Value
	}
	return s + ": " + e.refs(e.Msg)
}

// refs replaces each {name} in s (a name: no space, not empty) with the parameter's name.
func (e *Error) refs(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		ref := s[i+1 : i+j]
		b.WriteString(s[:i])
		if ref == "" || strings.ContainsAny(ref, " \t{") {
			b.WriteByte('{')
			s = s[i+1:]
			continue
		}
		b.WriteString(e.name(ref))
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Rename returns err with its parameter error naming the parameters with rename (for example
// a command's flag: "cycle" -> "--interval"). The text of errors that wrap it changes accordingly;
// errors.Is and errors.As see the same chain as before.
func Rename(err error, rename func(name string) string) error {
	var pe *Error
	if !errors.As(err, &pe) {
		return err
	}
	renamed := *pe
	renamed.rename = rename
	return &renamedError{msg: strings.Replace(err.Error(), pe.Error(), renamed.Error(), 1), err: err}
}

type renamedError struct {
	msg string
	err error
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }
