package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// File is one entry of a layer: a regular file (Data), a directory (Dir) or a symlink (Link).
type File struct {
	Path string // absolute, in the image
	Mode int64  // permission bits
	Data []byte
	Dir  bool
	Link string
}

// Tree is the files of one layer, by path.
type Tree map[string]File

// Add adds f and every parent directory it lacks (0755).
func (t Tree) Add(f File) {
	f.Path = path.Clean("/" + f.Path)
	t[f.Path] = f
	for d := path.Dir(f.Path); d != "/"; d = path.Dir(d) {
		if _, ok := t[d]; !ok {
			t[d] = File{Path: d, Dir: true, Mode: 0o755}
		}
	}
}

// Tar writes the tree as a layer: entries in path order, owned by root, every time mtime, no
// user or group names: the same tree gives the same bytes.
func (t Tree) Tar(mtime time.Time) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, p := range slices.Sorted(maps.Keys(t)) {
		f := t[p]
		h := &tar.Header{Name: strings.TrimPrefix(p, "/"), Mode: f.Mode, ModTime: mtime.UTC(), Format: tar.FormatPAX}
		switch {
		case f.Dir:
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		case f.Link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.Link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// needs returns the program interpreter and the shared libraries an ELF binary names (DT_NEEDED);
// a static binary has neither.
func needs(data []byte) (interp string, libs []string, err error) {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err != nil {
				return "", nil, err
			}
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	libs, err = f.ImportedLibraries()
	if err != nil && !strings.Contains(err.Error(), "no dynamic") {
		return "", nil, err
	}
	return interp, libs, nil
}

// libDirs are where the dynamic linker looks on Debian amd64 (and where libc6 installs).
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64"}

// Closure adds to out the libraries the programs in progs need, transitively, taking them from
// the package trees in from (path -> file, symlinks followed), and the interpreter with the symlink
// that names it. It returns what it added, sorted.
func Closure(out Tree, progs []File, from Tree) ([]string, error) {
	var added []string
	var visit func(f File) error
	seen := map[string]bool{}
	add := func(p string) (File, error) {
		f, ok := from[p]
		for hops := 0; ok && f.Link != ""; hops++ {
			if hops > 8 {
				return File{}, fmt.Errorf("%s: too many symlinks", p)
			}
			if _, have := out[p]; !have {
				out.Add(f)
				added = append(added, p)
			}
			target := f.Link
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(p), target)
			}
			p = target
			f, ok = from[p]
		}
		if !ok {
			return File{}, fmt.Errorf("%s is not in the packages given", p)
		}
		if _, have := out[p]; !have {
			out.Add(f)
			added = append(added, p)
		}
		return f, nil
	}
	visit = func(f File) error {
		if seen[f.Path] {
			return nil
		}
		seen[f.Path] = true
		interp, libs, err := needs(f.Data)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		if interp != "" {
			lf, err := add(interp)
			if err != nil {
				return fmt.Errorf("%s's interpreter: %w", f.Path, err)
			}
			if err := visit(lf); err != nil {
				return err
			}
		}
		for _, lib := range libs {
			var found bool
			for _, d := range libDirs {
				if _, ok := from[path.Join(d, lib)]; ok {
					lf, err := add(path.Join(d, lib))
					if err != nil {
						return err
					}
					if err := visit(lf); err != nil {
						return err
					}
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("%s needs %s, which is in none of %v of the packages given", f.Path, lib, libDirs)
			}
		}
		return nil
	}
	for _, p := range progs {
		if err := visit(p); err != nil {
			return nil, err
		}
	}
	slices.Sort(added)
	return added, nil
}
