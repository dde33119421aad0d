package docs

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// maxREADMELines is the front door's budget: README.md says what tsnctl is, how to try it, the
// commands and where to read on; everything else lives in docs/.
const maxREADMELines = 200

func TestREADMEIsShort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n > maxREADMELines {
		t.Errorf("README.md has %d lines, more than %d: move the detail into docs/ and link to it", n, maxREADMELines)
	}
}

// TestLinks checks every link of every Markdown file in the tree (tracked by git, or new and not
// ignored; not under vendor/, testdata/ or out/), parsed as GitHub parses it (goldmark with the
// GFM extensions: tables, autolinks), in link and image syntax, autolinks and raw HTML (href=,
// src=). The rules:
//
//   - A relative link must name a file or directory of the repository, resolved from the linking
//     file's directory; one that climbs out of the repository (../ past the root) fails.
//   - A link with a fragment (#heading) must point into a Markdown file (or be "#heading" alone,
//     the same file) that has that anchor: a heading's GitHub anchor (lower case, punctuation
//     other than - and _ dropped, each space a -, repeated headings -1, -2, ...) or an explicit
//     id= / name= in raw HTML.
//   - A link that leaves the repository fails: any URL with a scheme (http:, https:, mailto:, ...),
//     a protocol-relative //host, and a root-absolute /path (it means the host's root outside
//     GitHub). The docs must stay true offline and in any checkout, and this test cannot verify
//     a page it cannot fetch, so outside projects and specifications are named in text or code
//     (e.g. `github.com/yuin/goldmark`), not linked.
func TestLinks(t *testing.T) {
	files := repoFiles(t)
	var md []string
	for _, f := range files {
		if strings.HasSuffix(f, ".md") && !skipped(f) {
			md = append(md, f)
		}
	}
	if !slices.Contains(md, "README.md") {
		t.Fatalf("no README.md among the repository's Markdown files %v", md)
	}
	for _, p := range checkLinks(os.DirFS(root), files, md) {
		t.Error(p)
	}
}

