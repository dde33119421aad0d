package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
)

// readDeb reads a Debian package's files (dpkg-deb --fsys-tarfile, as dpkg would install them) into
// a tree by path.
func readDeb(file string) (Tree, error) {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("dpkg-deb: %w (install dpkg)", err)
	}
	t, rerr := readTar(out)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dpkg-deb --fsys-tarfile %s: %v: %s", file, err, stderr.Bytes())
	}
	return t, rerr
}

func readTar(r io.Reader) (Tree, error) {
	t := Tree{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		p := path.Clean("/" + h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			t[p] = File{Path: p, Dir: true, Mode: int64(h.FileInfo().Mode().Perm())}
		case tar.TypeSymlink:
			t[p] = File{Path: p, Link: h.Linkname, Mode: 0o777}
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, err
			}
			t[p] = File{Path: p, Data: b, Mode: int64(h.FileInfo().Mode().Perm())}
		}
	}
}
