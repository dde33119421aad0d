package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type options struct {
	tsnctl, debs, out string
	version, revision string
	created           time.Time
}

type layerInfo struct {
	Name   string
	Size   int64 // gzipped
	Digest string
}

type result struct {
	Tag, Digest string
	Size        int64 // the layers, gzipped
	Layers      []layerInfo
}

// linuxptpPrograms are the programs of linuxptp the image carries: ptp4l and phc2sys for tsnctl
// ptp run, pmc and phc_ctl for the people who look at them.
var linuxptpPrograms = []string{"/usr/sbin/ptp4l", "/usr/sbin/phc2sys", "/usr/sbin/pmc", "/usr/sbin/phc_ctl"}

// baseTree is the image's skeleton: root's passwd and group entries, /tmp, and /var/run -> /run
// (pmc's own socket is /var/run/pmc.PID; /run is a tmpfs the runtime mounts).
func baseTree() Tree {
	t := Tree{}
	t.Add(File{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/usr/sbin/nologin\n")})
	t.Add(File{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\n")})
	t.Add(File{Path: "/tmp", Dir: true, Mode: 0o1777})
	t.Add(File{Path: "/run", Dir: true, Mode: 0o755})
	t.Add(File{Path: "/root", Dir: true, Mode: 0o700})
	t.Add(File{Path: "/var/run", Link: "/run", Mode: 0o777})
	return t
}

// linuxptpTree is linuxptp's programs, the C library they need (resolved from their ELF headers)
// and both packages' copyright files.
func linuxptpTree(ptp, libc Tree) (Tree, error) {
	t := Tree{}
	var progs []File
	for _, p := range linuxptpPrograms {
		f, ok := ptp[p]
		if !ok {
			return nil, fmt.Errorf("linuxptp's package has no %s", p)
		}
		t.Add(f)
		progs = append(progs, f)
	}
	if _, err := Closure(t, progs, libc); err != nil {
		return nil, err
	}
	for pkg, tree := range map[string]Tree{"linuxptp": ptp, "libc6": libc} {
		c, ok := tree["/usr/share/doc/"+pkg+"/copyright"]
		if !ok {
			return nil, fmt.Errorf("%s's package has no copyright file", pkg)
		}
		t.Add(c)
	}
	return t, nil
}

func debVersion(file string) (string, error) {
	out, err := exec.Command("dpkg-deb", "-f", file, "Version").Output()
	if err != nil {
		return "", fmt.Errorf("dpkg-deb -f %s Version: %w", file, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func build(o options) (*result, error) {
	bin, err := os.ReadFile(o.tsnctl)
	if err != nil {
		return nil, err
	}
	if interp, libs, err := needs(bin); err != nil || interp != "" || len(libs) > 0 {
		return nil, fmt.Errorf("%s must be a static binary (CGO_ENABLED=0): interpreter %q, libraries %v, %v", o.tsnctl, interp, libs, err)
	}
	trees := map[string]Tree{}
	var pkgs []string
	for _, name := range []string{"libc6", "linuxptp"} {
		f, err := findDeb(o.debs, name)
		if err != nil {
			return nil, err
		}
		if trees[name], err = readDeb(f); err != nil {
			return nil, err
		}
		v, err := debVersion(f)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, name+"="+v)
	}
	ptpTree, err := linuxptpTree(trees["linuxptp"], trees["libc6"])
	if err != nil {
		return nil, err
	}
	tsnctlTree := Tree{}
	tsnctlTree.Add(File{Path: "/usr/bin/tsnctl", Mode: 0o755, Data: bin})

	img := empty.Image
	res := &result{Tag: "localhost/tsnctl:" + o.version}
	for _, l := range []struct {
		name, by string
		tree     Tree
	}{
		{"base", "passwd, group, /tmp, /run", baseTree()},
		{"linuxptp", "linuxptp and libc6 from Debian: " + strings.Join(pkgs, " "), ptpTree},
		{"tsnctl", "tsnctl " + o.version, tsnctlTree},
	} {
		data, err := l.tree.Tar(o.created)
		if err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
			tarball.WithMediaType(types.OCILayer))
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: o.created}, CreatedBy: l.by}})
		if err != nil {
			return nil, err
		}
		size, _ := layer.Size()
		digest, _ := layer.Digest()
		res.Layers = append(res.Layers, layerInfo{l.name, size, digest.String()})
		res.Size += size
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = "amd64", "linux", v1.Time{Time: o.created}
	cf.Config = v1.Config{
		Entrypoint: []string{"/usr/bin/tsnctl"},
		Cmd:        []string{"--help"},
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		WorkingDir: "/",
		User:       "0:0",
		Labels:     labels(o, pkgs),
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	res.Digest = d.String()
	return res, write(o.out, res.Tag, img, res.Digest)
}

func labels(o options, pkgs []string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "tsnctl",
		"org.opencontainers.image.description": "Time-Sensitive Networking on Linux: taprio, ETF, VLAN QoS maps, time sync (linuxptp), test traffic and reports",
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.revision":    o.revision,
		"org.opencontainers.image.source":      "https://github.com/tsnctl/tsnctl",
		"org.opencontainers.image.created":     o.created.UTC().Format(time.RFC3339),
		"org.opencontainers.image.base.name":   "scratch",
		"io.github.tsnctl.debian-packages":     strings.Join(pkgs, " "),
	}
}

// write puts the image in out: an OCI layout (oci/), a docker-archive that docker and podman
// load (tsnctl-image.tar), and the digest.
func write(out, tag string, img v1.Image, digest string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	oci := filepath.Join(out, "oci")
	if err := os.RemoveAll(oci); err != nil {
		return err
	}
	p, err := layout.Write(oci, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		return err
	}
	if err := tarball.WriteToFile(filepath.Join(out, "tsnctl-image.tar"), ref, img); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "digest"), []byte(digest+"\n"), 0o644)
}