// TestLinkChecker shows the checker failing on each kind of bad link, and passing good ones.
func TestLinkChecker(t *testing.T) {
	fsys := fstest.MapFS{
		"README.md": {Data: []byte(`# Title

See [the guide](docs/guide.md), [its setup](docs/guide.md#set-up-a-node), [here](#title),
[the config](configs/seed.yaml), [a dir](configs/), ![plot](docs/plot.svg).

## Title

[repeat](#title-1) [code heading](docs/guide.md#tsnctl-check--o-json) [second](docs/guide.md#notes-1)

| a | b |
|---|---|
| [in a table](docs/guide.md#notes) | x |

<a href="docs/guide.md#notes">html</a>

` + "```" + `
[not a link in code](nowhere.md)
` + "```" + `
`)},
		"docs/guide.md": {Data: []byte("# Guide\n\n## Set up a node\n\n## `tsnctl check -o json`\n\n## Notes\n\n## Notes\n\n" +
			"[back](../README.md) [up](../configs/seed.yaml#L3)\n")},
		"docs/plot.svg":     {Data: []byte("<svg/>")},
		"configs/seed.yaml": {Data: []byte("a: 1\n")},
		"bad.md": {Data: []byte(`# Bad

[missing file](docs/nothing.md)
[missing anchor](docs/guide.md#no-such-heading)
[missing local anchor](#nope)
[out of the repository](../elsewhere/README.md)
[web](https://example.com/page)
<https://example.com/auto>
and a bare https://example.com/linkified URL
[absolute](/etc/passwd)
[protocol relative](//example.com/x)
[mail](mailto:someone@example.com)
<a href="http://example.com/raw">raw</a>
![img](docs/none.png)
`)},
	}
	files := slices.Sorted(func(yield func(string) bool) {
		for k := range fsys {
			if !yield(k) {
				return
			}
		}
	})
	got := checkLinks(fsys, files, []string{"README.md", "docs/guide.md", "bad.md"})
	want := []string{
		"bad.md: docs/nothing.md: no such file in the repository",
		"bad.md: docs/guide.md#no-such-heading: docs/guide.md has no heading with the anchor #no-such-heading",
		"bad.md: #nope: bad.md has no heading with the anchor #nope",
		"bad.md: ../elsewhere/README.md: leaves the repository",
		"bad.md: https://example.com/page: leaves the repository",
		"bad.md: https://example.com/auto: leaves the repository",
		"bad.md: https://example.com/linkified: leaves the repository",
		"bad.md: /etc/passwd: leaves the repository",
		"bad.md: //example.com/x: leaves the repository",
		"bad.md: mailto:someone@example.com: leaves the repository",
		"bad.md: http://example.com/raw: leaves the repository",
		"bad.md: docs/none.png: no such file in the repository",
		"docs/guide.md: ../configs/seed.yaml#L3: an anchor, but configs/seed.yaml is not a Markdown file",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Two commands on a fresh Debian 12 machine": "two-commands-on-a-fresh-debian-12-machine",
		"`tsnctl check`":                                        "tsnctl-check",
		"Traffic: `send`, `recv`, `dump`":                       "traffic-send-recv-dump",
		"Careless and hostile input":                            "careless-and-hostile-input",
		"Time sync: `ptp config`, `send --require-sync`":        "time-sync-ptp-config-send---require-sync",
		"The PHC in a container, through CDI.":                  "the-phc-in-a-container-through-cdi",
		"`ptp:` — time sync (`tsnctl ptp config/run`)":          "ptp--time-sync-tsnctl-ptp-configrun",
		"Two time bases: virtual (one guest, the default)":      "two-time-bases-virtual-one-guest-the-default",
		"snake_case and µs":                                     "snake_case-and-µs",
		"A *b* [c](d.md)":                                       "a-b-c",
		"p99 < 50 ms":                                           "p99--50-ms",
		"Ünïcode Heading":                                       "ünïcode-heading",
		"tsnctl on Kubernetes (`deploy/helm/tsnctl`, `deploy`)": "tsnctl-on-kubernetes-deployhelmtsnctl-deploy",
	} {
		md := []byte("# " + heading + "\n")
		if got := anchors(md); !got[want] {
			t.Errorf("%q: anchors %v, want %q", heading, got, want)
		}
	}
	got := anchors([]byte("# A\n\n## A\n\nA\n-\n\n### a\n"))
	for _, a := range []string{"a", "a-1", "a-2", "a-3"} {
		if !got[a] {
			t.Errorf("repeated headings: anchors %v, want %s", got, a)
		}
	}
}

// skipped reports whether a path is outside the documentation the link check covers.
func skipped(p string) bool {
	for _, part := range strings.Split(p, "/") {
		switch part {
		case "vendor", "testdata", "out", ".git":
			return true
		}
	}
	return false
}

// repoFiles lists the repository's files, slash-separated and relative to its root: those git
// tracks and the new ones it does not ignore (so a link to a file not yet committed counts);
// without git, every file under the root but .git, out and bin.
func repoFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, f)); err == nil { // deleted in the work tree: gone
				files = append(files, f)
			}
		}
		return files
	}
	t.Logf("git ls-files: %v; walking the tree instead", err)
	var files []string
	err = fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (p == ".git" || p == "out" || p == "bin") {
			return fs.SkipDir
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// parse returns a Markdown file's syntax tree.
func parse(src []byte) ast.Node { return md.Parser().Parse(text.NewReader(src)) }

// checkLinks checks the links of the Markdown files mdFiles of fsys, whose files are files, and
// returns one line per problem.
func checkLinks(fsys fs.FS, files, mdFiles []string) []string {
	exists := map[string]bool{}
	for _, f := range files {
		exists[f] = true
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			exists[d] = true
		}
	}
	anchorCache := map[string]map[string]bool{}
	anchorsOf := func(f string) map[string]bool {
		if a, ok := anchorCache[f]; ok {
			return a
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil
		}
		anchorCache[f] = anchors(b)
		return anchorCache[f]
	}
	var problems []string
	for _, f := range mdFiles {
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		for _, dest := range links(src) {
			if p := checkLink(f, dest, exists, anchorsOf); p != "" {
				problems = append(problems, fmt.Sprintf("%s: %s: %s", f, dest, p))
			}
		}
	}
	return problems
}

