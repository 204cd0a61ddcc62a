package pace

import (
	"context"
	"testing"
	"time"
)

// BenchmarkDeparture paces packets 1 ms apart (a busy SIP trunk) at speed 1 on the real
// clock and reports the departure error (how late each packet left
// against its deadline). It is the measurement behind Options.Spin:
//
//	go test -run XXX -bench Departure ./internal/pace
//
// Each sub-benchmark takes about b.N ms of wall time.
//
// Measured on the 2-core shared build host (-benchtime 1500x, two runs):
// without spin p50 0.65-0.85 ms, p99 19-59 ms, max 29-72 ms; a 100 µs
// spin changes nothing (the timer overshoots by more than that); a 1-2
// ms spin brings p50 down to ~40 ns in one run of two but leaves p99 and
// max where scheduling puts them (4-38 ms), while busy-polling a core for
// most of every millisecond. So hep-forward does not spin; a replay that
// needs sub-millisecond p50 on an idle host can set Options.Spin.
func BenchmarkDeparture(b *testing.B) {
	const gap = time.Millisecond
	for _, spin := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		b.Run("spin="+spin.String(), func(b *testing.B) {
			p := New(Options{Speed: 1, Spin: spin})
			base := time.Unix(1700000000, 0)
			i := 0
			for b.Loop() {
				if _, err := p.Wait(context.Background(), base.Add(time.Duration(i)*gap)); err != nil {
					b.Fatal(err)
				}
				i++
			}
			l := p.Lateness()
			b.ReportMetric(float64(l.P50.Nanoseconds()), "p50-late-ns")
			b.ReportMetric(float64(l.P99.Nanoseconds()), "p99-late-ns")
			b.ReportMetric(float64(l.Max.Nanoseconds()), "max-late-ns")
		})
	}
}
