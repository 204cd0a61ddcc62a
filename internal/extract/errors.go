package extract

import "errors"

var (
	// ErrNotRereadable is returned when a call is to be saved from a
	// source that cannot be read a second time (stdin, a live interface,
	// a HEP collector).
	ErrNotRereadable = errors.New("extract: source cannot be re-read (stdin, live or HEP); save from a file")
	// ErrNothingToSave is returned when none of the calls has a message
	// to save.
	ErrNothingToSave = errors.New("extract: no messages to save")

	// errRescan says a call cannot be saved by offset (gzip source) and
	// the files must be decoded again.
	errRescan = errors.New("extract: re-read by decoding")
)
