package testpeer

import (
	"testing"
	"time"
)

// ReportCPU reports MB per CPU second for n bytes per iteration of b
// since t0 (a CPUTime reading).
func ReportCPU(b *testing.B, t0 time.Duration, n int64) {
	if d := CPUTime() - t0; d > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}
