package docs

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// root is the repository, seen from this package's directory (where go test runs).
const root = ".."

// buildOutputPath reports why a tracked path is build output by its name, or "".
func buildOutputPath(p string) string {
	first, _, _ := strings.Cut(p, "/")
	switch {
	case first == "out" || first == "bin":
		return "under " + first + "/, where the Makefile writes its output"
	case p == "tsnctl" || p == "image":
		return "what go build ./cmd/tsnctl or go build ./deploy/image leave in the root"
	case strings.Contains("/"+p, "/out/"):
		return "an out/ directory"
	}
	switch path.Ext(p) {
	case ".test", ".o", ".a", ".so", ".exe", ".prof", ".pprof":
		return "a compiled object, test binary or profile (" + path.Ext(p) + ")"
	}
	return ""
}

// buildOutputContent reports why a file's first bytes make it build output, or "".
func buildOutputContent(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "an ELF binary"
	case bytes.HasPrefix(head, []byte("\xcf\xfa\xed\xfe")), bytes.HasPrefix(head, []byte("\xce\xfa\xed\xfe")),
		bytes.HasPrefix(head, []byte("\xfe\xed\xfa\xcf")), bytes.HasPrefix(head, []byte("\xfe\xed\xfa\xce")):
		return "a Mach-O binary"
	case bytes.HasPrefix(head, []byte("MZ")) && len(head) >= 64 && bytes.Contains(head, []byte("PE\x00\x00")):
		return "a Windows executable"
	case bytes.HasPrefix(head, []byte("!<arch>\n")):
		return "an ar archive (a Go or C library)"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "a tar archive (an image?)"
	}
	return ""
}

// TestNoBuildOutputTracked: git tracks sources only. No tracked file is an executable, library or
// archive (by its first bytes: ELF, Mach-O, PE, ar, tar), or lies where builds write (out/, bin/,
// the root's tsnctl and image that go build leaves there). A committed binary once rode along
// unseen: this test is what catches the next one.
func TestNoBuildOutputTracked(t *testing.T) {
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	n := 0
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		n++
		if why := buildOutputPath(f); why != "" {
			t.Errorf("git tracks %s: %s; git rm --cached it", f, why)
			continue
		}
		fh, err := os.Open(filepath.Join(root, f))
		if err != nil {
			continue // deleted in the work tree
		}
		head := make([]byte, 1024)
		k, _ := io.ReadFull(fh, head)
		fh.Close()
		if why := buildOutputContent(head[:k]); why != "" {
			t.Errorf("git tracks %s: %s; git rm --cached it", f, why)
		}
	}
	if n == 0 {
		t.Fatal("git ls-files listed nothing")
	}
}

// TestBuildOutputIgnored: .gitignore keeps what builds write out of git status.
func TestBuildOutputIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	for _, p := range []string{"tsnctl", "image", "bin/tsnctl", "out/lab/report.html", "deploy/image/out/x"} {
		if err := exec.Command("git", "-C", root, "check-ignore", "-q", "--no-index", p).Run(); err != nil {
			t.Errorf("%s is not ignored by .gitignore (git check-ignore: %v)", p, err)
		}
	}
	for _, p := range []string{"cmd/tsnctl/main.go", "deploy/image/build", "docs/images.md"} {
		if exec.Command("git", "-C", root, "check-ignore", "-q", "--no-index", p).Run() == nil {
			t.Errorf("%s, a source, is ignored by .gitignore", p)
		}
	}
}

func TestBuildOutputCheck(t *testing.T) {
	for p, bad := range map[string]bool{
		"out/lab/report.html": true, "bin/tsnctl": true, "tsnctl": true, "image": true, "agent/agent.test": true,
		"deploy/image/out/oci/index.json": true, "libx.a": true,
		"cmd/tsnctl/main.go": false, "deploy/image/build": false, "docs/time-sync.md": false, "configs/seed.yaml": false,
		"qdisc/testdata/netlink/show.nl": false, "image.go": false,
	} {
		if got := buildOutputPath(p) != ""; got != bad {
			t.Errorf("%s: build output %v, want %v", p, got, bad)
		}
	}
	tar := make([]byte, 512)
	copy(tar[257:], "ustar\x0000")
	pe := append([]byte("MZ"), make([]byte, 126)...)
	copy(pe[64:], "PE\x00\x00")
	for name, c := range map[string]struct {
		head []byte
		bad  bool
	}{
		"elf": {[]byte("\x7fELF\x02\x01\x01"), true}, "ar": {[]byte("!<arch>\n__.PKGDEF"), true}, "tar": {tar, true},
		"macho": {[]byte("\xcf\xfa\xed\xfe\x07"), true}, "pe": {pe, true},
		"script": {[]byte("#!/usr/bin/env bash\n"), false}, "go": {[]byte("package main\n"), false}, "empty": {nil, false},
		"fuzz": {[]byte("go test fuzz v1\n[]byte(\"\\x7fELF\")\n"), false}, "mz text": {[]byte("MZ is a text that starts so"), false},
	} {
		if got := buildOutputContent(c.head) != ""; got != c.bad {
			t.Errorf("%s: build output %v, want %v", name, got, c.bad)
		}
	}
}
