// Command image builds tsnctl's OCI image without a container engine and without a registry: the
// static tsnctl binary, linuxptp's programs and the C library they need, taken from Debian packages,
// assembled with go-containerregistry into an OCI layout and a `docker load`/`podman load` archive.
// The same inputs give the same image digest: file times are the commit's, entries are sorted and
// owned by root, and the config names no build host or time of its own.
//
//	go run ./deploy/image -tsnctl bin/tsnctl -debs DIR -o out/image -version V -revision R -created RFC3339
//
// make image runs it (deploy/image/build fetches the packages and builds tsnctl reproducibly).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.tsnctl, "tsnctl", "bin/tsnctl", "the static tsnctl binary")
	flag.StringVar(&o.debs, "debs", "", "a directory holding linuxptp_*.deb and libc6_*.deb")
	flag.StringVar(&o.out, "o", "out/image", "output directory: oci/ (OCI layout), tsnctl-image.tar (docker/podman load), digest")
	flag.StringVar(&o.version, "version", "dev", "tsnctl's version (the image tag and org.opencontainers.image.version)")
	flag.StringVar(&o.revision, "revision", "", "the source commit (org.opencontainers.image.revision)")
	created := flag.String("created", "", "the image's creation time, RFC 3339 (default: $SOURCE_DATE_EPOCH, else the Unix epoch)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("image: ")
	t, err := createdTime(*created, os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		log.Fatal(err)
	}
	o.created = t
	res, err := build(o)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s\n", res.Tag, res.Digest)
	for _, l := range res.Layers {
		fmt.Printf("  layer %-28s %8.1f MB gzipped (%s)\n", l.Name, float64(l.Size)/1e6, l.Digest)
	}
	fmt.Printf("  total %.1f MB gzipped; OCI layout %s, archive %s\n", float64(res.Size)/1e6,
		filepath.Join(o.out, "oci"), filepath.Join(o.out, "tsnctl-image.tar"))
}

func createdTime(flagValue, epoch string) (time.Time, error) {
	switch {
	case flagValue != "":
		return time.Parse(time.RFC3339, flagValue)
	case epoch != "":
		var s int64
		if _, err := fmt.Sscan(epoch, &s); err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since the epoch", epoch)
		}
		return time.Unix(s, 0).UTC(), nil
	}
	return time.Unix(0, 0).UTC(), nil
}

// findDeb returns the one NAME_*.deb in dir.
func findDeb(dir, name string) (string, error) {
	m, err := filepath.Glob(filepath.Join(dir, name+"_*.deb"))
	if err != nil {
		return "", err
	}
	sort.Strings(m)
	if len(m) != 1 {
		return "", fmt.Errorf("want one %s_*.deb in %s, found %d (%s)", name, dir, len(m), strings.Join(m, " "))
	}
	return m[0], nil
}
