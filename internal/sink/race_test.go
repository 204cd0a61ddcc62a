//go:build race

package sink

// raceEnabled: the race detector instruments channel operations with
// allocations of its own, so allocation budgets are checked without it.
const raceEnabled = true
