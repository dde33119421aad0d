package docs

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// goPackageDirs lists the repository's directories that hold a Go package (a .go file that is
// not a test), slash-separated, outside testdata, out and bin.
func goPackageDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, f := range repoFiles(t) {
		if !strings.HasSuffix(f, ".go") || strings.HasSuffix(f, "_test.go") || skipped(f) {
			continue
		}
		if d := path.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)
	return dirs
}

// TestArchitectureListsEveryPackage: docs/development/architecture.md's package table names every
// Go package of the tree.
func TestArchitectureListsEveryPackage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs/development/architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	cell := regexp.MustCompile("`([a-z0-9/_.-]+)`")
	for _, l := range strings.Split(string(b), "\n") {
		if cells := strings.Split(l, "|"); len(cells) > 2 && strings.HasPrefix(l, "| `") {
			for _, m := range cell.FindAllStringSubmatch(cells[1], -1) {
				listed[m[1]] = true
			}
		}
	}
	dirs := goPackageDirs(t)
	if len(dirs) < 30 {
		t.Fatalf("found only %d Go packages: %v", len(dirs), dirs)
	}
	for _, d := range dirs {
		if d == "." {
			t.Errorf("a Go file at the repository's root: the table has no row for it")
			continue
		}
		if !listed[d] {
			t.Errorf("docs/development/architecture.md: the package table has no row for %s", d)
		}
	}
}

// kernelPackages are the packages meant to be importable by other tools: they import nothing of
// tsnctl's but each other and param (docs/development/architecture.md, "Layers").
var kernelPackages = []string{"qdisc", "qdisc/tree", "taprio", "etf", "cbs", "mqprio", "nic", "clock", "socket", "nsexec", "ifname", "netevents", "internal/extack", "internal/parms"}

func TestKernelPackagesImportNoPolicy(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod names no module")
	}
	prefix := string(m[1]) + "/"
	allowed := append([]string{"param"}, kernelPackages...)
	for _, p := range kernelPackages {
		files, err := fs.Glob(os.DirFS(root), p+"/*.go")
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", p, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, f), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				ip, _ := strconv.Unquote(imp.Path.Value)
				if own, ok := strings.CutPrefix(ip, prefix); ok && !slices.Contains(allowed, own) {
					t.Errorf("%s imports %s: a kernel-facing package imports nothing of tsnctl's policy (only %v)", f, own, allowed)
				}
			}
		}
	}
}
