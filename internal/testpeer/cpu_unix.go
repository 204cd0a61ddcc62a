//go:build unix

package testpeer

import (
	"syscall"
	"time"
)

// CPUTime is the process's user+system CPU time so far, every thread's:
// on a loaded machine (CI, shared cores) wall time says more about the
// neighbours than about the code, so benchmarks also report per CPU
// second.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
