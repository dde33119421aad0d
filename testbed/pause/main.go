// Command pause is the pause process of the pod sandboxes that the lab's kubelet starts: the lab
// guest has no registry to pull registry.k8s.io/pause from. It waits for SIGTERM or SIGINT.
//
//	pause                  wait for a signal
//	pause -image FILE      write an OCI image holding this binary as /pause (its entrypoint), as a
//	                       docker-archive tagged tsnctl.test/pause:lab, for ctr images import
//
// Build it static (CGO_ENABLED=0): the image has nothing else.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Tag is the image's name, the sandbox image the lab's containerd is given.
const Tag = "tsnctl.test/pause:lab"

func main() {
	image := flag.String("image", "", "write the pause image to `FILE` instead of pausing")
	flag.Parse()
	if *image != "" {
		if err := writeImage(*image); err != nil {
			fmt.Fprintln(os.Stderr, "pause:", err)
			os.Exit(1)
		}
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}

// writeImage writes the image of this executable to file.
func writeImage(file string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	if err := tw.WriteHeader(&tar.Header{Name: "pause", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(bin); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	data := layer.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile() // its rootfs lists the layer
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Config = runtime.GOARCH, "linux", v1.Config{Entrypoint: []string{"/pause"}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(Tag)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(file, tag, img)
}