// checkLink judges one link of file from; it returns what is wrong, or "".
func checkLink(from, dest string, exists map[string]bool, anchorsOf func(string) map[string]bool) string {
	if dest == "" {
		return "empty link"
	}
	u, err := url.Parse(dest)
	if err != nil {
		return "not a URL: " + err.Error()
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(dest, "/") {
		return "leaves the repository"
	}
	target := from
	if u.Path != "" {
		target = path.Join(path.Dir(from), u.Path)
		if target == ".." || strings.HasPrefix(target, "../") {
			return "leaves the repository"
		}
		if !exists[target] && target != "." {
			return "no such file in the repository"
		}
	}
	if u.Fragment == "" {
		return ""
	}
	if !strings.HasSuffix(target, ".md") {
		return "an anchor, but " + target + " is not a Markdown file"
	}
	if !anchorsOf(target)[u.Fragment] {
		return fmt.Sprintf("%s has no heading with the anchor #%s", target, u.Fragment)
	}
	return ""
}

var htmlLink = regexp.MustCompile(`(?i)\b(?:href|src)\s*=\s*["']([^"']*)["']`)

// links returns every link destination of a Markdown file: links, images, autolinks (including
// bare URLs GitHub turns into links) and href= / src= of raw HTML.
func links(src []byte) []string {
	var out []string
	ast.Walk(parse(src), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			out = append(out, string(n.Destination))
		case *ast.Image:
			out = append(out, string(n.Destination))
		case *ast.AutoLink:
			out = append(out, string(n.URL(src)))
		case *ast.RawHTML, *ast.HTMLBlock:
			for _, m := range htmlLink.FindAllSubmatch(rawHTML(n, src), -1) {
				out = append(out, string(m[1]))
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

// rawHTML is the text of a raw HTML node.
func rawHTML(n ast.Node, src []byte) []byte {
	var b []byte
	switch n := n.(type) {
	case *ast.RawHTML:
		for i := 0; i < n.Segments.Len(); i++ {
			seg := n.Segments.At(i)
			b = append(b, seg.Value(src)...)
		}
	case *ast.HTMLBlock:
		for i := 0; i < n.Lines().Len(); i++ {
			seg := n.Lines().At(i)
			b = append(b, seg.Value(src)...)
		}
		if n.HasClosure() {
			b = append(b, n.ClosureLine.Value(src)...)
		}
	}
	return b
}

var htmlAnchor = regexp.MustCompile(`(?i)\b(?:id|name)\s*=\s*["']([^"']+)["']`)

// anchors returns the anchors a Markdown file has on GitHub: each heading's, and the id= and
// name= of raw HTML.
func anchors(src []byte) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	ast.Walk(parse(src), func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			// As github-slugger counts: a taken anchor gets -1, -2, ... after its base.
			base := slug(plainText(n, src))
			a := base
			for _, taken := seen[a]; taken; _, taken = seen[a] {
				seen[base]++
				a = fmt.Sprintf("%s-%d", base, seen[base])
			}
			seen[a] = 0
			out[a] = true
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML, *ast.HTMLBlock:
			for _, m := range htmlAnchor.FindAllSubmatch(rawHTML(n, src), -1) {
				out[string(m[1])] = true
			}
		}
		return ast.WalkContinue, nil
	})
	return out
}

// plainText is the text of an inline tree as GitHub reads a heading: code spans' and links'
// text included, markup left out.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(src))
		case *ast.RawHTML, *ast.Image:
		default:
			b.WriteString(plainText(c, src))
		}
	}
	return b.String()
}

// slug is GitHub's anchor for a heading's text: lower case; letters, digits, marks, - and _
// kept; each space a -; everything else dropped.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
