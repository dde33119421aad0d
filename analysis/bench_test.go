package analysis

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tsnctl/tsnctl/samplelog"
)

// benchFiles writes a receiver's log of n packets and the same packets as netlatency lines.
func benchFiles(b *testing.B, n int) (native, netlatency string) {
	dir := b.TempDir()
	native = filepath.Join(dir, "rx.log")
	w, err := samplelog.Create(native, samplelog.Header{Role: samplelog.RoleRecv})
	if err != nil {
		b.Fatal(err)
	}
	netlatency = filepath.Join(dir, "nl.json")
	f, err := os.Create(netlatency)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	for i := range n {
		r := rx(0, uint64(i), 1253000+int64(i*7919%300), 28000+int64(i*104729%5000))
		w.Write(&r)
		if i < n/10 {
			fmt.Fprintf(bw, `{"type":"rx-packet","object":{"stream-id":0,"sequence-number":%d,"interval-usec":2000,"offset-usec":0,"timestamps":{"names":["interval-start","tx-wakeup","tx-program","rx-hardware"],"values":["%s","%s","%s","%s"]}}}`+"\n",
				i, rfc(r.CycleStart), rfc(r.Wakeup), rfc(r.SendCall), rfc(r.Timestamp))
		}
	}
	w.Close()
	bw.Flush()
	f.Close()
	return native, netlatency
}

func rfc(ns int64) string {
	return fmt.Sprintf("2026-11-22T10:%02d:%02d.%09dZ", ns/60e9%60, ns/1e9%60, ns%1e9)
}

func BenchmarkAnalyze(b *testing.B) {
	const n = 2000000
	native, nl := benchFiles(b, n)
	for _, c := range []struct {
		name, path string
		records    int
	}{{"native", native, n}, {"netlatency", nl, n / 10}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				a := New(Options{})
				if err := a.ReadFile(c.path, FormatAuto); err != nil {
					b.Fatal(err)
				}
				a.Result()
			}
			b.ReportMetric(float64(c.records)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrecords/s")
		})
	}
}
