package analysis

import (
	"errors"
	"fmt"
	"time"

	"github.com/tsnctl/tsnctl/samplelog"
	"github.com/valyala/fastjson"
)

// netlatency's nl-rx writes one JSON object per line:
//
//	{"type":"rx-packet","object":{"stream-id":0,"sequence-number":612295,"interval-usec":1000,
//	 "offset-usec":0,"timestamps":{"names":["interval-start","tx-wakeup","tx-program",...,
//	 "rx-hardware",...],"values":["2018-04-19T05:17:34.771000000Z",...]}}}
//	{"type":"rx-error",...}
//
// A packet becomes an rx record: t[0] cycle start = interval-start, t[1] wake-up = tx-wakeup,
// t[2] send call = tx-program, t[4] receive = rx-hardware (all as UTC ns: only differences are
// used). A timestamp of 1970-01-01T00:00:00Z means "not taken" and reads as 0.

// errSkip marks a line that is not a packet (an rx-error, or an unknown type).
var errSkip = errors.New("not a packet")

// errRxError marks an rx-error line.
var errRxError = errors.New("rx-error")

// nlParser decodes netlatency lines; it is not safe for concurrent use.
type nlParser struct{ p fastjson.Parser }

// parse decodes one line into rec.
func (np *nlParser) parse(line []byte, rec *samplelog.Record) error {
	v, err := np.p.ParseBytes(line)
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	switch string(v.GetStringBytes("type")) {
	case "rx-packet":
	case "rx-error":
		return errRxError
	case "":
		return errors.New(`no "type": not a netlatency line`)
	default:
		return errSkip
	}
	o := v.Get("object")
	if o == nil {
		return errors.New(`rx-packet without "object"`)
	}
	*rec = samplelog.Record{Type: samplelog.TypeRx}
	id := o.Get("stream-id")
	seq := o.Get("sequence-number")
	if id == nil || seq == nil {
		return errors.New(`rx-packet without "stream-id" or "sequence-number"`)
	}
	sid, err := id.Uint()
	if err != nil || sid > 1<<32-1 {
		return fmt.Errorf(`"stream-id": %s: want a 32-bit unsigned number`, id)
	}
	rec.Stream = uint32(sid)
	if rec.Seq, err = seq.Uint64(); err != nil {
		return fmt.Errorf(`"sequence-number": %s: want an unsigned number`, seq)
	}
	names := o.GetArray("timestamps", "names")
	values := o.GetArray("timestamps", "values")
	if len(names) != len(values) {
		return fmt.Errorf("timestamps: %d names but %d values", len(names), len(values))
	}
	for i, n := range names {
		var field *int64
		switch string(n.GetStringBytes()) {
		case "interval-start":
			field = &rec.CycleStart
		case "tx-wakeup":
			field = &rec.Wakeup
		case "tx-program":
			field = &rec.SendCall
		case "rx-hardware":
			field = &rec.Timestamp
		default:
			continue
		}
		s := values[i].GetStringBytes()
		t, err := parseRFC3339(s)
		if err != nil {
			return fmt.Errorf("timestamp %q: %q: %w", n.GetStringBytes(), s, err)
		}
		*field = t
	}
	if rec.CycleStart == 0 {
		return errors.New(`rx-packet without an "interval-start" timestamp`)
	}
	if rec.Timestamp != 0 {
		rec.Flags |= samplelog.FlagHardware
	}
	return nil
}

// parseRFC3339 reads "2006-01-02T15:04:05.999999999Z" as Unix ns quickly, and anything else
// time.RFC3339Nano accepts the slow way. A date the fast path does not take (31 February, month
// 13) goes the slow way too, and time.Parse refuses it. The Unix epoch reads as 0 (netlatency's "not taken").
func parseRFC3339(b []byte) (int64, error) {
	if len(b) == 30 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == '.' && b[29] == 'Z' {
		var d [23]int64 // the digits
		k := 0
		ok := true
		for i, c := range b[:29] {
			if i == 4 || i == 7 || i == 10 || i == 13 || i == 16 || i == 19 {
				continue
			}
			if c < '0' || c > '9' {
				ok = false
				break
			}
			d[k] = int64(c - '0')
			k++
		}
		if ok {
			year := d[0]*1000 + d[1]*100 + d[2]*10 + d[3]
			month, day := d[4]*10+d[5], d[6]*10+d[7]
			hh, mm, ss := d[8]*10+d[9], d[10]*10+d[11], d[12]*10+d[13]
			var ns int64
			for _, x := range d[14:23] {
				ns = ns*10 + x
			}
			if month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hh < 24 && mm < 60 && ss < 60 {
				return (daysFromCivil(year, month, day)*86400+hh*3600+mm*60+ss)*1e9 + ns, nil
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, errors.New("want an RFC 3339 time such as 2018-04-19T05:17:34.771000000Z")
	}
	return t.UnixNano(), nil
}

// daysIn is the number of days of month m (1-12) of year y (proleptic Gregorian), as time.Parse
// checks a day.
func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to the given proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
