package frame

import "errors"

var (
	// ErrNoAddress: src or dst has no valid IP address (a HEP agent that
	// sent no address chunks); there is nothing to frame.
	ErrNoAddress = errors.New("frame: no address")
	// ErrTooLarge: the payload does not fit in one IP packet.
	ErrTooLarge = errors.New("frame: payload too large")
)
