package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestTarIsDeterministic(t *testing.T) {
	mk := func(order []string) Tree {
		tr := Tree{}
		for _, p := range order {
			tr.Add(File{Path: p, Mode: 0o755, Data: []byte(p)})
		}
		tr.Add(File{Path: "/var/run", Link: "/run", Mode: 0o777})
		return tr
	}
	at := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	a, err := mk([]string{"/usr/sbin/ptp4l", "/usr/bin/tsnctl"}).Tar(at)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mk([]string{"/usr/bin/tsnctl", "/usr/sbin/ptp4l"}).Tar(at)
	if !bytes.Equal(a, b) {
		t.Fatal("the same tree gave different bytes")
	}
	var names []string
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || !h.ModTime.Equal(at) {
			t.Errorf("%s: uid %d gid %d uname %q mtime %v", h.Name, h.Uid, h.Gid, h.Uname, h.ModTime)
		}
		names = append(names, h.Name)
	}
	want := []string{"usr/", "usr/bin/", "usr/bin/tsnctl", "usr/sbin/", "usr/sbin/ptp4l", "var/", "var/run"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entries %q, want %q (parents added, sorted)", names, want)
	}
}

// The C library a dynamic program needs is found from its ELF headers, through the interpreter's
// symlink: checked on this machine's /bin/true (Debian's coreutils, linked against libc6).
func TestClosureOfADynamicProgram(t *testing.T) {
	from := Tree{}
	for _, p := range []string{"/bin/true", "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatalf("%v (a Debian amd64 host has it)", err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			from[p] = File{Path: p, Link: l, Mode: 0o777}
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		from[p] = File{Path: p, Data: b, Mode: 0o755}
	}
	out := Tree{}
	added, err := Closure(out, []File{from["/bin/true"]}, from)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"} {
		if _, ok := out[p]; !ok {
			t.Errorf("%s missing; added %v", p, added)
		}
	}
	if l := out["/lib64/ld-linux-x86-64.so.2"]; l.Link == "" {
		t.Errorf("the interpreter's path is not kept as the symlink it is: %+v", l.Path)
	}
	// A library the packages do not have is named.
	delete(from, "/lib/x86_64-linux-gnu/libc.so.6")
	if _, err := Closure(Tree{}, []File{from["/bin/true"]}, from); err == nil {
		t.Error("a missing libc.so.6 went unnoticed")
	}
}

func TestCreatedTime(t *testing.T) {
	for _, tc := range []struct {
		flag, epoch string
		want        time.Time
		bad         bool
	}{
		{"2026-11-29T00:00:00Z", "1", time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), false},
		{"", "1764374400", time.Unix(1764374400, 0).UTC(), false},
		{"", "", time.Unix(0, 0).UTC(), false},
		{"", "yesterday", time.Time{}, true},
	} {
		got, err := createdTime(tc.flag, tc.epoch)
		if (err != nil) != tc.bad || !tc.bad && !got.Equal(tc.want) {
			t.Errorf("%q %q: %v %v", tc.flag, tc.epoch, got, err)
		}
	}
}
