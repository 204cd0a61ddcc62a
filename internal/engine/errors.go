package engine

import "errors"

var (
	// ErrRunning is returned by Run when another Run is in progress: the
	// engine has exactly one writer.
	ErrRunning = errors.New("engine: already running")
	// ErrNotRereadable is returned when a call is to be saved from a
	// source that cannot be read a second time (stdin, a live interface,
	// a HEP collector).
	ErrNotRereadable = errors.New("engine: source cannot be re-read (stdin, live or HEP); save from a file")

	// errRescan says a call cannot be saved by offset (gzip source) and
	// the files must be decoded again.
	errRescan = errors.New("engine: re-read by decoding")
)
