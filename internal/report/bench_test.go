package report

import (
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/voiptool/voiptool/sipflow"
)

// manyCalls is n copies of the sample calls with distinct Call-IDs and
// addresses, for throughput figures at a realistic list size.
func manyCalls(b *testing.B, n int) []sipflow.CallSummary {
	base := sampleCalls(b)
	out := make([]sipflow.CallSummary, n)
	for i := range out {
		c := base[i%len(base)]
		c.CallID = fmt.Sprintf("%d-%s", i, c.CallID)
		c.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 5060)
		c.Start = c.Start.Add(time.Duration(i) * time.Second)
		out[i] = c
	}
	return out
}

func BenchmarkWriteCalls(b *testing.B) {
	calls := manyCalls(b, 10000)
	for _, f := range []Format{FormatTable, FormatJSON, FormatCSV} {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteCalls(io.Discard, f, calls, TableOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(calls)*b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

func BenchmarkWriteFlow(b *testing.B) {
	f := FlowFromCalls([]sipflow.CallDetail{sampleDetail(b)}, sampleAliases())
	for ff := FlowText; ff <= FlowHTML; ff++ {
		b.Run(ff.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteFlow(io.Discard, ff, f, FlowOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFlowFromCalls(b *testing.B) {
	d := []sipflow.CallDetail{sampleDetail(b)}
	b.ReportAllocs()
	for b.Loop() {
		_ = FlowFromCalls(d, sampleAliases())
	}
}
