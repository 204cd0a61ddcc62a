package capture

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// benchPcap is loadBench's capture (200 calls of 1000 RTP packets)
// written as a classic pcap file, for benchmarks that read it.
func benchPcap(b testing.TB) []byte {
	frames, pkts := loadBench()
	var buf bytes.Buffer
	writeFrames(b, &buf, frames, pkts)
	return buf.Bytes()
}

// writeFrames writes Ethernet frames with their records' headers to out
// as a classic pcap file.
func writeFrames(tb testing.TB, out io.Writer, frames [][]byte, pkts []pcap.Packet) {
	tb.Helper()
	w, err := pcap.NewWriter(out, pcap.WriterOptions{LinkType: pcap.LinkTypeEthernet})
	if err != nil {
		tb.Fatal(err)
	}
	for i, f := range frames {
		if err := w.WritePacket(pkts[i], f); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkRun is what a command's pass does before its analysis: read
// an RTP-heavy pcap from memory, decode, classify and hand each event to
// a consumer that only looks at it, on one goroutine and pipelined (the
// reading, decoding and hand-over on a goroutine of their own), per
// record.
func BenchmarkRun(b *testing.B) {
	in := benchPcap(b)
	for _, bc := range []struct {
		name string
		o    Options
	}{{"plain", Options{}}, {"pipelined", Options{Pipeline: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			records, payload := 0, 0
			for b.Loop() {
				r, err := pcap.NewReader(bytes.NewReader(in), "bench")
				if err != nil {
					b.Fatal(err)
				}
				st, err := Run(context.Background(), []Source{r}, bc.o, nil, func(ev *Event) error {
					payload += len(ev.Payload) + len(ev.Record)
					return nil
				})
				if err != nil || st.RTP == 0 {
					b.Fatalf("%v, %+v", err, st)
				}
				records += r.Stats().Packets
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
			if payload == 0 {
				b.Fatal("no payload")
			}
		})
	}
}
