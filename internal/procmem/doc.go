// Package procmem reads what the kernel counts of the process's own
// memory that the Go runtime does not: the resident pages of the files
// mapped into it (the executable's code and read-only data). The
// runtime's memory limit (runtime/debug.SetMemoryLimit) covers the
// memory the runtime maps, so a budget meant for the resident set
// (--max-memory) leaves room for these pages.
package procmem
