package capture

import (
	"bytes"
	"context"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// oddOnly is a source that embeds a pcap.Reader and changes Next: it
// drops every even-numbered record. Run must read through its Next,
// not through the NextInto it has from the Reader.
type oddOnly struct{ *pcap.Reader }

func (s oddOnly) Next() ([]byte, pcap.Packet, error) {
	for {
		data, p, err := s.Reader.Next()
		if err != nil || p.Number%2 == 1 {
			return data, p, err
		}
	}
}

// TestRunReaderInPlace: Run reads a pcap.Reader's records with their
// Packets written in place (NextInto) and gets what Next gives, and a
// source wrapping a Reader is read through its own Next, on one
// goroutine and with the pipeline.
func TestRunReaderInPlace(t *testing.T) {
	frames, pkts := benchCapture(3, 20)
	var file bytes.Buffer
	writeFrames(t, &file, frames, pkts)
	// What Next gives, and the odd records of it.
	want := map[bool][]pcap.Packet{}
	ref, err := pcap.NewReader(bytes.NewReader(file.Bytes()), "t.pcap")
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, p, err := ref.Next()
		if err != nil {
			break
		}
		want[false] = append(want[false], p)
		if p.Number%2 == 1 {
			want[true] = append(want[true], p)
		}
	}
	for _, pipeline := range []bool{false, true} {
		for _, wrapped := range []bool{false, true} {
			r, err := pcap.NewReader(bytes.NewReader(file.Bytes()), "t.pcap")
			if err != nil {
				t.Fatal(err)
			}
			var src Source = r
			if wrapped {
				src = oddOnly{r}
			}
			var got []pcap.Packet
			o := Options{Pipeline: pipeline, OnRecord: func(_ int, p pcap.Packet, data []byte) {
				if !bytes.Equal(data, frames[p.Number-1]) {
					t.Errorf("record %d: bytes differ", p.Number)
				}
				got = append(got, p)
			}}
			if _, err := Run(context.Background(), []Source{src}, o, nil, func(*Event) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want[wrapped]) {
				t.Fatalf("pipeline %v, wrapped %v: %d records, want %d", pipeline, wrapped, len(got), len(want[wrapped]))
			}
			for i, p := range got {
				if w := want[wrapped][i]; p != w {
					t.Fatalf("pipeline %v, wrapped %v: record %d is %+v, want %+v", pipeline, wrapped, i, p, w)
				}
			}
		}
	}
}
