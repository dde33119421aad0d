package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
)

func loadRun(t *testing.T, dir, name string) *Run {
	t.Helper()
	r, err := Load(name+"="+seedCase(t, dir, "d"+fileSafe(name)+time.Now().Format("150405.000000000"), true, 200, 1), analysis.Options{}, "auto")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Names and titles from the command line reach report.md as text: no HTML, no broken table.
func TestMarkdownEscapesNames(t *testing.T) {
	dir := t.TempDir()
	r := loadRun(t, dir, "a|b\n<script>x</script>")
	out := filepath.Join(dir, "rep")
	if _, err := Write(out, &Report{Title: "T <img src=x onerror=alert(1)>\n# owned", Generated: time.Now(), Runs: []*Run{r}}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "report.md"))
	text := string(b)
	for _, bad := range []string{"<script>", "<img", "\n# owned", "a|b"} {
		if unescaped(text, bad) {
			t.Errorf("report.md carries %q:\n%.600s", bad, text)
		}
	}
	if !strings.Contains(text, `# T \<img src=x onerror=alert(1)\> \# owned`) || !strings.Contains(text, `a\|b \<script\>x\</script\>`) {
		t.Errorf("escaped forms missing:\n%.800s", text)
	}
	// Every table row has as many cells as its header.
	cells := func(l string) int { return strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") }
	header := 0
	for _, l := range strings.Split(text, "\n") {
		switch {
		case !strings.HasPrefix(l, "|"):
			header = 0
		case header == 0:
			header = cells(l)
		case cells(l) != header:
			t.Errorf("row with a stray cell (%d, header %d): %q", cells(l), header, l)
		}
	}
}

// unescaped reports whether s stands in text without a backslash before it.
func unescaped(text, s string) bool {
	for i := strings.Index(text, s); i >= 0; {
		if i == 0 || text[i-1] != '\\' {
			return true
		}
		j := strings.Index(text[i+1:], s)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func TestRunNamesMustGiveDistinctFiles(t *testing.T) {
	dir := t.TempDir()
	for _, names := range [][2]string{{"case 1", "case 1"}, {"a b", "a-b"}, {"X", "x"}} {
		_, err := Write(filepath.Join(dir, "rep"), &Report{Runs: []*Run{loadRun(t, dir, names[0]), loadRun(t, dir, names[1])}})
		if err == nil || !strings.Contains(err.Error(), "give each run its own name") {
			t.Errorf("%q: %v", names, err)
		}
	}
}

// A report goes in whole or not at all: an interrupted write leaves the old report as it was,
// and a complete one moves a non-empty old directory aside.
func TestWriteIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "rep")
	r := loadRun(t, dir, "one")
	if _, err := Write(out, &Report{Title: "first", Runs: []*Run{r}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	testHookPut = func(name string) error {
		if n++; n == 5 {
			return errors.New("interrupted")
		}
		return nil
	}
	_, err := Write(out, &Report{Title: "second", Runs: []*Run{r}})
	testHookPut = nil
	if err == nil {
		t.Fatal("the interrupted write succeeded")
	}
	if b, _ := os.ReadFile(filepath.Join(out, "report.md")); !strings.HasPrefix(string(b), "# first") {
		t.Errorf("the old report changed: %.40q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".rep.tmp-*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	w, err := Write(out, &Report{Title: "third", Runs: []*Run{r}})
	if err != nil || w.Moved == "" {
		t.Fatalf("%v %+v", err, w)
	}
	if b, _ := os.ReadFile(filepath.Join(w.Moved, "report.md")); !strings.HasPrefix(string(b), "# first") {
		t.Errorf("the old report was not moved aside to %s", w.Moved)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "report.md")); !strings.HasPrefix(string(b), "# third") {
		t.Errorf("the new report is not in place")
	}
}
