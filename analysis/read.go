package analysis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/tsnctl/tsnctl/samplelog"
)

// Input formats.
const (
	FormatAuto       = "auto"
	FormatTsnctl     = "tsnctl"     // tsnctl's sample log (package samplelog)
	FormatNetlatency = "netlatency" // netlatency nl-rx JSON lines
)

// (FormatSyncLog, tsnctl ptp run --log, is in synclog.go.)

// FileInfo says what was read from one file.
type FileInfo struct {
	Path     string            `json:"path"`
	Format   string            `json:"format"`
	Header   *samplelog.Header `json:"header,omitempty"`
	Records  int64             `json:"records"`             // records (tsnctl) or packet lines (netlatency) used
	RxErrors int64             `json:"rx_errors,omitempty"` // netlatency rx-error lines
	Warnings []string          `json:"warnings,omitempty"`
}

const maxWarnings = 10

func (fi *FileInfo) warn(format string, args ...any) {
	if len(fi.Warnings) < maxWarnings {
		fi.Warnings = append(fi.Warnings, fmt.Sprintf(format, args...))
	}
}

// ReadFile feeds the records of one file to the analyzer. format is FormatAuto (recognised by
// its first bytes), FormatTsnctl or FormatNetlatency. A file with no usable record, or that is
// not one of the formats, is an error; a cut-off or partly corrupt file gives warnings in
// a.Files and keeps what could be read.
func (a *Analyzer) ReadFile(path, format string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return fmt.Errorf("%s: a directory; give the files in it (tsnctl report takes a directory as a run)", path)
	}
	defer f.Close()
	return a.Read(path, f, format)
}

// Read is ReadFile on an open reader; name is used in messages.
func (a *Analyzer) Read(name string, in io.Reader, format string) error {
	br := bufio.NewReaderSize(in, 1<<20)
	if format == FormatAuto || format == "" {
		head, _ := br.Peek(8)
		trimmed := bytes.TrimLeft(head, " \t\r\n")
		switch {
		case len(head) == 0:
			return fmt.Errorf("%s: empty file: neither a tsnctl sample log nor netlatency JSON lines", name)
		case bytes.HasPrefix(head, []byte("TSNCTLOG")):
			format = FormatTsnctl
		case len(trimmed) > 0 && trimmed[0] == '{':
			format = FormatNetlatency
			if first, _ := br.Peek(4096); bytes.Contains(first, []byte(`"port_state"`)) && !bytes.Contains(first, []byte(`"rx-packet"`)) {
				format = FormatSyncLog
			}
		default:
			return fmt.Errorf("%s: not a tsnctl sample log (no TSNCTLOG magic) and not netlatency JSON lines (no '{'); give --format if it is one of them", name)
		}
	}
	fi := FileInfo{Path: name, Format: format}
	switch format {
	case FormatTsnctl:
		err := a.readTsnctl(br, &fi)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case FormatNetlatency:
		if err := a.readNetlatency(br, &fi); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case FormatSyncLog:
		if err := a.readSyncLog(br, &fi); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	default:
		return fmt.Errorf("format %q: want auto, tsnctl, netlatency or tsnctl-ptp", format)
	}
	a.Files = append(a.Files, fi)
	return nil
}

const batchLen = 4096

var batchPool = sync.Pool{New: func() any { b := make([]samplelog.Record, batchLen); return &b }}

type batch struct {
	recs *[]samplelog.Record
	n    int
	err  error
}

func (a *Analyzer) readTsnctl(in io.Reader, fi *FileInfo) error {
	r, err := samplelog.NewReader(in)
	if err != nil {
		return err
	}
	fi.Header = &r.Header
	a.useHeader(&r.Header)
	// One goroutine decodes while this one accounts.
	ch := make(chan batch, 4)
	go func() {
		defer close(ch)
		for {
			b := batchPool.Get().(*[]samplelog.Record)
			n, err := r.ReadBatch(*b)
			ch <- batch{b, n, err}
			if err != nil {
				return
			}
		}
	}()
	var unknown int64
	var last error
	for b := range ch {
		recs := (*b.recs)[:b.n]
		for i := range recs {
			if !known(recs[i].Type) {
				unknown++
				continue
			}
			a.Add(&recs[i])
		}
		fi.Records += int64(b.n)
		batchPool.Put(b.recs)
		last = b.err
	}
	fi.Records -= unknown
	return fi.finishLog(unknown, last)
}

