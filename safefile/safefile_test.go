package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const nobody = 65534

func mustMkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o666); err != nil {
		t.Fatal(err)
	}
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test plants files owned by another user: run it as root (make test does)")
	}
}

// What is at the target is never replaced unless it is a regular file.
func TestWriteRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	mustMkfifo(t, fifo)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	link := filepath.Join(dir, "link")
	os.Symlink(filepath.Join(dir, "elsewhere"), link)
	cases := []struct{ path, kind string }{
		{"/dev/null", "a character device"},
		{fifo, "a FIFO"},
		{sub, "a directory"},
		{link, "a symbolic link"},
	}
	for _, c := range cases {
		before, _ := os.Lstat(c.path)
		err := WriteFile(c.path, []byte("x"), 0o644)
		var nr *NotRegularError
		if !errors.As(err, &nr) || nr.Kind != c.kind || !strings.Contains(err.Error(), "will not replace it") {
			t.Errorf("WriteFile(%s) = %v, want a refusal naming %s", c.path, err, c.kind)
		}
		after, _ := os.Lstat(c.path)
		if before.Mode() != after.Mode() || !os.SameFile(before, after) {
			t.Errorf("%s was replaced: %v → %v", c.path, before.Mode(), after.Mode())
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "elsewhere")); err == nil {
		t.Error("the symbolic link was followed")
	}
}

// A file someone else created (0666, their uid) gets tsnctl's owner and mode.
func TestWriteSetsOwnerAndMode(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "status.json")
	os.WriteFile(p, []byte("planted"), 0o666)
	os.Chmod(p, 0o666)
	os.Chown(p, nobody, nobody)
	if err := WriteFile(p, []byte("ours\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	b, _ := os.ReadFile(p)
	if fi.Mode().Perm() != 0o644 || owner(fi) != os.Geteuid() || string(b) != "ours\n" {
		t.Errorf("after the write: mode %04o owner %d contents %q", fi.Mode().Perm(), owner(fi), b)
	}
	// and the umask does not take bits away: 0640 asked is 0640 got
	if err := WriteFile(p, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %04o", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

// Directories another user controls are refused, and nothing is written through them.
func TestWriteRefusesDirectoriesOthersControl(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	theirs := filepath.Join(dir, "theirs")
	os.Mkdir(theirs, 0o755)
	os.Chown(theirs, nobody, nobody)
	open := filepath.Join(dir, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	sticky := filepath.Join(dir, "sticky")
	os.Mkdir(sticky, 0o777)
	os.Chmod(sticky, 0o777|os.ModeSticky)
	target := filepath.Join(dir, "target")
	os.Mkdir(target, 0o755)
	planted := filepath.Join(sticky, "run") // a directory symlink another user planted in a sticky /tmp-like directory
	os.Symlink(target, planted)
	os.Lchown(planted, nobody, nobody)
	ours := filepath.Join(dir, "ours")
	os.Symlink(target, ours)

	cases := []struct{ path, want string }{
		{filepath.Join(theirs, "s.json"), "is owned by uid 65534"},
		{filepath.Join(theirs, "new", "s.json"), "is owned by uid 65534"},
		{filepath.Join(open, "s.json"), "writable by other users"},
		{filepath.Join(planted, "s.json"), "a symbolic link owned by uid 65534"},
		{filepath.Join(planted, "deeper", "s.json"), "a symbolic link owned by uid 65534"},
	}
	for _, c := range cases {
		err := WriteFile(c.path, []byte("x"), 0o644)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("WriteFile(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Errorf("written through the planted link: %v", ents)
	}
	// What root or we own is fine: a sticky world-writable directory, our own link.
	for _, p := range []string{filepath.Join(sticky, "s.json"), filepath.Join(ours, "s.json"), filepath.Join(dir, "a", "b", "s.json")} {
		if err := WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Errorf("WriteFile(%s): %v", p, err)
		}
	}
}

// A read never blocks and never reads without bound: FIFOs, devices and directories are refused
// before reading, a file over the limit is refused naming the limit.
func TestReadRefusesAndBounds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	mustMkfifo(t, fifo)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 2048), 0o644)
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("fine"), 0o644)
	cases := []struct{ path, want string }{
		{fifo, "is a FIFO: tsnctl reads only regular files"},
		{"/dev/zero", "is a character device"},
		{dir, "is a directory"},
		{big, "larger than 1 KiB, the limit for a status file"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { _, err := Read(c.path, 1024, "a status file"); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read(%s) = %v, want %q", c.path, err, c.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Read(%s) blocked", c.path)
		}
	}
	if b, err := Read(ok, 1024, "a status file"); err != nil || string(b) != "fine" {
		t.Errorf("Read(ok) = %q, %v", b, err)
	}
	if b, err := Read(ok, 4, "x"); err != nil || string(b) != "fine" {
		t.Errorf("exactly the limit: %q, %v", b, err)
	}
}
