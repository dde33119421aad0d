package nsexec

import (
	"strings"
	"testing"
)

// An ip netns name is one file in /run/netns: a name that climbs out of it (../../proc/1/ns/net)
// or names a directory is refused before anything is opened.
func TestNameIsOnePathElement(t *testing.T) {
	for _, name := range []string{"..", ".", "../../proc/self/ns/net", "a/b", "/proc/self/ns/net", "a\x00b", "ns/"} {
		ran := false
		err := Do(name, func() error { ran = true; return nil })
		if ran || err == nil || !strings.Contains(err.Error(), "an ip netns name is one path element") {
			t.Errorf("Do(%q): ran %v, %v", name, ran, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, name := range []string{"..", ".", "../x", "a/b", "/abs", "a\x00b", "ns/"} {
		if err := CheckName(name); err == nil {
			t.Errorf("CheckName(%q) accepted it", name)
		}
	}
	for _, name := range []string{"", "red", "tsn-ns.1", "a..b", "...", ".hidden"} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
	if err := CheckName("../x"); err.Error() != `netns "../x": an ip netns name is one path element (no '/', not . or ..): the name `+"`ip netns list`"+` shows, e.g. netns red` {
		t.Errorf("message: %v", err)
	}
}
