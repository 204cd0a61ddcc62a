//go:build !unix

package anon

import "time"

// wallStart stands in for the process's start where its CPU time cannot
// be read: the benchmarks then report wall time, an upper bound on one
// busy thread's CPU time.
var wallStart = time.Now()

// cpuTime is, on this system, the wall time since the tests started.
func cpuTime() time.Duration { return time.Since(wallStart) }
