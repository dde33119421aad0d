// Package container runs tsnctl's OCI image the way a container engine would, with a bare OCI
// runtime (runc) in the lab guest: the image unpacked from its OCI layout into a bundle, and a
// runtime spec with the container's own mount, PID, UTS and IPC namespaces, a network namespace
// the caller prepared (the NIC moved into it: the seed's passthrough), a read-only root, and only
// the capabilities given.
package container

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"tags.cncf.io/container-device-interface/pkg/cdi"
)

// Unpack writes the one image of the OCI layout at dir, all layers applied, into rootfs, and
// returns its config's entrypoint and environment.
func Unpack(dir, rootfs string) (entrypoint, env []string, err error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, nil, fmt.Errorf("%s: %d images, want 1", dir, len(m.Manifests))
	}
	img, err := p.Image(m.Manifests[0].Digest)
	if err != nil {
		return nil, nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	if err := untar(rc, rootfs); err != nil {
		return nil, nil, err
	}
	return cf.Config.Entrypoint, cf.Config.Env, nil
}

func untar(r io.Reader, dst string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(p, fileMode(h.Mode)); err != nil {
				return err
			}
		case tar.TypeSymlink:
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fileMode(h.Mode))
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}

func fileMode(m int64) os.FileMode {
	mode := os.FileMode(m).Perm()
	if m&0o1000 != 0 {
		mode |= os.ModeSticky
	}
	return mode
}

// Options is what the container gets.
type Options struct {
	Args  []string // the process, after the image's entrypoint
	Env   []string
	NetNS string   // path of the network namespace to join, e.g. /var/run/netns/ctr
	Caps  []string // e.g. CAP_NET_ADMIN
	// CDIDevices are devices by their CDI names (tsnctl.io/phc=eth1), resolved from the specs in
	// CDISpecDirs by the CDI library, as containerd, CRI-O and podman resolve them.
	CDIDevices  []string
	CDISpecDirs []string
	// Mounts are extra bind mounts (read-only), e.g. the configuration file.
	Binds map[string]string // container path -> host path
}

// Spec is the runtime spec a container engine would make for tsnctl's image run with o: its own
// mount, PID, UTS and IPC namespaces, o.NetNS for the network, a read-only root with tmpfs on /run
// and /tmp, /proc and a read-only /sys, only o.Caps (bounding, effective, permitted; none
// inheritable or ambient), no new privileges, no device but the defaults, and o.CDIDevices as
// their CDI specs say (the device nodes, and their rules in the device cgroup).
func Spec(entrypoint []string, o Options) (*specs.Spec, error) {
	caps := append([]string(nil), o.Caps...)
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Process: &specs.Process{
			Args:            append(append([]string(nil), entrypoint...), o.Args...),
			Env:             o.Env,
			Cwd:             "/",
			User:            specs.User{UID: 0, GID: 0},
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			NoNewPrivileges: true,
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
		},
		Hostname: "tsnctl",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.IPCNamespace}, {Type: specs.NetworkNamespace, Path: o.NetNS}},
			Resources:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	for _, dst := range slices.Sorted(maps.Keys(o.Binds)) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: dst, Type: "bind", Source: o.Binds[dst], Options: []string{"rbind", "ro"}})
	}
	if len(o.CDIDevices) > 0 {
		cache, err := cdi.NewCache(cdi.WithSpecDirs(o.CDISpecDirs...), cdi.WithAutoRefresh(false))
		if err != nil {
			return nil, err
		}
		if unresolved, err := cache.InjectDevices(s, o.CDIDevices...); err != nil {
			return nil, fmt.Errorf("CDI devices %q (unresolved %q): %w", o.CDIDevices, unresolved, err)
		}
	}
	return s, nil
}

// WriteSpec writes s as the bundle's config.json.
func WriteSpec(bundle string, s *specs.Spec) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o644)
}

// CapNames turns short names (NET_ADMIN) into the spec's (CAP_NET_ADMIN).
func CapNames(short ...string) []string {
	out := make([]string, len(short))
	for i, c := range short {
		out[i] = "CAP_" + strings.TrimPrefix(strings.ToUpper(c), "CAP_")
	}
	return out
}
