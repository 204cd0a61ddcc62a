package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pcapgen"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// largeCapture builds an in-memory capture of calls x rtp packets each
// way, with the generator (deterministic).
func largeCapture(tb testing.TB, calls, rtp int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := pcapgen.WriteLarge(&buf, calls, rtp); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkEngine measures the whole per-packet chain (decode, classify,
// call store, RTP tracker) over a large generated capture, reporting
// packets/s and calls/s, and the store's bytes per call.
func BenchmarkEngine(b *testing.B) {
	const calls, rtp = 200, 500
	data := largeCapture(b, calls, rtp)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var bytesPerCall float64
	for i := 0; i < b.N; i++ {
		r, err := pcap.NewReader(bytes.NewReader(data), "large")
		if err != nil {
			b.Fatal(err)
		}
		e := New(Options{})
		st, err := e.Run(context.Background(), []capture.Source{r}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 && st.Packets != calls*(7+2*rtp) {
			b.Fatalf("packets = %d", st.Packets)
		}
		bytesPerCall = float64(e.Status().Store.Bytes) / float64(e.Store().Count(sipflow.Filter{}))
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*calls*(7+2*rtp))/sec, "packets/s")
	b.ReportMetric(float64(b.N*calls)/sec, "calls/s")
	b.ReportMetric(bytesPerCall, "store-bytes/call")
}
