package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// makeTarget is a target of the Makefile as make help shows it.
type makeTarget struct {
	Name, Help, Group string
	Line              int
}

var (
	ruleLine  = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:([^=]|$)`) // a rule, not NAME := value
	phonyLine = regexp.MustCompile(`^\.PHONY\s*:(.*)$`)
)

// parseMakefile reads the targets of a Makefile, each with the "## " line right above it (its
// help) and the "##@ " heading it comes under (its group), and the names .PHONY lists.
func parseMakefile(src string) (targets []makeTarget, phony map[string]bool) {
	phony = map[string]bool{}
	var help, group string
	for i, l := range strings.Split(src, "\n") {
		switch {
		case strings.HasPrefix(l, "##@ "):
			group, help = strings.TrimSpace(l[4:]), ""
		case strings.HasPrefix(l, "## "):
			help = strings.TrimSpace(l[3:])
		case phonyLine.MatchString(l):
			for _, n := range strings.Fields(phonyLine.FindStringSubmatch(l)[1]) {
				phony[n] = true
			}
			help = ""
		case ruleLine.MatchString(l):
			targets = append(targets, makeTarget{Name: ruleLine.FindStringSubmatch(l)[1], Help: help, Group: group, Line: i + 1})
			help = ""
		default:
			help = ""
		}
	}
	return targets, phony
}

// TestMakefileTargetsHaveHelp: every target of the Makefile has a "## " line right above it,
// which make help prints, under a "##@ " group (run, test, bench, lab tools); every one is
// .PHONY (none makes a file of its name). And make help, when make is here, lists them all.
func TestMakefileTargetsHaveHelp(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets, phony := parseMakefile(string(b))
	if len(targets) < 10 {
		t.Fatalf("found only %d targets in the Makefile: %v", len(targets), targets)
	}
	groups := map[string]bool{}
	for _, tg := range targets {
		if tg.Help == "" {
			t.Errorf("Makefile:%d: target %s has no \"## what it does\" line right above it (make help shows it)", tg.Line, tg.Name)
		}
		if tg.Group == "" {
			t.Errorf("Makefile:%d: target %s comes before any \"##@ GROUP\" heading", tg.Line, tg.Name)
		}
		if !phony[tg.Name] {
			t.Errorf("Makefile:%d: target %s is not in .PHONY", tg.Line, tg.Name)
		}
		groups[tg.Group] = true
	}
	if len(groups) < 4 {
		t.Errorf("groups %v: want run, test, bench and lab tools", groups)
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Logf("no make here: make help itself not run")
		return
	}
	out, err := exec.Command("make", "-s", "-C", root, "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	for _, tg := range targets {
		if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(tg.Name) + `\s+` + regexp.QuoteMeta(tg.Help) + `$`).Match(out) {
			t.Errorf("make help does not show %s with %q:\n%s", tg.Name, tg.Help, out)
		}
	}
	for g := range groups {
		if !strings.Contains(string(out), g) {
			t.Errorf("make help does not show the group %q", g)
		}
	}
}

func TestParseMakefile(t *testing.T) {
	targets, phony := parseMakefile(`# tsnctl
X := 1
SOAK ?= 10m
export PATH := $(PATH):/x
.PHONY: a b
##@ Run
## Build it.
a: b
	echo a:b
# a comment between
## Not this one.
# breaks the help
b:
## Test it.
c:: d
`)
	want := []makeTarget{{"a", "Build it.", "Run", 8}, {"b", "", "Run", 13}, {"c", "Test it.", "Run", 15}}
	if len(targets) != len(want) {
		t.Fatalf("targets %v, want %v", targets, want)
	}
	for i := range want {
		if targets[i] != want[i] {
			t.Errorf("target %d: %+v, want %+v", i, targets[i], want[i])
		}
	}
	if !phony["a"] || !phony["b"] || phony["c"] {
		t.Errorf(".PHONY %v", phony)
	}
}
