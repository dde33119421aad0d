package analysis

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/tsnctl/tsnctl/samplelog"
)

// ReadFiles reads the files of one run. Several tsnctl sample logs (a sender's and a receiver's)
// are read together, merged by cycle start, so that the records of one packet meet while the
// analyzer still remembers it: that is what gives path_delay (RX − TX timestamp) in constant
// memory. Other files are read one after the other.
func (a *Analyzer) ReadFiles(paths []string, format string) error {
	if err := distinctFiles(paths); err != nil {
		return err
	}
	if len(paths) == 1 { // read once: a pipe gives its data to one reader only
		return a.ReadFile(paths[0], format)
	}
	if n := countLogs(paths, format); n < 2 {
		for _, p := range paths {
			if err := a.ReadFile(p, format); err != nil {
				return err
			}
		}
		return nil
	}
	var logs []*cursor
	defer func() {
		for _, c := range logs {
			c.f.Close()
		}
	}()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		br := bufio.NewReaderSize(f, 1<<20)
		head, _ := br.Peek(8)
		if (format == FormatAuto || format == "" || format == FormatTsnctl) && bytes.HasPrefix(head, []byte("TSNCTLOG")) {
			r, err := samplelog.NewReader(br)
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", p, err)
			}
			c := &cursor{f: f, r: r, fi: FileInfo{Path: p, Format: FormatTsnctl, Header: &r.Header}, buf: make([]samplelog.Record, 1024)}
			if r.Header.Role == samplelog.RoleSend { // the sender's records first among equals: its tx record precedes the packet's rx
				logs = append([]*cursor{c}, logs...)
			} else {
				logs = append(logs, c)
			}
			continue
		}
		err = a.Read(p, br, format)
		f.Close()
		if err != nil {
			return err
		}
	}
	for _, c := range logs {
		a.useHeader(c.fi.Header)
		c.fill()
	}
	for {
		var best *cursor
		for _, c := range logs {
			if c.i < c.n && (best == nil || c.key() < best.key()) {
				best = c
			}
		}
		if best == nil {
			break
		}
		rec := &best.buf[best.i]
		if !known(rec.Type) {
			best.unknown++
		} else {
			best.cycle = best.key()
			a.Add(rec)
			best.fi.Records++
		}
		if best.i++; best.i == best.n {
			best.fill()
		}
	}
	for _, c := range logs {
		if err := c.fi.finishLog(c.unknown, c.err); err != nil {
			return fmt.Errorf("%s: %w", c.fi.Path, err)
		}
		a.Files = append(a.Files, c.fi)
	}
	return nil
}

// cursor is one sample log being merged.
type cursor struct {
	f       *os.File
	r       *samplelog.Reader
	fi      FileInfo
	buf     []samplelog.Record
	i, n    int
	cycle   int64 // cycle start of this file's last tx/rx record: the key of the records between
	unknown int64
	err     error
}

// key orders records across files: the cycle start of tx and rx records, and for timestamps and
// drops (which follow their packet's tx record) that of the record before them.
func (c *cursor) key() int64 {
	rec := &c.buf[c.i]
	if (rec.Type == samplelog.TypeTx || rec.Type == samplelog.TypeRx) && rec.CycleStart != 0 {
		return rec.CycleStart
	}
	return c.cycle
}

func (c *cursor) fill() {
	c.i, c.n = 0, 0
	if c.err != nil {
		return
	}
	c.n, c.err = c.r.ReadBatch(c.buf)
}

// countLogs counts the tsnctl sample logs among paths (by their magic).
// distinctFiles refuses a file given twice (its packets would count twice: duplicates and loss)
// and, among several, a pipe or a device (it can be read once only, and is peeked at first).
func distinctFiles(paths []string) error {
	stats := make([]os.FileInfo, len(paths))
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return fmt.Errorf("%s: a directory; give the files in it (tsnctl report takes a directory as a run)", p)
		}
		if len(paths) > 1 && !st.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file (a pipe can be read once): give it alone, or save it to a file first", p)
		}
		for j := range i {
			if os.SameFile(stats[j], st) {
				return fmt.Errorf("%s and %s are the same file: give each log once", paths[j], p)
			}
		}
		stats[i] = st
	}
	return nil
}

func countLogs(paths []string, format string) int {
	if format != FormatAuto && format != "" && format != FormatTsnctl {
		return 0
	}
	n := 0
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var head [8]byte
		if k, _ := io.ReadFull(f, head[:]); k == 8 && string(head[:]) == "TSNCTLOG" {
			n++
		}
		f.Close()
	}
	return n
}
