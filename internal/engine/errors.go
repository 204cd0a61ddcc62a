package engine

import "errors"

// ErrRunning is returned by Run when another Run is in progress: the
// engine has exactly one writer.
var ErrRunning = errors.New("engine: already running")

// errSpillRange is a spill location outside what was spilled: the store
// asked for a message the spill file never held (or no longer does).
var errSpillRange = errors.New("engine: spill location out of range")
