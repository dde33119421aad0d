package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tsnctl/tsnctl/analysis"
)

// chromium runs Debian's headless Chromium with the given extra arguments on page.
func chromium(t *testing.T, page string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make deps` installs Debian's chromium package for this test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1300,14000",
		"--user-data-dir=" + filepath.Join(t.TempDir(), "profile")}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// The report opens offline in a browser, every plot decodes, and every plot's area on the page
// shows drawn lines in colour — checked on a screenshot, not only in the HTML.
func TestReportInChromium(t *testing.T) {
	dir := t.TempDir()
	runs := seedCases(t, dir, [2]string{"case 1", "case 2"}, 3000, analysis.Options{})
	out := filepath.Join(dir, "report")
	rep := &Report{Title: "browser test", Generated: time.Now(), Runs: runs}
	if _, err := Write(out, rep); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(out, "report.html")

	dom := string(chromium(t, page, "--dump-dom", "--virtual-time-budget=5000"))
	n := len(rep.Plots)
	if want := fmt.Sprintf(`data-plots="%d/%d"`, n, n); !strings.Contains(dom, want) {
		m := regexp.MustCompile(`data-plots="[^"]*"`).FindString(dom)
		t.Fatalf("plots decoded: %s, want %s", m, want)
	}
	m := regexp.MustCompile(`data-plot-rects="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatal("no plot positions in the DOM")
	}
	var rects []image.Rectangle
	for _, r := range strings.Split(m[1], ";") {
		var v [4]int
		for i, f := range strings.Split(r, ",") {
			v[i], _ = strconv.Atoi(f)
		}
		rects = append(rects, image.Rect(v[0], v[1], v[0]+v[2], v[1]+v[3]))
	}

	shot := filepath.Join(dir, "shot.png")
	chromium(t, page, "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TSNCTL_KEEP_SCREENSHOT") != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(os.Getenv("TSNCTL_KEEP_SCREENSHOT"), b, 0o644)
	}
	for i, r := range rects {
		p := rep.Plots[i]
		if r.Dx() < 400 || r.Dy() < 150 {
			t.Errorf("plot %s is %dx%d px on the page", p.Name, r.Dx(), r.Dy())
			continue
		}
		if !r.In(img.Bounds()) {
			t.Errorf("plot %s at %v is outside the %v screenshot", p.Name, r, img.Bounds())
			continue
		}
		var colored, ink int
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				hi, lo := max(cr, cg, cb)>>8, min(cr, cg, cb)>>8
				if hi-lo > 80 {
					colored++ // a data line or dot
				}
				if hi < 160 {
					ink++ // axes, text
				}
			}
		}
		area := r.Dx() * r.Dy()
		if colored < 150 || ink < area/200 {
			t.Errorf("plot %s: %d coloured and %d dark pixels in %dx%d: not visibly drawn", p.Name, colored, ink, r.Dx(), r.Dy())
		}
	}
	t.Logf("%d plots, all decoded and drawn; screenshot %v", n, img.Bounds())
}
