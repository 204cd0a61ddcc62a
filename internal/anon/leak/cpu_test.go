package leak

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time: on a loaded machine
// (CI, shared cores) wall-clock MB/s say more about the neighbours than
// about the code, so the benchmarks also report MB per CPU second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports MB per CPU second for n bytes per iteration since t0.
func reportCPU(b *testing.B, t0 time.Duration, n int64) {
	d := cpuTime() - t0
	if d > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}
