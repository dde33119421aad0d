package docs

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// exampled are the packages importable on their own: each documents itself with runnable
// examples (pkg.go.dev and gopls show them; `go doc` does not print examples).
var exampled = []string{"taprio", "etf", "qdisc", "nic", "ptp/mgmt", "samplelog", "analysis"}

// TestPackagesHaveExamples: each package of exampled has an Example with an // Output: line, which
// `go test` runs and checks (an example without one is only compiled).
func TestPackagesHaveExamples(t *testing.T) {
	for _, p := range exampled {
		fset := token.NewFileSet()
		var files []*ast.File
		paths, err := fs.Glob(os.DirFS(root), p+"/*_test.go")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range paths {
			af, err := parser.ParseFile(fset, filepath.Join(root, f), nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, af)
		}
		n := 0
		for _, ex := range doc.Examples(files...) {
			if ex.Output != "" || ex.EmptyOutput {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no Example with an // Output: line", p)
		} else {
			t.Logf("%s: %d examples run by go test", p, n)
		}
	}
}
