// Package safefile reads and writes the files tsnctl keeps (status files, records, feature files,
// configurations) on a node where other users may have planted something at the path: every read
// is bounded and refuses what is not a regular file before reading (a FIFO would block, a device
// would never end), and every write replaces a regular file atomically, with the owner and mode
// tsnctl gives it, in a directory no other user controls.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/renameio/v2"
)

// What a mode is, in words a user reads in an error.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

// NotRegularError is a path that is not a regular file where one was wanted.
type NotRegularError struct {
	Path string
	Kind string // "a FIFO", "a character device", …
	Op   string // "read" or "write"
}

func (e *NotRegularError) Error() string {
	if e.Op == "write" {
		return fmt.Sprintf("%s is %s: tsnctl writes only regular files and will not replace it; give a file path", e.Path, e.Kind)
	}
	return fmt.Sprintf("%s is %s: tsnctl reads only regular files; give a file path", e.Path, e.Kind)
}

// TooLargeError is a file larger than its reader's limit.
type TooLargeError struct {
	Path  string
	Limit int64
	What  string
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s, the limit for %s: is it the right file?", e.Path, size(e.Limit), e.What)
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Read reads the regular file at path, at most limit bytes (what names the kind of file in the
// error, e.g. "a configuration"). It opens without blocking, so a FIFO cannot hang it, and refuses
// by fstat anything that is not a regular file — FIFO, device, directory, socket — before reading.
func Read(path string, limit int64, what string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Kind: kindOf(fi.Mode()), Op: "read"}
	}
	if fi.Size() > limit {
		return nil, &TooLargeError{Path: path, Limit: limit, What: what}
	}
	return readBounded(f, path, limit, what)
}

// ReadInput is Read, except that "-" and "/dev/stdin" read standard input — a pipe is what the user
// means there (tsnctl plan … | tsnctl apply -f -) — still at most limit bytes.
func ReadInput(path string, limit int64, what string) ([]byte, error) {
	if path == "-" || path == "/dev/stdin" {
		return readBounded(os.Stdin, "standard input", limit, what)
	}
	return Read(path, limit, what)
}

func readBounded(r io.Reader, name string, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: name, Limit: limit, What: what}
	}
	return b, nil
}

// WriteFile replaces the file at path with data, atomically (a temporary file beside it, renamed
// over it), so a reader sees the old or the new contents, never a mix. The file gets mode perm
// and the writer as owner, whatever a file at path had (a file another user created 0666 does
// not stay writable to them). It refuses, changing nothing:
//   - a target that is not a regular file (a device such as /dev/null, a FIFO, a directory, a
//     socket, a symbolic link);
//   - a directory on the way that another user controls: owned by another user, or writable by
//     others without the sticky bit, or a symbolic link owned by another user.
//
// The directory is created (0755) when it is missing.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(filepath.Clean(path))
	if base == "" || base == "." || base == ".." || base == "/" {
		return fmt.Errorf("%s: not a file name", path)
	}
	if dir == "" {
		dir = "."
	}
	if err := MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	// The directory opened is the one checked: a swap after the check is refused here.
	if err := trustedDir(root, dir); err != nil {
		return err
	}
	if fi, err := root.Lstat(base); err == nil && !fi.Mode().IsRegular() {
		return &NotRegularError{Path: path, Kind: kindOf(fi.Mode()), Op: "write"}
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	t, err := renameio.NewPendingFile(base, renameio.WithRoot(root), renameio.WithStaticPermissions(perm))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// MkdirAll creates dir and its missing parents with mode perm, after checking that every existing
// directory on the way is one that no other user controls (see WriteFile).
func MkdirAll(dir string, perm fs.FileMode) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := trustedPath(abs); err != nil {
		return err
	}
	return os.MkdirAll(abs, perm)
}

// trustedPath checks each existing component of an absolute path, from the root down: symbolic
// links are followed only when owned by root or by us (as the kernel's protected_symlinks does in
// sticky directories), and every directory passes trusted.
func trustedPath(abs string) error {
	cur := "/"
	rest := strings.Split(strings.TrimPrefix(abs, "/"), "/")
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		if name == "" || name == "." {
			continue
		}
		next := filepath.Join(cur, name)
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // created by MkdirAll, as ours
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if uid := owner(fi); uid != 0 && uid != os.Geteuid() {
				return fmt.Errorf("%s is a symbolic link owned by uid %d: tsnctl follows only links owned by root or by itself; give the real path", next, uid)
			}
			if hops++; hops > 40 {
				return fmt.Errorf("%s: too many symbolic links", abs)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return err
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(cur, target)
			}
			rest = append(strings.Split(strings.TrimPrefix(filepath.Clean(target), "/"), "/"), rest...)
			cur = "/"
			continue
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is %s, not a directory", next, kindOf(fi.Mode()))
		}
		if err := trusted(next, fi); err != nil {
			return err
		}
		cur = next
	}
	return nil
}

func trustedDir(root *os.Root, dir string) error {
	fi, err := root.Stat(".")
	if err != nil {
		return err
	}
	return trusted(dir, fi)
}

// trusted: a directory owned by root or by us, and not writable by others unless sticky (as /tmp:
// there others cannot remove or rename our files).
func trusted(dir string, fi fs.FileInfo) error {
	if uid := owner(fi); uid != 0 && uid != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d: another user could replace what tsnctl writes there; use a directory owned by root or by uid %d", dir, uid, os.Geteuid())
	}
	if fi.Mode()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by other users (mode %04o) without the sticky bit: they could replace what tsnctl writes there; chmod go-w %s", dir, fi.Mode().Perm(), dir)
	}
	return nil
}

func owner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
