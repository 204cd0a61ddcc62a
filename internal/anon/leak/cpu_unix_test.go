//go:build unix

package leak

import (
	"syscall"
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
