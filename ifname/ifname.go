// Package ifname is a Linux network interface name, checked as the kernel checks it
// (net/core/dev.c, dev_valid_name): 1 to 15 bytes (IFNAMSIZ 16 with the terminating NUL), not "."
// or "..", and no '/', ':' or white space. A name that passes can be used as a file name
// component and as one argument of a command line; one that fails is refused before it reaches
// netlink, a generated file or a path.
package ifname

import (
	"fmt"
	"unicode/utf8"
)

// MaxLen is the longest name the kernel accepts, in bytes (IFNAMSIZ - 1).
const MaxLen = 15

// Name is an interface name that Check accepted (once decoded through UnmarshalText).
type Name string

// Error says why a name is not a valid interface name.
type Error struct {
	Name   string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%q is not a valid interface name: %s", e.Name, e.Reason)
}

// Check reports whether s is a name the kernel accepts for an interface.
func Check(s string) error {
	switch {
	case s == "":
		return &Error{s, "empty"}
	case len(s) > MaxLen:
		return &Error{s, fmt.Sprintf("%d bytes, the kernel takes at most %d (IFNAMSIZ)", len(s), MaxLen)}
	case s == "." || s == "..":
		return &Error{s, `"." and ".." are not names`}
	case !utf8.ValidString(s):
		return &Error{s, "not valid UTF-8"}
	}
	for _, r := range s {
		switch {
		case r == '/':
			return &Error{s, "contains '/'"}
		case r == ':':
			return &Error{s, "contains ':' (an alias label, not an interface)"}
		case r <= ' ' || r == 0x7f:
			return &Error{s, "contains white space or a control character"}
		}
	}
	return nil
}

// UnmarshalText accepts a valid name only.
func (n *Name) UnmarshalText(b []byte) error {
	if err := Check(string(b)); err != nil {
		return err
	}
	*n = Name(b)
	return nil
}

// MarshalText writes the name.
func (n Name) MarshalText() ([]byte, error) { return []byte(n), nil }

// String is the name.
func (n Name) String() string { return string(n) }
