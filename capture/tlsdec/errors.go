package tlsdec

import "errors"

// Sentinel errors, checked with errors.Is.
var (
	// ErrBadKeyLogLine: a key log line is not LABEL HEX32 HEXSECRET.
	ErrBadKeyLogLine = errors.New("tlsdec: bad key log line")
	// ErrKeyLogFull: the key log holds MaxEntries client randoms; the
	// entry was refused and counted.
	ErrKeyLogFull = errors.New("tlsdec: key log full")
)
