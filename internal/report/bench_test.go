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

// storeOfCalls is a store holding n copies of the sample call (14
// messages, SDP both ways) under distinct Call-IDs, the register dialog
// first.
func storeOfCalls(b testing.TB, n int) *sipflow.Store {
	s := sipflow.NewStore(sipflow.StoreOptions{})
	feed(s, registerSteps())
	for i := range n {
		feed(s, sampleSteps(fmt.Sprintf("bench-%06d@pc33.atlanta.example.com", i), i*10))
	}
	return s
}

// BenchmarkWriteCallsFiltered is `voiptool calls --filter EXPR --format
// csv` after loading: a walk of the whole store with a filter matching
// all, a few or none of its calls. ns/call is per call in the store.
// "slice" is the list built whole first (Store.Calls, then WriteCalls),
// as the command did before it streamed.
func BenchmarkWriteCallsFiltered(b *testing.B) {
	const n = 20000
	s := storeOfCalls(b, n)
	for _, expr := range []string{"", "state=COMPLETED", "callid~bench-0001", "code>=400", "ua~deskphone or ip=10.9.0.0/16"} {
		f, err := sipflow.ParseFilter(expr)
		if err != nil {
			b.Fatal(err)
		}
		name := expr
		if name == "" {
			name = "all"
		}
		for _, how := range []string{"walk", "slice"} {
			b.Run(how+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if how == "walk" {
						err = WriteCallSeq(io.Discard, FormatCSV, s.Summaries(f), TableOptions{})
					} else {
						err = WriteCalls(io.Discard, FormatCSV, s.Calls(f, 0, -1), TableOptions{})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(n+1)), "ns/call")
			})
		}
	}
}

// BenchmarkWriteCallsTail is the end of `voiptool calls` after loading:
// the walk of a 20 000-call store written as JSON or CSV, call by call
// on one goroutine ("seq": WriteCallSeq over Summaries) or chunk by chunk
// with the encoding on a second one ("chunks": WriteCallChunks over
// SummaryChunks). ns/call is wall time per call.
func BenchmarkWriteCallsTail(b *testing.B) {
	const n = 20000
	s := storeOfCalls(b, n)
	for _, f := range []Format{FormatJSON, FormatCSV} {
		for _, how := range []string{"seq", "chunks"} {
			b.Run(f.String()+"/"+how, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if how == "seq" {
						err = WriteCallSeq(io.Discard, f, s.Summaries(sipflow.Filter{}), TableOptions{})
					} else {
						err = WriteCallChunks(io.Discard, f, s.SummaryChunks(sipflow.Filter{}), TableOptions{})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(n+1)), "ns/call")
			})
		}
	}
}
