package tuiadapter

import "errors"

var (
	// ErrNothingSelected is returned by Save when the scope names no call.
	ErrNothingSelected = errors.New("tuiadapter: nothing to save: no calls selected")
	// ErrUnknownFormat is returned by Save for a format it cannot write.
	ErrUnknownFormat = errors.New("tuiadapter: unknown save format")
)
