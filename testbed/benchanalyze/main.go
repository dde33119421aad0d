// Command benchanalyze is `make bench-analyze`: it writes a 50-million-record receiver log and a
// netlatency JSON-lines file of the same packets, runs `tsnctl analyze` on each as a separate
// process, and prints throughput and peak memory (the child's max RSS) next to the targets.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/tsnctl/tsnctl/samplelog"
)

func main() {
	bin := flag.String("tsnctl", "bin/tsnctl", "tsnctl binary")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "tsnctl-bench-analyze"), "where the input files go (kept for the next run)")
	records := flag.Int("records", 50_000_000, "records in the native log")
	lines := flag.Int("lines", 5_000_000, "lines in the netlatency file")
	runs := flag.Int("runs", 3, "runs of each; the best is shown")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	native := filepath.Join(*dir, fmt.Sprintf("rx-%d.log", *records))
	nl := filepath.Join(*dir, fmt.Sprintf("nl-%d.json", *lines))
	if _, err := os.Stat(native); err != nil {
		must(writeNative(native, *records))
	}
	if _, err := os.Stat(nl); err != nil {
		must(writeNetlatency(nl, *lines))
	}
	fmt.Printf("tsnctl analyze, %d CPUs, best of %d runs (wall time, peak RSS of the process)\n\n", runtime.NumCPU(), *runs)
	fmt.Printf("%-22s %12s %10s %16s %14s %12s\n", "input", "records", "seconds", "records/s", "target", "peak RSS")
	for _, c := range []struct {
		name, path string
		n          int
		target     float64
	}{{"native sample log", native, *records, 20e6}, {"netlatency JSON lines", nl, *lines, 1e6}} {
		best, rss := time.Duration(1<<62), int64(0)
		for range *runs {
			d, r := run(*bin, c.path)
			best, rss = min(best, d), max(rss, r)
		}
		rate := float64(c.n) / best.Seconds()
		verdict := "ok"
		if rate < c.target {
			verdict = "BELOW"
		}
		memVerdict := "ok"
		if rss > 64<<20 {
			memVerdict = "ABOVE 64 MiB"
		}
		fmt.Printf("%-22s %12d %10.2f %15.2fM %13.1fM %9.1f MiB   throughput %s, memory %s\n", c.name, c.n, best.Seconds(), rate/1e6,
			c.target/1e6, float64(rss)/(1<<20), verdict, memVerdict)
	}
}

func run(bin, path string) (time.Duration, int64) {
	cmd := exec.Command(bin, "analyze", "-o", "json", path)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s analyze %s: %v", bin, path, err)
	}
	d := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, ru.Maxrss * 1024
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

const (
	base  = int64(1795000000000000000)
	cycle = int64(2000000)
)

// packet i: scheduled time 1.253 ms with a few hundred ns of jitter and an outlier every 100000,
// RT application latency 28..33 µs, a loss every million.
func packet(i int) samplelog.Record {
	c := base + int64(i)*cycle
	st := 1253000 + int64(i*7919%300)
	if i%100000 == 99999 {
		st += 150000
	}
	rt := 28000 + int64(i*104729%5000)
	return samplelog.Record{Type: samplelog.TypeRx, Flags: samplelog.FlagTxtime | samplelog.FlagHardware, Seq: uint64(i),
		CycleStart: c, Wakeup: c + rt - 900, SendCall: c + rt, Txtime: c + 1250000, Timestamp: c + st}
}

func writeNative(path string, n int) error {
	log.Printf("writing %s (%d records, %.1f GB)", path, n, float64(n*samplelog.RecordLen)/1e9)
	w, err := samplelog.Create(path+".tmp", samplelog.Header{Role: samplelog.RoleRecv, Labels: map[string]string{"generator": "benchanalyze"}})
	if err != nil {
		return err
	}
	for i := range n {
		if i%1000000 == 999999 {
			continue
		}
		r := packet(i)
		if err := w.Write(&r); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func rfc(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z") }

func writeNetlatency(path string, n int) error {
	log.Printf("writing %s (%d lines)", path, n)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		r := packet(i)
		fmt.Fprintf(bw, `{"type":"rx-packet","object":{"stream-id":0,"sequence-number":%d,"interval-usec":2000,"offset-usec":0,"timestamps":{"names":["interval-start","tx-wakeup","tx-program","tx-last-kernel-netsched","tx-last-kernel-driver","rx-hardware","rx-kernerl-driver","rx-program"],"values":["%s","%s","%s","%s","%s","%s","1970-01-01T00:00:00.000000000Z","%s"]}}}`+"\n",
			i, rfc(r.CycleStart), rfc(r.Wakeup), rfc(r.SendCall), rfc(r.SendCall+3000), rfc(r.SendCall+4000), rfc(r.Timestamp), rfc(r.Timestamp+130000))
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
