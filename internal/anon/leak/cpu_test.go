package leak

import (
	"testing"
	"time"
)

// reportCPU reports MB per CPU second for n bytes per iteration since t0.
func reportCPU(b *testing.B, t0 time.Duration, n int64) {
	d := cpuTime() - t0
	if d > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}
