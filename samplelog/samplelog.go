// Package samplelog is the file format of tsnctl send and recv: a self-describing header, then
// fixed-size records, appended as they happen.
//
// Layout (version 1, little-endian):
//
//	file   := magic "TSNCTLOG" (8 bytes) | version u16 | header length u32 | header (JSON) | record*
//	record := 64 bytes:
//	  0  u8  type (1 tx, 2 tx-timestamp, 3 etf-drop, 4 rx)
//	  1  u8  flags (per type, see the Flag constants)
//	  2  u16 reserved
//	  4  u32 stream id
//	  8  u64 sequence number
//	  16 i64 t[0] .. 56 i64 t[5]: six times in TAI ns, per type:
//	     tx:           cycle start, wake-up, send call, planned txtime, planned wake-up, -
//	     tx-timestamp: the TX timestamp, -, ...
//	     etf-drop:     -, -, -, the dropped packet's txtime, -, -
//	     rx:           cycle start, wake-up, send call, txtime (from the packet), RX timestamp,
//	                   802.1Q TCI (PCP << 13 | VID) when FlagVLAN is set
//
// The writer buffers records and flushes at least once a second, so a killed process loses at most
// the last second; a truncated last record is reported by the reader, which keeps what it read.
package samplelog

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Version is the format version written.
const Version = 1

// RecordLen is the size of one record.
const RecordLen = 64

var magic = [8]byte{'T', 'S', 'N', 'C', 'T', 'L', 'O', 'G'}

// Type is a record's type.
type Type uint8

// Record types.
const (
	TypeTx          Type = 1
	TypeTxTimestamp Type = 2
	TypeETFDrop     Type = 3
	TypeRx          Type = 4
)

func (t Type) String() string {
	switch t {
	case TypeTx:
		return "tx"
	case TypeTxTimestamp:
		return "tx-timestamp"
	case TypeETFDrop:
		return "etf-drop"
	case TypeRx:
		return "rx"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// Flags.
const (
	FlagHardware      = 1 << 0 // tx-timestamp, rx: the timestamp is the NIC's (else the kernel's)
	FlagTxtime        = 1 << 1 // tx, rx: sent with SO_TXTIME
	FlagNotLocked     = 1 << 2 // tx: time sync was not LOCKED when sent
	FlagDropMissed    = 1 << 3 // etf-drop: SO_EE_CODE_TXTIME_MISSED (the txtime had passed)
	FlagDropInvalid   = 1 << 4 // etf-drop: SO_EE_CODE_TXTIME_INVALID_PARAM
	FlagOutsideWindow = 1 << 5 // tx: the planned txtime is outside the open window of its class
	FlagVLAN          = 1 << 6 // rx: the frame had an 802.1Q tag, its TCI is in t[5]
)

// Record is one sample. Its times are TAI ns (0: not taken); which ones a record carries depends
// on its type, as the field comments say. On disk they take the six time slots of the layout above.
type Record struct {
	Type   Type
	Flags  uint8
	Stream uint32
	Seq    uint64

	CycleStart    int64  // tx, rx: the start of the packet's cycle
	Wakeup        int64  // tx, rx: when the sender woke for it
	SendCall      int64  // tx, rx: when the sender called send
	Txtime        int64  // tx, rx, etf-drop: the packet's launch time (SO_TXTIME; 0: none)
	PlannedWakeup int64  // tx: when the sender meant to wake
	Timestamp     int64  // tx-timestamp: the TX timestamp; rx: the RX timestamp
	TCI           uint16 // rx with FlagVLAN: the frame's 802.1Q TCI (PCP << 13 | VID)
}

// VID is the VLAN id of an rx record's TCI.
func (r *Record) VID() uint16 { return r.TCI & 0xFFF }

// PCP is the priority code point of an rx record's TCI.
func (r *Record) PCP() uint8 { return uint8(r.TCI >> 13) }

// slots maps a record to its six time slots on disk.
func (r *Record) slots() [6]int64 {
	switch r.Type {
	case TypeTx:
		return [6]int64{r.CycleStart, r.Wakeup, r.SendCall, r.Txtime, r.PlannedWakeup, 0}
	case TypeTxTimestamp:
		return [6]int64{r.Timestamp}
	case TypeETFDrop:
		return [6]int64{3: r.Txtime}
	case TypeRx:
		return [6]int64{r.CycleStart, r.Wakeup, r.SendCall, r.Txtime, r.Timestamp, int64(r.TCI)}
	}
	return [6]int64{}
}

// Writer appends records to a file.
type Writer struct {
	f         *os.File
	w         *bufio.Writer
	buf       [RecordLen]byte
	lastFlush int64
	now       func() int64
}

// Create starts a new log at path.
func Create(path string, h Header) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, h)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.f = f
	return w, nil
}

// NewWriter writes the header to out and returns a writer for its records.
func NewWriter(out io.Writer, h Header) (*Writer, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	w := &Writer{w: bufio.NewWriterSize(out, 64<<10), now: monotonic}
	var pre [14]byte
	copy(pre[:8], magic[:])
	binary.LittleEndian.PutUint16(pre[8:], Version)
	binary.LittleEndian.PutUint32(pre[10:], uint32(len(js)))
	if _, err := w.w.Write(pre[:]); err != nil {
		return nil, err
	}
	if _, err := w.w.Write(js); err != nil {
		return nil, err
	}
	w.lastFlush = w.now()
	return w, w.w.Flush()
}

