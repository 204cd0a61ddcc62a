package engine

import "errors"

// ErrRunning is returned by Run when another Run is in progress: the
// engine has exactly one writer.
var ErrRunning = errors.New("engine: already running")