// known reports whether a record type is one this version reads.
func known(t samplelog.Type) bool { return t >= samplelog.TypeTx && t <= samplelog.TypeRx }

// finishLog turns how a sample log ended into warnings (records of unknown type, a cut-off last
// record) or an error (a read error, or nothing usable at all).
func (fi *FileInfo) finishLog(unknown int64, last error) error {
	if unknown > 0 {
		fi.warn("%d records of unknown type left out (corrupt file, or written by a newer tsnctl)", unknown)
	}
	switch {
	case errors.Is(last, samplelog.ErrTruncated):
		fi.warn("%v; the %d records before it are used", last, fi.Records)
	case last != nil && last != io.EOF:
		return last
	}
	if fi.Records == 0 && len(fi.Warnings) > 0 {
		return fmt.Errorf("no usable record: %s", fi.Warnings[0])
	}
	return nil
}

// netlatency input is cut into chunks of whole lines, parsed by one worker per CPU, and
// accounted in order.
const chunkLen = 1 << 20

type nlChunk struct {
	data      []byte
	firstLine int64
	out       chan nlResult
}

type nlResult struct {
	recs     []samplelog.Record
	lines    int64
	rxErrors int64
	bad      int64
	warnings []string
}

func (a *Analyzer) readNetlatency(in io.Reader, fi *FileInfo) error {
	work := make(chan *nlChunk, 8)
	order := make(chan *nlChunk, 8)
	var readErr error
	go func() { // cut the input into chunks of whole lines
		defer close(work)
		defer close(order)
		var carry []byte
		var line int64 = 1
		for {
			buf := make([]byte, len(carry), chunkLen+len(carry))
			copy(buf, carry)
			n, err := io.ReadFull(in, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			end := len(buf)
			if err == nil {
				end = bytes.LastIndexByte(buf, '\n') + 1
				if end == 0 { // a line longer than a chunk: keep reading
					carry = buf
					continue
				}
			}
			carry = append([]byte(nil), buf[end:]...)
			c := &nlChunk{data: buf[:end], firstLine: line, out: make(chan nlResult, 1)}
			line += int64(bytes.Count(c.data, []byte{'\n'}))
			work <- c
			order <- c
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					readErr = err
				}
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p nlParser
			for c := range work {
				c.out <- parseChunk(&p, c)
			}
		}()
	}
	var bad int64
	for c := range order {
		res := <-c.out
		for i := range res.recs {
			a.Add(&res.recs[i])
		}
		fi.Records += int64(len(res.recs))
		fi.RxErrors += res.rxErrors
		bad += res.bad
		for _, w := range res.warnings {
			fi.warn("%s", w)
		}
	}
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	if bad > 0 {
		fi.warn("%d lines left out", bad)
	}
	if fi.Records == 0 {
		if len(fi.Warnings) > 0 {
			return fmt.Errorf("no rx-packet line could be read: %s", fi.Warnings[0])
		}
		return errors.New("no rx-packet line")
	}
	return nil
}

func parseChunk(p *nlParser, c *nlChunk) nlResult {
	var res nlResult
	data := c.data
	line := c.firstLine
	for len(data) > 0 {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		l = bytes.TrimSpace(l)
		if len(l) > 0 {
			res.lines++
			var rec samplelog.Record
			switch err := p.parse(l, &rec); err {
			case nil:
				res.recs = append(res.recs, rec)
			case errRxError:
				res.rxErrors++
			case errSkip:
			default:
				res.bad++
				if len(res.warnings) < maxWarnings {
					res.warnings = append(res.warnings, fmt.Sprintf("line %d: %v", line, err))
				}
			}
		}
		line++
	}
	return res
}