func monotonic() int64 { return time.Now().UnixNano() }

// Write appends one record. It does not allocate; it flushes when a second has passed since the
// last flush.
func (w *Writer) Write(r *Record) error {
	b := &w.buf
	b[0] = byte(r.Type)
	b[1] = r.Flags
	b[2], b[3] = 0, 0
	binary.LittleEndian.PutUint32(b[4:], r.Stream)
	binary.LittleEndian.PutUint64(b[8:], r.Seq)
	for i, t := range r.slots() {
		binary.LittleEndian.PutUint64(b[16+8*i:], uint64(t))
	}
	if _, err := w.w.Write(b[:]); err != nil {
		return err
	}
	if now := w.now(); now-w.lastFlush >= int64(time.Second) {
		w.lastFlush = now
		return w.w.Flush()
	}
	return nil
}

// Flush writes out buffered records.
func (w *Writer) Flush() error { return w.w.Flush() }

// Close flushes and closes the file (if Create opened it).
func (w *Writer) Close() error {
	err := w.w.Flush()
	if w.f != nil {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// ErrTruncated reports a file whose last record is incomplete: the records before it are good.
var ErrTruncated = errors.New("the last record is incomplete (the writer was killed mid-record?)")

// Reader reads a log.
type Reader struct {
	r      *bufio.Reader
	Header Header
	buf    [RecordLen]byte
	n      int64
}

// NewReader reads the header; an empty, foreign or newer file is an error that says so.
func NewReader(in io.Reader) (*Reader, error) {
	r := &Reader{r: bufio.NewReaderSize(in, 256<<10)}
	var pre [14]byte
	n, err := io.ReadFull(r.r, pre[:])
	switch {
	case n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF):
		return nil, errors.New("empty file: not a tsnctl sample log")
	case err != nil:
		return nil, fmt.Errorf("not a tsnctl sample log (too short: %d bytes)", n)
	case [8]byte(pre[:8]) != magic:
		return nil, errors.New("not a tsnctl sample log (no TSNCTLOG magic)")
	}
	if v := binary.LittleEndian.Uint16(pre[8:]); v != Version {
		return nil, fmt.Errorf("sample log version %d; this tsnctl reads version %d", v, Version)
	}
	hl := binary.LittleEndian.Uint32(pre[10:])
	if hl > 1<<20 {
		return nil, fmt.Errorf("corrupt sample log: header of %d bytes", hl)
	}
	js := make([]byte, hl)
	if _, err := io.ReadFull(r.r, js); err != nil {
		return nil, fmt.Errorf("corrupt sample log: header cut short: %w", err)
	}
	if err := json.Unmarshal(js, &r.Header); err != nil {
		return nil, fmt.Errorf("corrupt sample log header: %w", err)
	}
	return r, nil
}

// Next reads the next record into rec. It returns io.EOF at the end, and ErrTruncated when the
// file ends inside a record.
func (r *Reader) Next(rec *Record) error {
	n, err := io.ReadFull(r.r, r.buf[:])
	if err == io.EOF {
		return io.EOF
	}
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("record %d (%d of %d bytes): %w", r.n, n, RecordLen, ErrTruncated)
	}
	if err != nil {
		return err
	}
	decode(r.buf[:], rec)
	r.n++
	return nil
}

func decode(b []byte, rec *Record) {
	_ = b[RecordLen-1]
	*rec = Record{Type: Type(b[0]), Flags: b[1], Stream: binary.LittleEndian.Uint32(b[4:]), Seq: binary.LittleEndian.Uint64(b[8:])}
	t := func(i int) int64 { return int64(binary.LittleEndian.Uint64(b[16+8*i:])) }
	switch rec.Type {
	case TypeTx:
		rec.CycleStart, rec.Wakeup, rec.SendCall, rec.Txtime, rec.PlannedWakeup = t(0), t(1), t(2), t(3), t(4)
	case TypeTxTimestamp:
		rec.Timestamp = t(0)
	case TypeETFDrop:
		rec.Txtime = t(3)
	case TypeRx:
		rec.CycleStart, rec.Wakeup, rec.SendCall, rec.Txtime, rec.Timestamp = t(0), t(1), t(2), t(3), t(4)
		rec.TCI = uint16(t(5))
	}
}

// ReadBatch reads up to len(recs) records, as Next does, and returns how many it read. At the end
// of the file it returns 0 and io.EOF, or the records before a cut-off one and ErrTruncated.
func (r *Reader) ReadBatch(recs []Record) (int, error) {
	for i := range recs {
		if r.r.Buffered() < RecordLen {
			if err := r.Next(&recs[i]); err != nil {
				if err == io.EOF && i > 0 {
					return i, nil
				}
				return i, err
			}
			continue
		}
		b, _ := r.r.Peek(RecordLen)
		decode(b, &recs[i])
		r.r.Discard(RecordLen)
		r.n++
	}
	return len(recs), nil
}

// Records is the number of records read so far.
func (r *Reader) Records() int64 { return r.n }

// Open opens a log file for reading.
func Open(path string) (*Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f, nil
}
