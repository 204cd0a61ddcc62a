//go:build !unix

package testpeer

import "time"

// wallStart stands in for the process's start where its CPU time cannot
// be read: CPUTime is then wall time, an upper bound on one busy
// thread's CPU time. It is set once and only read.
var wallStart = time.Now()

// CPUTime is, on this system, the wall time since the process started.
func CPUTime() time.Duration { return time.Since(wallStart) }
