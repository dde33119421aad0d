package analysis

import (
	"bytes"
	"testing"

	"github.com/tsnctl/tsnctl/samplelog"
)

// FuzzReadTsnctl: any bytes after a valid header give records, warnings or an error, never a panic.
func FuzzReadTsnctl(f *testing.F) {
	var buf bytes.Buffer
	w, _ := samplelog.NewWriter(&buf, samplelog.Header{Role: samplelog.RoleSend, Send: &samplelog.SendParams{WindowStart: 1, WindowEnd: 5}})
	for _, r := range []samplelog.Record{tx(0, 1, 1, 0), rx(0, 0, 5, 1), {Type: samplelog.TypeETFDrop, Seq: 0}, {Type: samplelog.TypeTxTimestamp, Seq: 0}} {
		w.Write(&r)
	}
	w.Flush()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:40])
	f.Add([]byte("TSNCTLOG"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, o := range []Options{{}, {WarmupPackets: 2}, {WarmupTime: 3}} {
			a := New(o)
			if err := a.Read("fuzz", bytes.NewReader(data), FormatAuto); err == nil {
				res := a.Result()
				res.WriteText(&bytes.Buffer{})
			}
		}
	})
}

// FuzzReadNetlatency: any text gives records, warnings or an error, never a panic.
func FuzzReadNetlatency(f *testing.F) {
	f.Add([]byte(nlExample + "\n"))
	f.Add([]byte(nlExample + "\n" + `{"type":"rx-error","object":{}}` + "\n"))
	f.Add([]byte(`{"type":"rx-packet","object":{"stream-id":1,"sequence-number":2,"timestamps":{"names":["interval-start"],"values":["2018-04-19T05:17:34Z"]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := New(Options{})
		if err := a.Read("fuzz", bytes.NewReader(data), FormatNetlatency); err == nil {
			a.Result().WriteText(&bytes.Buffer{})
		}
	})
}
